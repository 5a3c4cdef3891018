"""Tempo checks of ``dashgen lint``: what the catalog's oldest Tempo (``tempo:``) can answer.

- **Range limit.** Tempo's query-frontend rejects a TraceQL metrics query whose range exceeds
  ``query_frontend.metrics.max_duration`` with HTTP 400 (``modules/frontend/
  metrics_query_range_sharder.go``: ``if maxDuration != 0 && (end-start) > maxDuration``; the
  default is ``MaxDuration: 3 * time.Hour`` in ``modules/frontend/config.go`` from v2.6.0 to
  v2.9.x and ``24 * time.Hour`` from v3.0.0). A dashboard with metrics panels whose default
  time range (or a panel's own ``timeFrom``) is longer than ``tempo.metrics_max_range`` fails
  on open in every one of them. Equal is fine: the test is ``>``.
- **Features newer than the oldest Tempo.** ``FEATURES`` maps what a query uses to the Tempo
  release that brought it (Tempo's changelog and docs, as summarised in
  docs/compatibility.md): on an older Tempo the query is a parse error or a hint that is
  silently ignored.
"""

from __future__ import annotations

import re

from ..catalog.conventions import seconds
from ..drawn import DrawnDashboard
from .dashboards import at, is_metrics_query, tempo_queries
from .report import LintInput, LintReport, Problem, problem

DEFAULT_VERSION, DEFAULT_MAX_RANGE = "2.6", "3h"

# (pattern in a TraceQL query, what it is, Tempo version that brought it)
FEATURES = (
    (re.compile(r"\|\s*(quantile_over_time|histogram_over_time)\s*\("), "quantile/histogram_over_time", (2, 5)),
    (re.compile(r"\|\s*compare\s*\("), "compare()", (2, 6)),
    (re.compile(r"\|\s*(min_over_time|max_over_time|avg_over_time)\s*\("), "min/max/avg_over_time", (2, 7)),
    (re.compile(r"\|\s*(sum_over_time)\s*\(|\|\s*(topk|bottomk)\s*\("), "sum_over_time, topk, bottomk", (2, 8)),
    (re.compile(r"with\s*\([^)]*most_recent\s*=\s*true"), "with(most_recent=true)", (2, 8)),
)

_RELATIVE_RE = re.compile(r"now-([1-9][0-9]*)([smhd])")


def relative_seconds(value: object) -> int | None:
    """``now-6h`` -> 21600; None for anything else (absolute times, ``now/d``...)."""
    m = _RELATIVE_RE.fullmatch(str(value or ""))
    return seconds(m.group(1) + m.group(2)) if m else None


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def lint_tempo(d: DrawnDashboard, where: str, version: str, max_range: str) -> list[Problem]:
    out = []
    limit = seconds(max_range)
    queries = tempo_queries(d)
    metrics_panels = {id(p): p for p, t in queries if is_metrics_query(t.get("query", ""))}
    if metrics_panels:
        time = d.raw.get("time") or {}
        span = relative_seconds(time.get("from")) if time.get("to", "now") == "now" else None
        if span is not None and span > limit:
            out.append(problem("tempo-range", at(where, d),
                               f"default time range {time.get('from')} is longer than Tempo's TraceQL metrics "
                               f"limit {max_range} (tempo.metrics_max_range): its {len(metrics_panels)} metrics "
                               f"panels fail on open with HTTP 400 (set the range to now-{max_range} or less)"))
        for p in metrics_panels.values():
            own = relative_seconds("now-" + str(p.raw.get("timeFrom"))) if p.raw.get("timeFrom") else None
            if own is not None and own > limit:
                out.append(problem("tempo-range", at(where, d, p),
                                   f"sets timeFrom {p.raw['timeFrom']}, longer than Tempo's TraceQL metrics limit "
                                   f"{max_range} (tempo.metrics_max_range)"))
    have = _version(version)
    for panel, target in queries:
        query = target.get("query", "")
        for pattern, what, since in FEATURES:
            if pattern.search(query) and since > have:
                out.append(problem("tempo-version", at(where, d, panel),
                                   f"uses {what}, which needs Tempo {since[0]}.{since[1]}, newer than "
                                   f"tempo.version {version}: {query}"))
    return out


def check(inp: LintInput, report: LintReport) -> None:
    """Every dashboard against the catalog's ``tempo:`` block (its defaults without a catalog)."""
    t = inp.catalog.tempo_server if inp.catalog else None
    version, max_range = (t.version, t.metrics_max_range) if t else (DEFAULT_VERSION, DEFAULT_MAX_RANGE)
    for rel, d in inp.drawn.items():
        report.problems += lint_tempo(d, rel, version, max_range)
