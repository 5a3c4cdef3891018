"""The Collector bridge in the field, asked of a real Prometheus: what the built absence and
error-rate rules answer when the series arrive as the Collector's exporters deliver them.

No Collector runs here, so the two exporter behaviours at stake are modelled from the Collector's
source, each in a few lines, and fed the settings read from the built fragment and README:

- the prometheus exporter exposes a series until it has gone ``metric_expiration`` without an
  update (exporter/prometheusexporter/accumulator.go, ``Collect``: ``expirationTime.After(v.updated)``
  drops it);
- prometheusremotewrite writes one series per distinct label set; the resource's attributes become
  labels only with ``resource_to_telemetry_conversion`` (pkg/resourcetotelemetry), and the
  connector puts the Collector's own instance id into the resource
  (connector/signaltometricsconnector/internal/model/collectorinstanceinfo.go).

Everything else (names, labels, the rules' PromQL, how Prometheus reads the samples) is the real
thing: names by the OTLP -> Prometheus translation recomputed in ``otlp_names``, rules as built.
"""

from __future__ import annotations

import re

import pytest
import yaml

from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog
from dashgen.collector import PATH
from dashgen.collector.bridge import CONNECTOR, README_PATH

from otlp_names import prometheus_label, prometheus_name
from prom_backfill import T0, firing, prometheus, scoped
from test_collector_bridge import DEFAULT_METRIC_EXPIRATION, component, seconds

SCRAPE = 60  # seconds between scrapes


@pytest.fixture(scope="module")
def built():
    return build_artifacts(load_catalog("default"))


def rules(built) -> dict[str, dict]:
    return {r["alert"]: r for rel, text in built.artifacts.items() if rel.startswith("alerts/prometheus/")
            for g in yaml.safe_load(text)["groups"] for r in g["rules"] if "alert" in r}


def entry(built, name: str, stage_id: str) -> dict:
    doc = yaml.safe_load(built.artifacts[PATH])
    (e,) = [e for e in doc["connectors"][CONNECTOR]["spans"]
            if e["name"] == name and e["attributes"][0]["default_value"] == stage_id]
    return e


def series_key(e: dict, stage_id: str, **labels) -> tuple[str, tuple]:
    name = prometheus_name(e["name"], e["unit"], "counter")
    return name, tuple(sorted({prometheus_label(e["attributes"][0]["key"]): stage_id, **labels}.items()))


def exposed(updates: list[tuple[float, float]], scrapes, keep: float) -> list[tuple[float, float]]:
    """What scrapes of the prometheus exporter see of one series updated at ``updates``."""
    out, j, last = [], 0, None
    for t in scrapes:
        while j < len(updates) and updates[j][0] <= t:
            last, j = updates[j], j + 1
        if last is not None and t - last[0] <= keep:
            out.append((t, last[1]))
    return out


