"""What pages, tried as the on-call engineer would: traffic scenarios on every paging measurement.

For each measurement a page watches (a paging quantile threshold, or the stage's SLO with its
burn-rate page), synthetic traffic of ``PER_MIN`` events a minute, with slow events "just above"
the limit (in the bucket right above it) and the rest at or below it:

- a sustained p95 breach, 12% of events just above the limit: the p95 page fires within 30 minutes;
- healthy traffic, 1% above: no page alert ever fires (one query over the whole run);
- one slow minute (every event above the limit) in healthy traffic: the p95 page never fires;
- low traffic, 1 event a minute, half of them slow after 6 good hours: the burn-rate page fires
  through its 6h/30m pair (the 5m window never holds ``min_events``, the 30m one does) and no p95
  page does (a p95 needs 20 events in its window).

Every rule reads one expression in both forms (``Rule.expr``), so what holds here holds for the
Grafana-managed rules too. ``detection`` measures the time to page on the same traffic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..catalog.model import Measurement, Stage
from .model import Rule, RuleSet, rule_uid, stage_labels
from .promtool_series import PER_MIN, STEP, expected, fmt_labels, minutes

HISTORY = 6 * 60  # good minutes before a burn step: the 6h burn window is full of good traffic
BEFORE = 30  # healthy minutes before a p95 step or a slow minute (a p95 looks back 5m)
SUSTAINED, HEALTHY = 0.12, 0.01  # shares of events just above the limit
WITHIN = 30  # a sustained breach pages within this many minutes
LOW_PER_MIN, LOW_SLOW = 1, 0.5  # the low-traffic stage: events a minute, share slow after the history


@dataclass(frozen=True)
class Watched:
    """A measurement some page watches, and the rules that page on it."""

    stage: Stage
    measurement: Measurement
    limit: float  # the paging threshold (the p95's, else the SLO's)
    quantile: Rule | None  # the paging quantile alert
    burn: Rule | None  # the SLO burn-rate page

    @property
    def pages(self) -> list[Rule]:
        return [r for r in (self.quantile, self.burn) if r is not None]

    @property
    def labels(self) -> dict:
        return stage_labels(self.measurement.metric, self.stage.id)


def _page(r: Rule) -> bool:
    return r.is_alert and r.prometheus and r.labels.get("severity") == "page"


def watched(rs: RuleSet) -> list[Watched]:
    """Every measurement with a paging quantile alert or a burn-rate page, in catalog order."""
    out = []
    for s in rs.catalog.stages:
        for m in s.measurements:
            uids = {rule_uid(rs.catalog, s.id, m.id, t.quantile_label) for t in m.thresholds}
            quantile = next((r for r in rs.rules if _page(r) and r.group == "latency" and r.uid in uids), None)
            burn = next((r for r in rs.rules if _page(r) and r.slo is not None and r.slo is s.slo
                         and s.slo.measurement == m.id), None)
            if quantile is None and burn is None:
                continue
            limit = quantile.when[0][0].value if quantile else s.slo.threshold
            out.append(Watched(s, m, limit, quantile, burn))
    return out


def _fmt(x: float) -> str:
    return f"{round(x, 6):g}"


def counter(phases: list[tuple[float, int]]) -> str:
    """A counter growing by ``per_min`` for ``minutes``, phase after phase (floats allowed)."""
    out, value = [], 0.0
    for i, (per_min, n) in enumerate(phases):
        first = value if i == 0 else value + per_min
        steps = n if i == 0 else n - 1
        out.append(f"{_fmt(first)}+{_fmt(per_min)}x{steps}" if steps > 0 else _fmt(first))
        value += per_min * n
    return " ".join(out)


def _bucket_at_or_below(buckets, value: float) -> float:
    below = [b for b in buckets if b <= value]
    return below[-1] if below else buckets[0]


def just_above(buckets, limit: float) -> float:
    """The upper bound of the bucket right above ``limit``: where "just above the limit" lands."""
    return min(b for b in buckets if b > limit)


def mix_at(buckets, limit: float, slow_share: float, slow_bucket: float | None = None) -> dict[float, float]:
    """``{bucket upper bound: share}``: ``slow_share`` in ``slow_bucket`` (just above the limit by
    default), the rest in the bucket ending at or below the limit."""
    fast = _bucket_at_or_below(buckets, limit)
    slow = just_above(buckets, limit) if slow_bucket is None else slow_bucket
    return {fast: 1 - slow_share, slow: slow_share} if slow_share else {fast: 1.0}


def quantile_mix(buckets, limit: float, q: float, factor: float) -> dict[float, float]:
    """Traffic whose ``q`` quantile reads ``factor`` times the limit: the slow share sits in the
    bucket holding the target, sized so ``histogram_quantile`` interpolates to it."""
    target = limit * factor
    hi = min((b for b in buckets if b >= target), default=None)
    if hi is None:
        raise ValueError(f"no bucket holds {target:g}")
    lo = max((b for b in buckets if b < hi), default=0.0)
    if hi == target:  # on a boundary: just inside the next bucket (at its very edge the quantile
        lo, hi = hi, min((b for b in buckets if b > hi), default=hi)  # would read the fast bucket's top)
    r = max((target - lo) / (hi - lo), 0.01)
    share = min(1.0, (1 - q) / (1 - r))
    return mix_at(buckets, limit, share, hi)


def traffic(w: Watched, phases: list[tuple[int, float, dict[float, float]]]) -> list[dict]:
    """Every bucket and the count of ``w``'s histogram: ``(minutes, events a minute, mix)`` per phase."""
    metric = w.measurement.metric
    series = []
    for b in list(metric.buckets) + [math.inf]:
        per = [(n_per * sum(share for ub, share in mix.items() if ub <= b), n) for n, n_per, mix in phases]
        le = "+Inf" if b == math.inf else f"{b:g}"
        series.append({"series": fmt_labels(metric.bucket, {**w.labels, "le": le}), "values": counter(per)})
    series.append({"series": fmt_labels(metric.count, w.labels), "values": counter([(n_per, n) for n, n_per, _ in phases])})
    return series


