"""dashgen.telemetry.instrument against the OpenTelemetry SDK's in-memory exporter and metric reader."""

from __future__ import annotations

import time

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from dashgen.catalog import load_catalog, parse_catalog, preset_path
from dashgen.catalog.conventions import prometheus_name
from dashgen.telemetry.instrument import Instrumentation, VirtualClock, revision_percent

EPOCH = 1_700_000_000_000_000_000


class Rig:
    def __init__(self, catalog="default", clock=None):
        self.spans = InMemorySpanExporter()
        tp = TracerProvider()
        tp.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        self.clock = clock if clock is not None else VirtualClock(EPOCH)
        self.inst = Instrumentation(catalog, tp, MeterProvider(metric_readers=[self.reader]), clock=self.clock)

    def by_name(self):
        return {s.name: s for s in self.spans.get_finished_spans()}

    def histograms(self):
        out = {}
        data = self.reader.get_metrics_data()  # None when nothing was recorded
        for rm in (data.resource_metrics if data is not None else ()):
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    for p in m.data.data_points:
                        # histograms: (unit, count, sum); counters: (unit, None, value)
                        out[(m.name, tuple(sorted(p.attributes.items())))] = (
                            m.unit, getattr(p, "count", None), getattr(p, "sum", getattr(p, "value", None)))
        return out


def variant(replacements: dict[str, str]):
    """The default catalog with some text replaced (a different convention)."""
    text = preset_path("default").read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return parse_catalog(text, "variant.yaml")


def run_turn(rig: Rig, sid="sess_8f21c0", tid=3):
    c = rig.clock
    with rig.inst.turn_span(sid, tid):
        with rig.inst.stage_span("asr", sid, tid) as asr:
            c.advance(95.4); asr.partial("I want to")
            c.advance(400); asr.partial("I want to confirm")
            c.advance(600); asr.final("I want to cancel my order")
            c.advance(10)
        with rig.inst.stage_span("llm", sid, tid) as first_byte:
            c.advance(281.6)
            for _ in range(3):
                first_byte(); c.advance(20)
        with rig.inst.stage_span("tts", sid, tid) as tts:
            c.advance(180); tts.chunk(); c.advance(40); tts.chunk(); c.advance(133); tts.chunk(); c.advance(50); tts.chunk()
        with rig.inst.stage_span("client", sid, tid) as client:
            c.advance(840); client.played(); client.report(jitter_ms=14.6, buffer_ms=80); c.advance(1200)
        with rig.inst.stage_span("barge_in", sid, tid) as b:  # opened while the agent speaks
            c.advance(900); b.vad_fired()  # the 900 ms wait for the user is no milestone: VAD firing is the zero
            c.advance(72); b.confirmed(); c.advance(0.4); b.cancelled(); c.advance(96); b.silent()


def test_helpers_emit_exactly_the_catalog_attributes_as_integers():
    rig = Rig()
    run_turn(rig)
    spans = rig.by_name()
    assert set(spans) == {"voice.turn", "audio.asr", "audio.llm", "audio.tts", "audio.client", "audio.barge_in"}
    ids = {"audio.session_id": "sess_8f21c0", "audio.turn_id": 3}
    # the good-turn verdict (voice.good_turn): client first byte 840 ms <= 1500, barge-in silent at 168 ms <= 200
    assert dict(spans["voice.turn"].attributes) == {**ids, "voice.turn.good": 1}
    assert dict(spans["audio.asr"].attributes) == {
        **ids, "audio.stage": "asr", "audio.first_byte_ms": 95, "audio.time_to_final_ms": 1095,
        "audio.total_ms": 1105, "audio.interrupted": False,
        # last partial "I want to confirm" -> final "I want to cancel my order": 3 edits over 6 words
        "audio.revision_pct": 50,
    }
    # every stage span says whether its turn was interrupted (false unless interrupted() was called)
    ids = {**ids, "audio.interrupted": False}
    assert dict(spans["audio.llm"].attributes) == {**ids, "audio.stage": "llm", "audio.first_byte_ms": 282,
                                                    "audio.total_ms": 342}
    assert dict(spans["audio.tts"].attributes) == {**ids, "audio.stage": "tts", "audio.first_byte_ms": 180,
                                                    "audio.total_ms": 403, "audio.tts_max_gap_ms": 133}
    assert dict(spans["audio.client"].attributes) == {**ids, "audio.stage": "client", "audio.first_byte_ms": 840,
                                                       "audio.total_ms": 2040, "audio.jitter_ms": 15,
                                                       "audio.buffer_ms": 80}
    # the cancel came 0.4 ms after VAD: in ms that would vanish from Tempo's quantiles, so the catalog
    # declares the VAD-to-cancel step in microseconds; first byte is the cancel, from the span's start
    # a barge-in span is an interruption: true without being told
    assert dict(spans["audio.barge_in"].attributes) == {**ids, "audio.interrupted": True, "audio.stage": "barge_in",
                                                         "audio.vad_detect_ms": 72,
                                                         "audio.cancel_ms": 72, "audio.cancel_delay_us": 400,
                                                         "audio.first_byte_ms": 72, "audio.silence_ms": 168}
    turn = spans["voice.turn"]
    for name, s in spans.items():
        if name != "voice.turn":
            assert s.parent.span_id == turn.context.span_id
            assert s.context.trace_id == turn.context.trace_id
            for k, v in s.attributes.items():
                if k.endswith("_ms"):
                    assert type(v) is int and (v >= 2 or v == -1), (name, k, v)
    # span timestamps follow the clock: the TTS span lasted 403 ms
    assert spans["audio.tts"].end_time - spans["audio.tts"].start_time == 403_000_000


