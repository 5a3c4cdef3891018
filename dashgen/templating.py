"""The jinja2 environment for ``templates/`` (TraceQL, PromQL, alert texts, PR summaries).

In a wheel the templates live in ``dashgen/templates`` (the build copies the repository's
``templates/`` there); in a source checkout they are read from ``templates/`` at the root.
StrictUndefined: a template that names a value nobody passed is an error, never "".

Compiled templates are kept between runs in jinja2's own bytecode cache, under
``$DASHGEN_CACHE_DIR`` (default ``$XDG_CACHE_HOME/dashgen``, else ``~/.cache/dashgen``;
set it to an empty string to turn the cache off): compiling the templates was a sixth of a
build's own time. jinja2 keys each entry on the template's path and source checksum and on
the interpreter's bytecode magic, so an edited template or another Python is a miss, never
a stale hit. A cache that cannot be read or written is no cache, never an error.
"""

from __future__ import annotations

import os
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


class _CompiledTemplateCache(jinja2.FileSystemBytecodeCache):
    """jinja2's file cache, made harmless: a damaged entry is a miss, an unwritable one is skipped."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - truncated or foreign file: recompile
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def cache_dir() -> Path | None:
    """Where compiled templates are kept, or None when caching is off or impossible."""
    configured = os.environ.get("DASHGEN_CACHE_DIR")
    if configured == "":
        return None
    try:
        base = Path(configured) if configured else (
            Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dashgen")
        directory = base / "jinja2"
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        # compiled code is executed when loaded: never trust a cache someone else owns
        if hasattr(os, "getuid") and directory.stat().st_uid != os.getuid():
            return None
    except (OSError, RuntimeError):  # RuntimeError: no home directory
        return None
    return directory


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    directory = cache_dir()
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        bytecode_cache=_CompiledTemplateCache(str(directory)) if directory else None,
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
