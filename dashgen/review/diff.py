"""``dashgen diff``: what changes between two builds, at the level a reviewer thinks in.

Pure: two ``{relative path: file content}`` maps (a build output, e.g. ``build_artifacts``
or ``lint.read_output``) in, a structured :class:`Diff` out. Nothing here reads files or
runs git (``gitref`` does); the wording lives here, the layout in ``templates/diff/``.

Identity, so that renames read as renames and not as remove + add:

* dashboards by ``uid`` (a title change is a rename, a path change a folder move);
* panels by ``id`` (ids are stable hashes of panel keys): a changed ``gridPos`` is a move or
  a resize, a changed title a retitle; queries by ``refId``; thresholds are
  ``fieldConfig.defaults.thresholds.steps``, the unit ``fieldConfig.defaults.unit``;
* variables by name in ``templating.list``;
* Grafana alert rules by ``uid`` across every group file (``alerts/grafana/**.json`` rule-group
  bodies and ``alerts/provisioning/*.yaml``); Prometheus rules by alert or record name.

Anything that changed and has no dedicated wording is still reported, as the JSON paths
that differ ("other settings"), so "no changes" always means the files are identical
in content.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath
from typing import Any

import yaml

from ..catalog.conventions import GRAFANA_UNIT_SUFFIX, format_number

ARROW = "->"
MAX_LEAF_LINES = 4
MAX_VALUE_CHARS = 60



# -------------------------------------------------------------------------------------------------
# The model


@dataclass
class Change:
    """One reviewer-sized change. ``text`` is the whole worded line: ``subject: detail``."""

    category: str  # dashboard | panel | query | threshold | unit | variable | alert | file
    kind: str  # e.g. panel-moved, threshold-changed, alert-for (stable: tests and JSON users key on it)
    subject: str  # who changed: a panel title, "variable $service", "alert tts-first-byte-p95"
    detail: str  # what changed: "threshold 350 -> 300 ms"
    before: str | None = None  # a block to show before/after (queries, descriptions), else None
    after: str | None = None
    lang: str = ""  # the language of before/after: traceql, promql, text
    count: int = 1  # how many things the line stands for (a collapsed "N panels moved" line)

    @property
    def text(self) -> str:
        return f"{self.subject}: {self.detail}" if self.subject else self.detail

    @property
    def has_block(self) -> bool:
        return self.before is not None or self.after is not None

    def to_json(self) -> dict:
        d = asdict(self)
        d["text"] = self.text
        return d


@dataclass
class Section:
    """The changes of one dashboard, one alert rule group or file, or one other file."""

    kind: str  # dashboard | grafana-rules | prometheus-rules | file
    key: str  # dashboard uid, rule group "folder/group", or the file path
    title: str
    status: str  # added | removed | changed | renamed
    path: str
    changes: list[Change] = field(default_factory=list)
    old_title: str | None = None  # for a renamed dashboard

    @property
    def heading(self) -> str:
        if self.kind == "dashboard":
            return f"dashboard {self.title} ({self.key})"
        if self.kind == "grafana-rules":
            return f"alert rule group {self.title}"
        if self.kind == "prometheus-rules":
            return f"Prometheus rules {self.path}"
        return f"file {self.path}"

    def to_json(self) -> dict:
        return {"kind": self.kind, "key": self.key, "title": self.title, "status": self.status, "path": self.path,
                "old_title": self.old_title, "heading": self.heading,
                "changes": [c.to_json() for c in self.changes]}


# Summary labels: kind -> (singular, plural), in the order the summary lists them.
_SUMMARY_KINDS = [
    ("panel-added", "panel added", "panels added"),
    ("panel-removed", "panel removed", "panels removed"),
    ("panel-retitled", "panel retitled", "panels retitled"),
    ("panel-moved", "panel moved", "panels moved"),
    ("panel-resized", "panel resized", "panels resized"),
    ("panel-type", "panel type changed", "panel types changed"),
    ("query-changed", "query changed", "queries changed"),
    ("query-added", "query added", "queries added"),
    ("query-removed", "query removed", "queries removed"),
    ("threshold", "threshold changed", "thresholds changed"),
    ("unit-changed", "unit changed", "units changed"),
    ("variable", "variable changed", "variables changed"),
]


@dataclass
class Diff:
    sections: list[Section]
    base_label: str = "base"
    head_label: str = "head"

    @property
    def changed(self) -> bool:
        return bool(self.sections)

    @property
    def changes(self) -> list[Change]:
        return [c for s in self.sections for c in s.changes]

    def counts(self) -> Counter:
        """Counts behind the summary line (``kind`` counts plus dashboard and rule totals)."""
        n: Counter = Counter()
        for s in self.sections:
            if s.kind == "dashboard":
                n[f"dashboards-{s.status}"] += 1
        for c in self.changes:
            n["panel-moved" if c.kind == "panel-moved-many" else c.kind] += c.count
            if c.category == "threshold":
                n["threshold"] += 1
        n["variable"] = len({(s.key, c.subject) for s in self.sections for c in s.changes if c.category == "variable"})
        rules: dict[str, set] = defaultdict(set)
        for c in self.changes:
            if c.category == "alert" and c.subject:
                state = "added" if c.kind == "alert-added" else "removed" if c.kind == "alert-removed" else "changed"
                rules[state].add(c.subject)
        rules["changed"] -= rules["added"] | rules["removed"]
        for state, subjects in rules.items():
            n[f"rules-{state}"] = len(subjects)
        return n

    def summary(self) -> str:
        """One line: what changed, in counts a reviewer can take in at a glance."""
        if not self.changed:
            return "no changes to dashboards or alert rules"
        n = self.counts()
        parts = []

        def phrase(prefix: str, one: str, many: str, states: tuple[str, ...]) -> None:
            found = [(st, n[f"{prefix}-{st}"]) for st in states if n[f"{prefix}-{st}"]]
            if found:
                (st0, n0), rest = found[0], found[1:]
                parts.append(", ".join([f"{n0} {one if n0 == 1 else many} {st0}"] + [f"{k} {st}" for st, k in rest]))

        phrase("dashboards", "dashboard", "dashboards", ("added", "removed", "renamed", "changed"))
        for kind, one, many in _SUMMARY_KINDS:
            if n[kind]:
                parts.append(f"{n[kind]} {one if n[kind] == 1 else many}")
        phrase("rules", "alert rule", "alert rules", ("added", "removed", "changed"))
        files = sum(1 for s in self.sections if s.kind == "file")
        if files:
            parts.append(f"{files} other {'file' if files == 1 else 'files'} changed")
        if not parts:
            parts.append(f"{len(self.changes)} other {'change' if len(self.changes) == 1 else 'changes'}")
        return "; ".join(parts)

    def to_json(self) -> dict:
        return {"base": self.base_label, "head": self.head_label, "changed": self.changed,
                "summary": self.summary(), "counts": dict(sorted(self.counts().items())),
                "sections": [s.to_json() for s in self.sections]}


# -------------------------------------------------------------------------------------------------
# Helpers: values, numbers with units, generic leaf differences

_MISSING = object()


def short(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """A value as a reviewer reads it inline: strings bare, the rest as compact JSON."""
    if value is _MISSING or value is None:
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
            out += leaf_diff(a.get(k, _MISSING), b.get(k, _MISSING), f"{path}.{k}" if path else str(k))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            out += leaf_diff(x, y, f"{path}[{i}]")
    elif a != b or type(a) is not type(b):
        if not (a is _MISSING and b is _MISSING):
            out.append((path, a, b))
    return out


def leaf_changes(a: Any, b: Any, category: str, kind: str, subject: str, what: str = "") -> list[Change]:
    """Generic wording for changes nobody words specifically: paths with before -> after."""
    leaves = leaf_diff(a, b)
    if not leaves:
        return []
    prefix = f"{what} " if what else ""
    if len(leaves) <= MAX_LEAF_LINES:
        return [Change(category, kind, subject, f"{prefix}{path or 'value'} {short(x)} {ARROW} {short(y)}")
                for path, x, y in leaves]
    paths = [p for p, _, _ in leaves]
    shown = ", ".join(paths[:MAX_LEAF_LINES])
    more = f" and {len(paths) - MAX_LEAF_LINES} more" if len(paths) > MAX_LEAF_LINES else ""
    return [Change(category, kind, subject, f"{prefix}{len(paths)} settings changed: {shown}{more}")]


def _without(d: dict, *paths: str) -> dict:
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


def _get(d: Any, path: str, default: Any = None) -> Any:
    for p in path.split("."):
        if not isinstance(d, dict) or p not in d:
            return default
        d = d[p]
    return d


def _parse(path: str, content: str) -> Any:
    if path.endswith(".json"):
        return json.loads(content)
    if path.endswith((".yaml", ".yml")):
        return yaml.safe_load(content)
    raise ValueError("not JSON or YAML")


# -------------------------------------------------------------------------------------------------
# Dashboards


@dataclass
class _PanelInfo:
    panel: dict
    row: str | None  # the title of the row the panel sits in


def _panels(dashboard: dict) -> dict[int, _PanelInfo]:
    """Every panel by id (rows too, and panels inside collapsed rows), with its row title."""
    out: dict[int, _PanelInfo] = {}
    top = [p for p in dashboard.get("panels", []) if isinstance(p, dict)]
    top.sort(key=lambda p: (_get(p, "gridPos.y", 0), _get(p, "gridPos.x", 0)))
    row = None
    for p in top:
        if p.get("type") == "row":
            row = p.get("title", "")
            out[p.get("id")] = _PanelInfo(p, None)
            for inner in p.get("panels", []) or []:
                out[inner.get("id")] = _PanelInfo(inner, row)
        else:
            out[p.get("id")] = _PanelInfo(p, row)
    return out


def _grid(gp: dict | None) -> str:
    if not gp:
        return "(no position)"
    return f"x{gp.get('x')} y{gp.get('y')} {gp.get('w')}x{gp.get('h')}"


def _query_of(target: dict) -> tuple[str, str]:
    """(query text, language) of a panel target."""
    ds_type = (target.get("datasource") or {}).get("type", "")
    if "query" in target:
        return str(target["query"]), "traceql" if ds_type == "tempo" else ds_type or "text"
    if "expr" in target:
        return str(target["expr"]), "promql"
    rest = {k: v for k, v in target.items() if k not in ("refId", "datasource")}
    return json.dumps(rest, sort_keys=True), "json"


def _thresholds(panel: dict) -> list[dict]:
    steps = _get(panel, "fieldConfig.defaults.thresholds.steps")
    return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


def threshold_changes(subject: str, before: list[dict], after: list[dict], unit: str | None) -> list[Change]:
    """Word threshold step changes: values matched by colour first, so 350 -> 300 reads as one change.

    Steps present on both sides (same value and colour) are left out; the rest are paired by
    value, then by colour in order, then by position; what is left was added or removed.
    """
    out: list[Change] = []
    b_base = next((s for s in before if s.get("value") is None), None)
    a_base = next((s for s in after if s.get("value") is None), None)
    if b_base and a_base and b_base.get("color") != a_base.get("color"):
        out.append(Change("threshold", "threshold-changed", subject,
                          f"base colour {b_base.get('color')} {ARROW} {a_base.get('color')}"))
    b = [(s.get("value"), s.get("color")) for s in before if s.get("value") is not None]
    a = [(s.get("value"), s.get("color")) for s in after if s.get("value") is not None]
    common = Counter(b) & Counter(a)
    b_left = list((Counter(b) - common).elements())
    a_left = list((Counter(a) - common).elements())
    b_left.sort(key=lambda s: (s[0] if isinstance(s[0], (int, float)) else 0))
    a_left.sort(key=lambda s: (s[0] if isinstance(s[0], (int, float)) else 0))
    pairs = []
    for step in list(b_left):  # the same value, recoloured, first
        match = next((x for x in a_left if x[0] == step[0]), None)
        if match is not None:
            pairs.append((step, match))
            b_left.remove(step)
            a_left.remove(match)
    for step in list(b_left):  # then the same colour: a value that moved
        match = next((x for x in a_left if x[1] == step[1]), None)
        if match is not None:
            pairs.append((step, match))
            b_left.remove(step)
            a_left.remove(match)
    while b_left and a_left:  # then by position
        pairs.append((b_left.pop(0), a_left.pop(0)))
    for (bv, bc), (av, ac) in pairs:
        if bc == ac:
            detail = f"threshold {num(bv)} {ARROW} {with_unit(av, unit)}"
        elif bv == av:
            detail = f"threshold {with_unit(bv, unit)}: colour {bc} {ARROW} {ac}"
        else:
            detail = f"threshold {with_unit(bv, unit)} ({bc}) {ARROW} {with_unit(av, unit)} ({ac})"
        out.append(Change("threshold", "threshold-changed", subject, detail))
    for v, c in b_left:
        out.append(Change("threshold", "threshold-removed", subject, f"threshold removed: {with_unit(v, unit)} ({c})"))
    for v, c in a_left:
        out.append(Change("threshold", "threshold-added", subject, f"threshold added: {with_unit(v, unit)} ({c})"))
    return out


def _target_changes(subject: str, before: list, after: list) -> list[Change]:
    out: list[Change] = []
    b = {t.get("refId", f"#{i}"): t for i, t in enumerate(before or []) if isinstance(t, dict)}
    a = {t.get("refId", f"#{i}"): t for i, t in enumerate(after or []) if isinstance(t, dict)}
    for ref in sorted(set(b) | set(a)):
        tb, ta = b.get(ref), a.get(ref)
        if tb is None:
            q, lang = _query_of(ta)
            out.append(Change("query", "query-added", subject, f"query {ref} added", None, q, lang))
            continue
        if ta is None:
            q, lang = _query_of(tb)
            out.append(Change("query", "query-removed", subject, f"query {ref} removed", q, None, lang))
            continue
        qb, lb = _query_of(tb)
        qa, la = _query_of(ta)
        if qb != qa:
            out.append(Change("query", "query-changed", subject, f"query {ref} changed", qb, qa, la))
        dsb, dsa = tb.get("datasource"), ta.get("datasource")
        if dsb != dsa:
            out.append(Change("query", "query-datasource", subject,
                              f"query {ref} datasource {short(dsb and dsb.get('uid'))} ({short(dsb and dsb.get('type'))})"
                              f" {ARROW} {short(dsa and dsa.get('uid'))} ({short(dsa and dsa.get('type'))})"))
        rest_b = {k: v for k, v in tb.items() if k not in ("query", "expr", "datasource", "refId")}
        rest_a = {k: v for k, v in ta.items() if k not in ("query", "expr", "datasource", "refId")}
        out += leaf_changes(rest_b, rest_a, "query", "query-setting", subject, f"query {ref}")
    return out


_PANEL_HANDLED = ("id", "title", "type", "gridPos", "targets", "description", "panels",
                  "fieldConfig.defaults.thresholds.steps", "fieldConfig.defaults.unit", "options.content")


def _panel_changes(pb: _PanelInfo, pa: _PanelInfo) -> list[Change]:
    b, a = pb.panel, pa.panel
    subject = str(a.get("title", "")) or f"panel {a.get('id')}"
    kind_word = "row" if a.get("type") == "row" else "panel"
    out: list[Change] = []
    if b.get("title") != a.get("title"):
        out.append(Change("panel", "panel-retitled", str(b.get("title", "")),
                          f"{'row ' if kind_word == 'row' else ''}retitled {ARROW} {a.get('title', '')}"))
    if b.get("type") != a.get("type"):
        out.append(Change("panel", "panel-type", subject, f"type {b.get('type')} {ARROW} {a.get('type')}"))
    gb, ga = b.get("gridPos") or {}, a.get("gridPos") or {}
    if gb != ga:
        moved = (gb.get("x"), gb.get("y")) != (ga.get("x"), ga.get("y"))
        resized = (gb.get("w"), gb.get("h")) != (ga.get("w"), ga.get("h"))
        if moved and resized:
            kind, verb = "panel-moved", "moved and resized"
        elif resized:
            kind, verb = "panel-resized", "resized"
        else:
            kind, verb = "panel-moved", "moved"
        if verb == "moved":
            detail = f"moved x{gb.get('x')} y{gb.get('y')} {ARROW} x{ga.get('x')} y{ga.get('y')} ({ga.get('w')}x{ga.get('h')})"
        elif verb == "resized":
            detail = f"resized {gb.get('w')}x{gb.get('h')} {ARROW} {ga.get('w')}x{ga.get('h')} (at x{ga.get('x')} y{ga.get('y')})"
        else:
            detail = f"{verb} {_grid(gb)} {ARROW} {_grid(ga)}"
        if pb.row != pa.row and a.get("type") != "row":
            detail += f", from row {pb.row or '(none)'} to row {pa.row or '(none)'}"
        out.append(Change("panel", kind, subject, detail))
    elif pb.row != pa.row and a.get("type") != "row":
        out.append(Change("panel", "panel-moved", subject, f"now in row {pa.row or '(none)'} (was {pb.row or '(none)'})"))
    out += _target_changes(subject, b.get("targets"), a.get("targets"))
    unit = _get(a, "fieldConfig.defaults.unit")
    out += threshold_changes(subject, _thresholds(b), _thresholds(a), unit)
    ub = _get(b, "fieldConfig.defaults.unit", _MISSING)
    if ub != _get(a, "fieldConfig.defaults.unit", _MISSING):
        out.append(Change("unit", "unit-changed", subject, f"unit {short(ub)} {ARROW} {short(_get(a, 'fieldConfig.defaults.unit', _MISSING))}"))
    if b.get("description") != a.get("description"):
        out.append(Change("panel", "panel-description", subject, "description changed",
                          b.get("description") or "", a.get("description") or "", "text"))
    cb, ca = _get(b, "options.content"), _get(a, "options.content")
    if cb != ca:
        out.append(Change("panel", "panel-content", subject, "text changed", cb or "", ca or "", "markdown"))
    out += leaf_changes(_without(b, *_PANEL_HANDLED), _without(a, *_PANEL_HANDLED), "panel", "panel-setting", subject)
    return out


def _collapse_shifts(changes: list[Change], before: dict[int, _PanelInfo], after: dict[int, _PanelInfo],
                     moved_ids: list[int]) -> list[Change]:
    """Many panels pushed down by the same number of grid rows (an insertion above) read as one line."""
    by_dy: dict[int, list[int]] = defaultdict(list)
    for pid in moved_ids:
        gb, ga = before[pid].panel.get("gridPos") or {}, after[pid].panel.get("gridPos") or {}
        if (gb.get("x"), gb.get("w"), gb.get("h")) == (ga.get("x"), ga.get("w"), ga.get("h")) and \
                before[pid].row == after[pid].row:
            by_dy[(ga.get("y") or 0) - (gb.get("y") or 0)].append(pid)
    collapse = {dy: ids for dy, ids in by_dy.items() if len(ids) >= 3}
    if not collapse:
        return changes
    drop = {str(after[pid].panel.get("title", "")) for ids in collapse.values() for pid in ids}
    out = [c for c in changes if not (c.kind == "panel-moved" and c.subject in drop)]
    for dy, ids in sorted(collapse.items()):
        titles = [str(after[pid].panel.get("title", "")) for pid in ids]
        direction = "down" if dy > 0 else "up"
        names = ", ".join(titles[:6]) + (f" and {len(titles) - 6} more" if len(titles) > 6 else "")
        out.append(Change("panel", "panel-moved-many", "",
                          f"{len(ids)} panels moved {direction} {abs(dy)} grid rows (same columns and sizes): {names}",
                          count=len(ids)))
    return out


def _dashboard_contents_line(d: dict) -> list[Change]:
    """For an added dashboard: its rows and panels, one line per row."""
    rows: dict[str | None, list[str]] = {}
    for info in _panels(d).values():
        if info.panel.get("type") == "row":
            rows.setdefault(info.panel.get("title", ""), [])
        else:
            rows.setdefault(info.row, []).append(f"{info.panel.get('title', '')} ({info.panel.get('type')})")
    n = sum(len(v) for v in rows.values())
    out = [Change("dashboard", "dashboard-contents", "", f"{n} panels in {sum(1 for r in rows if r is not None)} rows")]
    for row, titles in rows.items():
        out.append(Change("dashboard", "dashboard-contents", f"row {row}" if row is not None else "(no row)",
                          ", ".join(titles) if titles else "(empty)"))
    return out


def _variable_changes(before: list, after: list) -> list[Change]:
    out: list[Change] = []
    b = {v.get("name"): v for v in before or [] if isinstance(v, dict)}
    a = {v.get("name"): v for v in after or [] if isinstance(v, dict)}
    for name in [n for n in a if n not in b]:
        v = a[name]
        out.append(Change("variable", "variable-added", f"variable ${name}",
                          f"added ({v.get('type')}, default {short(_get(v, 'current.value', v.get('query')))})"))
    for name in [n for n in b if n not in a]:
        out.append(Change("variable", "variable-removed", f"variable ${name}", f"removed ({b[name].get('type')})"))
    for name in [n for n in a if n in b]:
        vb, va = b[name], a[name]
        subject = f"variable ${name}"
        handled = ["current", "options"] if va.get("type") == "textbox" else ["current"]
        if _get(vb, "current.value") != _get(va, "current.value"):
            out.append(Change("variable", "variable-changed", subject,
                              f"default {short(_get(vb, 'current.value'))} {ARROW} {short(_get(va, 'current.value'))}"))
        elif vb.get("current") != va.get("current"):
            handled.remove("current")
        out += leaf_changes(_without(vb, *handled), _without(va, *handled), "variable", "variable-changed", subject)
    order_b = [n for n in b if n in a]
    order_a = [n for n in a if n in b]
    if order_b != order_a:
        out.append(Change("variable", "variable-changed", "variables",
                          f"order {', '.join(order_b)} {ARROW} {', '.join(order_a)}"))
    return out


_DASH_HANDLED = ("uid", "title", "panels", "templating.list", "description", "tags", "version", "id")


def diff_dashboard(b: dict, a: dict, path_b: str, path_a: str) -> list[Change]:
    out: list[Change] = []
    fb, fa = PurePosixPath(path_b).parent.name, PurePosixPath(path_a).parent.name
    if fb != fa:
        out.append(Change("dashboard", "dashboard-folder", "", f"moved from folder {fb} {ARROW} {fa}"))
    if b.get("description") != a.get("description"):
        out.append(Change("dashboard", "dashboard-description", "", "description changed",
                          b.get("description") or "", a.get("description") or "", "text"))
    if b.get("tags") != a.get("tags"):
        out.append(Change("dashboard", "dashboard-tags", "",
                          f"tags {', '.join(map(str, b.get('tags') or [])) or '(none)'} {ARROW} "
                          f"{', '.join(map(str, a.get('tags') or [])) or '(none)'}"))
    out += leaf_changes(_without(b, *_DASH_HANDLED), _without(a, *_DASH_HANDLED), "dashboard", "dashboard-setting", "")
    out += _variable_changes(_get(b, "templating.list", []), _get(a, "templating.list", []))

    pb, pa = _panels(b), _panels(a)
    added = [pid for pid in pa if pid not in pb]
    removed = [pid for pid in pb if pid not in pa]
    # A panel whose key (and so id) changed but whose title did not: say so, and diff the rest.
    reid: dict[int, int] = {}
    for pid in list(removed):
        title, ptype = pb[pid].panel.get("title"), pb[pid].panel.get("type")
        same = [x for x in added if pa[x].panel.get("title") == title and pa[x].panel.get("type") == ptype]
        if len(same) == 1 and sum(1 for x in removed if pb[x].panel.get("title") == title) == 1:
            reid[pid] = same[0]
            removed.remove(pid)
            added.remove(same[0])
    panel_changes: list[Change] = []
    moved_ids: list[int] = []
    for pid in pa:
        if pid in added:
            info = pa[pid]
            p = info.panel
            where = f" in row {info.row}" if info.row else ""
            panel_changes.append(Change("panel", "panel-added", str(p.get("title", "")),
                                        f"{'row' if p.get('type') == 'row' else p.get('type', 'panel')} added{where} at {_grid(p.get('gridPos'))}"))
    for pid in pb:
        if pid in removed:
            p = pb[pid].panel
            panel_changes.append(Change("panel", "panel-removed", str(p.get("title", "")),
                                        f"{'row' if p.get('type') == 'row' else p.get('type', 'panel')} removed"))
    for old, new in reid.items():
        panel_changes.append(Change("panel", "panel-reid", str(pa[new].panel.get("title", "")),
                                    f"panel id {old} {ARROW} {new} (its key changed: links and alert annotations "
                                    f"to panel {old} no longer resolve)"))
        panel_changes += _panel_changes(pb[old], pa[new])
    for pid in pa:
        if pid in pb:
            ch = _panel_changes(pb[pid], pa[pid])
            if any(c.kind == "panel-moved" for c in ch):
                moved_ids.append(pid)
            panel_changes += ch
    out += _collapse_shifts(panel_changes, pb, pa, moved_ids)
    return out


def _dashboard_sections(base: dict[str, str], head: dict[str, str]) -> tuple[list[Section], set[str]]:
    covered: set[str] = set()
    errors: list[Section] = []

    def load(files: dict[str, str]) -> dict[str, tuple[str, dict]]:
        out = {}
        for path, content in files.items():
            if not (path.startswith("dashboards/") and path.endswith(".json")):
                continue
            try:
                d = json.loads(content)
            except json.JSONDecodeError:
                continue  # left to the file section, which says it is not valid JSON
            if not isinstance(d, dict):
                continue
            covered.add(path)
            out[str(d.get("uid") or PurePosixPath(path).stem)] = (path, d)
        return out

    b, a = load(base), load(head)
    sections: list[Section] = []
    for uid in sorted(set(b) | set(a), key=lambda u: (a.get(u) or b.get(u))[0]):
        if uid not in b:
            path, d = a[uid]
            sections.append(Section("dashboard", uid, str(d.get("title", "")), "added", path,
                                    [Change("dashboard", "dashboard-added", "", f"dashboard added: {d.get('title', '')}")]
                                    + _dashboard_contents_line(d)))
        elif uid not in a:
            path, d = b[uid]
            n = sum(1 for p in _panels(d).values() if p.panel.get("type") != "row")
            sections.append(Section("dashboard", uid, str(d.get("title", "")), "removed", path,
                                    [Change("dashboard", "dashboard-removed", "",
                                            f"dashboard removed: {d.get('title', '')} ({n} panels)")]))
        else:
            (path_b, db), (path_a, da) = b[uid], a[uid]
            changes = []
            status = "changed"
            if db.get("title") != da.get("title"):
                status = "renamed"
                changes.append(Change("dashboard", "dashboard-renamed", "",
                                      f"renamed {db.get('title', '')} {ARROW} {da.get('title', '')}"))
            changes += diff_dashboard(db, da, path_b, path_a)
            if changes:
                sections.append(Section("dashboard", uid, str(da.get("title", "")), status, path_a, changes,
                                        old_title=str(db.get("title", "")) if status == "renamed" else None))
    return errors + sections, covered


# -------------------------------------------------------------------------------------------------
# Alert rules


@dataclass
class _Rule:
    uid: str
    group: str  # "folder/group"
    path: str
    rule: dict


def _grafana_rules(files: dict[str, str], covered: set[str]) -> tuple[dict[str, _Rule], dict[str, dict]]:
    """Rules by uid, and group-level settings by group key, from rule-group JSON and provisioning YAML."""
    rules: dict[str, _Rule] = {}
    groups: dict[str, dict] = {}
    json_first = sorted(files, key=lambda p: (not p.startswith("alerts/grafana/"), p))
    for path in json_first:
        if not path.startswith("alerts/"):
            continue
        if path.startswith("alerts/grafana/") and path.endswith(".json"):
            try:
                body = json.loads(files[path])
            except json.JSONDecodeError:
                continue
            if not isinstance(body, dict) or not isinstance(body.get("rules"), list):
                continue
            covered.add(path)
            folder = body.get("folderUid") or PurePosixPath(path).parent.name
            key = f"{folder}/{body.get('title') or PurePosixPath(path).stem}"
            groups.setdefault(key, {"interval": body.get("interval"), "path": path})
            for r in body["rules"]:
                if isinstance(r, dict):
                    rules.setdefault(str(r.get("uid") or r.get("title")), _Rule(str(r.get("uid") or r.get("title")), key, path, r))
        elif path.startswith("alerts/provisioning/") and path.endswith((".yaml", ".yml")):
            try:
                doc = yaml.safe_load(files[path])
            except yaml.YAMLError:
                continue
            if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
                continue
            covered.add(path)
            for g in doc["groups"]:
                if not isinstance(g, dict):
                    continue
                key = f"{g.get('folder')}/{g.get('name')}"
                for r in g.get("rules") or []:
                    if isinstance(r, dict):
                        uid = str(r.get("uid") or r.get("title"))
                        if uid not in rules:  # the JSON rule-group body of the same rule wins
                            groups.setdefault(key, {"interval": g.get("interval"), "path": path})
                            rules[uid] = _Rule(uid, key, path, r)
    return rules, groups


def _threshold_model(rule: dict) -> tuple[str | None, dict | None]:
    """(refId, model) of the rule's threshold expression (or classic condition)."""
    data = [d for d in rule.get("data") or [] if isinstance(d, dict)]
    cands = [d for d in data if _get(d, "model.type") in ("threshold", "classic_conditions")]
    if not cands:
        return None, None
    cond = rule.get("condition")
    chosen = next((d for d in cands if d.get("refId") == cond), cands[-1])
    return chosen.get("refId"), chosen.get("model")


