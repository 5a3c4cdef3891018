"""``promtool test rules`` unit tests, generated from the catalog and the rule model.

For every Prometheus alert the tests feed synthetic series and assert:

- quantile alerts (p95 per layer): with 10% more slow measurements than it takes to lift the
  p95 over the threshold (5.5% for a threshold on a bucket boundary) the alert is silent at
  ``for`` and firing two evaluations later; with 10% fewer it stays silent (``quantile_mix``);
- ratio alerts (errors, produced nothing): 1.1 times the limit fires after ``for``; 0.9
  times the limit stays silent;
- SLO burn-rate alerts: after two good hours, a fast burn (every measurement bad) pages
  within the 1 h window, and a slow burn (a few times the budget) opens a ticket within
  6 h while never paging; on the way, the Sloth meta recordings read the budget and
  objective, and a current burn rate of 0 before the burn and 1 / budget during it.

``promtool_tests(ruleset)`` returns ``{test file name: YAML}``; the rule files it names are
the ``alerts/prometheus/*.yaml`` of the same build, expected in the same directory. The
synthetic series follow from each rule's typed conditions: the signal names the series to feed
(histogram buckets, counters) and the condition the threshold to straddle.
"""

from __future__ import annotations

import math

from ..artifacts import canonical_yaml
from ..catalog.conventions import SLOTH_CURRENT_BURN, SLOTH_ERROR_BUDGET, SLOTH_OBJECTIVE, seconds
from ..queries.promql import le_spellings
from .model import BadEventRatio, Condition, CounterRatio, HistogramQuantile, Rule, RuleSet, stage_labels
from .prometheus import prometheus_rule

STEP = "1m"
PER_MIN = 10000  # measurements (or runs) per minute in the synthetic series
HISTORY_MIN = 120  # good minutes before a burn starts


def _minutes(duration: str) -> int:
    return math.ceil(seconds(duration) / 60)


def _fmt_labels(name: str, labels: dict) -> str:
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _linear(per_min: int, minutes: int) -> str:
    return f"0+{per_min}x{minutes}"


def _piecewise(parts: list[tuple[int, int]]) -> str:
    """Counter values: ``[(increase per minute, minutes), ...]`` in promtool's expanding notation."""
    out, start = [], 0
    for i, (inc, n) in enumerate(parts):
        if i == 0:
            out.append(f"{start}+{inc}x{n}")
        else:
            # continue from the last value without repeating it: first step already advanced
            out.append(f"{start + inc}+{inc}x{n - 1}")
        start += inc * n
    return " ".join(out)


def _expected(rule: Rule, series_labels: dict) -> list[dict]:
    p = prometheus_rule(rule)
    return [{"exp_labels": {**series_labels, **p["labels"]}, "exp_annotations": p["annotations"]}]


def _histogram_series(metric, label_value: dict, fast: tuple[float, int], slow: tuple[float, int],
                      minutes: int) -> list[dict]:
    """Cumulative bucket counters: ``(upper bound, per minute)`` events in the bucket ending at
    ``fast[0]`` and in the bucket ending at ``slow[0]``."""
    series = []
    for b in list(metric.buckets) + [math.inf]:
        per = (fast[1] if b >= fast[0] else 0) + (slow[1] if b >= slow[0] else 0)
        le = "+Inf" if b == math.inf else le_spellings(b)[0]
        series.append({"series": _fmt_labels(metric.bucket, {**label_value, "le": le}),
                       "values": _linear(per, minutes)})
    series.append({"series": _fmt_labels(metric.count, label_value), "values": _linear(fast[1] + slow[1], minutes)})
    return series


def quantile_mix(buckets, q: float, thr: float) -> tuple[float, float, int, int]:
    """``(fast bucket, slow bucket, slow per minute above, slow per minute below)``.

    Fast events fill the bucket ending at ``lo``, the last boundary at or below the threshold
    (or the first boundary); slow events the next bucket ``(lo, hi]``, which holds the threshold.
    ``histogram_quantile`` then reads ``lo + (hi - lo) * (1 - (1 - q) * N / slow)``: it crosses
    the threshold at ``slow* = (1 - q) * N / (1 - f)``, ``f = (thr - lo) / (hi - lo)``. 1.1 and 0.9
    times ``slow*`` put the quantile just above and just below the threshold. When the threshold
    sits so high in its bucket that even all events there stay below it, slow events move one
    bucket up (the quantile is then above it by more).
    """
    bks = list(buckets)
    below_or_at = [b for b in bks if b <= thr]
    lo = below_or_at[-1] if below_or_at else bks[0]
    hi = min(b for b in bks if b > thr)
    if lo > thr:  # threshold below the first boundary: nothing can be "just below"
        raise ValueError(f"threshold {thr:g} lies below the first bucket boundary {lo:g}")
    f = (thr - lo) / (hi - lo)
    critical = (1 - q) * PER_MIN / (1 - f)
    above = math.ceil(critical * 1.1)
    if above >= PER_MIN:  # move the slow events fully above the threshold
        hi2 = min((b for b in bks if b > hi), default=None)
        if hi2 is None:
            raise ValueError(f"no bucket above {hi:g} to put slow events in")
        return lo, hi2, math.ceil((1 - q) * 1.1 * PER_MIN), math.floor((1 - q) * 0.9 * PER_MIN)
    return lo, hi, above, math.floor(critical * 0.9)


