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

``check(dashboards)`` takes ``{path: dashboard JSON}`` and returns lint's problem strings.
"""

from __future__ import annotations

import re

SEVERITY = {"green": 0, "blue": 0, "text": 0, "transparent": 0, "yellow": 1, "orange": 2, "red": 3,
            "dark-red": 4, "semi-dark-red": 3, "light-red": 3}
THRESHOLD_COLOUR_PANELS = ("stat", "gauge", "bargauge")
TEMPO_NAMED_BY_LABELS = re.compile(r"\|\s*(quantile_over_time|rate|count_over_time|avg_over_time|max_over_time|"
                                   r"min_over_time|sum_over_time)\s*\(")
START_COLUMN = "Start time"
MATCH_ALL = re.compile(r'=~\s*"\.\*"')


def _defaults(panel: dict) -> dict:
    return (panel.get("fieldConfig") or {}).get("defaults") or {}


def _steps(panel: dict) -> list[dict]:
    return ((_defaults(panel).get("thresholds") or {}).get("steps")) or []


def _tempo_targets(panel: dict) -> list[dict]:
    return [t for t in panel.get("targets", []) if (t.get("datasource") or {}).get("type") == "tempo"]


def _metrics(panel: dict) -> list[str]:
    return [t.get("query", "") for t in _tempo_targets(panel) if TEMPO_NAMED_BY_LABELS.search(t.get("query", ""))]


def _renames(panel: dict) -> int:
    return sum(1 for o in (panel.get("fieldConfig") or {}).get("overrides", [])
               for p in o.get("properties", []) if p.get("id") == "displayName")


def _threshold_colour(panel: dict) -> list[str]:
    if len(_steps(panel)) < 2:
        return []
    mode = (_defaults(panel).get("color") or {}).get("mode", "thresholds")
    if panel.get("type") in THRESHOLD_COLOUR_PANELS and mode != "thresholds":
        return [f"colour mode {mode!r} ignores its threshold steps (use 'thresholds')"]
    style = ((_defaults(panel).get("custom") or {}).get("thresholdsStyle") or {}).get("mode", "off")
    if panel.get("type") in ("timeseries", "barchart") and style == "off" and mode != "thresholds":
        return ["has threshold steps but draws none (thresholdsStyle off)"]
    return []


def _threshold_order(panel: dict) -> list[str]:
    steps = _steps(panel)
    values = [s.get("value") for s in steps[1:]]
    if any(v is None for v in values) or values != sorted(values):
        return [f"threshold steps are not in rising order: {values}"]
    direction = 0  # +1: worse as the value rises; -1: better as it rises (set by the first change)
    for a, b in zip(steps, steps[1:]):
        change = SEVERITY.get(b.get("color"), 0) - SEVERITY.get(a.get("color"), 0)
        if change == 0:
            continue
        if direction and (change > 0) != (direction > 0):
            return [f"threshold colour goes from {a.get('color')} to {b.get('color')} at {b.get('value')}: severity "
                    f"must move one way as the value rises"]
        direction = direction or (1 if change > 0 else -1)
    return []


def _series_names(panel: dict) -> list[str]:
    queries = _metrics(panel)
    if not queries or panel.get("type") == "heatmap":
        return []
    if sum(1 for q in queries if "quantile_over_time" in q) > 1:
        return ["several quantile queries on one panel: Tempo names their series by quantile alone, so they "
                "cannot be told apart (one panel per query)"]
    if _renames(panel) == 0:
        return ["TraceQL metrics series keep Grafana's label-set names (e.g. 0.95 or {p=0.95, ...}): rename them "
                "with displayName overrides"]
    return []


def _table_types(panel: dict) -> list[str]:
    if panel.get("type") != "table" or not any(t.get("tableType") == "spans" for t in _tempo_targets(panel)):
        return []
    out = []
    converted = {c.get("targetField") for t in panel.get("transformations") or [] if t.get("id") == "convertFieldType"
                 for c in (t.get("options") or {}).get("conversions", [])}
    for sort in (panel.get("options") or {}).get("sortBy", []):
        name = sort.get("displayName")
        if name == "time":
            out.append(f"sorts by 'time', which the table shows as {START_COLUMN!r}: the sort is dropped")
        elif name != START_COLUMN and name not in converted:
            out.append(f"sorts by {name!r}, a string column to Grafana (convert it with convertFieldType)")
    if not converted:
        out.append("shows span attributes as strings: add a convertFieldType transformation for numeric columns")
    return out


def _span_rate_unit(panel: dict) -> list[str]:
    if _defaults(panel).get("unit") == "reqps" and any("| rate()" in q for q in _metrics(panel)):
        return ["counts spans per second in 'reqps' (shown as req/s): use a unit for events, e.g. 'cps'"]
    return []


def _links(panel: dict) -> list[str]:
    out = []
    for link in _defaults(panel).get("links") or []:
        url = link.get("url", "")
        if url.startswith("http") or not url.startswith("/"):
            out.append(f"link {link.get('title')!r} does not start with '/': Grafana adds its sub-path only to those")
        elif url.startswith("/d/") and ("__url_time_range" not in url or "var-tempo" not in url
                                        and "__all_variables" not in url):
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


RULES = (_threshold_colour, _threshold_order, _series_names, _table_types, _span_rate_unit, _links, _exemplars,
         _service_regex)


def check(dashboards: dict[str, dict]) -> list[str]:
    """Problems, one line each: ``<path>: panel '<title>': <what Grafana or Tempo will do>``."""
    problems = []
    for where, d in sorted(dashboards.items()):
        for panel in d.get("panels", []):
            for rule in RULES:
                problems += [f"{where}: panel {panel.get('title')!r}: {p}" for p in rule(panel)]
        for v in (d.get("templating") or {}).get("list", []):
            if v.get("type") == "textbox" and v.get("query") == ".*":
                problems.append(f"{where}: variable {v.get('name')!r} defaults to '.*': every query carries a "
                                f"match-everything regex")
    return problems


def checker(inp, report) -> None:
    """The lint entry (``dashgen.lint.CHECKERS``): the rules above on every parsed dashboard."""
    report.problems += check(inp.dashboards)