_EVALUATORS = {"gt": "above", "lt": "below", "gte": "at or above", "lte": "at or below", "eq": "equal to",
               "ne": "not equal to", "within_range": "within", "outside_range": "outside",
               "within_range_included": "within", "outside_range_included": "outside"}


def _evaluator(model: dict | None) -> tuple[str | None, list]:
    if not model:
        return None, []
    ev = _get((model.get("conditions") or [{}])[0], "evaluator") or {}
    return ev.get("type"), list(ev.get("params") or [])


def _params(params: list, unit: str | None) -> str:
    if len(params) >= 2:
        return f"{num(params[0])}..{with_unit(params[1], unit)}"
    return with_unit(params[0], unit) if params else "(none)"


def _params_bare(params: list) -> str:
    if len(params) >= 2:
        return f"{num(params[0])}..{num(params[1])}"
    return num(params[0]) if params else "(none)"


def _rule_unit(rule: dict, dashboards: dict[str, dict]) -> str | None:
    """The unit of the panel the rule points at (``__dashboardUid__``/``__panelId__``), if any."""
    ann = rule.get("annotations") or {}
    d = dashboards.get(str(ann.get("__dashboardUid__")))
    if not d:
        return None
    for info in _panels(d).values():
        if str(info.panel.get("id")) == str(ann.get("__panelId__")):
            return _get(info.panel, "fieldConfig.defaults.unit")
    return None