def _only_condition(rule: Rule) -> Condition:
    (cond,), = rule.when
    return cond


def _quantile_tests(rule: Rule) -> list[dict]:
    cond = _only_condition(rule)
    sig: HistogramQuantile = cond.signal
    q, thr, labels = sig.q, cond.value, sig.series_labels
    f = _minutes(rule.for_)
    horizon = f + 10
    lo, hi, above, below = quantile_mix(sig.metric.buckets, q, thr)
    return [
        {"name": f"{rule.name}: {above / PER_MIN:.2%} above {thr:g} fires after {rule.for_}",
         "interval": STEP,
         "input_series": _histogram_series(sig.metric, labels, (lo, PER_MIN - above), (hi, above), horizon),
         "alert_rule_test": [
             {"eval_time": f"{f}m", "alertname": rule.name, "exp_alerts": []},
             {"eval_time": f"{f + 2}m", "alertname": rule.name, "exp_alerts": _expected(rule, labels)},
         ]},
        {"name": f"{rule.name}: {below / PER_MIN:.2%} above {thr:g} stays silent",
         "interval": STEP,
         "input_series": _histogram_series(sig.metric, labels, (lo, PER_MIN - below), (hi, below), horizon),
         "alert_rule_test": [
             {"eval_time": f"{f + 2}m", "alertname": rule.name, "exp_alerts": []},
             {"eval_time": f"{horizon}m", "alertname": rule.name, "exp_alerts": []},
         ]},
    ]


def _ratio_tests(rule: Rule) -> list[dict]:
    cond = _only_condition(rule)
    sig: CounterRatio = cond.signal
    labels = sig.series_labels
    f = _minutes(rule.for_)
    horizon = f + 10
    high = min(PER_MIN, math.ceil(cond.value * 1.1 * PER_MIN))  # just above the limit
    low = math.floor(cond.value * 0.9 * PER_MIN)  # just below it

    def series(n: int) -> list[dict]:
        return [{"series": _fmt_labels(sig.denominator, labels), "values": _linear(PER_MIN, horizon)},
                {"series": _fmt_labels(sig.numerator, labels), "values": _linear(n, horizon)}]

    return [
        {"name": f"{rule.name}: {high / PER_MIN:.1%} fires after {rule.for_}", "interval": STEP,
         "input_series": series(high),
         "alert_rule_test": [
             {"eval_time": f"{f}m", "alertname": rule.name, "exp_alerts": []},
             {"eval_time": f"{f + 2}m", "alertname": rule.name, "exp_alerts": _expected(rule, labels)},
         ]},
        {"name": f"{rule.name}: {low / PER_MIN:.1%} stays silent", "interval": STEP,
         "input_series": series(low),
         "alert_rule_test": [
             {"eval_time": f"{f + 2}m", "alertname": rule.name, "exp_alerts": []},
             {"eval_time": f"{horizon}m", "alertname": rule.name, "exp_alerts": []},
         ]},
    ]


def _burn_series(sig: BadEventRatio, bad_per_min: int, minutes: int, le_style: int) -> list[dict]:
    """Only the two series a bad-event ratio reads: the threshold bucket and the count."""
    metric, labels = sig.metric, stage_labels(sig.metric, sig.stage)
    spellings = le_spellings(sig.threshold)
    le = spellings[le_style % len(spellings)]
    good = _piecewise([(PER_MIN, HISTORY_MIN), (PER_MIN - bad_per_min, minutes)])
    return [{"series": _fmt_labels(metric.bucket, {**labels, "le": le}), "values": good},
            {"series": _fmt_labels(metric.count, labels), "values": _piecewise([(PER_MIN, HISTORY_MIN + minutes)])}]


def slow_burn_rate(pairs) -> float:
    """A burn rate that must open a ticket but never page (between the slowest ticket and page rates)."""
    page = min(r for sev, _, _, r in pairs if sev == "page")
    ticket = min(r for sev, _, _, r in pairs if sev == "ticket")
    rate = 2 * ticket
    if not ticket / 0.75 < rate < page:
        rate = (ticket / 0.75 + page) / 2
    return rate


