"""The one PromQL builder: alert rules never concatenate query strings themselves.

Each piece is written in plain Python by the function that checks it. Metric and label names are checked
against Prometheus' name rules; label values are written as escaped PromQL string literals,
so a value holding ``"`` or ``\\`` cannot break out of its string.

A bad event is counted from histogram buckets: ``_bucket{le="<threshold>"}`` holds the
measurements at or below the threshold. The ``le`` value is matched by a regular expression
that accepts every spelling an exporter may write (``350``, ``350.0`` -- Prometheus 3
normalises to the latter -- or Go's ``1e+06``).
"""

from __future__ import annotations

import re
from decimal import Decimal

from ..catalog.conventions import DURATION_RE, LABEL_NAME_PATTERN, METRIC_NAME_PATTERN, format_number
from ..catalog.model import Catalog, Measurement, Stage
from ..voice.interrupted import interruption

METRIC_NAME_RE = re.compile(METRIC_NAME_PATTERN)
LABEL_NAME_RE = re.compile(LABEL_NAME_PATTERN)
MATCH_OPS = ("=", "!=", "=~", "!~")
COMPARE_OPS = (">", ">=", "<", "<=", "==", "!=")
_SET_OP_RE = re.compile(r"\b(and|or|unless)\b")


class PromQLError(ValueError):
    """A query the builder refuses to write."""


def string(value: str) -> str:
    """A PromQL double-quoted string literal holding exactly ``value``."""
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    out = out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{out}"'


def number(value: float) -> str:
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise PromQLError("non-finite number in a query")
    return format_number(value)


def _metric(name: str) -> str:
    if not METRIC_NAME_RE.fullmatch(name):
        raise PromQLError(f"{name!r} is not a Prometheus metric name")
    return name


def _label(name: str) -> str:
    if not LABEL_NAME_RE.fullmatch(name) or name.startswith("__"):
        raise PromQLError(f"{name!r} is not a Prometheus label name")
    return name


def _window(window: str) -> str:
    if not DURATION_RE.fullmatch(window):
        raise PromQLError(f"{window!r} is not a PromQL duration")
    return window


def go_float(value: float) -> str:
    """How Go's ``strconv.FormatFloat(v, 'g', -1, 64)`` writes a float (client_golang's ``le``)."""
    d = Decimal(repr(float(value))).normalize()
    if d == 0:
        return "0"
    sign, digits, exp = d.as_tuple()
    digs = "".join(map(str, digits))
    point = len(digs) + exp  # position of the decimal point
    x = point - 1
    if x < -4 or x >= 6:  # shortest formatting decides with precision 6
        mant = digs[0] + ("." + digs[1:] if len(digs) > 1 else "")
        return ("-" if sign else "") + f"{mant}e{'+' if x >= 0 else '-'}{abs(x):02d}"
    return ("-" if sign else "") + format(d, "f")


def le_spellings(value: float) -> list[str]:
    """Every way an exporter may spell the ``le`` label of a bucket boundary."""
    value = float(value)
    out = {number(value), go_float(value)}
    if value.is_integer():
        out.add(f"{int(value)}.0")
    return sorted(out)


def le_regex(value: float) -> str:
    return "|".join(re.escape(s) for s in le_spellings(value))


def matcher(label: str, op: str, value: str) -> str:
    if op not in MATCH_OPS:
        raise PromQLError(f"unknown matcher {op!r}")
    if op in ("=~", "!~"):
        try:
            re.compile(value)
        except re.error as exc:
            raise PromQLError(f"bad regular expression {value!r}: {exc}") from None
    return f"{_label(label)}{op}{string(value)}"


def not_interrupted(catalog: Catalog, stage: Stage, m: Measurement) -> tuple[str, ...]:
    """The matcher that leaves interrupted turns out of a measurement's histogram
    (``voice.interrupted``): ``<label>!="true"``, which series without the label match too; none when
    the histogram carries no such label (a framework's own, a stage whose spans lack the attribute)
    or the measurement keeps them (a barge-in). Pass it in ``extra`` with the other matchers."""
    intr = interruption(catalog)
    return (matcher(intr.label, "!=", "true"),) if intr.metric_excludes(stage, m) else ()


def selector(metric: str, *matchers: str) -> str:
    """``metric{label op "value", ...}``; the matchers come from ``matcher``."""
    return _metric(metric) + ("{" + ", ".join(matchers) + "}" if matchers else "")