def _rule_queries(rule: dict) -> dict[str, tuple[str, str]]:
    out = {}
    for d in rule.get("data") or []:
        if not isinstance(d, dict) or d.get("datasourceUid") == "__expr__":
            continue
        model = d.get("model") or {}
        if "expr" in model:
            out[str(d.get("refId"))] = (str(model["expr"]), "promql")
        elif "query" in model:
            out[str(d.get("refId"))] = (str(model["query"]), "traceql")
    return out


def annotation_changes(subject: str, ab: dict, aa: dict, skip: set[str] = frozenset()) -> list[Change]:
    """Short annotations inline (before -> after); long or multi-line ones as a before/after block."""
    out = []
    for k in sorted((set(ab) | set(aa)) - set(skip)):
        vb, va = ab.get(k), aa.get(k)
        if vb == va:
            continue
        if vb is None or va is None or len(str(vb)) > MAX_VALUE_CHARS or len(str(va)) > MAX_VALUE_CHARS or "\n" in str(vb) + str(va):
            word = "added" if vb is None else "removed" if va is None else "changed"
            out.append(Change("alert", "alert-annotation", subject, f"annotation {k} {word}",
                              None if vb is None else str(vb), None if va is None else str(va), "text"))
        else:
            out.append(Change("alert", "alert-annotation", subject, f"annotation {k} {short(vb)} {ARROW} {short(va)}"))
    return out


