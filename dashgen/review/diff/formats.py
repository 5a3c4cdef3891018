"""A :class:`Diff` as Markdown (a pull-request comment), text (a terminal) or JSON (tools).

The prose and layout live in ``templates/diff/<format>.j2``; here only what the templates need.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .model import Diff

FORMATS = ("markdown", "text", "json")
MAX_MARKDOWN_CHARS = 60_000  # GitHub refuses comments over 65,536 characters


def md_escape(text: Any) -> str:
    """Escape what Markdown would otherwise read as emphasis, links, tables or HTML."""
    return re.sub(r"([\\`*_\[\]<|])", r"\\\1", str(text))


def format_diff(diff: Diff, fmt: str = "markdown") -> str:
    if fmt == "json":
        return json.dumps(diff.to_json(), indent=2, sort_keys=False, ensure_ascii=False)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    from ...templating import environment

    env = environment().overlay()
    env.filters["md"] = md_escape
    template = env.get_template(f"diff/{fmt}.j2")
    ctx = {"diff": diff, "summary": diff.summary(), "sections": diff.sections,
           "fence": _fence, "blocks": True}
    text = _tidy(template.render(**ctx))
    if fmt == "markdown" and len(text) > MAX_MARKDOWN_CHARS:
        ctx["blocks"] = False  # too long for a PR comment: drop the before/after blocks first
        text = _tidy(template.render(**ctx))
        if len(text) > MAX_MARKDOWN_CHARS:
            cut = text.rfind("\n", 0, MAX_MARKDOWN_CHARS - 200)
            text = text[:cut] + "\n\n… (cut: too long for one comment; run dashgen diff locally for all of it)\n"
    return text


def _tidy(text: str) -> str:
    """One blank line at most between blocks (every line of a before/after block is prefixed)."""
    return re.sub(r"\n(?:[ \t]*\n){2,}", "\n\n", text).strip() + "\n"


def _fence(*texts: str | None) -> str:
    """A code fence longer than any run of backticks inside the texts."""
    longest = max((len(m) for t in texts if t for m in re.findall(r"`+", t)), default=0)
    return "`" * max(3, longest + 1)
