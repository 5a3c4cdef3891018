"""Checks of what a real Grafana and Tempo will do with a dashboard, not of its form.

Schema-valid JSON can still render wrongly; each rule here is a class of defect found that
way (issue 15), checked on the JSON alone so it holds for any catalog and for hand edits:

- ``threshold-colour``: a panel with threshold steps is coloured or drawn by them (a stat or
  gauge in ``thresholds`` colour mode; a time series with a visible ``thresholdsStyle``);
  ``palette-classic`` colours by series index and ignores thresholds (``fieldColor.ts``).
- ``threshold-order``: severity moves one way as the value rises (green < yellow < orange < red): up for
  what is worse higher (a latency, an error share), down for what is better higher (an SLI, an error
  budget left, the time until it runs out); a scale that turns back (red, then orange above it) is a defect.
- ``series-names``: a TraceQL metrics panel whose series Grafana would name by a bare quantile or
  a label set (``{p=0.95, span.x="asr"}``) renames them with field overrides; two quantile
  queries on one panel cannot be told apart at all (see dashboards/series.py).
- ``table-types``: a Tempo span table sorting by, or showing, attribute columns converts them to
  numbers (they arrive as strings), and sorts by a column name it displays ("Start time", not
  ``time``).
- ``span-rate-unit``: a TraceQL ``rate()`` is spans per second, not ``reqps`` ("req/s").
- ``links``: internal links start with ``/`` (Grafana adds its sub-path to those only) and keep
  the time range and the datasource variables.
- ``exemplars``: TraceQL metrics targets ask for exemplars, the way from a spike to a trace.
- ``service-regex``: no query carries a match-everything regex (``=~ ".*"``), which Tempo
  still evaluates per span.
- ``variable-regex``: no TraceQL query puts a dashboard variable in a regex (``=~ "$service"``).
  Grafana's Tempo datasource interpolates every TraceQL string with the pipe format
  (``templateSrv.replace(query, scopedVars, VariableFormatID.Pipe)`` in grafana/grafana
  ``public/app/plugins/datasource/tempo/datasource.ts``), so several values, or All without a
  custom all value, arrive as ``a|b|c|...``: a regex Tempo evaluates on every span (Tempo issue
  #7109: such matchers at the top of its CPU profiles).
- ``below-two``: ``quantile_over_time``/``histogram_over_time`` count only integers of at least 2
  (Tempo ``bucketizeAttribute``: ``if f < 2 { return nil }``; floats are not counted at all), so a
  quantile or heatmap over a measurement whose real values can be 0 or 1 describes only the rest:
  an ASR revision of 0 % vanishes and the p50 describes revised turns only. With the catalog,
  a measurement can be below 2 when it is a float, not a time (percent, count: 0 and 1 are real
  values), or a time whose smallest limit is under 100 of its unit (2 units is then a real value).
  Without it, attribute names ending in ``_pct``/``_percent``/``_ratio``/``_count`` are. Such a
  panel must say so in its description (the words "below 2").
- ``empty-variable-search``: a Tempo search comparing an attribute to a textbox variable whose
  default is empty (the session drilldown's ``$session``) runs when the dashboard opens and scans
  the whole range for a value nothing has. No TraceQL form makes it free (Tempo exits early only
  when every spanset filter is statically false, ``RootExpr.IsNoop``), so at most one panel may
  send it (the others reuse its result through the Dashboard datasource) and the dashboard's
  default range bounds it (at most ``EMPTY_SEARCH_MAX_RANGE``; links bring their own range).

Each rule reads the dashboard through ``dashgen.drawn`` (every panel, collapsed rows' included;
Grafana's defaults, colour mode, steps and names), never the JSON's own layout. ``check(dashboards)``
takes ``{path: dashboard JSON}`` and returns typed problems (lint/rules.py gives each its severity).
"""

from __future__ import annotations

import re

from .. import drawn
from ..catalog.conventions import TIME_UNITS_PER_MS, seconds
from ..drawn import DrawnDashboard, read_dashboard
from ..queries.traceql import variable_in_regex
from .dashboards import at
from .report import Problem, problem

SEVERITY = {"green": 0, "blue": 0, "text": 0, "transparent": 0, "yellow": 1, "orange": 2, "red": 3,
            "dark-red": 4, "semi-dark-red": 3, "light-red": 3}
