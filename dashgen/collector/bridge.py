"""The trace-to-metrics bridge: an OpenTelemetry Collector fragment whose ``signaltometrics``
connector turns the catalog's spans into exactly the series the alert rules and PromQL panels read.

A team that only traces has none of the histograms and counters the rules read, and every alert
would evaluate nothing. The connector (open-telemetry/opentelemetry-collector-contrib,
``connector/signaltometricsconnector``, alpha, in otelcol-contrib since about v0.119) derives them
from spans inside the collector. Per catalog stage and series, one ``spans`` entry:

- the histogram of each measurement: ``value`` is the span attribute, the buckets are the catalog's
  (so every threshold a rule compares with is a boundary, as for the SDK), the stage label is set
  with ``default_value`` (spans need not carry it), and a ``>= 0`` guard keeps out spans without
  the attribute, with a non-number in it, or with the ``nothing_value`` (OTTL compares nil and
  strings with numbers as not equal, pkg/ottl/LANGUAGE.md);
- the interrupted attribute (``voice.interrupted``) as a second dimension of each histogram the
  rules read without interrupted turns, ``default_value`` false, so ``<label>!="true"`` leaves them out;
- the runs, errors (``status.code == STATUS_CODE_ERROR``, or the catalog's error attribute) and
  produced-nothing (first byte == ``nothing_value``) counters the ratio alerts divide.

What the bridge leaves out, because nobody reads it or someone else records it: a measurement the
framework records itself (``metric.source: framework``, LiveKit's ``lk.agents.turn.*``): the rules
read the framework's histogram, and a second one from the spans would only disagree with it; and
the errors counter of a stage whose spans never say ERROR (``records_errors: false``), which has
no error-rate alert. Stages told apart by span name alone (Pipecat, LiveKit: no stage attribute)
get their stage label from ``default_value``, the same as every other stage.

Entries that share a name and description are aggregated into one metric by the connector
(``Aggregator.Finalize``: "If there are two metric defined with the same key ... they will be
aggregated within the same metric"), so one Prometheus histogram holds every stage.

Names are chosen to survive any translation. Each metric is sent under its Prometheus name (as the
SDK instruments are): otlptranslator leaves it unchanged with or without suffixes, escaped or UTF-8
(``conventions.otlp_metric_name``). The counters' ``_total`` is already in the name, so a collector
older than ``sum.monotonic`` (whose sums then turn into gauges) still yields the same series.

The connector emits DELTA points with no start time (``aggregator.Finalize``; ``sumdp.go``), which
the Collector's prometheus exporter drops or misaligns and prometheusremotewrite refuses: the
metrics pipeline runs them through the ``deltatocumulative`` processor first.

Three things the field needs beyond that (each checked in the Collector's source):

- **One writer at a time into the connector.** The connector stamps every point of one
  ``ConsumeTraces`` call with that call's ``time.Now()`` (``internal/aggregator/aggregator.go``,
  ``NewAggregator``: ``timestamp: time.Now()``), and ``deltatocumulative`` drops a point not newer
  than the last one of its stream (``internal/delta/delta.go``, ``Accumulator.Aggregate``:
  ``dp.Timestamp() <= aggr.Timestamp()`` -> ``ErrOutOfOrder``). Receivers call their next consumer
  from many goroutines at once, so two calls can reach the processor out of order and one of them
  is lost. A ``batch`` processor in front of the connector sends from one goroutine per shard, one
  batch after the other (open-telemetry/opentelemetry-collector,
  ``processor/batchprocessor/batch_processor.go``, ``shard.startLoop``), so the timestamps the
  connector stamps only grow.
- **Idle series kept.** The prometheus exporter forgets a series not updated for
  ``metric_expiration`` (default 5m: ``exporter/prometheusexporter/factory.go``,
  ``createDefaultConfig``; ``accumulator.go``, ``Collect``), and ``deltatocumulative`` forgets a
  stream after ``max_stale`` (default 5m: ``processor/deltatocumulativeprocessor/config.go``). A
  stage quiet for five minutes then vanished from Prometheus: "telemetry missing" fired on every
  quiet night, and the turns-stopped alert resolved itself as soon as its series went. Both are set
  to ``IDLE_SERIES_KEPT``. On this path a series is therefore absent only when the Collector or its
  scrape is down, when the stage sent no span since the Collector started, or when it has been
  quiet for longer than that.
- **Replicas kept apart.** Each Collector replica accumulates its own cumulative series. Scraped,
  each replica is a target of its own (``instance``). Pushed with prometheusremotewrite, identical
  series from two replicas would collide: the connector adds the Collector's own
  ``service.instance.id`` to the resource as ``signal_to_metrics.service.instance.id``
  (``signaltometrics.`` before the rename; ``internal/model/collectorinstanceinfo.go``, README
  "Single writer"; the Collector draws a random one at start unless ``service.telemetry.resource``
  sets it: open-telemetry/opentelemetry-collector ``service/internal/resource/config.go``), and the
  exporter's ``resource_to_telemetry_conversion`` turns it into a label,
  which the README's remote-write recipe enables. Every rule and panel aggregates ``by`` the stage
  label, so the extra label changes no result.
"""