def _for_and_label_changes(subject: str, b: dict, a: dict) -> list[Change]:
    """``for``, severity and other label changes of one alert rule (Grafana or Prometheus form)."""
    out = []
    if b.get("for") != a.get("for"):
        out.append(Change("alert", "alert-for", subject, f"for {short(b.get('for'))} {ARROW} {short(a.get('for'))}"))
    lb, la = b.get("labels") or {}, a.get("labels") or {}
    if lb.get("severity") != la.get("severity"):
        out.append(Change("alert", "alert-severity", subject,
                          f"severity {short(lb.get('severity'))} {ARROW} {short(la.get('severity'))}"))
    for k in sorted((set(lb) | set(la)) - {"severity"}):
        if lb.get(k) != la.get(k):
            out.append(Change("alert", "alert-label", subject,
                              f"label {k} {short(lb.get(k, _MISSING))} {ARROW} {short(la.get(k, _MISSING))}"))
    return out


def rule_changes(subject: str, b: dict, a: dict, unit: str | None) -> list[Change]:
    out: list[Change] = []
    if b.get("title") != a.get("title"):
        out.append(Change("alert", "alert-title", subject, f"title {b.get('title')} {ARROW} {a.get('title')}"))
    ref_b, model_b = _threshold_model(b)
    ref_a, model_a = _threshold_model(a)
    tb, pb = _evaluator(model_b)
    ta, pa = _evaluator(model_a)
    if (tb, pb) != (ta, pa):
        if tb == ta:
            out.append(Change("alert", "alert-threshold", subject, f"threshold {_params_bare(pb)} {ARROW} {_params(pa, unit)}"))
        else:
            out.append(Change("alert", "alert-threshold", subject,
                              f"condition {_EVALUATORS.get(tb, tb)} {_params(pb, unit)} {ARROW} "
                              f"{_EVALUATORS.get(ta, ta)} {_params(pa, unit)}"))
    out += _for_and_label_changes(subject, b, a)
    qb, qa = _rule_queries(b), _rule_queries(a)
    for ref in sorted(set(qb) | set(qa)):
        if qb.get(ref, (None,))[0] != qa.get(ref, (None,))[0]:
            lang = (qa.get(ref) or qb.get(ref))[1]
            word = "added" if ref not in qb else "removed" if ref not in qa else "changed"
            out.append(Change("alert", "alert-query", subject, f"query {ref} {word}",
                              qb.get(ref, (None,))[0], qa.get(ref, (None,))[0], lang))
    ab, aa = b.get("annotations") or {}, a.get("annotations") or {}
    if (ab.get("__dashboardUid__"), ab.get("__panelId__")) != (aa.get("__dashboardUid__"), aa.get("__panelId__")):
        out.append(Change("alert", "alert-panel", subject,
                          f"linked panel {short(ab.get('__dashboardUid__'))}/{short(ab.get('__panelId__'))} {ARROW} "
                          f"{short(aa.get('__dashboardUid__'))}/{short(aa.get('__panelId__'))}"))
    out += annotation_changes(subject, ab, aa, skip={"__dashboardUid__", "__panelId__"})

    def rest(rule: dict, thr_ref: str | None) -> dict:
        r = _without(rule, "title", "for", "labels", "annotations", "data", "uid", "ruleGroup", "folderUID")
        data = {}
        for d in rule.get("data") or []:
            if not isinstance(d, dict):
                continue
            d = _without(d, "model.expr", "model.query")
            if d.get("refId") == thr_ref and isinstance(_get(d, "model.conditions"), list) and d["model"]["conditions"]:
                d["model"]["conditions"][0] = _without(d["model"]["conditions"][0], "evaluator")
            data[str(d.get("refId"))] = d
        r["data"] = data
        return r

    out += leaf_changes(rest(b, ref_b), rest(a, ref_a), "alert", "alert-setting", subject)
    return out


