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
from .grafana import (Frame, START_TIME, cell_text, column_kind, column_unit, display_names, field_name,
                      prometheus_frame, tempo_frame)
from .theme import threshold_steps, unit_of
from .world import N_POINTS, Hints, attr_key, default_level, rng
from ...catalog.conventions import seconds

__all__ = ["FUNC_RE", "N_POINTS", "Hints", "Series", "attr_key", "bar_segments", "default_level", "limits_of",
           "resolve_sources", "rng_for", "stage_of", "synthetic_series", "table_columns", "table_model", "time_ticks"]

FLAG_TRUE_SHARE = 0.2  # the share of a stage's spans a boolean flag is true on, in the preview's world
FUNC_RE = re.compile(r"\|\s*(\w+)\(\s*([\w.]*)((?:\s*,\s*[0-9.]+)*)\s*\)(?:\s*by\s*\(([^)]*)\))?")
_SELECT_RE = re.compile(r"select\(([^)]*)\)")
_COND_RE = re.compile(r'([\w.:]+)\s*(=~|!=|>=|<=|=|>|<)\s*("[^"]*"|[-\w.]+)')
_PROM_STAGE_RE = re.compile(r'(\w+)=~?"([\w.|-]+)"')  # label="v", or label=~"a|b" (plain alternatives)
DASHBOARD_DS = "-- Dashboard --"


def limits_of(panel: dict) -> list[tuple[float, str]]:
    """The panel's thresholds with a value (not the base step)."""
    return [(float(v), c) for v, c in threshold_steps(panel) if isinstance(v, (int, float))]


def rng_for(panel: dict, salt: str = ""):
    return rng(panel.get("id"), panel.get("title"), salt)


