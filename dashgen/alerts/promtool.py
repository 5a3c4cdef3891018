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
  objective, and a current burn rate of 0 before the burn and 1 / budget during it;
- what pages across rules (``promtool_paging``): no data, missing telemetry, tiny traffic and
  burn rates beside the p95 pages;
- traffic scenarios per paging measurement (``promtool_scenarios``): a sustained p95 breach
  pages within 30 minutes, healthy traffic and one slow minute never page, a low-traffic stage
  pages through its burn rate.

Every input series carries the catalog's ``prometheus.matchers`` labels.

``promtool_tests(ruleset)`` returns ``{test file name: YAML}``; the rule files it names are
the ``alerts/prometheus/*.yaml`` of the same build, expected in the same directory. The
synthetic series follow from each rule's typed conditions: the signal names the series to feed
(histogram buckets, counters) and the condition the threshold to straddle.
"""

from __future__ import annotations

import math

from ..canonical import canonical_yaml
from ..catalog.conventions import SLOTH_CURRENT_BURN, SLOTH_ERROR_BUDGET, SLOTH_OBJECTIVE
from ..queries.promql import le_spellings
from ..voice.burn_rates import burn_rates
from .model import BadEventRatio, Condition, CounterRatio, HistogramQuantile, Rule, RuleSet, TurnBadRatio, stage_labels
from .prometheus import prometheus_rule
from . import promtool_paging, promtool_scenarios
from .promtool_series import (
    HISTORY_MIN, PER_MIN, STEP, expected, fmt_labels, histogram_series, linear, minutes, piecewise, side_by_side,
    with_scope,
)

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
    f = minutes(rule.for_)
    horizon = f + 10
    lo, hi, above, below = quantile_mix(sig.metric.buckets, q, thr)
    return [
        {"name": f"{rule.name}: {above / PER_MIN:.2%} above {thr:g} fires after {rule.for_}",
         "interval": STEP,
         "input_series": histogram_series(sig.metric, labels, (lo, PER_MIN - above), (hi, above), horizon),
         "alert_rule_test": [
             {"eval_time": f"{f}m", "alertname": rule.name, "exp_alerts": []},
             {"eval_time": f"{f + 2}m", "alertname": rule.name, "exp_alerts": expected(rule, labels)},
         ]},
        {"name": f"{rule.name}: {below / PER_MIN:.2%} above {thr:g} stays silent",
         "interval": STEP,
         "input_series": histogram_series(sig.metric, labels, (lo, PER_MIN - below), (hi, below), horizon),
         "alert_rule_test": [
             {"eval_time": f"{f + 2}m", "alertname": rule.name, "exp_alerts": []},
             {"eval_time": f"{horizon}m", "alertname": rule.name, "exp_alerts": []},
         ]},
    ]


def _ratio_tests(rule: Rule) -> list[dict]:
    cond = _only_condition(rule)
    sig: CounterRatio = cond.signal
    labels = sig.series_labels
    f = minutes(rule.for_)
    horizon = f + 10
    high = min(PER_MIN, math.ceil(cond.value * 1.1 * PER_MIN))  # just above the limit
    low = math.floor(cond.value * 0.9 * PER_MIN)  # just below it

    def series(n: int) -> list[dict]:
        return [{"series": fmt_labels(sig.denominator, labels), "values": linear(PER_MIN, horizon)},
                {"series": fmt_labels(sig.numerator, labels), "values": linear(n, horizon)}]

    return [
        {"name": f"{rule.name}: {high / PER_MIN:.1%} fires after {rule.for_}", "interval": STEP,
         "input_series": series(high),
         "alert_rule_test": [
             {"eval_time": f"{f}m", "alertname": rule.name, "exp_alerts": []},
             {"eval_time": f"{f + 2}m", "alertname": rule.name, "exp_alerts": expected(rule, labels)},
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
    good = piecewise([(PER_MIN, HISTORY_MIN), (PER_MIN - bad_per_min, minutes)])
    return [{"series": fmt_labels(metric.bucket, {**labels, "le": le}), "values": good},
            {"series": fmt_labels(metric.count, labels), "values": piecewise([(PER_MIN, HISTORY_MIN + minutes)])}]


def _turn_series(sig: TurnBadRatio, bad_per_min: int, minutes: int) -> list[dict]:
    """The two counters the good-turn SLI divides: judged turns, and good turns (all good at first)."""
    good = piecewise([(PER_MIN, HISTORY_MIN), (PER_MIN - bad_per_min, minutes)])
    return [{"series": fmt_labels(sig.turns, {}), "values": piecewise([(PER_MIN, HISTORY_MIN + minutes)])},
            {"series": fmt_labels(sig.good, {}), "values": good}]


def _slo_series(sig, bad_per_min: int, minutes: int, le_style: int) -> list[dict]:
    if isinstance(sig, TurnBadRatio):
        return _turn_series(sig, bad_per_min, minutes)
    return _burn_series(sig, bad_per_min, minutes, le_style)


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
    base = sig.series_labels

    def sample(record: str, value: float, **extra) -> dict:
        labels = {**base, **own[record].labels, **extra} if record == SLOTH_CURRENT_BURN else own[record].labels
        return {"expr": sig.ids.select(record), "eval_time": at,
                "exp_samples": [{"labels": fmt_labels(record, labels), "value": value}]}

    b = slo.budget
    return [sample(SLOTH_ERROR_BUDGET, b), sample(SLOTH_OBJECTIVE, round(1 - b, 12)),
            # the current burn keeps the 5m ratio's labels (its sloth_window too), as Sloth's does
            sample(SLOTH_CURRENT_BURN, round(ratio / b, 9), sloth_window="5m")]


def _burn_tests(page: Rule, ticket: Rule, recordings: list[Rule]) -> list[dict]:
    sig: BadEventRatio | TurnBadRatio = page.when[0][0].signal  # every window reads the same series
    budget = page.slo.budget
    slow_rate = slow_burn_rate(burn_rates(page.slo))
    slow_bad = round(slow_rate * budget * PER_MIN)
    page_for, ticket_for = minutes(page.for_), minutes(ticket.for_)
    fast_min, slow_min = 60 + page_for + 5, 6 * 60 + ticket_for + 5
    start = HISTORY_MIN
    return [
        {"name": f"{page.name}: a fast burn (every measurement bad) pages within 1h", "interval": STEP,
         "input_series": _slo_series(sig, PER_MIN, fast_min, 0),
         "alert_rule_test": [
             {"eval_time": f"{start - 1}m", "alertname": page.name, "exp_alerts": []},
             {"eval_time": f"{start - 1}m", "alertname": ticket.name, "exp_alerts": []},
             {"eval_time": f"{start + 60 + page_for}m", "alertname": page.name,
              "exp_alerts": expected(page, sig.series_labels)},
         ],
         "promql_expr_test": _sloth_samples(sig, page.slo, recordings, f"{start - 1}m", 0.0)
                             + _sloth_samples(sig, page.slo, recordings, f"{start + 30}m", 1.0)},
        {"name": f"{ticket.name}: a slow burn ({slow_rate:g}x) opens a ticket within 6h and never pages",
         "interval": STEP,
         "input_series": _slo_series(sig, slow_bad, slow_min, 1),
         "alert_rule_test": [
             {"eval_time": f"{start + 60}m", "alertname": page.name, "exp_alerts": []},
             {"eval_time": f"{start + 3 * 60}m", "alertname": page.name, "exp_alerts": []},
             {"eval_time": f"{start + 6 * 60 + ticket_for}m", "alertname": page.name, "exp_alerts": []},
             {"eval_time": f"{start + 6 * 60 + ticket_for}m", "alertname": ticket.name,
              "exp_alerts": expected(ticket, sig.series_labels)},
         ]},
    ] + (_healthy_turns(page, ticket, sig) if isinstance(sig, TurnBadRatio) else [])


def _healthy_turns(page: Rule, ticket: Rule, sig: TurnBadRatio) -> list[dict]:
    """Good-turn SLO: turns failing at half the error budget's sustainable rate for 7 hours page and
    ticket nobody (the budget lasts twice the SLO window)."""
    bad = max(1, round(page.slo.budget * PER_MIN / 2))
    horizon = 7 * 60
    at = [f"{HISTORY_MIN + m}m" for m in (60, 6 * 60, horizon)]
    return [{"name": f"{page.name}: {bad / PER_MIN:.2%} of turns not good (half the budget) stays silent",
             "interval": STEP, "input_series": _turn_series(sig, bad, horizon),
             "alert_rule_test": [{"eval_time": t, "alertname": rule.name, "exp_alerts": []}
                                 for t in at for rule in (page, ticket)]}]


_SINGLE_CONDITION_TESTS = {HistogramQuantile: _quantile_tests, CounterRatio: _ratio_tests}
PAGING = "paging"  # the file of the cross-rule cases (promtool_paging.paging_tests)
SCENARIOS = "scenarios"  # the traffic scenarios of every paging measurement (promtool_scenarios)


def _group_tests(rs: RuleSet, key: str, alerts: list[Rule]) -> list[dict]:
    """The cases of one alert group: one rule at a time, burn-rate alerts in page/ticket pairs
    (with the Sloth meta recordings of their SLO), absence rules by ``promtool_paging``."""
    if key == "absence":
        return promtool_paging.absence_tests(alerts, rs.catalog.stages)
    tests: list[dict] = []
    by_slo: dict[str, dict[str, Rule]] = {}
    for r in alerts:
        if r.slo is not None:  # burn-rate alerts are tested in page/ticket pairs
            by_slo.setdefault(r.labels["slo"], {})[r.labels["severity"]] = r
        else:
            signal = _only_condition(r).signal
            tests += _SINGLE_CONDITION_TESTS[type(signal)](r)
            if isinstance(signal, CounterRatio):
                tests += promtool_paging.no_data_tests(r)
    recordings = [r for r in rs.rules if r.records is not None]
    # the burns of every SLO side by side: hours of evaluations each, of one stage's series each
    return tests + side_by_side([case for pair in by_slo.values()
                                 for case in _burn_tests(pair["page"], pair["ticket"], recordings)])


def _scoped(tests: list[dict], scope: dict) -> list[dict]:
    """Every input series carries the catalog's ``prometheus.matchers`` labels, as real ones would."""
    for case in tests:
        for series in case["input_series"]:
            series["series"] = with_scope(series["series"], scope)
    return tests


def promtool_tests(rs: RuleSet) -> dict[str, str]:
    """``{file name: promtool test YAML}``: one file per Prometheus alert group, one of what pages
    across all of them (``<prefix>-paging.test.yaml``, when a stage has an SLO), one of the traffic
    scenarios (``<prefix>-scenarios.test.yaml``), and the page alerts those two read
    (``<prefix>.pages.yaml``, ``pages_file``)."""
    out = {}
    interval = rs.catalog.alerting.interval
    scope = {m.label: m.value for m in rs.catalog.prom_matchers}
    for key, group_rules in rs.groups():
        alerts = [r for r in group_rules if r.is_alert and r.prometheus]
        if not alerts:
            continue
        rule_files = [f"{rs.group_name(key)}.yaml"]
        if any(r.slo is not None for r in alerts):  # the Sloth meta recordings are read back too
            rule_files.insert(0, f"{rs.group_name('slo-recording')}.yaml")
        out[f"{rs.group_name(key)}.test.yaml"] = canonical_yaml(
            {"rule_files": rule_files, "evaluation_interval": interval,
             "tests": _scoped(_group_tests(rs, key, alerts), scope)})
    # both ask only what pages: they read the page alerts of the built files, verbatim, and nothing else
    name, text = pages_file(rs)
    for key, cases in ((PAGING, promtool_paging.paging_tests(rs)), (SCENARIOS, promtool_scenarios.scenario_tests(rs))):
        if cases:
            out[name] = text
            out[f"{rs.group_name(key)}.test.yaml"] = canonical_yaml(
                {"rule_files": [name], "evaluation_interval": interval, "tests": _scoped(side_by_side(cases), scope)})
    return out


PAGES_SUFFIX = ".pages.yaml"


def pages_file(rs: RuleSet, only: set[str] | None = None) -> tuple[str, str]:
    """``(name, rule file)``: every page alert of the Prometheus form (those named in ``only``, when
    given) exactly as built (``prometheus_rule``), in its group. Scenarios that ask what pages read
    only these: the ticket rules' day-long windows would cost most of promtool's time and page nobody."""
    groups = [{"name": rs.group_name(key), "interval": rs.catalog.alerting.interval,
               "rules": [prometheus_rule(r) for r in rules if r.is_alert and r.prometheus
                         and r.labels.get("severity") == "page" and (only is None or r.name in only)]}
              for key, rules in rs.groups()]
    return f"{rs.catalog.uid_prefix}{PAGES_SUFFIX}", canonical_yaml({"groups": [g for g in groups if g["rules"]]})


def count_assertions(test_yaml: dict) -> tuple[int, int]:
    """``(test cases, alert assertions)`` in one parsed test file."""
    cases = test_yaml["tests"]
    return len(cases), sum(len(c.get("alert_rule_test", [])) for c in cases)