def _grafana_rule_sections(base, head, dash_b, dash_a, covered) -> list[Section]:
    rb, gb = _grafana_rules(base, covered)
    ra, ga = _grafana_rules(head, covered)
    by_group: dict[str, Section] = {}

    def section(key: str, groups: dict, status: str = "changed") -> Section:
        if key not in by_group:
            by_group[key] = Section("grafana-rules", key, key, status, (groups.get(key) or {}).get("path", ""))
        return by_group[key]

    for key in ga:
        if key not in gb:
            section(key, ga, "added")
    for key in gb:
        if key not in ga:
            section(key, gb, "removed")
        elif gb[key].get("interval") != ga[key].get("interval"):
            section(key, ga).changes.append(Change("alert", "group-interval", f"group {key}",
                                                   f"evaluation interval {short(gb[key].get('interval'))} {ARROW} "
                                                   f"{short(ga[key].get('interval'))}"))
    for uid in sorted(set(rb) | set(ra)):
        subject = f"alert {uid}"
        if uid not in rb:
            r = ra[uid]
            _, model = _threshold_model(r.rule)
            ev, params = _evaluator(model)
            unit = _rule_unit(r.rule, dash_a)
            cond = f", {_EVALUATORS.get(ev, ev)} {_params(params, unit)}" if ev else ""
            sev = (r.rule.get("labels") or {}).get("severity")
            section(r.group, ga).changes.append(Change(
                "alert", "alert-added", subject,
                f"added: {r.rule.get('title', '')} ({sev or 'no severity'}{cond}, for {short(r.rule.get('for'))})"))
        elif uid not in ra:
            r = rb[uid]
            section(r.group, gb).changes.append(Change("alert", "alert-removed", subject,
                                                       f"removed: {r.rule.get('title', '')}"))
        else:
            changes = []
            if rb[uid].group != ra[uid].group:
                changes.append(Change("alert", "alert-moved", subject,
                                      f"moved from group {rb[uid].group} {ARROW} {ra[uid].group}"))
            changes += rule_changes(subject, rb[uid].rule, ra[uid].rule, _rule_unit(ra[uid].rule, dash_a))
            if changes:
                section(ra[uid].group, ga).changes += changes
    return [by_group[k] for k in sorted(by_group) if by_group[k].changes or by_group[k].status != "changed"]


