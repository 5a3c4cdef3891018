"""The generated Collector bridge produces every series the alert rules and PromQL panels read.

The produced series are worked out from the fragment as written (what a user pastes), through the
otlptranslator port in ``catalog.conventions``: name, unit and kind -> Prometheus name; the entry's
attributes -> labels and their values; histogram buckets -> ``le``. The series read come from the
rule model's signals and, as text, from every PromQL expression in the built rule files and
dashboards (so rules and panels added later are covered without touching this test).
"""

from __future__ import annotations

import copy
import json
import re

import pytest
import yaml

from dashgen.alerts.model import Absent, BadEventRatio, CounterRatio, HistogramQuantile, StageEvents
from dashgen.artifacts import OUTPUT_DIRS, check_output, write_output
from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog
from dashgen.catalog.conventions import label_name, otlp_metric_name
from dashgen.collector import PATH, schema
from dashgen.collector.bridge import CONNECTOR
from dashgen.queries.promql import le_spellings

from ottl_grammar import OTTLSyntaxError, check_condition, check_value
from promql_series import selectors

CATALOGS = ("default", "pipecat", "livekit")


@pytest.fixture(scope="module", params=CATALOGS)
def built(request):
    return build_artifacts(load_catalog(request.param))


def connector(built) -> dict:
    return yaml.safe_load(built.artifacts[PATH])["connectors"][CONNECTOR]


def produced(config: dict) -> dict[str, dict]:
    """Prometheus series name -> {"labels": {label: {values}}, "buckets": set | None}."""
    out: dict[str, dict] = {}
    for e in config["spans"]:
        unit = e.get("unit", "")
        if "histogram" in e:
            base = otlp_metric_name(e["name"], unit, "histogram")
            names = [base + "_bucket", base + "_count", base + "_sum"]
        else:
            # the same name whether the collector knows sum.monotonic (counter) or not (a gauge)
            variants = {otlp_metric_name(e["name"], unit, k) for k in ("counter", "updown")}
            assert len(variants) == 1, f"{e['name']} translates differently by collector version: {variants}"
            names = list(variants)
        for name in names:
            series = out.setdefault(name, {"labels": {}, "buckets": None})
            for a in e.get("attributes", []):
                series["labels"].setdefault(label_name(a["key"]), set()).add(str(a["default_value"]))
            if name.endswith("_bucket") and "histogram" in e:
                series["buckets"] = set(e["histogram"]["buckets"])
    return out


def promql_exprs(built) -> list[str]:
    exprs = []
    for rel, text in built.artifacts.items():
        if rel.startswith("alerts/prometheus/"):
            for g in yaml.safe_load(text)["groups"]:
                exprs += [r["expr"] for r in g["rules"]]
        elif rel.startswith("dashboards/") and rel.endswith(".json"):
            def walk(node):
                if isinstance(node, dict):
                    if "expr" in node and (node.get("datasource") or {}).get("type") == "prometheus":
                        exprs.append(node["expr"])
                    for v in node.values():
                        walk(v)
                elif isinstance(node, list):
                    for v in node:
                        walk(v)
            walk(json.loads(text))
    return exprs


def recorded(built) -> set[str]:
    return {r["record"] for rel, text in built.artifacts.items() if rel.startswith("alerts/prometheus/")
            for g in yaml.safe_load(text)["groups"] for r in g["rules"] if "record" in r}


def framework_series(built) -> set[str]:
    """Series of the histograms the framework records itself (``metric.source: framework``): the rules
    read those, and the bridge must leave them alone (tests/test_presets_truth.py checks the framework
    really emits them)."""
    return {m.metric.name + suffix for s in built.rules.catalog.stages for m in s.measurements
            if m.metric.source == "framework" for suffix in ("_bucket", "_count", "_sum")}


