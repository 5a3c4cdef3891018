"""Interrupted turns are no latency sample (voice.interrupted): the catalog keys, what they mean, and
the one-line errors a bad value gets. The queries, rules and the simulated run that pages only without
the exclusion: tests/test_traceql_grammar.py, tests/test_verify_metrics.py, tests/test_simulate_verify.py."""

from __future__ import annotations

import re

import pytest

from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog, preset_path
from dashgen.cli import main
from dashgen.errors import CatalogError
from dashgen.queries import promql
from dashgen.voice.checks import parse_catalog
from dashgen.voice.interrupted import interruption


def _default(old: str, new: str) -> str:
    text = preset_path("default").read_text(encoding="utf-8")
    assert old in text, old
    return text.replace(old, new, 1)


def test_the_default_is_audio_interrupted_on_every_stage_span():
    text = _default("  interrupted_attribute: audio.interrupted\n", "")
    c = parse_catalog(text, "x.yaml")
    assert (c.interrupted_attribute, c.interrupted_on_stage_spans) == ("audio.interrupted", True)
    assert "audio.interrupted" in c.span_attributes()  # the TraceQL builder accepts it


@pytest.mark.parametrize("value, col", [("span.interrupted", 26), ('"audio interrupted"', 26), ("2", 26)])
def test_a_bad_attribute_name_is_one_located_line_with_its_fix(value, col):
    text = _default("interrupted_attribute: audio.interrupted", f"interrupted_attribute: {value}")
    line = text.splitlines().index(f"  interrupted_attribute: {value}") + 1
    with pytest.raises(CatalogError) as err:
        parse_catalog(text, "bad.yaml")
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"bad.yaml:{line}:{col}: "), msg
    assert "interrupted_attribute" in msg
    if value != "2":
        assert "dot-separated words" in msg  # the fix: how to write one


def test_a_bad_attribute_exits_2_without_a_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(_default("interrupted_attribute: audio.interrupted", "interrupted_attribute: span.x"),
                   encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["build", "-c", str(bad), "-o", str(out)])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert "Traceback" not in err and re.search(r"bad\.yaml:\d+:\d+: .*interrupted_attribute", err), err
    assert not out.exists()  # never a half-written output


def test_on_stage_spans_must_be_a_boolean():
    text = _default("interrupted_attribute: audio.interrupted",
                    "interrupted_attribute: audio.interrupted\n  interrupted_on_stage_spans: sometimes")
    with pytest.raises(CatalogError, match=r"^x\.yaml:\d+:\d+: .*interrupted_on_stage_spans"):
        parse_catalog(text, "x.yaml")


def test_which_latencies_leave_interrupted_turns_out():
    default, livekit, pipecat = (load_catalog(p) for p in ("default", "livekit", "pipecat"))
    d = interruption(default)
    ex = {(s.id, m.id) for s in default.stages for m in s.measurements if d.excludes(s, m)}
    # first bytes and the watched latencies; not a barge-in (every sample there is an interruption),
    # not jitter, buffer depth or totals (no speed figure a page rests on)
    assert ex == {("asr", "first_byte"), ("llm", "first_byte"), ("tts", "first_byte"), ("client", "first_byte")}
    # the frameworks mark interruption on the turn span only: only its latencies can leave them out,
    # and LiveKit's own histogram has no label for it
    lk, pc = interruption(livekit), interruption(pipecat)
    assert {(s.id, m.id) for s in livekit.stages for m in s.measurements if lk.excludes(s, m)} == {("turn", "e2e")}
    assert not [m for s in livekit.stages for m in s.measurements if lk.metric_excludes(s, m)]
    assert {(s.id, m.id) for s in pipecat.stages for m in s.measurements
            if pc.metric_excludes(s, m)} == {("turn", "user_bot_latency")}
    tts = livekit.stage("tts")
    assert lk.missed(tts, tts.measurement("first_byte"))
    assert promql.not_interrupted(default, default.stage("tts"), default.stage("tts").measurement("first_byte")) \
        == ('audio_interrupted!="true"',)
    assert promql.not_interrupted(default, default.stage("barge_in"),
                                  default.stage("barge_in").measurement("silence")) == ()


@pytest.mark.parametrize("preset", ["default", "livekit", "pipecat"])
def test_rules_say_whether_they_leave_interrupted_turns_out(preset):
    """Every quantile and SLO rule over a watched latency says, in its description, whether interrupted
    turns count; where the metric carries the label its expression matches it."""
    from dashgen.alerts.slo import GOOD_TURN_STAGE

    c = load_catalog(preset)
    intr = interruption(c)
    built = build_artifacts(c)
    seen = 0
    for r in built.rules.rules:
        if not r.is_alert or r.stage in intr.barge_in or not r.prometheus:
            continue
        if r.stage == GOOD_TURN_STAGE:  # the good-turn SLO judges turns, not one stage's latency (test_good_turn)
            continue
        s = c.stage(r.stage)
        for m in s.measurements:
            if not intr.watched(s, m) or m.metric.name not in r.expr:
                continue
            seen += 1
            desc = r.annotations["description"]
            if intr.metric_excludes(s, m):
                assert f'{intr.label}!="true"' in r.expr and "are left out" in desc, (r.name, desc)
            else:
                assert f'{intr.label}!="true"' not in r.expr and "Interrupted turns are counted" in desc, (r.name, desc)
    assert seen


@pytest.mark.parametrize("preset, span", [("default", "audio.tts"), ("pipecat", "turn"), ("livekit", "agent_turn")])
def test_verify_traces_reports_a_span_the_exclusion_would_drop(preset, span):
    """The latency queries keep spans where the attribute != true; Tempo drops a span without it, so
    verify-traces names every span it is read on that lacks it (here: taken off the simulator's)."""
    import json

    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from dashgen.telemetry.instrument import Instrumentation
    from dashgen.telemetry.otlp_json import encode_spans, read_spans
    from dashgen.telemetry.simulate import Simulator
    from dashgen.telemetry.verify import verify

    c = load_catalog(preset)
    exp = InMemorySpanExporter()
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(exp))
    Simulator(Instrumentation(c, tp, MeterProvider()), seed=4, now_ns=1_800_000_000 * 10**9).run(3)
    doc = encode_spans(exp.get_finished_spans())
    assert verify(read_spans(json.dumps(doc)), c).ok
    attribute = interruption(c).attribute
    stripped = 0
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                if s["name"] == span:
                    s["attributes"] = [a for a in s["attributes"] if a["key"] != attribute]
                    stripped += 1
    rep = verify(read_spans(json.dumps(doc)), c)
    assert not rep.ok and rep.count("required") == stripped > 0
    assert all(f"{attribute} missing" in m for m in rep.violations["required"])