def _sloth_samples(sig: BadEventRatio, slo, recordings: list[Rule], at: str, ratio: float) -> list[dict]:
    """``promql_expr_test``s of the Sloth meta recordings when the 5m bad-event ratio is ``ratio``:
    the budget and objective as recorded, and the current burn rate = ratio / budget."""
    own = {r.records.metric: r for r in recordings if r.labels.get("sloth_id") == sig.ids.id}
    base = stage_labels(sig.metric, sig.stage)

    def sample(record: str, value: float, **extra) -> dict:
        labels = {**base, **own[record].labels, **extra} if record == SLOTH_CURRENT_BURN else own[record].labels
        return {"expr": sig.ids.select(record), "eval_time": at,
                "exp_samples": [{"labels": _fmt_labels(record, labels), "value": value}]}

    b = slo.budget
    return [sample(SLOTH_ERROR_BUDGET, b), sample(SLOTH_OBJECTIVE, round(1 - b, 12)),
            # the current burn keeps the 5m ratio's labels (its sloth_window too), as Sloth's does
            sample(SLOTH_CURRENT_BURN, round(ratio / b, 9), sloth_window="5m")]


def _burn_tests(page: Rule, ticket: Rule, recordings: list[Rule]) -> list[dict]:
    sig: BadEventRatio = page.when[0][0].signal  # every window reads the same buckets
    budget = page.slo.budget
    slow_rate = slow_burn_rate(page.slo.burn_rates())
    slow_bad = round(slow_rate * budget * PER_MIN)
    page_for, ticket_for = _minutes(page.for_), _minutes(ticket.for_)
    fast_min, slow_min = 60 + page_for + 5, 6 * 60 + ticket_for + 5
    start = HISTORY_MIN
    return [
        {"name": f"{page.name}: a fast burn (every measurement bad) pages within 1h", "interval": STEP,
         "input_series": _burn_series(sig, PER_MIN, fast_min, 0),
         "alert_rule_test": [
             {"eval_time": f"{start - 1}m", "alertname": page.name, "exp_alerts": []},
             {"eval_time": f"{start - 1}m", "alertname": ticket.name, "exp_alerts": []},
             {"eval_time": f"{start + 60 + page_for}m", "alertname": page.name,
              "exp_alerts": _expected(page, sig.series_labels)},
         ],
         "promql_expr_test": _sloth_samples(sig, page.slo, recordings, f"{start - 1}m", 0.0)
                             + _sloth_samples(sig, page.slo, recordings, f"{start + 30}m", 1.0)},
        {"name": f"{ticket.name}: a slow burn ({slow_rate:g}x) opens a ticket within 6h and never pages",
         "interval": STEP,
         "input_series": _burn_series(sig, slow_bad, slow_min, 1),
         "alert_rule_test": [
             {"eval_time": f"{start + 60}m", "alertname": page.name, "exp_alerts": []},
             {"eval_time": f"{start + 3 * 60}m", "alertname": page.name, "exp_alerts": []},
             {"eval_time": f"{start + 6 * 60 + ticket_for}m", "alertname": page.name, "exp_alerts": []},
             {"eval_time": f"{start + 6 * 60 + ticket_for}m", "alertname": ticket.name,
              "exp_alerts": _expected(ticket, sig.series_labels)},
         ]},
    ]


_SINGLE_CONDITION_TESTS = {HistogramQuantile: _quantile_tests, CounterRatio: _ratio_tests}


def promtool_tests(rs: RuleSet) -> dict[str, str]:
    """``{file name: promtool test YAML}``, one file per Prometheus alert group."""
    out = {}
    interval = rs.catalog.alerting.interval
    for key, group_rules in rs.groups():
        alerts = [r for r in group_rules if r.is_alert and r.prometheus]
        if not alerts:
            continue
        tests: list[dict] = []
        rule_files = [f"{rs.group_name(key)}.yaml"]
        if any(s.recorded for r in alerts for s in r.signals):
            rule_files.insert(0, f"{rs.group_name('slo-recording')}.yaml")
        by_slo: dict[str, dict[str, Rule]] = {}
        for r in alerts:
            if r.slo is not None:  # burn-rate alerts are tested in page/ticket pairs
                by_slo.setdefault(r.labels["slo"], {})[r.labels["severity"]] = r
            else:
                tests += _SINGLE_CONDITION_TESTS[type(_only_condition(r).signal)](r)
        recordings = [r for r in rs.rules if r.records is not None]
        for pair in by_slo.values():
            tests += _burn_tests(pair["page"], pair["ticket"], recordings)
        out[f"{rs.group_name(key)}.test.yaml"] = canonical_yaml(
            {"rule_files": rule_files, "evaluation_interval": interval, "tests": tests})
    return out


def count_assertions(test_yaml: dict) -> tuple[int, int]:
    """``(test cases, alert assertions)`` in one parsed test file."""
    cases = test_yaml["tests"]
    return len(cases), sum(len(c.get("alert_rule_test", [])) for c in cases)