def test_histograms_carry_only_the_stage_and_unrounded_values():
    rig = Rig()
    run_turn(rig)
    h = rig.histograms()
    # the good-turn counters count turns, with no label at all (tests/test_good_turn.py)
    assert h.pop(("audio_turns_judged", ()))[2] == h.pop(("audio_turns_good", ()))[2] == 1
    st = lambda s: (("audio_stage", s),)  # noqa: E731
    # the latencies the rules read without interrupted turns carry the interrupted label too
    fb = lambda s: (("audio_interrupted", "false"), ("audio_stage", s))  # noqa: E731
    assert h[("audio_first_byte_milliseconds", fb("llm"))] == ("ms", 1, pytest.approx(281.6))
    # the sub-ms VAD-to-cancel step keeps its real value, in the catalog's unit (us)
    assert h[("audio_first_byte_milliseconds", st("barge_in"))] == ("ms", 1, pytest.approx(72.4))
    assert h[("audio_cancel_delay_microseconds", st("barge_in"))][2] == pytest.approx(400)
    assert h[("audio_revision_percent", st("asr"))] == ("%", 1, 50)
    assert {attrs for (_, attrs) in h} == ({st(s) for s in ("asr", "llm", "tts", "client", "barge_in")}
                                           | {fb(s) for s in ("asr", "llm", "tts", "client")})
    assert {name for (name, attrs) in h if ("audio_interrupted", "false") in attrs} == {"audio_first_byte_milliseconds"}
    cat = load_catalog()
    # exactly the histograms the alert rules query: every measurement's metric name
    expected = {m.metric.name for s in cat.stages for m in s.measurements}
    counters = {"audio_stage_runs", "audio_stage_errors", "audio_stage_nothing"}
    assert {name for (name, _) in h} == expected | {"audio_stage_runs"}
    assert expected == {"audio_first_byte_milliseconds", "audio_total_milliseconds", "audio_time_to_final_milliseconds",
                        "audio_revision_percent", "audio_tts_max_gap_milliseconds", "audio_jitter_milliseconds",
                        "audio_buffer_milliseconds", "audio_vad_detect_milliseconds", "audio_cancel_milliseconds",
                        "audio_silence_milliseconds", "audio_cancel_delay_microseconds"}
    assert h[("audio_stage_runs", st("tts"))][2] == 1
    assert not counters & {name for (name, _) in h} - {"audio_stage_runs"}  # no failure, nothing empty
    m = cat.stage("tts").measurement("first_byte")
    assert prometheus_name(m.attribute, m.unit) == m.metric.name == "audio_first_byte_milliseconds"


def test_histogram_buckets_are_the_catalog_buckets():
    rig = Rig()
    run_turn(rig)
    want = list(load_catalog().stage("tts").measurement("first_byte").metric.buckets)
    assert {150.0, 350.0, 600.0} <= set(want)
    for rm in rig.reader.get_metrics_data().resource_metrics:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                if m.name == "audio_first_byte_milliseconds":
                    assert list(m.data.data_points[0].explicit_bounds) == want
                    return
    pytest.fail("no audio_first_byte_milliseconds histogram")


