"""The good-turn SLI (issue 24 §6): one definition (``voice.good_turn``) read by the catalog checks, the
instrumentation, verify-traces, the Collector bridge, the SLO rules and the dashboards."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from dashgen.alerts.generate import rule_set
from dashgen.alerts.model import TurnBadRatio
from dashgen.alerts import promtool
from dashgen.alerts.promtool import promtool_tests
from dashgen.build import build_artifacts
from dashgen.catalog import preset_path
from dashgen.errors import CatalogError, CatalogErrors
from dashgen.telemetry.instrument import Instrumentation, VirtualClock
from dashgen.telemetry.otlp_json import encode_spans, read_spans
from dashgen.telemetry.simulate import Simulator
from dashgen.telemetry.verify import verify
from dashgen.voice.checks import load_catalog, parse_catalog
from dashgen.voice.good_turn import Outcome, sli

EPOCH = 1_700_000_000_000_000_000
PROMTOOL = shutil.which("promtool")


def catalog_with(old: str, new: str, preset: str = "default"):
    text = preset_path(preset).read_text(encoding="utf-8")
    assert old in text, old
    return parse_catalog(text.replace(old, new), "gt.yaml")


# --- the catalog --------------------------------------------------------------------------------

@pytest.mark.parametrize("preset, felt, barge", [("default", "client.first_byte", "barge_in.silence"),
                                                 ("livekit", "turn.e2e", None),
                                                 ("pipecat", "turn.user_bot_latency", None)])
def test_every_preset_defines_the_sli_with_its_defaults(preset, felt, barge):
    c = load_catalog(preset)
    g = sli(c)
    assert g is not None and c.good_turn.objective == 0.95 and c.good_turn.window == "30d"
    assert f"{g.felt[0].id}.{g.felt[1].id}" == felt
    assert (f"{g.barge[0].id}.{g.barge[1].id}" if g.barge else None) == barge
    assert c.good_turn.barge_in_silence_ms == 200 and c.good_turn.latency_ms == 1500
    # the limits are in ms; a convention in seconds judges 1.5 s
    assert g.latency_limit == (1500 if g.felt[1].unit == "ms" else 1.5)


@pytest.mark.parametrize("old, new, message", [
    ("  latency_ms: 1500\n", "  latency_ms: 1500\n  latency: client.nope\n",
     "good_turn.latency 'client.nope' names no measurement of the catalog"),
    ("  objective: 0.95\n  window: 30d\n", "  objective: 0.9\n  window: 30d\n", "could never fire"),
    ("  objective: 0.95\n  window: 30d\n", "  objective: 0.95\n  window: 7d\n", "has no burn-rate window set"),
    ("  latency_ms: 1500\n", "  latency_ms: -5\n", "good_turn.latency_ms must be positive"),
    ("  latency_ms: 1500\n", "  latency_ms: 1500\n  latency: client.jitter_pct\n", "<stage id>.<measurement id>"),
])
def test_a_bad_good_turn_block_is_one_located_line(old, new, message):
    text = preset_path("default").read_text(encoding="utf-8")
    with pytest.raises((CatalogError, CatalogErrors)) as err:
        parse_catalog(text.replace(old, new), "gt.yaml")
    lines = str(err.value).splitlines()
    hit = [line for line in lines if message in line]
    assert hit, lines
    line_no = int(hit[0].split(":")[1])
    assert "good_turn" in text.replace(old, new).splitlines()[line_no - 1] or \
        text.replace(old, new).splitlines()[line_no - 1].startswith("  "), hit[0]
    assert hit[0].startswith("gt.yaml:") and "(" in hit[0]


def test_a_catalog_without_a_caller_felt_latency_cannot_declare_it():
    with pytest.raises(CatalogError, match="good_turn needs the caller-felt latency"):
        catalog_with("    role: playback\n", "    role: custom\n")


# --- the one definition --------------------------------------------------------------------------

def test_the_verdict_follows_each_part_of_the_definition():
    g = sli(load_catalog())
    ok = [Outcome("asr", False, False, {"first_byte": 80}), Outcome("client", False, False, {"first_byte": 900})]
    assert g.judge(ok) is True
    assert g.judge(ok[:1] + [Outcome("client", False, False, {"first_byte": 1500})]) is True  # at the limit
    assert g.judge(ok[:1] + [Outcome("client", False, False, {"first_byte": 1501})]) is False  # slow
    assert g.judge(ok + [Outcome("barge_in", False, False, {"silence": 200})]) is True
    assert g.judge(ok + [Outcome("barge_in", False, False, {"silence": 260})]) is False  # barge-in not silent
    assert g.judge(ok + [Outcome("barge_in", False, True, {"silence": 120})]) is True  # cancelled nothing: no reply lost
    assert g.judge(ok + [Outcome("llm", True, True, {})]) is False  # failed
    assert g.judge([Outcome("asr", False, True, {"first_byte": -1})]) is False  # produced nothing
    assert g.judge(ok[:1]) is None  # no caller-felt latency, nothing wrong: not judged
    # an interrupted turn is no latency sample (voice.interrupted): its barge-in judges it
    slow = [Outcome("client", False, False, {"first_byte": 2400}, interrupted=True)]
    assert g.judge(slow + [Outcome("barge_in", False, False, {"silence": 150}, interrupted=True)]) is True
    assert g.judge(slow + [Outcome("barge_in", False, False, {"silence": 250}, interrupted=True)]) is False
    assert g.judge(slow) is None  # interrupted, and no silence to judge it by
    livekit = sli(load_catalog("livekit"))  # no silence milestone: interrupted turns are not judged
    assert livekit.judge([Outcome("turn", False, False, {"e2e": 0.8}, interrupted=True)]) is None
    assert livekit.judge([Outcome("turn", False, False, {"e2e": 0.8})]) is True


# --- instrumentation, simulate and verify-traces --------------------------------------------------

def _rig(catalog):
    spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(spans))
    inst = Instrumentation(catalog, tp, MeterProvider(metric_readers=[reader]), clock=VirtualClock(EPOCH))
    return inst, spans, reader


def _counters(reader) -> dict[str, float]:
    out = {}
    for rm in reader.get_metrics_data().resource_metrics:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                if m.name.startswith("audio_turns_"):
                    out[m.name] = sum(p.value for p in m.data.data_points)
    return out


def test_the_turn_span_carries_the_verdict_and_the_counters_count_it():
    inst, spans, reader = _rig(load_catalog())
    clock = inst.clock
    for tid, wait in ((1, 700), (2, 2100)):  # a natural turn, then a slow one
        with inst.turn_span("s1", tid):
            with inst.stage_span("asr", "s1", tid) as asr:
                clock.advance(90)
                asr.partial("hello")
            with inst.stage_span("client", "s1", tid) as client:
                clock.advance(wait)
                client.played()
    with pytest.raises(RuntimeError):  # a failed stage: a bad turn, whatever its latency
        with inst.turn_span("s1", 3):
            with inst.stage_span("llm", "s1", 3):
                raise RuntimeError("provider down")
    turns = [s for s in spans.get_finished_spans() if s.name == "voice.turn"]
    assert [s.attributes.get("voice.turn.good") for s in turns] == [1, 0, 0]
    # OpenTelemetry names; Prometheus adds _total to a counter (the catalog's audio_turns_*_total)
    assert _counters(reader) == {"audio_turns_judged": 3, "audio_turns_good": 1}


@pytest.mark.parametrize("mark", ["error attribute", "status"])
def test_a_stage_marked_failed_without_raising_is_a_bad_turn_and_an_error(mark):
    """An application that flags a failure itself (the catalog's error attribute, or the status set
    to ERROR) without raising: the same bad turn and the same error as a raised exception."""
    from opentelemetry.trace import Status, StatusCode

    inst, spans, reader = _rig(load_catalog())
    clock = inst.clock
    for tid, fail in ((1, False), (2, True)):
        with inst.turn_span("s1", tid):
            with inst.stage_span("asr", "s1", tid) as asr:
                clock.advance(90)
                asr.partial("hello")
            with inst.stage_span("llm", "s1", tid) as llm:
                clock.advance(200)
                llm.chunk()
                if fail and mark == "status":
                    llm.span.set_status(Status(StatusCode.ERROR, "provider answered 503"))
                elif fail:
                    llm.span.set_attribute("audio.error", True)
            with inst.stage_span("client", "s1", tid) as client:
                clock.advance(500)
                client.played()
    turns = [s for s in spans.get_finished_spans() if s.name == "voice.turn"]
    assert [s.attributes.get("voice.turn.good") for s in turns] == [1, 0]
    a = inst.catalog.alerting  # OpenTelemetry's name: Prometheus adds the counter's _total
    errors = {p.attributes[a.stage_label]: p.value for rm in reader.get_metrics_data().resource_metrics
              for sm in rm.scope_metrics for m in sm.metrics if m.name == a.errors_metric.removesuffix("_total")
              for p in m.data.data_points}
    assert errors == {"llm": 1}


def test_verify_traces_checks_the_verdict_against_the_spans():
    c = load_catalog()
    inst, spans, _ = _rig(c)
    Simulator(inst, seed=3, now_ns=EPOCH, window_minutes=10).run(20)
    doc = encode_spans(spans.get_finished_spans())
    report = verify(read_spans(json.dumps(doc)), c)
    assert report.ok and report.checked["good-turn"] > 50
    # flip one verdict: the rule names the turn and what its spans give
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                for a in s.get("attributes", []):
                    if a["key"] == "voice.turn.good" and a["value"]["intValue"] in ("1", 1):
                        a["value"]["intValue"] = "0"
                        break
                else:
                    continue
                break
            else:
                continue
            break
        break
    report = verify(read_spans(json.dumps(doc)), c)
    assert report.count("good-turn") == 1, report.lines()
    assert "its spans give 1" in next(iter(report.violations["good-turn"]))


# --- rules and promtool --------------------------------------------------------------------------

def test_the_slo_rules_divide_the_counters_in_both_forms():
    built = build_artifacts(load_catalog())
    burn = yaml.safe_load(built.artifacts["alerts/prometheus/voice-slo-burn.yaml"])["groups"][0]["rules"]
    page = next(r for r in burn if r.get("alert") == "VoiceGoodTurnSloBurnPage")
    assert page["labels"]["stage"] == "good-turn" and page["labels"]["sloth_id"] == "voice-good-turn"
    assert "audio_turns_good_total[1h]" in page["expr"] and "> 0.72" in page["expr"]  # 14.4 x 5%
    grafana = json.loads(built.artifacts["alerts/grafana/voice-agent/voice-slo-burn.json"])
    twin = next(r for r in grafana["rules"] if r["uid"] == "voice-good-turn-slo-page")
    assert twin["data"][0]["model"]["expr"] == page["expr"]  # one PromQL, both forms
    rec = yaml.safe_load(built.artifacts["alerts/prometheus/voice-slo-recording.yaml"])["groups"][0]["rules"]
    mine = [r for r in rec if r["labels"]["sloth_id"] == "voice-good-turn"]
    assert len(mine) == 15 and mine[0]["record"] == "slo:sli_error:ratio_rate5m"
    signals = {type(s) for r in built.rules.rules if r.labels.get("sloth_id") == "voice-good-turn" for s in r.signals}
    assert TurnBadRatio in signals


def _good_turn_dir(tmp_path):
    """The good-turn SLO's own rules, as built (the stage SLOs' are tested by tests/test_promtool.py), and
    its generated promtool cases."""
    built = build_artifacts(load_catalog())
    for rel, content in built.artifacts.items():
        if rel.startswith("alerts/prometheus/voice-slo-"):
            doc = yaml.safe_load(content)
            for g in doc["groups"]:
                g["rules"] = [r for r in g["rules"] if r["labels"].get("sloth_id") == "voice-good-turn"]
            (tmp_path / rel.rsplit("/", 1)[1]).write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    rs = rule_set(load_catalog())
    page, ticket = (next(r for r in rs.rules if r.name == f"VoiceGoodTurnSloBurn{s}") for s in ("Page", "Ticket"))
    # the good-turn SLO's own cases (the generated file packs them beside the stage SLOs')
    cases = promtool._burn_tests(page, ticket, [r for r in rs.rules if r.records is not None])
    generated = " | ".join(c["name"] for c in yaml.safe_load(promtool_tests(rs)["voice-slo-burn.test.yaml"])["tests"])
    assert all(c["name"] in generated for c in cases)  # the same cases the generated file runs
    return {"rule_files": ["voice-slo-recording.yaml", "voice-slo-burn.yaml"], "evaluation_interval": "1m",
            "tests": cases}


def _promtool(tmp_path, doc) -> subprocess.CompletedProcess:
    assert PROMTOOL, "promtool not on PATH: run ./scripts/test"
    (tmp_path / "gt.test.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    return subprocess.run([PROMTOOL, "test", "rules", "gt.test.yaml"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)


def test_promtool_the_good_turn_slo_pages_tickets_and_stays_silent(tmp_path):
    doc = _good_turn_dir(tmp_path)
    names = [t["name"] for t in doc["tests"]]
    assert any("fast burn" in n for n in names) and any("slow burn" in n for n in names)
    assert any("stays silent" in n for n in names)
    fired = [a for t in doc["tests"] for a in t["alert_rule_test"] if a["exp_alerts"]]
    assert {a["alertname"] for a in fired} == {"VoiceGoodTurnSloBurnPage", "VoiceGoodTurnSloBurnTicket"}
    proc = _promtool(tmp_path, doc)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_promtool_fails_when_the_healthy_case_expects_a_page(tmp_path):
    """The silent case can fail: expecting the page there makes promtool fail."""
    doc = _good_turn_dir(tmp_path)
    page = next(a["exp_alerts"] for t in doc["tests"] for a in t["alert_rule_test"]
                if a["exp_alerts"] and a["alertname"] == "VoiceGoodTurnSloBurnPage")
    healthy = next(t for t in doc["tests"] if "stays silent" in t["name"])
    next(a for a in healthy["alert_rule_test"] if a["alertname"] == "VoiceGoodTurnSloBurnPage")["exp_alerts"] = page
    doc["tests"] = [healthy]
    proc = _promtool(tmp_path, doc)
    assert proc.returncode != 0 and healthy["name"] in proc.stdout + proc.stderr


# --- dashboards ----------------------------------------------------------------------------------

def _panels(built, key):
    d = json.loads(built.artifacts[f"dashboards/voice-agent/voice-{key}.json"])
    return {p["title"]: p for p in d["panels"]}, d


def test_the_overview_tile_turns_red_below_the_objective():
    built = build_artifacts(load_catalog())
    panels, _ = _panels(built, "overview")
    tile = panels["Good turns (last 1h)"]
    assert tile["type"] == "stat" and tile["fieldConfig"]["defaults"]["color"]["mode"] == "thresholds"
    steps = tile["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps == [{"color": "red", "value": None}, {"color": "green", "value": 0.95}]
    assert "audio_turns_good_total[1h]" in tile["targets"][0]["expr"]


def test_the_session_score_is_the_mean_verdict_of_the_spans_table():
    built = build_artifacts(load_catalog())
    panels, d = _panels(built, "session")
    score = panels["Good turns in session $session"]
    spans = next(p for p in d["panels"] if p["title"].startswith("Every span of session"))
    assert score["targets"][0]["panelId"] == spans["id"] and score["targets"][0]["withTransforms"]
    assert "span.voice.turn.good" in spans["targets"][0]["query"]
    converted = [c["targetField"] for t in spans["transformations"] for c in t["options"].get("conversions", [])]
    assert "voice.turn.good" in converted  # a string column to Grafana until converted
    assert score["options"]["reduceOptions"]["calcs"] == ["mean"]
    assert score["transformations"][0]["options"]["filters"][0]["fieldName"] == "voice.turn.good"
    assert score["fieldConfig"]["defaults"]["thresholds"]["steps"][0]["color"] == "red"


def test_without_the_block_nothing_of_it_is_built():
    text = preset_path("default").read_text(encoding="utf-8")
    text = text[: text.index("\n# The good-turn SLI")] + "\n"
    c = parse_catalog(text, "plain.yaml")
    assert c.good_turn is None and sli(c) is None
    built = build_artifacts(c)
    assert not any("good-turn" in r.uid or "good_turn" in r.uid for r in built.rules.rules)
    assert "voice.turn.good" not in built.artifacts["dashboards/voice-agent/voice-session.json"]
    assert "audio_turns_judged_total" not in built.artifacts["collector/signaltometrics.yaml"]
