"""promtool tests of what pages across all rules, not one rule at a time.

- **No data.** A ratio rule whose numerator counter does not exist yet (no error so far) or
  that sees no series at all stays silent; the absence rules fire instead: a stage whose run
  counter is missing (or stops reporting), and turns per second dropping to zero after traffic.
- **Tiny traffic** (``alerting.min_events``): two events of an SLO stage in 12 minutes, one
  slow and one failed, page nobody, though one of two is a 50% bad ratio.
- **Burn rate beside p95**: a steady 2x burn of a stage's SLO budget (10% of events above the
  limit) never pages through the burn-rate page, but the stage's p95 page sees it (``voice.paging``);
  a burn just above the fastest page rate (14.4x for 30 days) pages within the hour.

The tiny-traffic and policy cases read the page alerts as built (``promtool.pages_file``:
they ask only what pages); the no-data and absence cases belong to their groups' files.
"""

from __future__ import annotations

import math

from ..catalog.model import Stage
from ..voice.burn_rates import burn_rates
from .model import Absent, BadEventRatio, CounterRatio, Rule, RuleSet, StageEvents, stage_labels
from .promtool_series import HISTORY_MIN, PER_MIN, STEP, expected, fmt_labels, linear, minutes, piecewise


def _steps(at: list[int], length: int) -> str:
    """A counter that grows by one at each minute in ``at`` and is flat otherwise, ``length`` minutes."""
    out, value, start = [], 0, 0
    for t in sorted(at) + [length + 1]:
        if t > start:
            out.append(f"{value}x{t - start - 1}" if t - start > 1 else f"{value}")
        value, start = value + 1, t
    return " ".join(out)


def _silent(names: list[str], times: list[int]) -> list[dict]:
    return [{"eval_time": f"{t}m", "alertname": n, "exp_alerts": []} for t in times for n in names]


# --- no data and absence ------------------------------------------------------------------------

