"""Panel ids and positions: stable ids from panel keys, a flowing 24-column grid with rows.

Ids derive from each panel's ``key`` alone (a hash), so adding, removing or reordering
panels never changes another panel's id: alert annotations and bookmarked
``viewPanel=`` links keep pointing at the same panel. Positions flow left to right and
wrap at 24 columns; a ``Row`` starts below everything placed so far.
"""

from __future__ import annotations

import copy
import hashlib
import re

import attr

from .model import ModernDashboard, ModernPanel, Row

GRID_COLUMNS = 24
ID_SPACE = 999_999_937  # a prime; ids are 1..ID_SPACE
KEY_RE = re.compile(r"[a-z0-9][a-z0-9_.:-]*")


class LayoutError(ValueError):
    pass


def _with(panel: ModernPanel, **changes) -> ModernPanel:
    """``panel`` with ``changes`` (an id, a position, a row's panels), as ``attr.evolve`` gives it:
    a shallow copy, the rest of its attributes shared. evolve would call the class's __init__ again
    with its ~50 fields and their validators, ~4x the time, for every panel of every dashboard."""
    out = copy.copy(panel)
    for name, value in changes.items():
        setattr(out, name, value)
    return out


def panel_id(dashboard_uid: str, key: str) -> int:
    """The stable id of panel ``key``: a hash, independent of every other panel."""
    digest = hashlib.sha256(f"{dashboard_uid}/{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % ID_SPACE + 1


def assign_ids(dashboard_uid: str, panels: list[ModernPanel]) -> list[ModernPanel]:
    seen: dict[int, str] = {}
    keys: set[str] = set()
    out = []
    for p in panels:
        if not KEY_RE.fullmatch(p.key or ""):
            raise LayoutError(f"{dashboard_uid}: panel {p.title!r} has no valid key ({p.key!r})")
        if p.key in keys:
            raise LayoutError(f"{dashboard_uid}: two panels share the key {p.key!r}")
        keys.add(p.key)
        pid = panel_id(dashboard_uid, p.key)
        if pid in seen:  # astronomically unlikely; still never emit two equal ids
            raise LayoutError(f"{dashboard_uid}: panel keys {seen[pid]!r} and {p.key!r} hash to the same id; rename one")
        seen[pid] = p.key
        if isinstance(p, Row) and p.panels:  # a collapsed row's own panels: ids from their keys too
            inner = assign_ids(dashboard_uid, list(p.panels))
            clash = keys & {q.key for q in inner}
            if clash:
                raise LayoutError(f"{dashboard_uid}: two panels share the key {sorted(clash)[0]!r}")
            keys.update(q.key for q in inner)
            p = _with(p, panels=inner)
        out.append(_with(p, id=pid))
    return out


def flow(panels: list[ModernPanel], y: int = 0) -> list[ModernPanel]:
    """Place panels on the grid from line ``y``: left to right, wrapping at 24 columns; rows span
    the width. A panel that already has a ``gridPos`` keeps it. A collapsed row's own panels are
    placed below it, where they go when it is opened (Grafana's saved form: the row takes one line
    and the panels after it follow it directly)."""
    out = []
    x = line_h = 0
    for p in panels:
        if p.gridPos:  # placed by its author (an imported dashboard): kept where it is
            out.append(p)
            continue
        if isinstance(p, Row):
            y += line_h
            x, line_h = 0, 0
            changes = {"gridPos": {"x": 0, "y": y, "w": GRID_COLUMNS, "h": 1}}
            if p.collapsed and p.panels:
                changes["panels"] = flow(list(p.panels), y + 1)
            out.append(_with(p, **changes))
            y += 1
            continue
        w = max(1, min(p.w, GRID_COLUMNS))
        if x + w > GRID_COLUMNS:
            y += line_h
            x, line_h = 0, 0
        out.append(_with(p, gridPos={"x": x, "y": y, "w": w, "h": p.h}))
        x += w
        line_h = max(line_h, p.h)
    return out


def lay_out(dashboard: ModernDashboard) -> ModernDashboard:
    return attr.evolve(dashboard, panels=flow(assign_ids(dashboard.uid, list(dashboard.panels))))


def overlaps(panels: list[dict]) -> list[tuple[int, int]]:
    """Pairs of panel ids whose gridPos rectangles overlap (for lint and tests)."""
    found = []
    boxes = [(p.get("id"), p["gridPos"]) for p in panels if "gridPos" in p]
    for i, (ida, a) in enumerate(boxes):
        for idb, b in boxes[i + 1:]:
            if a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]:
                found.append((ida, idb))
    return found