_PROM_THRESHOLD = re.compile(r"^(?P<head>.*?)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<value>-?[0-9][0-9.eE+-]*)\s*$", re.S)


def _prom_rules(doc: Any) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for g in (doc or {}).get("groups") or []:
        if not isinstance(g, dict):
            continue
        for r in g.get("rules") or []:
            if not isinstance(r, dict):
                continue
            base = f"alert {r['alert']}" if "alert" in r else f"recording rule {r.get('record')}"
            name, i = base, 2
            while name in out:  # the same alert name twice (different labels): number them
                name, i = f"{base} #{i}", i + 1
            out[name] = dict(r, __group=g.get("name"), __interval=g.get("interval"))
    return out


def prometheus_rule_changes(subject: str, b: dict, a: dict) -> list[Change]:
    out: list[Change] = []
    eb, ea = str(b.get("expr", "")), str(a.get("expr", ""))
    if eb != ea:
        mb, ma = _PROM_THRESHOLD.match(eb), _PROM_THRESHOLD.match(ea)
        if mb and ma and mb["head"] == ma["head"]:
            if mb["op"] == ma["op"]:
                out.append(Change("alert", "alert-threshold", subject, f"threshold {mb['value']} {ARROW} {ma['value']}"))
            else:
                out.append(Change("alert", "alert-threshold", subject,
                                  f"condition {mb['op']} {mb['value']} {ARROW} {ma['op']} {ma['value']}"))
        else:
            out.append(Change("alert", "alert-query", subject, "expr changed", eb, ea, "promql"))
    if b.get("__group") != a.get("__group"):
        out.append(Change("alert", "alert-moved", subject, f"moved from group {b.get('__group')} {ARROW} {a.get('__group')}"))
    out += _for_and_label_changes(subject, b, a)
    out += annotation_changes(subject, b.get("annotations") or {}, a.get("annotations") or {})
    rest_b = _without(b, "expr", "for", "labels", "annotations", "__group", "alert", "record")
    rest_a = _without(a, "expr", "for", "labels", "annotations", "__group", "alert", "record")
    out += leaf_changes(rest_b, rest_a, "alert", "alert-setting", subject)
    return out