from __future__ import annotations

from ..records import dataclass  # dataclasses' decorator without generated code (start-up)
from ..canonical import canonical_yaml
from ..catalog.conventions import UNITS, format_number, otlp_metric_name
from ..catalog.model import Catalog, Measurement, Stage
from ..voice.errors import is_counted, stage_error
from ..voice.good_turn import GOOD, sli as good_turn_sli
from ..voice.interrupted import Interruption, interruption
from . import schema

PATH = "collector/signaltometrics.yaml"
README_PATH = "collector/README.md"
CONNECTOR = "signaltometrics/dashgen"  # the pre-rename type; "signal_to_metrics" accepts it as an alias
PROCESSOR = "deltatocumulative/dashgen"
BATCH = "batch/dashgen"  # in front of the connector: one ConsumeTraces call at a time
EXPORTER = "prometheus/dashgen"
RECEIVER = "otlp"  # the receiver the user's traces already arrive on
COUNT_UNIT = "{span}"  # an annotation unit: no Prometheus suffix (otlptranslator unit_namer.go)
# How long a series with no new span stays exported: longer than a quiet night, and longer than the
# turns-stopped alert's look-back (alerts.absence.BEFORE plus its window), so that alert runs its course.
IDLE_SERIES_KEPT = "24h"
RESOURCE_ATTRIBUTES = ("service.name",)  # becomes job; the rest of the resource stays out of the series
# The README's remote-write recipe: resource_to_telemetry_conversion makes the connector's
# collector-instance resource attribute a label, so replicas' series stay apart.
REMOTE_WRITE = {"exporters": {"prometheusremotewrite/dashgen": {
    "endpoint": "https://prometheus.example/api/v1/write",
    "resource_to_telemetry_conversion": {"enabled": True}}}}


def ottl_string(value: str) -> str:
    """An OTTL string literal (pkg/ottl LANGUAGE.md: double-quoted, ``\\`` escapes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def ottl_attribute(name: str) -> str:
    return f"attributes[{ottl_string(name)}]"


def error_conditions(catalog: Catalog) -> list[str]:
    """A stage error (``voice.errors``) in OTTL: one condition per alternative, which the connector
    ORs (connector/signaltometricsconnector/README.md, "Conditions": "ORed together")."""
    attribute = stage_error(catalog).attribute
    return ["status.code == STATUS_CODE_ERROR"] + ([f"{ottl_attribute(attribute)} == true"] if attribute else [])


def no_error_conditions(catalog: Catalog) -> list[str]:
    """Not a stage error (``voice.errors``), in OTTL: every alternative false (``!=`` holds for nil too,
    pkg/ottl/LANGUAGE.md: comparisons of different types are not equal)."""
    attribute = stage_error(catalog).attribute
    return ["status.code != STATUS_CODE_ERROR"] + ([f"{ottl_attribute(attribute)} != true"] if attribute else [])


def stage_condition(catalog: Catalog, stage: Stage) -> str:
    """The OTTL that picks one stage's spans: its span name, and its stage attribute when the
    convention has one (the TraceQL queries select the same spans)."""
    cond = f"name == {ottl_string(stage.span)}"
    if catalog.stage_attribute:
        cond += f" and {ottl_attribute(catalog.stage_attribute)} == {ottl_string(stage.id)}"
    return cond


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def histogram_unit(m: Measurement) -> str:
    """The measurement's UCUM unit, unless that would make Prometheus append a unit word the
    catalog's metric name does not have (a custom ``metric.name``): then no unit."""
    ucum = UNITS[m.unit].ucum
    return ucum if otlp_metric_name(m.metric.name, ucum, "histogram") == m.metric.name else ""


@dataclass(frozen=True)
class Entry:
    """One ``spans`` entry and the Prometheus series it feeds (for the report and the tests)."""

    config: dict
    series: str  # Prometheus metric name
    kind: str  # "histogram" | "counter"
    stage: str


def _entry(name: str, description: str, unit: str, label: str, stage: Stage, conditions: list[str],
           metric: dict, kind: str, dimensions: tuple[dict, ...] = ()) -> Entry:
    config = {
        "name": name, "description": description, "unit": unit,
        "include_resource_attributes": [{"key": k} for k in RESOURCE_ATTRIBUTES],
        "attributes": [{"key": label, "default_value": stage.id}, *dimensions],
        "conditions": conditions,
        **metric,
    }
    return Entry(config, name, kind, stage.id)