TEMPO_NAMED_BY_LABELS = re.compile(r"\|\s*(quantile_over_time|rate|count_over_time|avg_over_time|max_over_time|"
                                   r"min_over_time|sum_over_time)\s*\(")
MATCH_ALL = re.compile(r'=~\s*"\.\*"')
BUCKETED = re.compile(r"\|\s*(?:quantile_over_time|histogram_over_time)\s*\(\s*([\w.]+)")
SAYS_BELOW_TWO = re.compile(r"below 2\b")
SMALL_BY_NAME = re.compile(r"_(?:pct|percent|ratio|count)$")
EMPTY_SEARCH_MAX_RANGE = "1h"
NOW_MINUS = re.compile(r"now-([1-9][0-9]*[smhd])")
# A time limit under this many units makes values of 0 and 1 unit real ones (2 units >= 2 % of it).
SMALL_LIMIT_UNITS = 100


def _tempo_targets(panel: dict) -> list[dict]:
    return [t for t in panel.get("targets", []) if (t.get("datasource") or {}).get("type") == "tempo"]


def _metrics(panel: dict) -> list[str]:
    return [t.get("query", "") for t in _tempo_targets(panel) if TEMPO_NAMED_BY_LABELS.search(t.get("query", ""))]


def _threshold_colour(panel: dict) -> list[str]:
    if len(drawn.steps(panel)) < 2 or drawn.uses_steps(panel):
        return []
    if panel.get("type") in drawn.fields.THRESHOLD_PANELS:
        return [f"colour mode {drawn.color_mode(panel)!r} ignores its threshold steps (use 'thresholds')"]
    return ["has threshold steps but draws none (thresholdsStyle off)"]


def _threshold_order(panel: dict) -> list[str]:
    steps = drawn.steps(panel)
    values = [v for v, _ in steps[1:]]
    if any(v is None for v in values) or values != sorted(values):
        return [f"threshold steps are not in rising order: {values}"]
    direction = 0  # +1: worse as the value rises; -1: better as it rises (set by the first change)
    for (_, a), (value, b) in zip(steps, steps[1:]):
        change = SEVERITY.get(b, 0) - SEVERITY.get(a, 0)
        if change == 0:
            continue
        if direction and (change > 0) != (direction > 0):
            return [f"threshold colour goes from {a} to {b} at {value}: severity must move one way as the value rises"]
        direction = direction or (1 if change > 0 else -1)
    return []


def _series_names(panel: dict) -> list[str]:
    queries = _metrics(panel)
    if not queries or panel.get("type") == "heatmap":
        return []
    if sum(1 for q in queries if "quantile_over_time" in q) > 1:
        return ["several quantile queries on one panel: Tempo names their series by quantile alone, so they "
                "cannot be told apart (one panel per query)"]
    if drawn.overrides_setting(panel, "displayName") == 0:
        return ["TraceQL metrics series keep Grafana's label-set names (e.g. 0.95 or {p=0.95, ...}): rename them "
                "with displayName overrides"]
    return []


def _table_types(panel: dict) -> list[str]:
    if panel.get("type") != "table" or not any(t.get("tableType") == "spans" for t in _tempo_targets(panel)):
        return []
    out = []
    converted = drawn.tables.converted_any(panel)
    for sort in (panel.get("options") or {}).get("sortBy", []):
        name = sort.get("displayName")
        if name == "time":
            out.append(f"sorts by 'time', which the table shows as {drawn.START_TIME!r}: the sort is dropped")
        elif name != drawn.START_TIME and name not in converted:
            out.append(f"sorts by {name!r}, a string column to Grafana (convert it with convertFieldType)")
    if not converted:
        out.append("shows span attributes as strings: add a convertFieldType transformation for numeric columns")
    return out


def _span_rate_unit(panel: dict) -> list[str]:
    if drawn.unit(panel) == "reqps" and any("| rate()" in q for q in _metrics(panel)):
        return ["counts spans per second in 'reqps' (shown as req/s): use a unit for events, e.g. 'cps'"]
    return []