def no_data_tests(rule: Rule) -> list[dict]:
    """A ratio rule with runs but no numerator series yet, and with no series at all: silent."""
    (cond,), = rule.when
    sig: CounterRatio = cond.signal
    labels, horizon = sig.series_labels, minutes(rule.for_) + 10
    return [
        {"name": f"{rule.name}: no {sig.numerator} series yet (none happened) stays silent", "interval": STEP,
         "input_series": [{"series": fmt_labels(sig.denominator, labels), "values": linear(PER_MIN, horizon)}],
         "alert_rule_test": _silent([rule.name], [horizon // 2, horizon])},
        {"name": f"{rule.name}: no data at all stays silent", "interval": STEP, "input_series": [],
         "alert_rule_test": _silent([rule.name], [horizon // 2, horizon])},
    ]


def absence_tests(rules: list[Rule], stages: tuple[Stage, ...]) -> list[dict]:
    out = []
    for rule in rules:
        sigs = rule.signals
        if len(sigs) == 1 and isinstance(sigs[0], Absent):
            out += _missing_tests(rule, sigs[0], stages)
        else:
            out += _stopped_tests(rule, sigs)
    return out


def _missing_tests(rule: Rule, sig: Absent, stages: tuple[Stage, ...]) -> list[dict]:
    window = minutes(sig.window)
    others = [{"series": fmt_labels(sig.counter, {sig.label: s.id}), "values": linear(PER_MIN, 2 * window)}
              for s in stages if s.id != sig.stage]
    own = fmt_labels(sig.counter, {sig.label: sig.stage})
    stop = window  # the stage reports for ``window`` minutes, then its series ends
    return [
        {"name": f"{rule.name}: a stage that never reported fires", "interval": STEP, "input_series": others,
         "alert_rule_test": [{"eval_time": "1m", "alertname": rule.name,
                              "exp_alerts": expected(rule, sig.series_labels)}]},
        {"name": f"{rule.name}: a stage that stops reporting fires {sig.window} later", "interval": STEP,
         "input_series": others + [{"series": own, "values": f"{linear(PER_MIN, stop)} _x{2 * window}"}],
         "alert_rule_test": [
             {"eval_time": f"{stop + window - 2}m", "alertname": rule.name, "exp_alerts": []},
             {"eval_time": f"{stop + window + 2}m", "alertname": rule.name,
              "exp_alerts": expected(rule, sig.series_labels)},
         ]},
    ]


def _stopped_tests(rule: Rule, sigs: tuple) -> list[dict]:
    now: StageEvents = sigs[0]
    window, busy = minutes(now.window), 90
    series = fmt_labels(now.counter, {now.label: now.stage})
    return [
        {"name": f"{rule.name}: turns stopping after traffic fire once {now.window} passed", "interval": STEP,
         "input_series": [{"series": series, "values": piecewise([(PER_MIN, busy), (0, 3 * window)])}],
         "alert_rule_test": [
             {"eval_time": f"{busy + window // 2}m", "alertname": rule.name, "exp_alerts": []},
             {"eval_time": f"{busy + window + 2}m", "alertname": rule.name,
              "exp_alerts": expected(rule, now.series_labels)},
         ]},
        {"name": f"{rule.name}: a stage quiet from the start stays silent", "interval": STEP,
         "input_series": [{"series": series, "values": f"0x{busy + 3 * window}"}],
         "alert_rule_test": _silent([rule.name], [busy + window + 2, busy + 3 * window])},
    ]


# --- tiny traffic and the SLO paging policy ---------------------------------------------------------

def _pages(rs: RuleSet) -> list[str]:
    return [r.name for r in rs.rules if r.is_alert and r.prometheus and r.labels.get("severity") == "page"]


def _burn_mix(sig: BadEventRatio, bad_per_min: int, burn_min: int) -> list[dict]:
    """Every bucket of the SLO histogram: good history, then ``bad_per_min`` per minute just above
    the threshold and the rest at it."""
    bks = list(sig.metric.buckets)
    hi = min(b for b in bks if b > sig.threshold)
    labels = stage_labels(sig.metric, sig.stage)
    out = []
    for b in bks + [math.inf]:
        le = "+Inf" if b == math.inf else f"{b:g}"
        good = PER_MIN if b >= sig.threshold else 0
        burn = (PER_MIN - bad_per_min if b >= sig.threshold else 0) + (bad_per_min if b >= hi else 0)
        out.append({"series": fmt_labels(sig.metric.bucket, {**labels, "le": le}),
                    "values": piecewise([(good, HISTORY_MIN), (burn, burn_min)])})
    out.append({"series": fmt_labels(sig.metric.count, labels),
                "values": piecewise([(PER_MIN, HISTORY_MIN), (PER_MIN, burn_min)])})
    return out


def _policy_tests(rs: RuleSet, page: Rule) -> list[dict]:
    sig: BadEventRatio = page.when[0][0].signal  # the fastest pair's long window
    budget, start = page.slo.budget, HISTORY_MIN
    fastest = max(r for sev, _, _, r in burn_rates(page.slo) if sev == "page")
    page_for = minutes(page.for_)
    slow_bad = round(2 * budget * PER_MIN)
    fast_bad = min(PER_MIN, math.ceil(fastest * 1.05 * budget * PER_MIN))
    # the p95 page sees a 2x burn when that many bad events lift the quantile over the limit
    # (10% at a 95% objective; at 99.9%, 0.2% leaves the p95 where it was)
    p95 = [r for r in rs.rules if r.is_alert and r.prometheus and r.group == "latency" and r.stage == sig.stage
           and r.labels.get("severity") == "page" and r.when[0][0].signal.metric == sig.metric
           and 2 * budget > 1.1 * (1 - r.when[0][0].signal.q)]
    two_x = [{"eval_time": f"{start + 60}m", "alertname": r.name, "exp_alerts": expected(r, sig.series_labels)}
             for r in p95]
    return [
        {"name": f"{page.name}: a steady 2x burn never pages through the burn rate"
                 + (", the p95 page sees it" if p95 else ""), "interval": STEP,
         "input_series": _burn_mix(sig, slow_bad, 6 * 60 + 40),
         "alert_rule_test": _silent([page.name], [start + 60 + page_for + 1, start + 6 * 60 + 35]) + two_x},
        {"name": f"{page.name}: a {fastest * 1.05:g}x burn pages within the hour", "interval": STEP,
         "input_series": _burn_mix(sig, fast_bad, 60 + page_for + 10),
         "alert_rule_test": [{"eval_time": f"{start + 60 + page_for + 1}m", "alertname": page.name,
                              "exp_alerts": expected(page, sig.series_labels)}]},
    ]


def _tiny_traffic_test(rs: RuleSet, stage: Stage) -> dict:
    """One slow (and failed) event, then a good one 12 minutes later, after an hour of nothing."""
    a, m = rs.catalog.alerting, stage.measurement(stage.slo.measurement)
    slow_at, fast_at, length = 60, 72, 180
    bks = list(m.metric.buckets)
    fast_b = max(b for b in bks if b <= stage.slo.threshold)
    slow_b = bks[-1]  # far above every threshold of the measurement
    labels = stage_labels(m.metric, stage.id)
    series = []
    for b in bks + [math.inf]:
        at = ([slow_at] if b >= slow_b else []) + ([fast_at] if b >= fast_b else [])
        le = "+Inf" if b == math.inf else f"{b:g}"
        series.append({"series": fmt_labels(m.metric.bucket, {**labels, "le": le}), "values": _steps(at, length)})
    run_labels = {a.stage_label: stage.id}
    series += [{"series": fmt_labels(m.metric.count, labels), "values": _steps([slow_at, fast_at], length)},
               {"series": fmt_labels(a.runs_metric, run_labels), "values": _steps([slow_at, fast_at], length)},
               {"series": fmt_labels(a.errors_metric, run_labels), "values": _steps([slow_at], length)}]
    return {"name": f"{stage.id}: two events in 12 minutes, one slow and failed, page nobody", "interval": STEP,
            "input_series": series,
            "alert_rule_test": _silent(_pages(rs), [slow_at + 3, fast_at + 3, slow_at + 30, slow_at + 90])}


def paging_tests(rs: RuleSet) -> list[dict]:
    """Tiny traffic and the SLO policy, per stage with an SLO (none without one)."""
    out = []
    for s in rs.catalog.stages:
        if s.slo is None:
            continue
        out.append(_tiny_traffic_test(rs, s))
        page = next(r for r in rs.rules if r.slo is s.slo and r.labels.get("severity") == "page")
        out += _policy_tests(rs, page)
    return out
