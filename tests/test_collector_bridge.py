"""The generated Collector bridge produces every series the alert rules and PromQL panels read.

The produced series are worked out from the fragment as written (what a user pastes), through an
OTLP -> Prometheus name translation recomputed in the tests (``otlp_names``, checked against
otlptranslator's own examples below), never through the naming functions that named the rule
metrics: name, unit and kind -> Prometheus name; the entry's attributes -> labels and their values;
histogram buckets -> ``le``. The series read come from the rule model's signals and, as text, from
every PromQL expression in the built rule files and dashboards (so rules and panels added later are
covered without touching this test). Each built artifact is parsed once per catalog (``parsed``).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass

import pytest
import yaml

from dashgen.alerts.model import Absent, BadEventRatio, CounterRatio, HistogramQuantile, StageEvents
from dashgen.artifacts import OUTPUT_DIRS, check_output, write_output
from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog
from dashgen.catalog.conventions import label_name, otlp_metric_name
from dashgen.voice.interrupted import interruption
from dashgen.collector import PATH, schema
from dashgen.collector.bridge import CONNECTOR
from dashgen.queries.promql import le_spellings

from otlp_names import prometheus_label, prometheus_name
from ottl_grammar import OTTLSyntaxError, check_condition, check_value
from promql_series import selectors

CATALOGS = ("default", "pipecat", "livekit")


@dataclass(frozen=True)
class Parsed:
    """One catalog's build, each artifact parsed once."""

    built: object
    doc: dict  # the Collector fragment
    rule_groups: list  # every group of every Prometheus rule file
    exprs: list[str]  # every PromQL expression of the rule files and dashboards
    recorded: frozenset[str]  # names the recording rules write

    @property
    def connector(self) -> dict:
        return self.doc["connectors"][CONNECTOR]


def _dashboard_exprs(node, out: list[str]) -> None:
    if isinstance(node, dict):
        if "expr" in node and (node.get("datasource") or {}).get("type") == "prometheus":
            out.append(node["expr"])
        for v in node.values():
            _dashboard_exprs(v, out)
    elif isinstance(node, list):
        for v in node:
            _dashboard_exprs(v, out)


def parse(built) -> Parsed:
    groups, exprs = [], []
    for rel, text in built.artifacts.items():
        if rel.startswith("alerts/prometheus/"):
            groups += yaml.safe_load(text)["groups"]
        elif rel.startswith("dashboards/") and rel.endswith(".json"):
            _dashboard_exprs(json.loads(text), exprs)
    exprs = [r["expr"] for g in groups for r in g["rules"]] + exprs
    recorded = frozenset(r["record"] for g in groups for r in g["rules"] if "record" in r)
    return Parsed(built, yaml.safe_load(built.artifacts[PATH]), groups, exprs, recorded)


@pytest.fixture(scope="module", params=CATALOGS)
def parsed(request) -> Parsed:
    return parse(build_artifacts(load_catalog(request.param)))


@pytest.fixture(scope="module")
def default_connector() -> dict:
    return parse(build_artifacts(load_catalog("default"))).connector


def produced(config: dict) -> dict[str, dict]:
    """Prometheus series name -> {"labels": {label: {values}}, "buckets": set | None}."""
    out: dict[str, dict] = {}
    for e in config["spans"]:
        unit = e.get("unit", "")
        if "histogram" in e:
            base = prometheus_name(e["name"], unit, "histogram")
            names = [base + "_bucket", base + "_count", base + "_sum"]
        else:
            # the same name whether the collector knows sum.monotonic (counter) or not (a gauge)
            variants = {prometheus_name(e["name"], unit, k) for k in ("counter", "updown")}
            assert len(variants) == 1, f"{e['name']} translates differently by collector version: {variants}"
            names = list(variants)
        for name in names:
            series = out.setdefault(name, {"labels": {}, "buckets": None})
            for a in e.get("attributes", []):
                series["labels"].setdefault(prometheus_label(a["key"]), set()).add(str(a["default_value"]))
            if name.endswith("_bucket") and "histogram" in e:
                series["buckets"] = set(e["histogram"]["buckets"])
    return out