# A TraceQL metrics function over the span's duration intrinsic: Tempo returns it in seconds
# (grafana/tempo pkg/traceql/ast_metrics.go bucketizeDuration, "Bucket is in seconds", for quantiles
# and histograms; engine_metrics.go and engine_metrics_average.go divide DurationNanos by time.Second
# for the other aggregates), whatever the span's own unit.
_DURATION_METRICS_RE = re.compile(r"\|\s*\w+_over_time\(\s*duration\s*[,)]")


# Grafana's time units that read a value as another unit than seconds (packages/grafana-data
# src/valueFormats/categories.ts, "Time"; @grafana/data formats 0.35 in them as "0.350 ns", "0.350 ms",
# "0.350 min", "3.50 ms" for timeticks, against "350 ms" in s): on a duration in seconds each is off
# by its factor. s, clocks, dtdurations, dthms and dtdhms read seconds.
_NOT_SECONDS = frozenset({"ns", "µs", "ms", "m", "h", "d", "clockms", "dtdurationms", "timeticks"})


def _duration_unit(panel: dict) -> list[str]:
    if not any(_DURATION_METRICS_RE.search(q) for q in _metrics(panel)):
        return []
    heatmap = panel.get("type") == "heatmap"
    unit = ((panel.get("options") or {}).get("yAxis") or {}).get("unit") if heatmap else drawn.unit(panel)
    if unit not in _NOT_SECONDS:  # seconds, or a number without a time unit: the values are right
        return []
    return [f"plots the span duration, which TraceQL metrics return in seconds, in unit {unit!r}: "
            f"Grafana would scale every value by that unit (use 's')"]


def _links(panel: dict, datasource_variables: list[str]) -> list[str]:
    """Data links: relative, and a link to a dashboard carries the time range and the dashboard's
    datasource variables (``var-<name>=${<name>}`` each, or ``${__all_variables}``), whatever the
    catalog names them (``grafana.datasources.*.variable``)."""
    out = []
    for link in drawn.defaults(panel).get("links") or []:
        url = link.get("url", "")
        if url.startswith("http") or not url.startswith("/"):
            out.append(f"link {link.get('title')!r} does not start with '/': Grafana adds its sub-path only to those")
        elif url.startswith("/d/") and ("__url_time_range" not in url or "__all_variables" not in url
                                        and not all(f"var-{n}=" in url for n in datasource_variables)):
            out.append(f"link {link.get('title')!r} drops the time range or the datasource variables")
        elif url.startswith("/explore") and "now-" in url:
            out.append(f"link {link.get('title')!r} opens Explore on a fixed range, not the dashboard's")
    return out


def _exemplars(panel: dict) -> list[str]:
    for t in _tempo_targets(panel):
        if "metricsQueryType" in t and not t.get("exemplars"):
            return ["a TraceQL metrics query without exemplars: a spike cannot be opened as a trace"]
    return []


def _service_regex(panel: dict) -> list[str]:
    if any(MATCH_ALL.search(t.get("query", "")) for t in _tempo_targets(panel)):
        return ['a query matches everything with =~ ".*": drop the condition instead']
    return []


def _variable_regex(panel: dict) -> list[str]:
    return [f"a variable in a regex: {t.get('query', '')} (with several values or All, Grafana's Tempo datasource "
            f"joins them with \"|\" into a regex Tempo evaluates per span; let a hidden variable hold the whole "
            f"condition, ${{service_filter:raw}}: the equality for the service chosen, true with All, "
            f"see docs/dashboards.md, \"The service filter\")"
            for t in _tempo_targets(panel) if variable_in_regex(t.get("query", ""))]


def _attribute_key(name: str) -> str:
    return name.split(".", 1)[1] if name.startswith(("span.", "resource.")) else name.lstrip(".")


def _can_be_below_two(attribute: str, catalog) -> str | None:
    """Why values of ``attribute`` below 2 are real ones, or None."""
    key = _attribute_key(attribute)
    if catalog is None:
        return "its name says it is a percent, ratio or count" if SMALL_BY_NAME.search(key) else None
    for m in (m for s in catalog.stages for m in s.measurements if m.attribute == key):
        if not m.integer:
            return f"the catalog records it as a float ({m.unit}): Tempo counts no float at all"
        if m.unit not in TIME_UNITS_PER_MS:
            return f"it is in {m.unit}, where 0 and 1 are real values"
        limits = [t.value for t in m.thresholds] + ([m.bad_above] if m.bad_above is not None else [])
        if limits and min(limits) < SMALL_LIMIT_UNITS:
            return f"its limit is {min(limits):g} {m.unit}, so 0 and 1 {m.unit} are real values"
    return None


