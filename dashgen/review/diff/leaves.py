"""Values as a reviewer reads them, and the generic wording for changes nobody words specifically.

``short``/``num``/``with_unit`` turn a JSON value into inline text; ``leaf_diff`` lists the
JSON paths that differ, and ``leaf_changes`` words them ("other settings"), so that
"no changes" always means the files are identical in content.
"""

from __future__ import annotations

import json
from typing import Any

from ...catalog.conventions import GRAFANA_UNIT_SUFFIX, format_number
from .model import Change

ARROW = "->"
MAX_LEAF_LINES = 4
MAX_VALUE_CHARS = 60

MISSING = object()  # a key absent on one side (distinct from a null value)


def short(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """A value as a reviewer reads it inline: strings bare, the rest as compact JSON."""
    if value is MISSING or value is None:
        return "(none)"
    if isinstance(value, str):
        text = value if value != "" else '""'
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float)):
        text = num(value)
    else:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def was(before: Any, after: Any) -> str:
    """``before -> after``, each as :func:`short` writes it: the shape of every inline change."""
    return f"{short(before)} {ARROW} {short(after)}"


def num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return short(value)
    return format_number(value) if isinstance(value, float) else str(value)


def with_unit(value: Any, unit: str | None) -> str:
    text = num(value)
    if unit is None:
        return text
    return text + GRAFANA_UNIT_SUFFIX.get(unit, f" {unit}")


def leaf_diff(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """``(json path, before, after)`` for every leaf that differs; lists of equal length pairwise."""
    out: list[tuple[str, Any, Any]] = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            out += leaf_diff(a.get(k, MISSING), b.get(k, MISSING), f"{path}.{k}" if path else str(k))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            out += leaf_diff(x, y, f"{path}[{i}]")
    elif a != b or type(a) is not type(b):
        if not (a is MISSING and b is MISSING):
            out.append((path, a, b))
    return out


def leaf_changes(a: Any, b: Any, category: str, kind: str, subject: str, what: str = "") -> list[Change]:
    """Generic wording for changes nobody words specifically: paths with before -> after."""
    leaves = leaf_diff(a, b)
    if not leaves:
        return []
    prefix = f"{what} " if what else ""
    if len(leaves) <= MAX_LEAF_LINES:
        return [Change(category, kind, subject, f"{prefix}{path or 'value'} {was(x, y)}")
                for path, x, y in leaves]
    paths = [p for p, _, _ in leaves]
    shown = ", ".join(paths[:MAX_LEAF_LINES])
    more = f" and {len(paths) - MAX_LEAF_LINES} more" if len(paths) > MAX_LEAF_LINES else ""
    return [Change(category, kind, subject, f"{prefix}{len(paths)} settings changed: {shown}{more}")]


def without(d: dict, *paths: str) -> dict:
    """A deep copy of ``d`` without the dotted ``paths`` (for the generic leftover diff)."""
    d = json.loads(json.dumps(d))
    for path in paths:
        parts = path.split(".")
        node = d
        for p in parts[:-1]:
            node = node.get(p) if isinstance(node, dict) else None
            if node is None:
                break
        if isinstance(node, dict):
            node.pop(parts[-1], None)
    return d


def get_path(d: Any, path: str, default: Any = None) -> Any:
    for p in path.split("."):
        if not isinstance(d, dict) or p not in d:
            return default
        d = d[p]
    return d