def rate(sel: str, window: str) -> str:
    return f"rate({sel}[{_window(window)}])"


def sum_by(labels: tuple[str | None, ...] | list[str | None], expr: str) -> str:
    """Sum keeping only ``labels``: the stage label (and ``le`` for quantiles), never a session id.
    None stands for a histogram without a stage label (a framework's own); keeping nothing is ``sum(...)``."""
    kept = [x if x == "le" else _label(x) for x in labels if x is not None]
    return f"sum by ({', '.join(kept)}) ({expr})" if kept else f"sum({expr})"


def stage_matchers(label: str | None, stage: str) -> tuple[str, ...]:
    """The matcher selecting one stage's series; none for a histogram without a stage label."""
    return (matcher(label, "=", stage),) if label is not None else ()


def histogram_quantile(q: float, expr: str) -> str:
    if not 0 < float(q) < 1:
        raise PromQLError(f"quantile {q} is not between 0 and 1")
    return f"histogram_quantile({number(q)}, {expr})"


def compare(expr: str, op: str, value: float) -> str:
    if op not in COMPARE_OPS:
        raise PromQLError(f"unknown comparison {op!r}")
    if _SET_OP_RE.search(expr):  # "a and b > 1" would compare b alone: comparisons bind tighter than and/or
        expr = f"({expr})"
    return f"{expr} {op} {number(value)}"  # comparison binds looser than arithmetic: no parentheses


def logical(op: str, left: str, right: str) -> str:
    if op not in ("and", "or", "unless"):
        raise PromQLError(f"unknown set operator {op!r}")
    return f"({left}) {op} ({right})"  # both sides parenthesised, so precedence never surprises


def increase(sel: str, window: str) -> str:
    return f"increase({sel}[{_window(window)}])"


def absent_over_time(sel: str, window: str) -> str:
    """1 (labelled with the selector's equality matchers) when ``sel`` had no sample in ``window``."""
    return f"absent_over_time({sel}[{_window(window)}])"


# --- composites the alert rules and panels use -----------------------------------------------------
#
# ``extra`` holds rendered matchers (``matcher(...)``) every selector of a query carries: the
# catalog's ``prometheus.matchers`` (job, env, cluster...), literal in rules, a dashboard
# variable in panels. They only narrow the selection; the sums keep the stage label alone.
# ``label`` None is a histogram without a stage label (a framework's own): no stage matcher, ``sum``.

Extra = tuple[str, ...]


def quantile(metric: str, label: str | None, stage: str, q: float, window: str, extra: Extra = ()) -> str:
    """``histogram_quantile(q, sum by (le, label) (rate(metric_bucket{label="stage"}[w])))``."""
    buckets = rate(selector(metric + "_bucket", *stage_matchers(label, stage), *extra), window)
    return histogram_quantile(q, sum_by(("le", label), buckets))


def counter_ratio(numerator: str, denominator: str, label: str, stage: str, window: str, extra: Extra = ()) -> str:
    """Share of one counter in another, per stage (errors / runs).

    The numerator counter only exists once the first error happened (an SDK creates a series
    on its first ``add``), so an absent numerator counts as 0 wherever runs exist: ``or 0 *
    runs``. Without runs the ratio is absent, which an alert reads as "no data", not as a page.
    """
    num = sum_by((label,), rate(selector(numerator, matcher(label, "=", stage), *extra), window))
    den = sum_by((label,), rate(selector(denominator, matcher(label, "=", stage), *extra), window))
    return f"({num} or 0 * {den}) / {den}"  # both sums keep the same stage label: series match one to one


def event_rates(metric: str, label: str | None, stage: str, threshold: float, window: str,
                extra: Extra = ()) -> tuple[str, str]:
    """``(good, total)`` per second for one stage: measurements at or below ``threshold`` (a bucket
    boundary), and all of them."""
    stage_m = stage_matchers(label, stage)
    good = sum_by((label,), rate(selector(metric + "_bucket", *stage_m, matcher("le", "=~", le_regex(threshold)),
                                          *extra), window))
    total = sum_by((label,), rate(selector(metric + "_count", *stage_m, *extra), window))
    return good, total


def bad_ratio(metric: str, label: str | None, stage: str, threshold: float, window: str, extra: Extra = ()) -> str:
    """Share of measurements above ``threshold`` (a bucket boundary), per stage."""
    good, total = event_rates(metric, label, stage, threshold, window, extra)
    return f"1 - ({good} / {total})"  # one minus the share at or below the threshold bucket