def _below_two(panel: dict, catalog=None) -> list[str]:
    if SAYS_BELOW_TWO.search(panel.get("description") or ""):
        return []
    out = []
    for t in _tempo_targets(panel):
        m = BUCKETED.search(t.get("query", ""))
        why = m and _can_be_below_two(m.group(1), catalog)
        if why:
            out.append(f"quantiles/histogram of {m.group(1)} and {why}; Tempo drops values below 2, so the panel "
                       f"describes only the rest: record them as >= 2 or say so in the description ('below 2')")
    return out


def _empty_variable_searches(d: DrawnDashboard) -> list[str]:
    empty = [v.get("name") for v in d.variables if v.get("type") == "textbox" and not v.get("query")]
    hits: dict[str, list[str]] = {}
    for panel in d.charts:
        for t in panel.targets_of("tempo"):
            query = t.get("query", "")
            if TEMPO_NAMED_BY_LABELS.search(query) or BUCKETED.search(query) or query.strip().startswith("$"):
                continue  # metrics, or a trace id lookup (Grafana fetches a trace by id, no search)
            if not panel.loads_on_open:
                continue  # a collapsed row's panel searches when the row is opened, not on load
            for name in empty:
                if re.search(rf'"\$(?:{{{re.escape(name)}}}|{re.escape(name)}\b)"', query):
                    hits.setdefault(name, []).append(panel.title)
    out = []
    span = NOW_MINUS.fullmatch(str((d.raw.get("time") or {}).get("from", "")))
    for name, titles in sorted(hits.items()):
        if len(titles) > 1:
            out.append(f"{len(titles)} panels search Tempo for an empty ${name} when the dashboard opens "
                       f"({', '.join(map(repr, titles))}): let one search and the others reuse its result "
                       f"(Dashboard datasource)")
        if span is None or seconds(span.group(1)) > seconds(EMPTY_SEARCH_MAX_RANGE):
            out.append(f"searches Tempo for an empty ${name} over the whole default range "
                       f"({(d.raw.get('time') or {}).get('from')}) when the dashboard opens: keep the default range "
                       f"within {EMPTY_SEARCH_MAX_RANGE} (links bring their own)")
    return out


RULES = (("threshold-colour", _threshold_colour), ("threshold-order", _threshold_order),
         ("series-names", _series_names), ("table-types", _table_types), ("span-rate-unit", _span_rate_unit),
         ("duration-unit", _duration_unit), ("exemplars", _exemplars), ("service-regex", _service_regex),
         ("variable-regex", _variable_regex))
CATALOG_RULES = (("below-two", _below_two),)  # rules that read the catalog when lint has it


def check(dashboards: dict[str, dict | DrawnDashboard], catalog=None) -> list[Problem]:
    """Problems of every panel (collapsed rows' included) and every dashboard."""
    problems = []
    for where, raw in sorted(dashboards.items()):
        d = raw if isinstance(raw, DrawnDashboard) else read_dashboard(raw)
        datasources = [v.get("name") for v in d.variables if v.get("type") == "datasource" and v.get("name")]
        for panel in d.charts:
            here = at(where, d, panel)
            problems += [problem(rule, here, found) for rule, fn in RULES for found in fn(panel.raw)]
            problems += [problem("links", here, found) for found in _links(panel.raw, datasources)]
            problems += [problem(rule, here, found) for rule, fn in CATALOG_RULES for found in fn(panel.raw, catalog)]
        problems += [problem("empty-variable-search", at(where, d), found) for found in _empty_variable_searches(d)]
        for v in d.variables:
            if v.get("type") == "textbox" and v.get("query") == ".*":
                problems.append(problem("variable-match-all", at(where, d, item=f"variable {v.get('name')!r}"),
                                        "defaults to '.*': every query carries a match-everything regex"))
    return problems


def checker(inp, report) -> None:
    """The lint entry (``dashgen.lint.CHECKERS``): the rules above on every parsed dashboard."""
    report.problems += check(inp.drawn, inp.catalog)