def _prometheus_sections(base, head, covered) -> list[Section]:
    sections = []
    paths = sorted(p for p in set(base) | set(head) if p.startswith("alerts/prometheus/") and p.endswith((".yaml", ".yml")))
    for path in paths:
        try:
            db = yaml.safe_load(base[path]) if path in base else {}
            da = yaml.safe_load(head[path]) if path in head else {}
        except yaml.YAMLError:
            continue
        if not all(isinstance(d, dict) and isinstance(d.get("groups", []), list) for d in (db, da)):
            continue
        covered.add(path)
        rb, ra = _prom_rules(db), _prom_rules(da)
        status = "added" if path not in base else "removed" if path not in head else "changed"
        s = Section("prometheus-rules", path, PurePosixPath(path).name, status, path)
        for name in ra:
            if name not in rb:
                r = ra[name]
                sev = (r.get("labels") or {}).get("severity")
                s.changes.append(Change("alert", "alert-added", name,
                                        f"added{' (' + sev + ', for ' + short(r.get('for')) + ')' if sev else ''}: "
                                        f"{short(r.get('expr'), 120)}"))
        for name in rb:
            if name not in ra:
                s.changes.append(Change("alert", "alert-removed", name, "removed"))
        for name in ra:
            if name in rb:
                s.changes += prometheus_rule_changes(name, rb[name], ra[name])
        if s.changes or status != "changed":
            sections.append(s)
    return sections


