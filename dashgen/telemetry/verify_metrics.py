"""``dashgen verify-metrics``: the metrics twin of ``verify-traces``, on a real Prometheus.

``dashgen simulate``'s sessions run through the real instrumentation with an in-memory metric
reader sampled after every session (simulated time), the samples become TSDB blocks, and a real
Prometheus, with the generated rule files loaded, answers:

- rules: every generated rule group is loaded;
- alerts: which alert fires at the end of the window. An alert is evaluated from the rule model
  (its ``when`` rows with each signal's own query, as Grafana-managed rules do, so SLO alerts need
  no backfilled recording rules) with ``query_range`` at the rule interval over its ``for``: it
  fires when every evaluation in ``[end - for, end]`` returned a series, as the rule engine's
  pending -> firing does. Without an incident none may fire;
- panels: every PromQL panel query returns data, except an absence panel (``absent``/``absent_over_time``),
  which must return none while telemetry flows, and an alert panel's rule expression, which has
  data only while its rule holds (it must, for a firing rule). Panels reading recorded series (the SLO
  dashboard, on Sloth's recordings) are queried once Prometheus has evaluated the recording
  groups: the local copy of a recording group runs every few seconds instead of every minute
  (its expressions do not depend on the interval), so the first evaluation is not a minute away;
- values: each quantile a latency rule reads lands within one bucket of the quantile of the values
  the simulator put on the spans (the truth, independent of the metric path), and each bad-event
  ratio over 30m or more within 0.05 of the share the spans had above the threshold.

The simulated process records every series the catalog names, whoever would produce it in
production (``sdk``, ``bridge``, ``framework``: same names, labels and buckets): what is checked
here is the rules and panels on those series; the bridge's own output is checked against them by
tests/test_collector_bridge.py.
"""

from __future__ import annotations

import re
import tempfile
import time
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..alerts.model import BadEventRatio, HistogramQuantile, Rule, TurnBadRatio
from ..artifacts import to_plain
from ..alerts.slo import CURRENT_WINDOW
from ..catalog.conventions import METRIC_SOURCES, SLOTH_CURRENT_BURN, seconds
from ..catalog.model import Catalog
from ..errors import DashgenError
from ..queries import promql
from ..voice.interrupted import interruption
from .openmetrics import OpenMetricsRecorder
from .promserver import PrometheusServer, create_blocks

GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "${__rate_interval}": "5m"}


@dataclass
class MetricsReport:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    firing: list[Rule] = field(default_factory=list)

    def check(self, ok: bool, line: str) -> None:
        self.lines.append(("ok    " if ok else "FAIL  ") + line)
        if not ok:
            self.problems.append(line)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Simulation:
    openmetrics: str
    spans: list
    end: float  # seconds since the epoch: the last sample


def simulate(catalog: Catalog, sessions: int, seed: int, incidents, window_minutes: float,
             now_ns: int) -> Simulation:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from .instrument import Instrumentation
    from .simulate import Simulator

    reader = InMemoryMetricReader()
    spans = InMemorySpanExporter()
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(spans))
    inst = Instrumentation(catalog, tp, MeterProvider(metric_readers=[reader]), records=METRIC_SOURCES)
    recorder = OpenMetricsRecorder(reader)
    sim = Simulator(inst, seed=seed, incidents=incidents, now_ns=now_ns, window_minutes=window_minutes)
    sim.run(sessions, after_session=lambda end_ms: recorder.sample(now_ns / 1e9 + end_ms / 1000))
    return Simulation(recorder.text(), list(spans.get_finished_spans()), recorder.last_ts)


def _values(catalog: Catalog, spans, stage_id: str, attribute: str, nothing, start: float, end: float) -> list[float]:
    """The values the spans carry; without the interrupted turns the measurement's rules leave out
    (``voice.interrupted``), so the truth is what the rule means to measure."""
    st = catalog.stage(stage_id)
    intr = interruption(catalog)
    m = next(x for x in st.measurements if x.attribute == attribute)
    out = []
    for s in spans:
        attrs = s.attributes or {}
        if s.name != st.span or (catalog.stage_attribute and attrs.get(catalog.stage_attribute) != stage_id):
            continue
        v = attrs.get(attribute)
        if intr.metric_excludes(st, m) and attrs.get(intr.attribute) is True:
            continue
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v != nothing and start < s.end_time / 1e9 <= end:
            out.append(float(v))
    return sorted(out)