def test_nothing_produced_is_minus_one_and_an_exception_is_recorded():
    rig = Rig()
    with rig.inst.turn_span("s1", 1):
        with pytest.raises(TimeoutError):
            with rig.inst.stage_span("llm", "s1", 1):
                rig.clock.advance(1500)
                raise TimeoutError("model did not answer")
        with rig.inst.stage_span("asr", "s1", 1):
            rig.clock.advance(300)  # the user said nothing
    spans = rig.by_name()
    llm = spans["audio.llm"]
    assert dict(llm.attributes) == {"audio.stage": "llm", "audio.session_id": "s1", "audio.turn_id": 1,
                                    "audio.first_byte_ms": -1, "audio.total_ms": 1500, "audio.error": True,
                                    "audio.interrupted": False}
    assert llm.status.status_code is StatusCode.ERROR
    assert [e.name for e in llm.events] == ["exception"]
    assert llm.events[0].attributes["exception.type"] == "TimeoutError"
    asr = spans["audio.asr"]
    assert asr.attributes["audio.first_byte_ms"] == -1 and "audio.error" not in asr.attributes
    assert asr.status.status_code is StatusCode.UNSET
    # -1 is never recorded into a histogram (it would poison the percentiles); the counters count it
    h = rig.histograms()
    assert ("audio_first_byte_milliseconds", (("audio_stage", "llm"),)) not in h
    assert h[("audio_stage_errors", (("audio_stage", "llm"),))][2] == 1
    assert h[("audio_stage_nothing", (("audio_stage", "llm"),))][2] == 1
    assert h[("audio_stage_nothing", (("audio_stage", "asr"),))][2] == 1
    assert ("audio_stage_errors", (("audio_stage", "asr"),)) not in h


def test_a_finer_unit_in_the_catalog_keeps_sub_millisecond_resolution():
    """VAD-to-cancel is often under 1 ms: the default catalog declares it in us (0.4 ms -> 400);
    declared in ms it could only say "at most 2" (Tempo drops values below 2)."""
    def run(cat):
        rig = Rig(cat)
        with rig.inst.stage_span("barge_in", "s", 1) as b:
            rig.clock.advance(72); b.confirmed(); rig.clock.advance(0.4); b.cancelled(); rig.clock.advance(96); b.silent()
        return dict(rig.by_name()["audio.barge_in"].attributes)

    a = run(load_catalog())
    assert a["audio.cancel_delay_us"] == 400 and a["audio.cancel_ms"] == 72 and a["audio.silence_ms"] == 168
    coarse = variant({"attribute: audio.cancel_delay_us\n        title: Confirmed to cancel\n        unit: us":
                      "attribute: audio.cancel_delay_ms\n        title: Confirmed to cancel\n        unit: ms"})
    assert run(coarse)["audio.cancel_delay_ms"] == 2

def test_switching_the_convention_switches_what_is_emitted():
    cat = variant({"session_attribute: audio.session_id": "session_attribute: conversation.id",
                   "turn_attribute: audio.turn_id": "turn_attribute: turn.number",
                   "  stage_attribute: audio.stage\n": "",
                   "  error_attribute: audio.error\n": "",
                   "turn_span: voice.turn": "turn_span: turn",
                   "interrupted_attribute: audio.interrupted": "interrupted_attribute: turn.was_interrupted",
                   "span: audio.llm": "span: llm",
                   "attribute: audio.first_byte_ms\n        title: Time to first token\n        unit: ms":
                   "attribute: metrics.ttfb\n        title: Time to first token\n        unit: s\n        integer: false"})
    rig = Rig(cat)
    with rig.inst.turn_span("conv-1", 7):
        with pytest.raises(RuntimeError):
            with rig.inst.stage_span("llm", "conv-1", 7) as fb:
                rig.clock.advance(281.6); fb(); rig.clock.advance(50)
                raise RuntimeError("boom")
    spans = rig.by_name()
    assert set(spans) == {"turn", "llm"}
    a = dict(spans["llm"].attributes)
    assert a == {"conversation.id": "conv-1", "turn.number": 7, "metrics.ttfb": pytest.approx(0.2816),
                 "audio.total_ms": 332, "turn.was_interrupted": False}
    assert type(a["metrics.ttfb"]) is float
    assert spans["llm"].status.status_code is StatusCode.ERROR
    h = rig.histograms()
    assert h[("metrics_ttfb_seconds", (("stage", "llm"), ("turn_was_interrupted", "false")))][0] == "s"
    assert h[("audio_stage_errors", (("stage", "llm"),))][2] == 1


def test_real_monotonic_clock_gives_integer_milliseconds():
    from dashgen.telemetry.instrument import SystemClock
    rig = Rig(clock=SystemClock())
    with rig.inst.stage_span("llm", "s", "t1") as fb:
        time.sleep(0.03)
        fb()
        time.sleep(0.01)
        fb()  # no-op
    a = rig.by_name()["audio.llm"].attributes
    assert type(a["audio.first_byte_ms"]) is int and 28 <= a["audio.first_byte_ms"] < 1000
    assert a["audio.total_ms"] >= a["audio.first_byte_ms"] + 8


