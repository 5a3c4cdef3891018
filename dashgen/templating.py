"""The jinja2 environment for ``templates/`` (TraceQL, PromQL, alert texts, PR summaries).

In a wheel the templates live in ``dashgen/templates`` (the build copies the repository's
``templates/`` there); in a source checkout they are read from ``templates/`` at the root.
StrictUndefined: a template that names a value nobody passed is an error, never "".
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2


def templates_dir() -> Path:
    packaged = Path(__file__).resolve().parent / "templates"  # in a wheel (not zip-safe: plain files)
    if packaged.is_dir():
        return packaged
    source = Path(__file__).resolve().parent.parent / "templates"
    if source.is_dir():
        return source
    raise RuntimeError("dashgen's templates are missing: reinstall dashgen (pip install .)")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        auto_reload=False,  # templates do not change during a run; skips a stat() per render
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _freeze(value):
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    hash(value)  # TypeError for anything else unhashable: not cached
    return value


_RENDERED: dict[tuple, str] = {}


def render(name: str, **values) -> str:
    """Render ``templates/<name>`` with ``values``; surrounding whitespace is stripped.

    Templates are pure functions of their values, so a result is remembered for the run (the
    same condition or selector is rendered many times in a build).
    """
    try:
        key = (name, _freeze(values))
    except TypeError:
        key = None
    if key is not None and key in _RENDERED:
        return _RENDERED[key]
    text = environment().get_template(name).render(**values).strip()
    if key is not None:
        _RENDERED[key] = text
    return text