def interrupted_dimension(intr: Interruption, stage: Stage, m: Measurement) -> tuple[dict, ...]:
    """The interrupted attribute as a dimension of a histogram the rules read without interrupted turns
    (``voice.interrupted``): its label is ``"true"`` on an interrupted turn, ``"false"`` on a span
    without it (``default_value``; without one the connector would drop such a span)."""
    return ({"key": intr.attribute, "default_value": False},) if intr.metric_excludes(stage, m) else ()


def histogram_entries(catalog: Catalog, stage: Stage) -> list[Entry]:
    out = []
    base = stage_condition(catalog, stage)
    intr = interruption(catalog)
    for m in stage.measurements:
        if m.metric.source == "framework":  # the framework records it; the rules read the framework's
            continue
        attr = ottl_attribute(m.attribute)
        cond = f"{base} and {attr} >= 0"
        if m.nothing_value is not None and m.nothing_value >= 0:
            cond += f" and {attr} != {format_number(m.nothing_value)}"
        out.append(_entry(
            m.metric.name, f"dashgen {catalog.name}: {m.metric.name} per stage, from span attributes",
            histogram_unit(m), m.metric.label, stage, [cond],
            {"histogram": {"buckets": [_number(b) for b in m.metric.buckets], "value": attr}}, "histogram",
            interrupted_dimension(intr, stage, m)))
    return out


def counter_entries(catalog: Catalog, stage: Stage) -> list[Entry]:
    a = catalog.alerting
    base = stage_condition(catalog, stage)
    kinds = [("runs", a.runs_metric, [base])]
    if is_counted(stage):  # else the spans never mark a failure, and no rule divides this counter
        kinds.append(("errors", stage_error(catalog).counter, [f"{base} and {c}" for c in error_conditions(catalog)]))
    first = stage.measurement("first_byte")
    if first is not None and first.nothing_value is not None:
        nothing = f"{base} and {ottl_attribute(first.attribute)} == {format_number(first.nothing_value)}"
        kinds.append(("nothing", a.nothing_metric, [nothing]))
    return [_entry(name, f"dashgen {catalog.name}: stage {kind} per stage, from spans", COUNT_UNIT, a.stage_label,
                   stage, conds, {"sum": {"value": "1", "monotonic": True}}, "counter")
            for kind, name, conds in kinds]


def good_turn_entries(catalog: Catalog) -> list[Entry]:
    """The good-turn SLI's two counters (``voice.good_turn``): judged turns and good turns, from the turn
    spans. The connector cannot judge a whole turn: its conditions see one span at a time (the OTTL span
    context: open-telemetry/opentelemetry-collector-contrib ``pkg/ottl/contexts/ottlspan``), and the
    verdict needs every span of the turn. So it counts the verdict the instrumentation wrote on the turn
    span (the attribute is there: judged; it is 1: good). A turn span without a verdict (a framework that
    only traces) is judged from what the turn span itself carries, when it carries the caller-felt latency
    (LiveKit's ``lk.e2e_latency``, Pipecat's user-to-bot latency) and the turn was not interrupted: that
    latency within the limit and the turn span not failed. Failures, empty replies and barge-ins on the other spans are then invisible:
    docs/metrics.md, "Good turns", says so."""
    g = good_turn_sli(catalog)
    if g is None:
        return []
    verdict = ottl_attribute(g.spec.attribute)
    turn = f"name == {ottl_string(catalog.turn_span)}"
    judged, good = [f"{turn} and {verdict} != nil"], [f"{turn} and {verdict} == {GOOD}"]
    felt_stage, felt = g.felt
    if felt_stage.span == catalog.turn_span:
        value = ottl_attribute(felt.attribute)
        # an interrupted turn is no latency sample (voice.interrupted): the bridge cannot judge it
        own = (f"{turn} and {verdict} == nil and {value} != nil and "
               f"{ottl_attribute(interruption(catalog).attribute)} != true")
        judged.append(own)
        good.append(" and ".join([own, f"{value} >= 0", f"{value} <= {format_number(g.latency_limit)}",
                                  *no_error_conditions(catalog)]))
    out = []
    for name, conds, what in ((g.spec.turns_metric, judged, "judged turns"), (g.spec.good_metric, good, "good turns")):
        config = {"name": name, "description": f"dashgen {catalog.name}: {what}, from the turn spans",
                  "unit": COUNT_UNIT, "include_resource_attributes": [{"key": k} for k in RESOURCE_ATTRIBUTES],
                  "conditions": conds, "sum": {"value": "1", "monotonic": True}}
        out.append(Entry(config, name, "counter", ""))
    return out


def entries(catalog: Catalog) -> list[Entry]:
    """Every ``spans`` entry: per stage its histograms, then its counters (catalog order), then the
    good-turn counters."""
    return ([e for s in catalog.stages for e in histogram_entries(catalog, s) + counter_entries(catalog, s)]
            + good_turn_entries(catalog))