def _split_top(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside parentheses and quotes."""
    parts, depth, quoted, start, i = [], 0, False, 0, 0
    while i < len(text):
        c = text[i]
        if c == '"' and text[i - 1:i] != "\\":
            quoted = not quoted
        elif not quoted and c in "()":
            depth += 1 if c == "(" else -1
        elif not quoted and depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i = i + len(sep)
            continue
        i += 1
    return [*parts, text[start:]]


def _clauses(query: str) -> list[list[tuple[str, str, str]]]:
    """The first spanset's top-level ``&&`` clauses, each as its ``||`` alternatives: what every span
    the query reads must meet (``(a != true || stage = "x")`` is one clause of two alternatives)."""
    spanset = _spanset(query).strip().removeprefix("{").removesuffix("}")
    out = []
    for clause in _split_top(spanset, "&&"):
        clause = clause.strip()
        while clause.startswith("(") and clause.endswith(")") and _balanced(clause[1:-1]):  # (x || y)
            clause = clause[1:-1].strip()
        out.append([(attr_key(a), op, v.strip('"')) for alt in _split_top(clause, "||")
                    for a, op, v in _COND_RE.findall(alt)])
    return out


def _spanset(query: str) -> str:
    """The query up to its pipeline's first ``|``: not an ``||``, nor a ``|`` inside a quoted value
    (``name =~ "stt|llm"``)."""
    quoted = False
    for i, c in enumerate(query):
        if c == '"' and query[i - 1:i] != "\\":
            quoted = not quoted
        elif c == "|" and not quoted and query[i - 1:i] != "|" and query[i + 1:i + 2] != "|":
            return query[:i]
    return query


def _balanced(text: str) -> bool:
    depth = 0
    for c in text:
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth < 0:
            return False
    return depth == 0


def _conds(query: str) -> list[tuple[str, str, str]]:
    """The conditions every span the query reads must meet (clauses of one alternative)."""
    return [alts[0] for alts in _clauses(query) if len(alts) == 1]


def _chosen(query: str, attr: str) -> set[str]:
    """The values of ``attr`` a clause made only of ``attr = "v"`` alternatives lets through (empty: any)."""
    chosen: set[str] = set()
    for alts in _clauses(query):
        if alts and all(a == attr and op in ("=", "=~") for a, op, _v in alts):
            # a regex of plain alternatives (name =~ "stt|llm") lets each of them through
            chosen |= {w for _a, op, v in alts for w in (v.split("|") if op == "=~" else [v])}
    return chosen


def _is_error(attr: str, op: str, value: str, hints: Hints) -> bool:
    """A condition only failed spans meet (``voice.errors``): ``status = error``, or the catalog's error
    attribute ``= true`` (without a catalog, any boolean ``= true`` that is not a stage flag)."""
    if op != "=":
        return False
    if attr == "status":
        return value == "error"
    return value == "true" and (attr == hints.error_attr if hints.error_attr else attr not in hints.booleans)


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


# -- time ---------------------------------------------------------------------------------------

PREVIEW_NOW = "2025-06-02T14:00:00"  # the preview's "now": the span tables' start times fall before it


def time_ticks(hints: Hints, n: int = N_POINTS) -> tuple[list[float], list[str]]:
    """Seven x-axis ticks (index, label) from ``now - range`` to now: the axis spans the dashboard's
    time range, as the time picker says (``Last 3 hours``: 11:00 to 14:00)."""
    from datetime import datetime, timedelta

    now = datetime.fromisoformat(PREVIEW_NOW)
    form = "%H:%M" if hints.range_s <= 86400 else "%m/%d %H:%M"
    positions = [i * (n - 1) / 6 for i in range(7)]
    labels = [(now - timedelta(seconds=hints.range_s * (6 - i) / 6)).strftime(form) for i in range(7)]
    return positions, labels


# -- time series --------------------------------------------------------------------------------

def _tempo_series(query: str, hints: Hints, unit: str | None) -> list[tuple[list, Any]]:
    """(labels, values) per series a TraceQL metrics query returns."""
    import numpy as np

    m = FUNC_RE.search(query)
    if not m:
        return []
    func, attr, qargs, by = m.group(1), m.group(2), m.group(3), m.group(4)
    if attr == "duration":  # Tempo returns the span duration in seconds, whatever the panel's unit says
        unit = "s"
    conds = _conds(query)
    stage = stage_of(query, hints)
    key = by.split(",")[0].strip() if by else None
    groups = [(g if attr_key(key) != "name" else hints.stage_of_span(g) or g, g) for g in hints.groups(key)] \
        if key else [(stage, None)]
    if key:  # Tempo returns only the groups the filter lets through: `(stage = "a" || stage = "b") ... by (stage)`
        chosen = _chosen(query, attr_key(key))
        groups = [(st, label) for st, label in groups if not chosen or label in chosen]
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
            if any(alts and all(_is_error(*c, hints) for c in alts) for alts in _clauses(query)):
                if st in hints.never_fail:  # no failed span there: Tempo returns no series for the group
                    continue
                values = values * world.error_share(st)  # failed spans: (status = error || the error attribute)
            for a, op, v in conds:
                if op == "=" and v == hints.nothing_value:
                    values = values * world.nothing_share(st)
                elif op == ">" and a not in (hints.stage_attr, "name"):
                    values = values * world.share_above(hints, st, a, float(v))
            if key is not None and attr_key(key) in hints.booleans:  # a flag: true on a fifth of the spans
                values = values * (FLAG_TRUE_SHARE if label == "true" else 1 - FLAG_TRUE_SHARE)
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


_SLOTH_ID_RE = re.compile(r'sloth_id="([^"]+)"')
_SLI_WINDOW_RE = re.compile(r"slo:sli_error:ratio_rate(\d+[smhdw])")
_QUANTILE_RE = re.compile(r"histogram_quantile\(\s*([0-9.]+)")


def _slo_series(expr: str, slo: world.SloHint, hints: Hints):
    """Sloth's recorded series (``slo:*``, the names of dashgen/alerts/slo.py) as the SLO panels
    combine them: SLI = 1 - error ratio; burn rate = error ratio / budget; budget remaining =
    1 - period error ratio / budget; runs out in = remaining x period / current burn rate."""
    import numpy as np

    def error_ratio(window: str):
        return world.slo_error_ratio(hints, slo, seconds(window))

    period = error_ratio(f"{int(slo.period_s)}s")
    burn_now = error_ratio("5m") / slo.budget  # slo:current_burn_rate:ratio, over Sloth's 5m window
    if "slo:period_error_budget_remaining:ratio" in expr:
        remaining = 1 - period / slo.budget
        if "slo:current_burn_rate:ratio" in expr:  # budget runs out in: clamp_min(remaining, 0) x period / burn
            return np.clip(remaining, 0, None) * slo.period_s / np.maximum(burn_now, 1e-9)
        return remaining
    if "slo:current_burn_rate:ratio" in expr:
        return burn_now
    m = _SLI_WINDOW_RE.search(expr)
    if m:
        ratio = error_ratio(m.group(1))
        if "slo:error_budget:ratio" in expr:  # a burn rate
            return ratio / slo.budget
        return 1 - ratio if re.match(r"\s*1\s*-", expr) else ratio
    if "slo:error_budget:ratio" in expr:
        return np.full(N_POINTS, slo.budget)
    if "slo:objective:ratio" in expr:
        return np.full(N_POINTS, slo.objective)
    return 1 - period


def _histogram_series(expr: str, stage: str | None, hints: Hints):
    """Rates and quantiles of a catalog histogram: events per second (all, good at or below an
    ``le``, bad above it), ``histogram_quantile``, and the bad share over a budget."""

    metric = re.search(r"(\w+?)(?:_bucket|_count|_sum)\b", expr).group(1)
    attr = hints.metrics.get(metric, metric)
    le_match = re.search(r'le=~?"([0-9.]+)', expr)
    le = float(le_match.group(1)) if le_match else None
    rate = world.span_rate(hints, stage)
    q = _QUANTILE_RE.search(expr)
    if q:
        return world.quantile(hints, stage, attr, float(q.group(1)))
    if "/" not in expr:
        if "_bucket" in expr and "_count" in expr and le is not None:  # all - good: the bad events
            return rate * world.share_above(hints, stage, attr, le)
        if "_bucket" in expr and le is not None:  # the good events
            return rate * (1 - world.share_above(hints, stage, attr, le))
        return rate
    # (1 - good / all) / budget; guards (minimum events) may follow the budget in the expression
    budgets = re.findall(r"/\s*([0-9]*\.[0-9]+|[0-9]+)\b(?!\s*[*/])", expr)
    budget = float(budgets[-1]) if budgets else 1.0
    window = re.search(r"\[(\d+[smhdw])\]", expr)
    bad = world.share_above(hints, stage, attr, le or 0.0)
    return (world.over_window(hints, bad, seconds(window.group(1))) if window else bad) / budget


def _prometheus_series(expr: str, hints: Hints) -> list[tuple[list, Any]]:
    """What a PromQL query returns in the synthetic service: Sloth's SLO series, the catalog's
    histograms, the stage counters' ratios, else a level; one series per value of its ``by`` label."""
    import numpy as np

    sloth = _SLOTH_ID_RE.search(expr)
    if sloth and sloth.group(1) in hints.slos:
        return [([], _slo_series(expr, hints.slos[sloth.group(1)], hints))]
    if hints.good_turns and hints.good_turns in expr:  # the good-turn counters (promql.turn_event_rates)
        bad = world.bad_turn_share()
        if " / " in expr:  # the SLI: good / judged, or 1 minus it
            return [([], bad if expr.lstrip("( ").startswith("1 -") else 1 - bad)]
        # turns per second: judged - good (the bad ones), or the good ones; every turn judged
        return [([], world.turns() * (bad if " - " in expr else 1 - bad))]
    by = re.search(r"(?:sum|max|min|avg|count) by \((\w+)\)", expr)
    label = by.group(1) if by else None
    stage_label = hints.prometheus_stage_label
    pinned = [w for k, v in _PROM_STAGE_RE.findall(expr) if label and k == label for w in v.split("|")]
    values = list(dict.fromkeys(pinned or (hints.groups(label) if label else [None])))
    pinned_stage = next((v for k, v in _PROM_STAGE_RE.findall(expr) if k == stage_label and "|" not in v), None)
    out = []
    for value in values:
        labels = [(label, value)] if label and value else []
        st = value if label and label == stage_label else pinned_stage
        if re.search(r"\w+_(bucket|count)\b", expr) and not re.search(r"nothing|error", expr):
            out.append((labels, _histogram_series(expr, st, hints)))
        elif "/" in expr and ("nothing" in expr or "error" in expr):
            out.append((labels, world.nothing_share(st) if "nothing" in expr else world.error_share(st)))
        else:
            out.append((labels, np.full(N_POINTS, default_level(None, None)) * world.wave(f"{expr}/{value}")))
    return out


def synthetic_series(panel: dict, hints: Hints) -> list[Series]:
    """The series Grafana draws for the panel's queries: named as the datasource names them, the
    panel's transformations applied (``apply_transformations``, the code tables run), then the
    field overrides' names (Grafana applies overrides to what the transformations return)."""
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
    values = [np.clip(v, 0, None) for v in values]
    if panel.get("transformations"):
        frames, values = _transformed(panel["transformations"], frames, values)
    names = display_names(panel, frames)
    return [Series(n, v) for n, v in zip(names, values)][:8]


def _transformed(transformations: list[dict], frames: list[Frame], values: list) -> tuple[list[Frame], list]:
    """Time series through the panel's transformations: one frame, a field per series under the
    name Grafana gives it before overrides (``field_name``), a row per time."""
    import numpy as np

    names = [field_name(f, frames) for f in frames]
    by_name = dict(zip(names, frames))
    rows = [{n: float(v[i]) for n, v in zip(names, values)} for i in range(N_POINTS)]
    cols, rows, _, renamed = apply_transformations(transformations, names, rows, {n: "number" for n in names})
    out_frames, out_values = [], []
    for c in cols:
        source = by_name.get(renamed.get(c, c))
        # a field renamed by organize carries its new name as its displayName; a calculated one is new
        frame = source if source is not None and c in by_name else tempo_frame([("__name__", c)])
        out_frames.append(frame)
        out_values.append(np.array([np.nan if r.get(c, "") == "" else float(r[c]) for r in rows]))
    return out_frames, out_values


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
            elif c == hints.verdict:  # on the turn span only, which the first row of each turn stands in for
                row[c] = ("1" if r.uniform() >= 0.04 else "0") if i % len(stages) == 0 else ""
            else:
                measured[c] = world.sample(hints, st, c, r, floors.get(c))
        # a span's barge-in milestones count from one zero: VAD confirmed <= cancelled <= silent
        steps = sorted((hints.milestones[(st, c)][0], c) for c in measured if (st, c) in hints.milestones)
        for (_, c), v in zip(steps, sorted(measured[c] for _, c in steps)):
            measured[c] = v
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
    cols, rows, kinds, _ = apply_transformations(panel.get("transformations") or [], cols, rows, kinds)
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


def search_stat(panel: dict, hints: Hints, pick) -> tuple[float, str] | None:
    """A stat on a Tempo span search (through the Dashboard datasource: the session's good-turn score):
    Grafana reduces the field the ``fields`` regex ``pick`` finds, over the rows the transformations
    leave, with the stat's calculation (``mean``, else the last value). None for any other stat."""
    target = (panel.get("targets") or [{}])[0]
    if target.get("tableType") != "spans":
        return None
    cols = table_columns(panel)
    rows = _span_rows(panel, hints, 30)
    kinds = {c: column_kind(panel, c) for c in cols}
    cols, rows, kinds, _ = apply_transformations(panel.get("transformations") or [], cols, rows, kinds)
    name = next((c for c in cols if pick(c)), None)
    values = [v for v in (_number(r.get(name)) for r in rows) if v is not None] if name else []
    if not values:
        return None
    calc = (((panel.get("options") or {}).get("reduceOptions") or {}).get("calcs") or ["lastNotNull"])[0]
    return (sum(values) / len(values) if calc == "mean" else values[-1]), name


# -- transformations (every panel kind) -----------------------------------------------------------

def apply_transformations(transformations: list[dict], cols: list[str], rows: list[dict],
                          kinds: dict[str, str]) -> tuple[list[str], list[dict], dict[str, str], dict[str, str]]:
    """A panel's transformations, in order, on one frame: ``cols`` (field display names, in order),
    ``rows`` (one dict per row) and Grafana's type of each field. Tables and time series run the
    same code (a time series is a frame with one row per time and a field per series, as
    ``joinByField`` on time leaves it). Returns the frame after the transformations and, for each
    field ``organize`` renamed, its name before (``{new: old}``).

    Grafana's transformers (``packages/grafana-data/src/transformations/transformers/``):
    ``joinByField.ts`` (outer join on time: the synthetic series share their times, so joining
    keeps every field in order), ``filterByValue.ts``, ``groupingToMatrix.ts``,
    ``calculateField.ts`` (the new field appended at the end), ``organize.ts`` (exclude, then
    order, then rename: ``filterFieldsByName``, ``orderFieldsTransformer``, ``renameFieldsTransformer``).
    A transformation the preview does not know is left out, as a disabled one is (``disabled``)."""
    renamed: dict[str, str] = {}
    for t in transformations:
        o = t.get("options") or {}
        if t.get("disabled"):
            continue
        if t.get("id") == "filterByValue":
            rows = _filter(rows, o)
        elif t.get("id") == "groupingToMatrix":
            col, row_f, val = o.get("columnField"), o.get("rowField"), o.get("valueField")
            values = list(dict.fromkeys(str(r.get(col)) for r in rows))
            grid: dict[str, dict[str, object]] = {}
            for r in rows:
                grid.setdefault(str(r.get(row_f)), {f"{row_f}\\{col}": r.get(row_f)})[str(r.get(col))] = r.get(val)
            cols, rows = [f"{row_f}\\{col}", *values], list(grid.values())
            kinds = {c: "string" if i == 0 else ("number" if val in kinds and kinds[val] == "number" else "string")
                     for i, c in enumerate(cols)}
        elif t.get("id") == "calculateField":
            cols, rows, kinds = _calculate(o, cols, rows, kinds)
        elif t.get("id") == "organize":
            cols, rows, kinds, renamed = _organize(o, cols, rows, kinds, renamed)
    return cols, rows, kinds, renamed


def _organize(o: dict, cols: list, rows: list, kinds: dict, renamed: dict) -> tuple[list, list, dict, dict]:
    """``organize.ts``: drop the excluded fields, order by ``indexByName`` (unlisted fields keep
    their order after the listed ones), then rename (``renameByName``, the field's display name)."""
    hidden = {k for k, v in (o.get("excludeByName") or {}).items() if v}
    cols = [c for c in cols if c not in hidden]
    index = o.get("indexByName") or {}
    if index:
        cols = sorted(cols, key=lambda c: (index.get(c, len(cols) + cols.index(c))))
    names = {k: v for k, v in (o.get("renameByName") or {}).items() if v and k in cols}
    if names:
        cols = [names.get(c, c) for c in cols]
        rows = [{names.get(k, k): v for k, v in r.items()} for r in rows]
        kinds = {names.get(k, k): v for k, v in kinds.items()}
        renamed = {**renamed, **{new: renamed.get(old, old) for old, new in names.items()}}
    return cols, rows, kinds, renamed


def _number(v) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _calculate(o: dict, cols: list, rows: list, kinds: dict) -> tuple[list, list, dict]:
    """Grafana's ``calculateField`` (``packages/grafana-data/src/transformations/transformers/
    calculateField.ts``) in the two modes dashgen writes: ``reduceRow`` (sum of the included fields;
    a missing cell counts as nothing) and ``binary`` (left minus right, empty when either is).
    With ``replaceFields`` only the new field stays."""
    alias = o.get("alias") or "calculated"
    out = []
    for r in rows:
        value = None
        if o.get("mode") == "reduceRow":
            parts = [_number(r.get(c)) for c in (o.get("reduce") or {}).get("include") or [] if c in cols]
            value = sum(v for v in parts if v is not None) if any(v is not None for v in parts) else None
        elif o.get("mode") == "binary":
            b = o.get("binary") or {}
            left, right = _number(r.get(b.get("left"))), _number(r.get(b.get("right")))
            if left is not None and right is not None and b.get("operator") == "-":
                value = left - right
        out.append({**r, alias: "" if value is None else value})
    if o.get("replaceFields"):
        return [alias], [{alias: r[alias]} for r in out], {alias: "number"}
    return ([*cols, alias] if alias not in cols else cols), out, {**kinds, alias: "number"}


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