def test_helpers_for_undeclared_measurements_record_nothing_and_set_checks_names():
    rig = Rig()
    with rig.inst.stage_span("llm", "s", 1) as fb:
        rig.clock.advance(5); fb.chunk(); rig.clock.advance(300); fb.chunk(); fb.report(jitter_ms=3)
        with pytest.raises(ValueError, match="has no measurement 'jitter'"):
            fb.set("jitter", 3)
    assert set(rig.by_name()["audio.llm"].attributes) == {"audio.stage", "audio.session_id", "audio.turn_id",
                                                          "audio.first_byte_ms", "audio.total_ms", "audio.interrupted"}
    with pytest.raises(ValueError, match="stage 'stt' is not in catalog"):
        with rig.inst.stage_span("stt", "s", 1):
            pass


def test_set_converts_time_units_and_refuses_negative_values():
    rig = Rig()
    with rig.inst.stage_span("client", "s", 1) as fb:
        fb.set("jitter", 0.0213, unit="s")
        fb.set("buffer_depth", 120)
        with pytest.raises(ValueError, match="negative"):
            fb.set("jitter", -3, unit="ms")
    a = rig.by_name()["audio.client"].attributes
    assert a["audio.jitter_ms"] == 21 and a["audio.buffer_ms"] == 120


@pytest.mark.parametrize("partial, final, pct", [
    ("confirm my order", "confirm my order", 0),
    ("Confirm my order", "confirm  my order", 0),
    ("confirm my order", "cancel my order", 33),
    ("", "cancel my order", 100),
    ("i want to", "i want to cancel", 25),
])
def test_revision_percent(partial, final, pct):
    assert revision_percent(partial, final) == pct


def test_pipecat_convention_session_on_the_conversation_span_float_seconds():
    rig = Rig("pipecat")
    with rig.inst.session_span("conv-9"):
        with rig.inst.turn_span("conv-9", 4):
            with rig.inst.stage_span("asr", "conv-9", 4) as fb:
                rig.clock.advance(120); fb.partial("hello"); rig.clock.advance(30)
    spans = rig.by_name()
    assert set(spans) == {"conversation", "turn", "stt"}
    assert dict(spans["conversation"].attributes) == {"conversation.id": "conv-9"}
    # the turn span says whether the user interrupted the turn, as Pipecat's does
    assert dict(spans["turn"].attributes) == {"conversation.id": "conv-9", "turn.number": 4,
                                              "turn.was_interrupted": False}
    a = dict(spans["stt"].attributes)
    assert a == {"metrics.ttfb": pytest.approx(0.12)} and type(a["metrics.ttfb"]) is float
    assert spans["stt"].parent.span_id == spans["turn"].context.span_id
    assert spans["turn"].parent.span_id == spans["conversation"].context.span_id


def test_livekit_turn_stage_is_the_turn_span():
    rig = Rig("livekit")
    with rig.inst.session_span("job-1"):
        with rig.inst.turn_span("job-1", "speech_ab12") as turn:
            with rig.inst.stage_span("llm", "job-1", "speech_ab12") as fb:
                rig.clock.advance(300); fb(); rig.clock.advance(200)
            turn.set("e2e", 910, unit="ms")
            turn.flag("interrupted", True)
            with pytest.raises(ValueError, match="has no flag"):
                turn.flag("barged", True)
            with pytest.raises(ValueError, match="is the turn span"):
                with rig.inst.stage_span("turn", "job-1", "speech_ab12"):
                    pass
    spans = rig.by_name()
    assert set(spans) == {"agent_session", "agent_turn", "llm_node"}
    assert dict(spans["agent_turn"].attributes) == {"lk.job_id": "job-1", "lk.speech_id": "speech_ab12",
                                                    "lk.e2e_latency": pytest.approx(0.91), "lk.interrupted": True}
    # no voice.turn.good: an interrupted turn is no latency sample, and LiveKit has no silence to judge it by
    assert dict(spans["llm_node"].attributes) == {"lk.response.ttft": pytest.approx(0.3)}
    # LiveKit records its lk.agents.turn.* histograms itself, and the bridge counts the stage runs:
    # the application's SDK records nothing, or every turn would be counted twice.
    assert rig.histograms() == {}


def test_pipecat_turn_has_its_latency_and_interruption_and_no_sdk_metrics():
    rig = Rig("pipecat")
    with rig.inst.session_span("conv-1"):
        with rig.inst.turn_span("conv-1", 2) as turn:
            turn.set("user_bot_latency", 1240, unit="ms")
            turn.flag("interrupted", False)
    a = dict(rig.by_name()["turn"].attributes)
    assert a == {"conversation.id": "conv-1", "turn.number": 2, "turn.user_bot_latency_seconds": pytest.approx(1.24),
                 "turn.was_interrupted": False, "voice.turn.good": 1}
    assert rig.histograms() == {}  # Pipecat emits no metrics: the Collector bridge derives them