def framework_series(built) -> set[str]:
    """Series of the histograms the framework records itself (``metric.source: framework``): the rules
    read those, and the bridge must leave them alone (tests/test_presets_truth.py checks the framework
    really emits them)."""
    return {m.metric.name + suffix for s in built.rules.catalog.stages for m in s.measurements
            if m.metric.source == "framework" for suffix in ("_bucket", "_count", "_sum")}


def test_every_series_read_by_a_rule_or_panel_is_produced(parsed):
    made = produced(parsed.connector)
    assert parsed.exprs, "no PromQL found"
    own = framework_series(parsed.built)
    assert not own & set(made), f"the bridge would record what the framework records: {sorted(own & set(made))}"
    skip = parsed.recorded | own
    raw = {s for e in set(parsed.exprs) for s in selectors(e) if s.name not in skip}
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


def test_every_signal_of_the_rule_model_is_produced_with_its_thresholds_as_boundaries(parsed):
    made = produced(parsed.connector)
    checked = 0
    for rule in parsed.built.rules.rules:
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


def test_stage_labels_and_error_counters_follow_the_catalog(parsed):
    """Every entry sets its stage label with ``default_value`` (spans told apart by name need not carry
    it), and an errors counter exists exactly for the stages whose spans record errors."""
    catalog = parsed.built.rules.catalog
    spans = parsed.connector["spans"]
    stage_of = {s.id: s for s in catalog.stages}
    # the good-turn counters are per turn, not per stage: no stage label, on the turn span only
    per_turn = [e for e in spans if "attributes" not in e]
    g = catalog.good_turn
    assert sorted(e["name"] for e in per_turn) == (sorted([g.turns_metric, g.good_metric]) if g else [])
    assert all(e["conditions"][0].startswith(f'name == "{catalog.turn_span}" and ') for e in per_turn)
    spans = [e for e in spans if "attributes" in e]
    intr = interruption(catalog)
    for e in spans:
        attr, *dims = e["attributes"]
        assert attr["default_value"] in stage_of and "optional" not in attr, e["name"]
        assert f'name == "{stage_of[attr["default_value"]].span}"' in e["conditions"][0]
        # the interrupted dimension on exactly the histograms whose rules leave interrupted turns out
        st = stage_of[attr["default_value"]]
        m = next((m for m in st.measurements if "histogram" in e and m.metric.name == e["name"]
                  and e["histogram"]["value"] == f'attributes["{m.attribute}"]'), None)
        want = [{"key": intr.attribute, "default_value": False}] if m and intr.metric_excludes(st, m) else []
        assert dims == want, e["name"]
    errors = {e["attributes"][0]["default_value"] for e in spans if e["name"] == catalog.alerting.errors_metric}
    assert errors == {s.id for s in catalog.stages if s.records_errors}
    runs = {e["attributes"][0]["default_value"] for e in spans if e["name"] == catalog.alerting.runs_metric}
    assert runs == set(stage_of)


def test_fragment_matches_the_connector_config_struct(parsed):
    doc = parsed.doc
    assert schema.validate(doc["connectors"][CONNECTOR]) == []
    pipelines = doc["service"]["pipelines"]
    traces = [p for k, p in pipelines.items() if k.split("/")[0] == "traces"]
    metrics = [p for k, p in pipelines.items() if k.split("/")[0] == "metrics"]
    # README "Supported Pipeline Types": exporter in traces, receiver in metrics
    assert [CONNECTOR] == traces[0]["exporters"] and [CONNECTOR] == metrics[0]["receivers"]
    assert metrics[0]["processors"][0].split("/")[0] == "deltatocumulative"
    for component in (traces[0].get("processors", []) + traces[0]["exporters"] + metrics[0]["processors"]
                      + metrics[0]["exporters"]):
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
def test_schema_rejects_what_the_connector_rejects(mutate, problem, default_connector):
    config = copy.deepcopy(default_connector)
    mutate(config)
    assert any(problem in p for p in schema.validate(config)), schema.validate(config)


def test_every_ottl_condition_and_value_parses(parsed):
    spans = parsed.connector["spans"]
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