def turn_good_ratio(turns: str, good: str, window: str, extra: Extra = ()) -> str:
    """Share of judged turns that were good (the good-turn SLI). The good counter only exists once a
    first turn was good (an SDK creates a series on its first ``add``), so an absent one counts as 0
    wherever judged turns exist: every turn bad. No judged turns: no series."""
    num, den = turn_event_rates(turns, good, window, extra)
    return f"{num} / {den}"


def turn_event_rates(turns: str, good: str, window: str, extra: Extra = ()) -> tuple[str, str]:
    """``(good, total)`` judged turns per second: good ones (0 while judged turns exist but no good
    counter does yet, see ``turn_good_ratio``), and all of them."""
    den = sum_by((), rate(selector(turns, *extra), window))
    num = sum_by((), rate(selector(good, *extra), window))
    return f"({num} or 0 * {den})", den


def turn_bad_ratio(turns: str, good: str, window: str, extra: Extra = ()) -> str:
    """Share of judged turns that were not good: the good-turn SLO's bad-event ratio."""
    return one_minus(turn_good_ratio(turns, good, window, extra))


def burn_rate(metric: str, label: str | None, stage: str, threshold: float, window: str, objective: float,
              extra: Extra = ()) -> str:
    """Error-budget burn rate over ``window``: 1 means the budget lasts exactly the SLO window."""
    if not 0 < objective < 1:
        raise PromQLError(f"objective {objective} is not between 0 and 1")
    return f"({bad_ratio(metric, label, stage, threshold, window, extra)}) / {number(round(1 - objective, 12))}"


def events(counter: str, label: str | None, stage: str, window: str, extra: Extra = (),
           offset: str | None = None) -> str:
    """How many events (a counter's increase) one stage had over ``window`` (that ended ``offset`` ago)."""
    sel = selector(counter, *stage_matchers(label, stage), *extra)
    inc = increase(sel, window) if offset is None else f"increase({sel}[{_window(window)}] offset {_window(offset)})"
    return sum_by((label,), inc)


def guarded(expr: str, counter: str, label: str | None, stage: str, window: str, min_events: int,
            extra: Extra = ()) -> str:
    """``expr`` only where the stage had at least ``min_events`` events in ``window``.

    A ratio or quantile over two events says nothing (one slow barge-in of two is "50% bad"),
    so it must not page: the guard drops the series, and the alert sees no data (its
    ``noDataState`` is OK). ``min_events`` 0 returns ``expr`` unchanged.
    """
    if min_events <= 0:
        return expr
    return logical("and", expr, compare(events(counter, label, stage, window, extra), ">=", min_events))


def stage_absent(counter: str, label: str | None, stage: str, window: str, extra: Extra = ()) -> str:
    """1 when the stage's counter had no sample at all in ``window`` (its telemetry is missing)."""
    return absent_over_time(selector(counter, *stage_matchers(label, stage), *extra), window)


# --- SLO series in Sloth's shapes (slok/sloth internal/plugin/slo/core/metadata_rules_v1) ------------

def vector(value: float) -> str:
    return f"vector({number(value)})"


def without(aggregation: str, labels: tuple[str, ...], expr: str) -> str:
    """``max without (sloth_window) (expr)``: aggregate away ``labels`` only."""
    if aggregation not in ("max", "min", "sum", "avg"):
        raise PromQLError(f"unknown aggregation {aggregation!r}")
    return f"{aggregation} without ({', '.join(_label(x) for x in labels)}) ({expr})"


def period_average(sel: str, window: str, ignoring: tuple[str, ...]) -> str:
    """Mean of a recorded ratio over ``window``: ``sum_over_time / ignoring (...) count_over_time``
    (Sloth's ``slo:sli_error:ratio_rate30d``, the average of the 5m ratios)."""
    w = _window(window)
    return (f"sum_over_time({sel}[{w}]) / ignoring ({', '.join(_label(x) for x in ignoring)}) "
            f"count_over_time({sel}[{w}])")


def divide_on(left: str, right: str, on: tuple[str, ...]) -> str:
    """``left / on (labels) group_left () right``: each left series by the one right series it shares
    ``on`` with, keeping the left labels (a ratio per window by the SLO's single error budget)."""
    return f"{left} / on ({', '.join(_label(x) for x in on)}) group_left () {right}"


def one_minus(expr: str) -> str:
    return f"1 - ({expr})"