def no_page_ever(rs: RuleSet, at: int, alertname: str | None = None) -> dict:
    """One query over the whole run: no page alert (or none named ``alertname``) was ever firing."""
    only = f', alertname="{alertname}"' if alertname else ""
    return {"expr": f'last_over_time(ALERTS{{alertstate="firing", severity="page", '
                    f'team="{rs.catalog.alerting.team}"{only}}}[{at}m])',
            "eval_time": f"{at}m", "exp_samples": []}


def _scenarios(rs: RuleSet, w: Watched) -> list[dict]:
    bks = list(w.measurement.metric.buckets)
    # 1% above, or half the error budget of a stricter SLO: healthy is below every burn rate
    share = min(HEALTHY, (1 - w.stage.slo.objective) / 2) if w.burn is not None else HEALTHY
    healthy, end = mix_at(bks, w.limit, share), 150  # the 1h pair's windows, twice
    title = f"{w.stage.id} {w.measurement.id}"
    out = []
    if w.quantile is not None:
        sustained = mix_at(bks, w.limit, SUSTAINED)
        out.append({
            "name": f"{title}: a sustained p95 breach ({SUSTAINED:.0%} just above {w.limit:g}) pages within {WITHIN}m",
            "interval": STEP,
            "input_series": traffic(w, [(BEFORE, PER_MIN, healthy), (WITHIN + 10, PER_MIN, sustained)]),
            "alert_rule_test": [
                {"eval_time": f"{BEFORE}m", "alertname": w.quantile.name, "exp_alerts": []},
                {"eval_time": f"{BEFORE + WITHIN}m", "alertname": w.quantile.name,
                 "exp_alerts": expected(w.quantile, w.labels)}]})
    slow_minute = {b: 1.0 if b == just_above(bks, w.limit) else 0.0 for b in bks}
    out.append({"name": f"{title}: healthy traffic ({share * 100:g}% above {w.limit:g}) pages nobody at any time",
                "interval": STEP, "input_series": traffic(w, [(end, PER_MIN, healthy)]),
                "promql_expr_test": [no_page_ever(rs, end)]})
    if w.quantile is not None:  # the p95 page is sustained (a strict SLO's burn page may see one minute)
        out.append({
            "name": f"{title}: one slow minute (every event above {w.limit:g}) never fires the p95 page",
            "interval": STEP,
            "input_series": traffic(w, [(BEFORE, PER_MIN, healthy), (1, PER_MIN, slow_minute),
                                        (2 * 60, PER_MIN, healthy)]),
            "promql_expr_test": [no_page_ever(rs, BEFORE + 2 * 60, w.quantile.name)]})
    if w.burn is not None:
        out.append(_low_traffic(rs, w))
    return out


def low_traffic_page_by(w: Watched) -> int:
    """Minutes after the step by which the low-traffic burn must page: the pair whose short window
    holds ``min_events`` at 1 a minute, its long window's ratio crossing the pair's limit, ``for``
    and a few evaluations of margin."""
    a = w.burn
    guard = a.when[0][0].signal.events
    n = guard.min_events if guard else 0
    for row in a.when:
        long_c, short_c = row
        if minutes(short_c.signal.window) * LOW_PER_MIN >= n and long_c.value < LOW_SLOW:
            return math.ceil(long_c.value / LOW_SLOW * minutes(long_c.signal.window)) + minutes(a.for_) + 5
    raise ValueError(f"{a.name}: no window pair can page at {LOW_PER_MIN} event a minute")


def _low_traffic(rs: RuleSet, w: Watched) -> dict:
    bks = list(w.measurement.metric.buckets)
    by = low_traffic_page_by(w)
    silent_at = HISTORY + int(by * 0.8) - 10
    return {
        "name": f"{w.stage.id} {w.measurement.id}: {LOW_PER_MIN} event a minute, {LOW_SLOW:.0%} slow after "
                f"{HISTORY // 60}h good, pages through the burn rate within {by}m",
        "interval": STEP,
        "input_series": traffic(w, [(HISTORY, LOW_PER_MIN, mix_at(bks, w.limit, 0)),
                                    (by + 10, LOW_PER_MIN, mix_at(bks, w.limit, LOW_SLOW))]),
        "alert_rule_test": [
            {"eval_time": f"{silent_at}m", "alertname": w.burn.name, "exp_alerts": []},
            {"eval_time": f"{HISTORY + by}m", "alertname": w.burn.name, "exp_alerts": expected(w.burn, w.labels)},
        ] + ([{"eval_time": f"{HISTORY + by}m", "alertname": w.quantile.name, "exp_alerts": []}]
             if w.quantile is not None else []),
    }


def scenario_tests(rs: RuleSet) -> list[dict]:
    return [case for w in watched(rs) for case in _scenarios(rs, w)]
