"""Dashboard sections: dashboards by uid, panels by id, queries by refId, thresholds, variables."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import PurePosixPath

from ...dashboards.v2 import comparable, is_v2, to_classic
from ...artifacts import DASHBOARD, kind_of
from ...drawn import DrawnPanel, read_dashboard, steps
from .leaves import ARROW, MISSING, get_path, leaf_changes, num, short, was, with_unit, without
from .model import Change, Section


def panels_of(dashboard: dict) -> dict[int, DrawnPanel]:
    """Every panel by id (rows too, and panels inside collapsed rows), with its row title
    (:func:`dashgen.drawn.read_dashboard`)."""
    return {p.id: p for p in read_dashboard(dashboard)}


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


def threshold_changes(subject: str, before: list[tuple], after: list[tuple], unit: str | None) -> list[Change]:
    """Word threshold step changes: values matched by colour first, so 350 -> 300 reads as one change.

    Steps present on both sides (same value and colour) are left out; the rest are paired by
    value, then by colour in order, then by position; what is left was added or removed.
    """
    out: list[Change] = []
    b_base = next((c for v, c in before if v is None), None)
    a_base = next((c for v, c in after if v is None), None)
    if b_base and a_base and b_base != a_base:
        out.append(Change("threshold", "threshold-changed", subject, f"base colour {b_base} {ARROW} {a_base}"))
    b = [(v, c) for v, c in before if v is not None]
    a = [(v, c) for v, c in after if v is not None]
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


def _panel_changes(pb: DrawnPanel, pa: DrawnPanel) -> list[Change]:
    b, a = pb.raw, pa.raw
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
    unit = get_path(a, "fieldConfig.defaults.unit")
    out += threshold_changes(subject, steps(b), steps(a), unit)
    ub = get_path(b, "fieldConfig.defaults.unit", MISSING)
    if ub != get_path(a, "fieldConfig.defaults.unit", MISSING):
        out.append(Change("unit", "unit-changed", subject, f"unit {was(ub, get_path(a, 'fieldConfig.defaults.unit', MISSING))}"))
    if b.get("description") != a.get("description"):
        out.append(Change("panel", "panel-description", subject, "description changed",
                          b.get("description") or "", a.get("description") or "", "text"))
    cb, ca = get_path(b, "options.content"), get_path(a, "options.content")
    if cb != ca:
        out.append(Change("panel", "panel-content", subject, "text changed", cb or "", ca or "", "markdown"))
    out += leaf_changes(without(b, *_PANEL_HANDLED), without(a, *_PANEL_HANDLED), "panel", "panel-setting", subject)
    return out


def _collapse_shifts(changes: list[Change], before: dict[int, DrawnPanel], after: dict[int, DrawnPanel],
                     moved_ids: list[int]) -> list[Change]:
    """Many panels pushed down by the same number of grid rows (an insertion above) read as one line."""
    by_dy: dict[int, list[int]] = defaultdict(list)
    for pid in moved_ids:
        gb, ga = before[pid].raw.get("gridPos") or {}, after[pid].raw.get("gridPos") or {}
        if (gb.get("x"), gb.get("w"), gb.get("h")) == (ga.get("x"), ga.get("w"), ga.get("h")) and \
                before[pid].row == after[pid].row:
            by_dy[(ga.get("y") or 0) - (gb.get("y") or 0)].append(pid)
    collapse = {dy: ids for dy, ids in by_dy.items() if len(ids) >= 3}
    if not collapse:
        return changes
    drop = {str(after[pid].raw.get("title", "")) for ids in collapse.values() for pid in ids}
    out = [c for c in changes if not (c.kind == "panel-moved" and c.subject in drop)]
    for dy, ids in sorted(collapse.items()):
        titles = [str(after[pid].raw.get("title", "")) for pid in ids]
        direction = "down" if dy > 0 else "up"
        names = ", ".join(titles[:6]) + (f" and {len(titles) - 6} more" if len(titles) > 6 else "")
        out.append(Change("panel", "panel-moved-many", "",
                          f"{len(ids)} panels moved {direction} {abs(dy)} grid rows (same columns and sizes): {names}",
                          count=len(ids)))
    return out


def _dashboard_contents_line(d: dict) -> list[Change]:
    """For an added dashboard: its rows and panels, one line per row."""
    rows: dict[str | None, list[str]] = {}
    for info in panels_of(d).values():
        if info.raw.get("type") == "row":
            rows.setdefault(info.raw.get("title", ""), [])
        else:
            rows.setdefault(info.row, []).append(f"{info.raw.get('title', '')} ({info.raw.get('type')})")
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
                          f"added ({v.get('type')}, default {short(get_path(v, 'current.value', v.get('query')))})"))
    for name in [n for n in b if n not in a]:
        out.append(Change("variable", "variable-removed", f"variable ${name}", f"removed ({b[name].get('type')})"))
    for name in [n for n in a if n in b]:
        vb, va = b[name], a[name]
        subject = f"variable ${name}"
        handled = ["current", "options"] if va.get("type") == "textbox" else ["current"]
        if get_path(vb, "current.value") != get_path(va, "current.value"):
            out.append(Change("variable", "variable-changed", subject,
                              f"default {was(get_path(vb, 'current.value'), get_path(va, 'current.value'))}"))
        elif vb.get("current") != va.get("current"):
            handled.remove("current")
        out += leaf_changes(without(vb, *handled), without(va, *handled), "variable", "variable-changed", subject)
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
    out += leaf_changes(without(b, *_DASH_HANDLED), without(a, *_DASH_HANDLED), "dashboard", "dashboard-setting", "")
    out += _variable_changes(get_path(b, "templating.list", []), get_path(a, "templating.list", []))

    pb, pa = panels_of(b), panels_of(a)
    added = [pid for pid in pa if pid not in pb]
    removed = [pid for pid in pb if pid not in pa]
    # A panel whose key (and so id) changed but whose title did not: say so, and diff the rest.
    reid: dict[int, int] = {}
    for pid in list(removed):
        title, ptype = pb[pid].raw.get("title"), pb[pid].raw.get("type")
        same = [x for x in added if pa[x].raw.get("title") == title and pa[x].raw.get("type") == ptype]
        if len(same) == 1 and sum(1 for x in removed if pb[x].raw.get("title") == title) == 1:
            reid[pid] = same[0]
            removed.remove(pid)
            added.remove(same[0])
    panel_changes: list[Change] = []
    moved_ids: list[int] = []
    for pid in pa:
        if pid in added:
            info = pa[pid]
            p = info.raw
            where = f" in row {info.row}" if info.row else ""
            panel_changes.append(Change("panel", "panel-added", str(p.get("title", "")),
                                        f"{'row' if p.get('type') == 'row' else p.get('type', 'panel')} added{where} at {_grid(p.get('gridPos'))}"))
    for pid in pb:
        if pid in removed:
            p = pb[pid].raw
            panel_changes.append(Change("panel", "panel-removed", str(p.get("title", "")),
                                        f"{'row' if p.get('type') == 'row' else p.get('type', 'panel')} removed"))
    for old, new in reid.items():
        panel_changes.append(Change("panel", "panel-reid", str(pa[new].raw.get("title", "")),
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


def load_dashboards(files: dict[str, str], covered: set[str]) -> dict[str, tuple[str, dict, bool]]:
    """``{uid: (path, dashboard, was v2)}`` of the dashboards in a build output; their paths join ``covered``.

    A dashboard without a uid goes by its file name. A file that is not a JSON object is left
    out, to the file section, which says what is wrong with it. A v2 object is read as the
    classic dashboard it stands for, so a v2 dashboard is diffed in the same words as a classic one.
    """
    out = {}
    for path, content in files.items():
        if kind_of(path) != DASHBOARD:
            continue
        try:
            d = json.loads(content)
        except json.JSONDecodeError:
            continue
        if not isinstance(d, dict):
            continue
        v2 = is_v2(d)
        if v2:
            d = to_classic(d)
        covered.add(path)
        out[str(d.get("uid") or PurePosixPath(path).stem)] = (path, d, v2)
    return out


def dashboard_sections(b: dict[str, tuple[str, dict, bool]], a: dict[str, tuple[str, dict, bool]]) -> list[Section]:
    """One section per dashboard added, removed, renamed or changed, in path order."""
    sections: list[Section] = []
    for uid in sorted(set(b) | set(a), key=lambda u: (a.get(u) or b.get(u))[0]):
        if uid not in b:
            path, d, _ = a[uid]
            sections.append(Section("dashboard", uid, str(d.get("title", "")), "added", path,
                                    [Change("dashboard", "dashboard-added", "", f"dashboard added: {d.get('title', '')}")]
                                    + _dashboard_contents_line(d)))
        elif uid not in a:
            path, d, _ = b[uid]
            n = sum(1 for p in panels_of(d).values() if p.raw.get("type") != "row")
            sections.append(Section("dashboard", uid, str(d.get("title", "")), "removed", path,
                                    [Change("dashboard", "dashboard-removed", "",
                                            f"dashboard removed: {d.get('title', '')} ({n} panels)")]))
        else:
            (path_b, db, v2_b), (path_a, da, v2_a) = b[uid], a[uid]
            if v2_b or v2_a:  # compare what both formats hold (row ids, where datasources sit: dashboards/v2.py)
                db, da = comparable(db), comparable(da)
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
    return sections