def _check_values(prom: PrometheusServer, sim: Simulation, catalog: Catalog, rules, report: MetricsReport) -> None:
    seen = set()
    for rule in rules:
        for sig in rule.signals:
            if isinstance(sig, TurnBadRatio) and sig not in seen:
                seen.add(sig)
                _check_turn_ratio(prom, sim, catalog, sig, report)
            if sig in seen or not isinstance(sig, (HistogramQuantile, BadEventRatio)):
                continue
            seen.add(sig)
            m = next(x for x in catalog.stage(sig.stage).measurements if x.metric == sig.metric)
            truth = _values(catalog, sim.spans, sig.stage, m.attribute, m.nothing_value,
                            sim.end - seconds(sig.window), sim.end)
            result = prom.query(sig.expr, sim.end)
            got = float(result[0]["value"][1]) if result else None
            if isinstance(sig, HistogramQuantile):
                if not truth:
                    continue
                if got is None and sig.events is not None and len(truth) < sig.events.min_events:
                    report.lines.append(f"ok    {sig.stage} {m.id} p{sig.q * 100:g} over {sig.window}: no value, "
                                        f"{len(truth)} events < its guard ({sig.events.min_events})")
                    continue
                want = truth[min(len(truth) - 1, int(sig.q * len(truth)))]
                b = list(sig.metric.buckets)
                ok = got is not None and got == got and abs(bisect_left(b, got) - bisect_left(b, want)) <= 1
                report.check(ok, f"{sig.stage} {m.id} p{sig.q * 100:g} over {sig.window}: Prometheus {got} vs "
                                 f"simulated {want:g} ({len(truth)} values; within one bucket)")
            elif seconds(sig.window) >= 1800 and truth:
                want = sum(v > sig.threshold for v in truth) / len(truth)
                ok = got is not None and abs(got - want) <= 0.05
                report.check(ok, f"{sig.stage} {m.id} share above {sig.threshold:g} over {sig.window}: "
                                 f"Prometheus {got} vs simulated {want:.3f} (within 0.05)")


def _check_turn_ratio(prom, sim: Simulation, catalog: Catalog, sig: TurnBadRatio, report: MetricsReport) -> None:
    """The good-turn SLI over 30m or more against the verdicts on the turn spans that ended in the window."""
    if seconds(sig.window) < 1800 or catalog.good_turn is None:
        return
    attr, start = catalog.good_turn.attribute, sim.end - seconds(sig.window)
    verdicts = [(s.attributes or {}).get(attr) for s in sim.spans
                if s.name == catalog.turn_span and start < s.end_time / 1e9 <= sim.end]
    verdicts = [v for v in verdicts if v is not None]
    if not verdicts:
        return
    want = sum(v == 0 for v in verdicts) / len(verdicts)
    result = prom.query(sig.expr, sim.end)
    got = float(result[0]["value"][1]) if result else None
    report.check(got is not None and abs(got - want) <= 0.05,
                 f"good turns: share not good over {sig.window}: Prometheus {got} vs simulated {want:.3f} "
                 f"({len(verdicts)} judged turns; within 0.05)")


def verify(catalog: Catalog, built, sessions: int = 240, seed: int = 1, incidents=(), window_minutes: float = 30,
           now_ns: int | None = None, workdir: Path | None = None) -> MetricsReport:
    """Run the whole check; ``built`` is ``build.build_artifacts(catalog)`` or a ``pipeline.Result``
    (what is read: ``artifacts``, ``rules``, ``dashboards``)."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    report = MetricsReport()
    sim = simulate(catalog, sessions, seed, incidents, window_minutes, now_ns)
    with tempfile.TemporaryDirectory(prefix="dashgen-prom-", dir=workdir) as tmp:
        tmp = Path(tmp)
        rule_files = []
        for rel, text in built.artifacts.items():
            if rel.startswith("alerts/prometheus/"):
                path = tmp / "rules" / Path(rel).name
                path.parent.mkdir(exist_ok=True)
                path.write_text(_quick_recordings(text), encoding="utf-8")
                rule_files.append(path)
        create_blocks(sim.openmetrics, tmp / "data")
        with PrometheusServer(tmp / "data", rule_files, tmp) as prom:
            groups = {g["name"] for g in prom.api("rules")["groups"]}
            want = {built.rules.group_name(k) for k, rs in built.rules.groups() if any(r.prometheus for r in rs)}
            report.check(groups == want, f"rule groups loaded by Prometheus: {', '.join(sorted(groups))}")
            _check_alerts(prom, sim, catalog, built.rules.rules, bool(incidents), report)
            _check_panels(prom, sim, built, report)
            _check_values(prom, sim, catalog, built.rules.rules, report)
    return report


RECORDING_INTERVAL = "1s"  # the local recording groups' interval: evaluated within a second of the start


def _quick_recordings(text: str) -> str:
    """A rule file with its recording-only groups evaluated every ``RECORDING_INTERVAL``."""
    doc = yaml.safe_load(text)
    for g in doc["groups"]:
        if all("record" in r for r in g["rules"]):
            g["interval"] = RECORDING_INTERVAL
    return yaml.safe_dump(doc, sort_keys=False)


def _recorded_at(prom) -> float:
    """Wait until every recording group has been evaluated once; the time to query their series at.

    ``type=record`` filters the rules, not the groups: Prometheus still lists every alerting group,
    with an empty ``rules`` list, and those keep the catalog's interval (a minute), so waiting on them
    too would wait up to a minute for nothing. Only groups holding a recording rule count."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        # type=record still lists the alerting groups, with no rules: those are not waited for (a
        # 1m alerting group's first evaluation can be a minute away)
        groups = [g for g in prom.api("rules", type="record")["groups"] if g.get("rules")]
        if groups and all(not g.get("lastEvaluation", "0001").startswith("0001") for g in groups):
            return time.time()
        time.sleep(0.5)
    raise DashgenError("Prometheus did not evaluate the recording rules within 60 s")