OTLPTRANSLATOR_EXAMPLES = [  # the doc comments of otlptranslator metric_namer.go (MetricNamer.Build)
    (("http.server.duration", "s", "histogram"), "http_server_duration_seconds"),
    (("requests.count", "1", "counter"), "requests_count_total"),
    (("memory.usage", "By", "gauge"), "memory_usage_bytes"),
    (("system.cpu.utilization", "1", "gauge"), "system_cpu_utilization_ratio"),
    (("audio.stage.runs", "{span}", "counter"), "audio_stage_runs_total"),
    (("net.io", "By/s", "gauge"), "net_io_bytes_per_second"),
    (("2xx.requests", "", "gauge"), "_2xx_requests"),
]


@pytest.mark.parametrize("args, name", OTLPTRANSLATOR_EXAMPLES)
def test_the_tests_translation_matches_otlptranslator_examples(args, name):
    """The oracle ``produced`` uses, and dashgen's own port, both give otlptranslator's answers."""
    assert prometheus_name(*args) == name
    assert otlp_metric_name(*args) == name


def test_label_translation_matches_otlptranslator():
    assert prometheus_label("audio.stage") == label_name("audio.stage") == "audio_stage"
    assert prometheus_label("2x") == label_name("2x") == "key_2x"


def test_produced_can_miss_a_series():
    """``produced`` is no echo of the rule names: a histogram entry whose unit would add a word the
    name lacks is produced under the longer name, so a rule reading the short one would fail."""
    entry = {"name": "audio_first_byte", "unit": "ms", "attributes": [{"key": "audio.stage", "default_value": "tts"}],
             "histogram": {"buckets": [1, 2], "value": "x"}}
    made = produced({"spans": [entry]})
    assert "audio_first_byte_milliseconds_bucket" in made and "audio_first_byte_bucket" not in made


# --- the Collector in the field -------------------------------------------------------------------
# Defaults the fragment must override, from the Collector's source:
DEFAULT_METRIC_EXPIRATION = "5m"  # exporter/prometheusexporter/factory.go, createDefaultConfig
DEFAULT_MAX_STALE = "5m"  # processor/deltatocumulativeprocessor/config.go, createDefaultConfig


def seconds(duration: str) -> float:
    """A Go duration (``time.ParseDuration``) in seconds: ``24h``, ``1h30m``, ``90s``, ``500ms``."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, f"not a Go duration: {duration!r}"
    return sum(float(n) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[u] for n, u in parts)


def component(doc: dict, section: str, kind: str, pipeline: str) -> tuple[str, dict]:
    """The one component of type ``kind`` that the dashgen ``pipeline`` uses, and its config."""
    used = [c for key in ("receivers", "processors", "exporters") for c in doc["service"]["pipelines"][pipeline].get(key, [])]
    (name,) = [c for c in used if c.split("/")[0] == kind and c in doc.get(section, {})]
    return name, doc[section][name] or {}


def test_the_fragment_keeps_idle_series_for_an_hour_and_batches_before_the_connector(parsed):
    doc = parsed.doc
    pipelines = doc["service"]["pipelines"]
    (traces,) = [k for k in pipelines if k.split("/")[0] == "traces"]
    (metrics,) = [k for k in pipelines if k.split("/")[0] == "metrics"]
    # a batch processor is the traces pipeline's last step before the connector (nothing after it
    # fans the batches out again), so the connector is called by one sender at a time
    batch, _ = component(doc, "processors", "batch", traces)
    assert pipelines[traces]["processors"][-1] == batch and pipelines[traces]["exporters"] == [CONNECTOR]
    # idle series: the exporter keeps them, and deltatocumulative keeps their running totals, at least
    # an hour and at least as long as the turns-stopped alert looks back (its hour plus its window)
    _, exporter = component(doc, "exporters", "prometheus", metrics)
    _, d2c = component(doc, "processors", "deltatocumulative", metrics)
    keep = seconds(exporter.get("metric_expiration", DEFAULT_METRIC_EXPIRATION))
    absence = parsed.built.rules.catalog.alerting.absence.for_
    assert keep >= 3600 and keep >= 3600 + seconds(absence), exporter
    assert seconds(d2c.get("max_stale", DEFAULT_MAX_STALE)) >= keep, d2c


def test_seconds_reads_go_durations():
    assert seconds("24h") == 86400 and seconds("1h30m") == 5400 and seconds("5m") == 300
    with pytest.raises(AssertionError):
        seconds("1d")  # Go has no days
