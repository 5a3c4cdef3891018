"""What each panel's queries return, read from the panel's JSON, as Grafana would receive it.

The numbers come from one synthetic service (``world``); this module turns a panel's queries
into the series or rows Grafana would get (label sets named by Grafana's rules, ``grafana``),
and applies what Grafana applies: field overrides for names, the Dashboard datasource's reuse of
another panel's result, and the table transformations the preview knows (``convertFieldType``,
``filterByValue``, ``groupingToMatrix``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ...drawn import read_dashboard
from . import world
from .grafana import (Frame, START_TIME, cell_text, column_kind, column_unit, display_names, prometheus_frame,
                      tempo_frame)
from .theme import threshold_steps, unit_of
from .world import N_POINTS, Hints, attr_key, default_level, rng

__all__ = ["FUNC_RE", "N_POINTS", "Hints", "Series", "attr_key", "bar_segments", "default_level", "limits_of",
           "resolve_sources", "rng_for", "stage_of", "synthetic_series", "table_columns", "table_model"]

FUNC_RE = re.compile(r"\|\s*(\w+)\(\s*([\w.]*)((?:\s*,\s*[0-9.]+)*)\s*\)(?:\s*by\s*\(([^)]*)\))?")
_SELECT_RE = re.compile(r"select\(([^)]*)\)")
_COND_RE = re.compile(r'([\w.:]+)\s*(=~|!=|>=|<=|=|>|<)\s*("[^"]*"|[-\w.]+)')
_PROM_STAGE_RE = re.compile(r'(\w+)="([\w.-]+)"')
DASHBOARD_DS = "-- Dashboard --"


def limits_of(panel: dict) -> list[tuple[float, str]]:
    """The panel's thresholds with a value (not the base step)."""
    return [(float(v), c) for v, c in threshold_steps(panel) if isinstance(v, (int, float))]


def rng_for(panel: dict, salt: str = ""):
    return rng(panel.get("id"), panel.get("title"), salt)


def _conds(query: str) -> list[tuple[str, str, str]]:
    return [(attr_key(a), op, v.strip('"')) for a, op, v in _COND_RE.findall(query.split("|")[0])]


def stage_of(query: str, hints: Hints) -> str | None:
    for attr, op, value in _conds(query):
        if op == "=" and hints.stage_attr and attr == hints.stage_attr:
            return value
        if op == "=" and attr == "name" and hints.stage_of_span(value):
            return hints.stage_of_span(value)
    return None


def resolve_sources(panel: dict, dashboard: dict) -> dict:
    """A panel reading another panel's result (the ``-- Dashboard --`` datasource) as Grafana runs
    it: the source's queries (and, with ``withTransforms``, its transformations first), this
    panel's field config. Grafana does not hand over the source's overrides."""
    target = (panel.get("targets") or [{}])[0]
    if (target.get("datasource") or {}).get("uid") != DASHBOARD_DS or "panelId" not in target:
        return panel
    found = read_dashboard(dashboard).by_id().get(target["panelId"])  # a collapsed row's panel too
    if found is None:
        return panel
    source = found.raw
    source = resolve_sources(source, dashboard)
    before = source.get("transformations") or [] if target.get("withTransforms") else []
    return {**panel, "targets": source.get("targets") or [],
            "transformations": [*before, *(panel.get("transformations") or [])]}


@dataclass
class Series:
    name: str
    values: Any  # numpy array


# -- time series --------------------------------------------------------------------------------

def _tempo_series(query: str, hints: Hints, unit: str | None) -> list[tuple[list, Any]]:
    """(labels, values) per series a TraceQL metrics query returns."""
    import numpy as np

    m = FUNC_RE.search(query)
    if not m:
        return []
    func, attr, qargs, by = m.group(1), m.group(2), m.group(3), m.group(4)
    conds = _conds(query)
    stage = stage_of(query, hints)
    key = by.split(",")[0].strip() if by else None
    groups = [(g if attr_key(key) != "name" else hints.stage_of_span(g) or g, g) for g in hints.groups(key)] \
        if key else [(stage, None)]
    qs = [float(q) for q in re.findall(r"[0-9.]+", qargs)]
    out = []
    for st, label in groups:
        glabels = [(key, label)] if key else []
        if func == "quantile_over_time":
            for q in qs:
                out.append((sorted([("p", q), *glabels]), world.quantile(hints, st, attr, q, unit)))
            continue
        if func in ("rate", "count_over_time"):
            names = [v for a, op, v in conds if a == "name" and op == "="]
            if st is None and (not names or names[0] == hints.turn_span):
                values = world.turns()
            else:
                values = world.span_rate(hints, st)
            for a, op, v in conds:
                if op == "=" and v == hints.nothing_value:
                    values = values * world.nothing_share(st)
                elif op == "=" and v == "true":
                    values = values * world.error_share(st)
                elif op == ">" and a not in (hints.stage_attr, "name"):
                    values = values * world.share_above(hints, st, a, float(v))
            values = values * (60 if func == "count_over_time" else 1)
        elif func == "avg_over_time":
            values = world.mean(hints, st, attr, unit)
        elif func == "max_over_time":
            values = world.quantile(hints, st, attr, 0.999, unit)
        elif func == "min_over_time":
            values = world.quantile(hints, st, attr, 0.001, unit)
        else:
            values = np.full(N_POINTS, default_level(unit, attr))
        out.append((glabels or [("__name__", func)], values))
    return out