def _check_alerts(prom, sim: Simulation, catalog: Catalog, rules, incident: bool, report: MetricsReport) -> None:
    step = catalog.alerting.interval_seconds
    for rule in rules:
        if not (rule.is_alert and rule.prometheus):
            continue
        hold = seconds(rule.for_)
        # the one expression both forms evaluate (Rule.expr: signals inline, no recorded series)
        result = prom.query_range(rule.expr, sim.end - hold, sim.end, step)
        need = hold // step + 1
        if any(len(series["values"]) >= need for series in result):
            report.firing.append(rule)
    names = ", ".join(f"{r.name} ({r.labels.get('severity')})" for r in report.firing) or "none"
    if incident:
        report.lines.append(f"info  alerts firing at the end of the window: {names}")
    else:
        report.check(not report.firing, f"no alert fires on normal traffic (firing: {names})")


def _panel_exprs(built) -> list[tuple[str, str]]:
    out = []

    def walk(node, title):
        if isinstance(node, dict):
            title = node.get("title", title)
            if "expr" in node and (node.get("datasource") or {}).get("type") == "prometheus":
                out.append((title, node["expr"]))
            for v in node.values():
                walk(v, title)
        elif isinstance(node, list):
            for v in node:
                walk(v, title)
    for d in built.dashboards:
        walk(to_plain(d.dashboard), d.title)
    return out


def _check_panels(prom, sim: Simulation, built, report: MetricsReport) -> None:
    records = {r.records.metric for r in built.rules.rules if r.records is not None}
    alert_exprs = {r.expr: r for r in built.rules.rules if r.is_alert and r.prometheus}
    recorded_at = None
    for title, expr in _panel_exprs(built):
        for var, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(var, value)
        if "$" in expr:
            report.lines.append(f"skip  panel {title!r}: template variable in {expr!r}")
            continue
        at = sim.end
        if any(_reads(expr, name) for name in records):
            recorded_at = recorded_at or _recorded_at(prom)
            at = recorded_at
        result = prom.query(expr, at)
        own = alert_exprs.get(expr)
        if own is not None:  # an alert panel's first query, the rule's own expression: data only while it holds
            if own.name in {r.name for r in report.firing}:
                report.check(bool(result), f"panel {title!r} shows the firing rule's expression ({len(result)} series)")
            else:
                report.lines.append(f"ok    panel {title!r}: the rule's own expression, {len(result)} series now")
        elif "absent(" in expr or "absent_over_time(" in expr:  # absence panel: empty while telemetry flows
            report.check(not result, f"panel {title!r} shows no absence while telemetry flows")
        elif not result and (short := _guarded_off(prom, built, expr, at)):
            report.lines.append(f"ok    panel {title!r} is empty: {short}")
        else:
            report.check(bool(result), f"panel {title!r} returns data ({len(result)} series)")


def _reads(expr: str, metric: str) -> bool:
    """Whether ``expr`` selects ``metric`` (a whole name: ``..._rate3d`` is not ``..._rate30d``)."""
    return re.search(rf"(?<![\w:]){re.escape(metric)}(?![\w:])", expr) is not None


def _guarded_off(prom, built, expr: str, at: float) -> str | None:
    """Why a panel on an SLO's recordings is rightly empty: a window it reads saw fewer events than
    ``alerting.min_events``, so the guarded recording has no series (``promql.guarded``)."""
    for sig in dict.fromkeys(s for r in built.rules.rules for s in r.signals):
        if isinstance(sig, HistogramQuantile) and sig.events is not None and sig.expr == expr:  # a p95's own guard
            short = _too_few(prom, sig, at)
            if short:
                return f"{short}, fewer than the quantile's guard ({sig.events.min_events})"
            continue
        if not isinstance(sig, (BadEventRatio, TurnBadRatio)) or sig.events is None or f'"{sig.ids.id}"' not in expr:
            continue
        # the series built on this window's ratio: itself, and Sloth's current burn rate on the 5m one
        reads = (sig.record,) + ((SLOTH_CURRENT_BURN,) if sig.window == CURRENT_WINDOW else ())
        if not any(_reads(expr, r) for r in reads):
            continue
        short = _too_few(prom, sig, at)
        if short:
            return f"{short}, fewer than alerting.min_events ({sig.events.min_events})"
    return None


def _too_few(prom, sig, at: float) -> str | None:
    """``"<n> <stage> events in <window>"`` when the signal's guard holds it back, else None."""
    g = sig.events
    got = prom.query(promql.events(g.counter, g.label, g.stage, g.window, sig.extra), at)
    n = float(got[0]["value"][1]) if got else 0.0
    return f"{n:g} {g.stage or 'judged turn'} events in {g.window}" if n < g.min_events else None