def test_every_series_read_by_a_rule_or_panel_is_produced(built):
    made = produced(connector(built))
    exprs = promql_exprs(built)
    assert exprs, "no PromQL found"
    own = framework_series(built)
    assert not own & set(made), f"the bridge would record what the framework records: {sorted(own & set(made))}"
    raw = [s for e in exprs for s in selectors(e) if s.name not in recorded(built) and s.name not in own]
    assert raw
    for sel in raw:
        assert sel.name in made, f"{sel.name} is read but the bridge does not produce it (produces {sorted(made)})"
        for label, op, value in sel.matchers:
            if label == "le":
                rx = re.compile(value) if op == "=~" else re.compile(re.escape(value))
                hits = [b for b in made[sel.name]["buckets"] if any(rx.fullmatch(s) for s in le_spellings(b))]
                assert hits, f"{sel.name}{{le{op}{value!r}}}: no bucket boundary of the bridge matches"
            elif op == "=" and "$" not in value:
                assert label in made[sel.name]["labels"], f"{sel.name}: the bridge gives no label {label}"
                assert value in made[sel.name]["labels"][label], f"{sel.name}{{{label}={value!r}}} is never produced"


def test_every_signal_of_the_rule_model_is_produced_with_its_thresholds_as_boundaries(built):
    made = produced(connector(built))
    checked = 0
    for rule in built.rules.rules:
        for sig in rule.signals:
            if isinstance(sig, (HistogramQuantile, BadEventRatio)) and sig.metric.source == "framework":
                assert sig.metric.bucket not in made  # the framework's own histogram, its own buckets
                continue
            if isinstance(sig, (HistogramQuantile, BadEventRatio)):
                bucket = made[sig.metric.bucket]
                assert sig.stage in bucket["labels"][sig.metric.label]
                assert bucket["buckets"] == set(sig.metric.buckets)  # the SDK's buckets, exactly
                if isinstance(sig, BadEventRatio):
                    assert sig.threshold in bucket["buckets"]
            elif isinstance(sig, CounterRatio):
                for name in (sig.numerator, sig.denominator):
                    assert sig.stage in made[name]["labels"][sig.label], (name, sig.stage)
            elif isinstance(sig, (Absent, StageEvents)):  # the absence rules: each stage's run counter
                assert sig.stage in made[sig.counter]["labels"][sig.label], (sig.counter, sig.stage)
            else:
                continue
            checked += 1
        for row in rule.when:
            for c in row:
                if isinstance(c.signal, HistogramQuantile) and c.signal.metric.source != "framework":
                    assert c.value in made[c.signal.metric.bucket]["buckets"], \
                        f"{rule.uid}: threshold {c.value} is not a bucket boundary"
    assert checked


def test_stage_labels_and_error_counters_follow_the_catalog(built):
    """Every entry sets its stage label with ``default_value`` (spans told apart by name need not carry
    it), and an errors counter exists exactly for the stages whose spans record errors."""
    catalog = built.rules.catalog
    spans = connector(built)["spans"]
    stage_of = {s.id: s for s in catalog.stages}
    for e in spans:
        (attr,) = e["attributes"]
        assert attr["default_value"] in stage_of and "optional" not in attr, e["name"]
        assert f'name == "{stage_of[attr["default_value"]].span}"' in e["conditions"][0]
    errors = {e["attributes"][0]["default_value"] for e in spans if e["name"] == catalog.alerting.errors_metric}
    assert errors == {s.id for s in catalog.stages if s.records_errors}
    runs = {e["attributes"][0]["default_value"] for e in spans if e["name"] == catalog.alerting.runs_metric}
    assert runs == set(stage_of)


def test_fragment_matches_the_connector_config_struct(built):
    doc = yaml.safe_load(built.artifacts[PATH])
    assert schema.validate(doc["connectors"][CONNECTOR]) == []
    pipelines = doc["service"]["pipelines"]
    traces = [p for k, p in pipelines.items() if k.split("/")[0] == "traces"]
    metrics = [p for k, p in pipelines.items() if k.split("/")[0] == "metrics"]
    # README "Supported Pipeline Types": exporter in traces, receiver in metrics
    assert [CONNECTOR] == traces[0]["exporters"] and [CONNECTOR] == metrics[0]["receivers"]
    assert metrics[0]["processors"][0].split("/")[0] == "deltatocumulative"
    for component in traces[0]["exporters"] + metrics[0]["processors"] + metrics[0]["exporters"]:
        assert component in doc["connectors"] or component in doc["processors"] or component in doc["exporters"]