def _prometheus_series(expr: str, hints: Hints) -> list[tuple[list, Any]]:
    """Ratios of the stage counters, SLO burn rates from the histograms (same world), else a level."""
    import numpy as np

    by = re.search(r"sum by \((\w+)\)", expr)
    stages = [v for k, v in _PROM_STAGE_RE.findall(expr) if by and k == by.group(1)] or (
        hints.stage_values if by else [None])
    out = []
    for st in dict.fromkeys(stages):
        labels = [(by.group(1), st)] if by and st else []
        if "_bucket" in expr:  # (1 - good / all) / budget
            metric = re.search(r"(\w+)_bucket", expr).group(1)
            le_match = re.search(r'le=~?"([0-9.]+)', expr)
            le = float(le_match.group(1)) if le_match else 0.0
            # the budget divides the bad share; guards (minimum events) may follow it in the expression
            budgets = re.findall(r"/\s*([0-9]*\.[0-9]+|[0-9]+)\b(?!\s*[*/])", expr)
            budget = float(budgets[-1]) if budgets else 1.0
            window = re.search(r"\[(\d+)h\]", expr)
            bad = world.share_above(hints, st, hints.metrics.get(metric, metric), le)
            width = max(1, int(window.group(1)) * N_POINTS // 6) if window else 1
            out.append((labels, np.convolve(bad, np.ones(width) / width, mode="full")[:N_POINTS] / budget))
        elif "/" in expr and ("nothing" in expr or "error" in expr):
            out.append((labels, world.nothing_share(st) if "nothing" in expr else world.error_share(st)))
        else:
            out.append((labels, np.full(N_POINTS, default_level(None, None)) * world.wave(expr)))
    return out


def synthetic_series(panel: dict, hints: Hints) -> list[Series]:
    """The series Grafana gets for the panel's queries, named as Grafana shows them."""
    import numpy as np

    unit = unit_of(panel)
    frames: list[Frame] = []
    values = []
    for t in [t for t in panel.get("targets") or [] if isinstance(t, dict)]:
        if t.get("expr"):
            for labels, v in _prometheus_series(str(t["expr"]), hints):
                frames.append(prometheus_frame(labels, t.get("legendFormat"), t.get("refId", "A")))
                values.append(v)
        elif t.get("query"):
            for labels, v in _tempo_series(str(t["query"]), hints, unit):
                frames.append(tempo_frame(labels))
                values.append(v)
    if not frames:
        level = limits_of(panel)[0][0] if limits_of(panel) else default_level(unit, None)
        frames, values = [tempo_frame([("__name__", "value")])], [level * 0.6 * world.wave(str(panel.get("id")))]
    names = display_names(panel, frames)
    return [Series(n, np.clip(v, 0, None)) for n, v in zip(names, values)][:8]


# -- tables ---------------------------------------------------------------------------------------

def table_columns(panel: dict) -> list[str]:
    """The columns a Tempo span table shows (its ``time`` column is displayed as "Start time")."""
    query = str(((panel.get("targets") or [{}])[0]).get("query") or "")
    m = _SELECT_RE.search(query)
    selected = list(dict.fromkeys(attr_key(a.strip()) for a in m.group(1).split(","))) if m else []
    if (panel.get("targets") or [{}])[0].get("expr") is not None:
        return ["Time", "Value"]
    return ["Trace ID", START_TIME, *selected, "Duration"]


def _span_rows(panel: dict, hints: Hints, n: int) -> list[dict[str, object]]:
    """Raw values of ``n`` spans the table's query could return, consistent within each span."""
    query = str(((panel.get("targets") or [{}])[0]).get("query") or "")
    cols = table_columns(panel)
    floors = {a: float(v) for a, op, v in _conds(query) if op == ">"}
    stage = stage_of(query, hints)
    r = rng_for(panel, "table")
    stages = [stage] if stage else (hints.stage_values or [None])
    rows = []
    for i in range(-(-n // len(stages)) * len(stages)):  # whole turns: every stage of each
        st = stages[i % len(stages)]
        row: dict[str, object] = {"Trace ID": "%016x" % int(r.integers(0, 2 ** 62)),
                                  START_TIME: f"2025-06-02 13:{59 - i * 3 % 60:02d}:{int(r.integers(0, 60)):02d}"}
        measured = {}
        for c in cols[2:-1]:
            if c.endswith("session_id"):
                row[c] = "sess-%06x" % int(rng(panel.get("id"), "session").integers(0, 2 ** 24))
            elif c.endswith("turn_id"):
                row[c] = str(i // len(stages) + 1)
            elif hints.stage_attr and c == hints.stage_attr:
                row[c] = st or ""
            elif c.endswith("error"):
                row[c] = "true" if r.uniform() < 0.05 else ""
            else:
                measured[c] = world.sample(hints, st, c, r, floors.get(c))
        first = hints.attribute_of(st, "first_byte") or next((c for c in measured if "first_byte" in c), None)
        for c in measured:  # a span's total is at least its first byte
            if hints.kind(st, c) == "total" and first in measured:
                measured[c] = max(measured[c], measured[first] * float(r.uniform(1.1, 2.2)))
        for c, v in measured.items():
            row[c] = str(int(round(max(v, 2)))) if c in hints.integers or not hints.integers else f"{v:.3f}"
        row["Duration"] = max([float(v) for v in measured.values() if v] + [float(r.integers(200, 4000))])
        rows.append(row)
    return rows


def _filter(rows, options) -> list[dict]:
    def holds(row, f):
        value, how = row.get(f.get("fieldName")), (f.get("config") or {}).get("id")
        want = ((f.get("config") or {}).get("options") or {}).get("value")
        if how == "regex":
            return re.search(str(want), str(value)) is not None
        if how in ("greaterOrEqual", "greater", "lowerOrEqual", "lower"):
            try:
                v, w = float(value), float(want)
            except (TypeError, ValueError):
                return False
            return {"greaterOrEqual": v >= w, "greater": v > w, "lowerOrEqual": v <= w, "lower": v < w}[how]
        if how == "equal":
            return str(value) == str(want)
        return True
    keep = all if options.get("match", "all") == "all" else any
    include = options.get("type", "include") == "include"
    return [row for row in rows if keep(holds(row, f) for f in options.get("filters") or []) == include]


def table_model(panel: dict, hints: Hints, n_rows: int) -> tuple[list[str], list[str], list[list[str]]]:
    """(columns, Grafana's type of each, rows of displayed text) after the panel's transformations
    and sort: string columns shown and sorted as text, numbers formatted by their unit."""
    cols = table_columns(panel)
    rows = _span_rows(panel, hints, max(n_rows * 3, 30))
    kinds = {c: column_kind(panel, c) for c in cols}
    for t in panel.get("transformations") or []:
        if t.get("id") == "filterByValue":
            rows = _filter(rows, t.get("options") or {})
        elif t.get("id") == "groupingToMatrix":
            o = t.get("options") or {}
            col, row_f, val = o.get("columnField"), o.get("rowField"), o.get("valueField")
            values = list(dict.fromkeys(str(r.get(col)) for r in rows))
            grid: dict[str, dict[str, object]] = {}
            for r in rows:
                grid.setdefault(str(r.get(row_f)), {f"{row_f}\\{col}": r.get(row_f)})[str(r.get(col))] = r.get(val)
            cols, rows = [f"{row_f}\\{col}", *values], list(grid.values())
            kinds = {c: "string" if i == 0 else ("number" if val in kinds and kinds[val] == "number" else "string")
                     for i, c in enumerate(cols)}
    for sort in (panel.get("options") or {}).get("sortBy") or []:
        name = sort.get("displayName")
        if name in cols:  # a name the table does not display sorts nothing (Grafana drops it)
            number = kinds.get(name) == "number"
            rows.sort(key=lambda r: (float(r.get(name) or 0) if number else str(r.get(name) or "")),
                      reverse=bool(sort.get("desc")))
            break
    text = [[cell_text(r.get(c, ""), kinds.get(c, "string"),
                       "ms" if c == "Duration" else (None if kinds.get(c) == "time"
                                                     else column_unit(panel, c, kinds.get(c))))
             if r.get(c, "") != "" else "" for c in cols] for r in rows[:n_rows]]
    return cols, [kinds.get(c, "string") for c in cols], text


def bar_segments(panel: dict, hints: Hints) -> tuple[list[str], list[tuple[str, Any]]]:
    """A stacked bar chart's groups (x) and segments (one per column) after its transformations."""
    import numpy as np

    cols, _, rows = table_model(panel, hints, 12)
    groups = [r[0] for r in rows]
    segments = []
    for j, c in enumerate(cols[1:], 1):
        values = np.array([float(r[j].split()[0]) if r[j] else 0.0 for r in rows])
        segments.append((c, values))
    return groups, segments