def test_a_quiet_night_is_not_missing_telemetry_and_a_stop_keeps_paging(built, tmp_path):
    """Three hours of traffic (3 spans a minute on every stage), then ten quiet hours. With the
    fragment's expiration no stage reads as "telemetry missing" all night, and "turns stopped" holds
    for the hour after the stop; with the exporter's default (5m) both go wrong, which is what the
    fragment fixes."""
    catalog = built.rules.catalog
    doc = yaml.safe_load(built.artifacts[PATH])
    _, exporter = component(doc, "exporters", "prometheus", "metrics/dashgen")
    stop, end = T0 + 3 * 3600, T0 + 13 * 3600
    scrapes = range(T0 + SCRAPE // 2, end, SCRAPE)
    keeps = {"fragment": seconds(exporter.get("metric_expiration", DEFAULT_METRIC_EXPIRATION)),
             "default": seconds(DEFAULT_METRIC_EXPIRATION)}
    series = {}
    for stage in catalog.stages:
        e = entry(built, catalog.alerting.runs_metric, stage.id)
        updates = [(t, 3 * (k + 1)) for k, t in enumerate(range(T0, stop, 60))]  # one batch a minute
        for scenario, keep in keeps.items():
            series[series_key(e, stage.id, scenario=scenario)] = exposed(updates, scrapes, keep)
    alerts = rules(built)
    missing = [r for name, r in alerts.items() if name.endswith("TelemetryMissing")]
    (stopped,) = [r for name, r in alerts.items() if name.endswith("TurnsStopped")]
    assert len(missing) == len(catalog.stages)
    with prometheus(series, tmp_path) as prom:
        for at in (stop + 30 * 60, stop + 2 * 3600, stop + 6 * 3600, stop + 10 * 3600):
            fired = [r["alert"] for r in missing if firing(prom, scoped(r["expr"], "scenario", "fragment"), at)]
            assert not fired, f"{(at - stop) / 3600:g} h into a quiet night: {fired}"
        for minutes in (30, 60):
            assert firing(prom, scoped(stopped["expr"], "scenario", "fragment"), stop + minutes * 60), minutes
        # the failure the fragment prevents: with 5m the series are gone
        at = stop + 30 * 60
        assert all(firing(prom, scoped(r["expr"], "scenario", "default"), at) for r in missing)
        assert not firing(prom, scoped(stopped["expr"], "scenario", "default"), at)


def remote_write_recipe(built) -> dict:
    """The exporter config the generated README tells a user to paste for remote write."""
    readme = built.artifacts[README_PATH]
    (block,) = re.findall(r"```yaml\n(.*?)```", readme, re.S)
    exporters = yaml.safe_load(block)["exporters"]
    (name,) = [k for k in exporters if k.split("/")[0] == "prometheusremotewrite"]
    return exporters[name]


def remote_written_labels(exporter: dict, resource: dict[str, str]) -> dict[str, str]:
    """The resource's share of a series' labels under prometheusremotewrite: all its attributes with
    ``resource_to_telemetry_conversion``, else only ``job`` (service.name) and ``instance``
    (service.instance.id, which the connector's resource does not carry)."""
    if (exporter.get("resource_to_telemetry_conversion") or {}).get("enabled"):
        return {prometheus_label(k): v for k, v in resource.items()}
    return {"job": resource["service.name"]}


def test_remote_write_keeps_collector_replicas_apart(built, tmp_path):
    """Two Collector replicas behind one load balancer: A sees 30 spans a minute of stage tts, none
    failed; B sees 10, 4 of them failed (status ERROR only). The stage's true error rate is 10%,
    above its 5% limit. Written with the README's recipe, each replica keeps its own series and the
    rule reads 10%; without the conversion both write one series, its value jumps between the two
    replicas' totals, and the rule reads nonsense."""
    catalog = built.rules.catalog
    stage = next(s for s in catalog.stages if s.id == "tts")
    runs, errors = (entry(built, n, stage.id) for n in (catalog.alerting.runs_metric, catalog.alerting.errors_metric))
    (rule,) = [r for r in rules(built).values() if r["labels"].get("stage") == stage.id and "ErrorRate" in r["alert"]]
    recipe = remote_write_recipe(built)
    replicas = {"a": (30, 0, 0), "b": (10, 4, 30)}  # spans/min, failed/min, offset of its pushes (s)
    series: dict = {}
    for scenario, exporter in (("recipe", recipe), ("plain", {})):
        for replica, (per_min, failed, offset) in replicas.items():
            labels = remote_written_labels(exporter, {"service.name": "voice-agent",
                                                      "signal_to_metrics.service.instance.id": replica})
            for e, rate in ((runs, per_min), (errors, failed)):
                if not rate:  # the connector emits no series before a span matches
                    continue
                key = series_key(e, stage.id, scenario=scenario, **labels)
                series.setdefault(key, []).extend((T0 + offset + 60 * k, rate * (k + 1)) for k in range(60))
    for samples in series.values():
        samples.sort()
    with prometheus(series, tmp_path) as prom:
        at = T0 + 45 * 60
        (result,) = prom.query(scoped(rule["expr"], "scenario", "recipe"), at)
        assert abs(float(result["value"][1]) - 0.10) < 0.01, result
        plain = prom.query(scoped(rule["expr"], "scenario", "plain"), at)
        assert not plain or abs(float(plain[0]["value"][1]) - 0.10) > 0.02, plain