@pytest.mark.parametrize("mutate, problem", [
    (lambda c: c["spans"][0].pop("name"), "missing required metric name"),
    (lambda c: c["spans"][0]["histogram"].pop("value"), "value OTTL statement is required"),
    (lambda c: c["spans"][0].update(sum={"value": "1"}), "exactly one of the metrics must be defined, 2 found"),
    (lambda c: c["spans"][0]["attributes"].append(dict(c["spans"][0]["attributes"][0])), "duplicate key"),
    (lambda c: c["spans"][0]["attributes"][0].update(optional=True), "only one of default_value or optional"),
    (lambda c: c["spans"][0]["histogram"].update(bucket=[1]), "Histogram has no field 'bucket'"),
    (lambda c: c["spans"][0]["histogram"].update(buckets=[2, 1]), "strictly increasing"),
    (lambda c: c["spans"][0].update(conditions="x"), "must be a list"),
    (lambda c: c.update(spans=[]), "no configuration provided"),
])
def test_schema_rejects_what_the_connector_rejects(mutate, problem):
    config = copy.deepcopy(connector(build_artifacts(load_catalog("default"))))
    mutate(config)
    assert any(problem in p for p in schema.validate(config)), schema.validate(config)


def test_every_ottl_condition_and_value_parses(built):
    spans = connector(built)["spans"]
    for e in spans:
        for cond in e.get("conditions", []):
            check_condition(cond)
        for kind in schema.METRIC_KINDS:
            if kind in e:
                check_value(e[kind]["value"])
    assert spans


@pytest.mark.parametrize("text", [
    'name == "a" and', 'attributes["x" >= 0', 'name = "a"', 'set(attributes["x"], 1) == 1',
    'name == "a" AND status.code == 2', 'attributes["x"] >= ',
])
def test_the_ottl_grammar_rejects_broken_conditions(text):
    with pytest.raises(OTTLSyntaxError):
        check_condition(text)


@pytest.mark.parametrize("text", [
    'status.code == STATUS_CODE_ERROR', 'not (name == "a" or name == "b")', 'Int(attributes["x"]) > -1',
    'attributes["x"] != nil and IsMatch(name, "^a.*")', 'Milliseconds(end_time - start_time) >= 0.5',
])
def test_the_ottl_grammar_accepts_the_documented_forms(text):
    check_condition(text)


def test_collector_is_an_output_dir_checked_by_build_check(tmp_path):
    assert "collector" in OUTPUT_DIRS
    artifacts = build_artifacts(load_catalog("default")).artifacts
    write_output(artifacts, tmp_path)
    assert check_output(artifacts, tmp_path).ok
    (tmp_path / PATH).write_text("stale\n")
    assert check_output(artifacts, tmp_path).stale == [PATH]
    (tmp_path / "collector" / "extra.yaml").write_text("x: 1\n")
    assert "collector/extra.yaml" in check_output(artifacts, tmp_path).extra


def test_translation_matches_otlptranslator_examples():
    # the doc comments of otlptranslator metric_namer.go (MetricNamer.Build)
    assert otlp_metric_name("http.server.duration", "s", "histogram") == "http_server_duration_seconds"
    assert otlp_metric_name("requests.count", "1", "counter") == "requests_count_total"
    assert otlp_metric_name("memory.usage", "By", "gauge") == "memory_usage_bytes"
    assert otlp_metric_name("system.cpu.utilization", "1", "gauge") == "system_cpu_utilization_ratio"
    assert otlp_metric_name("audio.stage.runs", "{span}", "counter") == "audio_stage_runs_total"
    assert otlp_metric_name("net.io", "By/s", "gauge") == "net_io_bytes_per_second"
    assert otlp_metric_name("2xx.requests", "", "gauge") == "_2xx_requests"
    assert label_name("audio.stage") == "audio_stage" and label_name("2x") == "key_2x"