# -------------------------------------------------------------------------------------------------
# Everything else: manifest, unknown files


def _file_sections(base, head, covered) -> list[Section]:
    sections = []
    for path in sorted(set(base) | set(head)):
        if path in covered or base.get(path) == head.get(path):
            continue
        if path not in base:
            sections.append(Section("file", path, path, "added", path, [Change("file", "file-added", "", "file added")]))
            continue
        if path not in head:
            sections.append(Section("file", path, path, "removed", path, [Change("file", "file-removed", "", "file removed")]))
            continue
        try:
            db, da = _parse(path, base[path]), _parse(path, head[path])
        except (ValueError, yaml.YAMLError):
            sections.append(Section("file", path, path, "changed", path,
                                    [Change("file", "file-changed", "", "changed (not parsed)", base[path], head[path], "text")]))
            continue
        if path == "dashboards/manifest.yaml" and isinstance(db, dict) and isinstance(da, dict):
            db, da = _without(db, "dashboards"), _without(da, "dashboards")  # the dashboards sections say it
        changes = leaf_changes(db, da, "file", "file-changed", "")
        if changes:
            sections.append(Section("file", path, path, "changed", path, changes))
    return sections


def diff_outputs(base: dict[str, str], head: dict[str, str], base_label: str = "base",
                 head_label: str = "head") -> Diff:
    """Compare two build outputs (``{relative path: content}``) the way a reviewer reads them."""
    dash_sections, covered = _dashboard_sections(base, head)

    def dashboards_of(files):
        out = {}
        for p, c in files.items():
            if p.startswith("dashboards/") and p.endswith(".json"):
                try:
                    d = json.loads(c)
                except json.JSONDecodeError:
                    continue
                if isinstance(d, dict):
                    out[str(d.get("uid"))] = d
        return out

    rule_sections = _grafana_rule_sections(base, head, dashboards_of(base), dashboards_of(head), covered)
    prom_sections = _prometheus_sections(base, head, covered)
    file_sections = _file_sections(base, head, covered)
    # A covered file that changed without any worded change would be a silent difference: say so.
    worded = {s.path for s in dash_sections + rule_sections + prom_sections}
    for path in sorted(covered):
        if base.get(path) != head.get(path) and path not in worded:
            if path in base and path in head and _same_parsed(path, base[path], head[path]):
                continue  # formatting only (key order, whitespace): nothing for a reviewer
            if any(s.path == path for s in file_sections):
                continue
            if path.startswith("alerts/"):
                # e.g. a rule group file whose rules moved to another file: the rule sections
                # name the rules; the file itself still changed.
                if path not in head or path not in base:
                    file_sections.append(Section("file", path, path, "added" if path not in base else "removed", path,
                                                 [Change("file", "file-added" if path not in base else "file-removed",
                                                         "", "file added" if path not in base else "file removed")]))
    return Diff(dash_sections + rule_sections + prom_sections + file_sections, base_label, head_label)


def _same_parsed(path: str, a: str, b: str) -> bool:
    try:
        return _parse(path, a) == _parse(path, b)
    except (ValueError, yaml.YAMLError):
        return False


# -------------------------------------------------------------------------------------------------
# Formatting (templates/diff/)

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
    from ..templating import environment

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