def fragment(catalog: Catalog) -> dict:
    """The Collector configuration fragment (connector, processor, exporter, two pipelines)."""
    connector = {"spans": [e.config for e in entries(catalog)]}
    problems = schema.validate(connector)
    if problems:  # a bug in this module, never the user's input: the catalog has been validated
        raise AssertionError("generated signaltometrics config is invalid: " + "; ".join(problems))
    return {
        "connectors": {CONNECTOR: connector},
        "processors": {BATCH: {}, PROCESSOR: {"max_stale": IDLE_SERIES_KEPT}},
        "exporters": {EXPORTER: {"endpoint": "0.0.0.0:9464", "metric_expiration": IDLE_SERIES_KEPT}},
        "service": {"pipelines": {
            "traces/dashgen": {"receivers": [RECEIVER], "processors": [BATCH], "exporters": [CONNECTOR]},
            "metrics/dashgen": {"receivers": [CONNECTOR], "processors": [PROCESSOR], "exporters": [EXPORTER]},
        }},
    }


README = """\
# Collector bridge for catalog {catalog}

Generated by `dashgen build` (do not edit: it is rewritten; `dashgen build --check` fails when it
is stale). `signaltometrics.yaml` is an OpenTelemetry Collector fragment: its `signaltometrics`
connector derives from your spans the series dashgen's alert rules and PromQL panels read
({n} connector entries):

| Prometheus series | kind | stage label |
|---|---|---|
{series}
{framework}
Run it next to your own configuration with otelcol-contrib v0.119 or later (the collector merges
`--config` files; this fragment only adds components and two pipelines of its own):

```sh
otelcol-contrib --config your-config.yaml --config collector/signaltometrics.yaml
```

Edit to fit:

- `traces/dashgen` receives from `{receiver}`: the receiver your traces already arrive on.
- `{batch}` sits in front of the connector and must stay there: the connector stamps each batch it
  receives with the time it receives it, and `{processor}` drops a point not newer than the last
  one; without a single sender in front, batches arriving at once lose counts.
- `{exporter}` is a placeholder: Prometheus scrapes it on `:9464`. It keeps a series that gets no
  new span for `metric_expiration: {idle}` (the exporter's default, 5m, dropped every stage quiet
  for five minutes), and `{processor}` keeps its running totals as long (`max_stale`). So on this
  path a series is absent, and "telemetry missing" fires, only when the Collector or the scrape is
  down, when the stage sent no span since the Collector started, or when it has been quiet for
  longer than {idle}; a stop after traffic is the turns-stopped alert's.
- To push instead, replace the exporter with `prometheusremotewrite`, keeping `{processor}` in
  front (the connector emits delta points, both exporters need cumulative ones), and keep several
  Collector replicas apart: each replica's totals are its own, and identical series from two
  replicas would collide. The connector marks its output with the Collector's own
  `service.instance.id` (as `signal_to_metrics.service.instance.id`, `signaltometrics.` in older
  collectors); `resource_to_telemetry_conversion` turns it into a label. Give every replica its own
  `service.instance.id` (the Collector generates one unless `service.telemetry.resource` sets it):

  ```yaml
{remote_write}  ```

  Every rule and panel sums by the stage label, so the extra label changes no result. Scraped
  replicas need nothing: each is a target with its own `instance`.
- Collectors older than contrib PR #45865 ignore `monotonic`: the counters then arrive as gauges,
  under the same names, and the rules read them the same way.

How each series is derived, and the other metric sources: docs/metrics.md.
"""


def collector_artifacts(catalog: Catalog) -> dict[str, str]:
    """The fragment, and a README saying what it produces and how to use it."""
    es = entries(catalog)
    kinds = {e.series: (e.kind, e.config["attributes"][0]["key"] if e.config.get("attributes") else None) for e in es}
    series = "\n".join(f"| `{name}` | {kind} | " + (f"`{label}`" if label else "none (one per turn)") + " |"
                       for name, (kind, label) in sorted(kinds.items()))
    own = sorted({m.metric.name for s in catalog.stages for m in s.measurements if m.metric.source == "framework"})
    framework = ("\nThe framework records the other histograms the rules read itself, so the bridge leaves them out: "
                 + ", ".join(f"`{n}`" for n in own) + ".\n") if own else ""
    readme = README.format(catalog=catalog.name, n=len(es), series=series, framework=framework, receiver=RECEIVER,
                           exporter=EXPORTER, processor=PROCESSOR, batch=BATCH, idle=IDLE_SERIES_KEPT,
                           remote_write="".join("  " + line + "\n" for line in canonical_yaml(REMOTE_WRITE).splitlines()))
    return {PATH: canonical_yaml(fragment(catalog)), README_PATH: readme}
