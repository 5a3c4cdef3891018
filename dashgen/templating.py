"""The jinja2 environment for ``templates/``: prose only (alert texts, PR summaries).

Queries are not templated: each TraceQL/PromQL piece is one line that its builder function
already validates and escapes, so ``dashgen/queries`` writes them in plain Python. What is
left here is text people read, where a template keeps wording and layout in one place.

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


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """jinja2's own cache of compiled templates (a private per-user directory in the temp dir,
    written atomically, keyed by each template's source checksum): compiling the alert templates
    again in every process was a tenth of a build's time (bench/build.py). None where jinja2
    finds no safe directory; templates are then compiled as before."""
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        bytecode_cache=_bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        auto_reload=False,  # templates do not change during a run; skips a stat() per render
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **values) -> str:
    """Render ``templates/<name>`` with ``values``; surrounding whitespace is stripped."""
    return environment().get_template(name).render(**values).strip()
