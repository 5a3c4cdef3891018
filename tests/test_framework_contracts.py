"""Issue 24 §4: framework contracts. ``dashgen verify-traces`` on a captured OTLP sample names every
span and attribute the catalog reads that the sample lacks, and the near-miss it has instead.

The sample is one LiveKit Agents turn in the shape LiveKit emits it (agent_session holding
user_turn and agent_turn, llm_node and tts_node under the agent turn, float-second latencies,
resource service.name), written out here as OTLP JSON (a collector file exporter's shape)."""
from __future__ import annotations

import copy
import json

import pytest

from dashgen.catalog import load_catalog
from dashgen.cli import main
from dashgen.telemetry.otlp_json import read_spans
from dashgen.telemetry.verify import read_names, verify

TRACE = "5b8aa5a2d2c872e8321cf37308d69df2"


def _attr(key, value):
    kind = "doubleValue" if isinstance(value, float) else "boolValue" if isinstance(value, bool) else "stringValue"
    return {"key": key, "value": {kind: value}}


def _span(span_id, parent, name, start_ms, end_ms, **attrs):
    return {"traceId": TRACE, "spanId": span_id, "parentSpanId": parent, "name": name, "kind": 1,
            "startTimeUnixNano": str(1_700_000_000_000_000_000 + start_ms * 1_000_000),
            "endTimeUnixNano": str(1_700_000_000_000_000_000 + end_ms * 1_000_000),
            "attributes": [_attr(k.replace("__", "."), v) for k, v in attrs.items()], "status": {"code": 0}}


def livekit_turn() -> dict:
    """One LiveKit Agents turn, with the attribute names of the version the preset pins."""
    a = {"lk.job_id": "AJ_kT2mz8"}
    spans = [
        _span("1000000000000001", "", "agent_session", 0, 9000, **{k.replace(".", "__"): v for k, v in a.items()}),
        _span("1000000000000002", "1000000000000001", "user_speaking", 100, 1900,
              **{"lk__interruption__detection_delay": 0.21}),
        _span("1000000000000003", "1000000000000001", "user_turn", 100, 2300,
              **{"lk__transcription_delay": 0.18, "lk__end_of_turn_delay": 0.42}),
        _span("1000000000000004", "1000000000000001", "agent_turn", 2300, 6000,
              **{"lk__speech_id": "speech_8a1f", "lk__e2e_latency": 0.97, "lk__interrupted": False}),
        _span("1000000000000005", "1000000000000004", "llm_node", 2310, 4000, **{"lk__response__ttft": 0.31}),
        _span("1000000000000006", "1000000000000004", "tts_node", 2600, 5900, **{"lk__response__ttfb": 0.24}),
    ]
    return {"resourceSpans": [{"resource": {"attributes": [_attr("service.name", "voice-agent")]},
                               "scopeSpans": [{"scope": {"name": "livekit-agents"}, "spans": spans}]}]}


def renamed(doc: dict, span_name: str, old: str, new: str) -> dict:
    doc = copy.deepcopy(doc)
    for s in doc["resourceSpans"][0]["scopeSpans"][0]["spans"]:
        if s["name"] == span_name:
            for a in s["attributes"]:
                if a["key"] == old:
                    a["key"] = new
    return doc


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_the_sample_carries_every_name_the_livekit_preset_reads():
    catalog = load_catalog("livekit")
    spans_read, attrs_read = read_names(catalog)
    report = verify(read_spans(json.dumps(livekit_turn()), "sample"), catalog)
    assert not report.violations.get("names"), report.lines()
    assert report.checked["names"] == len(spans_read) + len(attrs_read)


def test_verify_traces_names_a_renamed_attribute_and_what_the_sample_has_instead(tmp_path, capsys):
    # a release that renamed the LLM node's time to first token (hypothetical new name)
    doc = renamed(livekit_turn(), "llm_node", "lk.response.ttft", "lk.response.time_to_first_token")
    path = tmp_path / "livekit-sample.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    code, out, err = run(["verify-traces", "-c", "livekit", str(path)], capsys)
    assert code == 1, out
    (line,) = [ln for ln in out.splitlines() if "lk.response.ttft" in ln and "instead" in ln]
    assert "'lk.response.time_to_first_token'" in line and "llm.first_byte" in line
    assert "1000000000000005" in line  # an example span carrying the near-miss: the llm_node span
    assert "FAIL  names" in out


def test_a_renamed_span_is_named_too_and_an_absent_name_without_a_near_miss_is_a_note():
    catalog = load_catalog("livekit")
    doc = livekit_turn()
    spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"]
    next(s for s in spans if s["name"] == "tts_node")["name"] = "tts_node_stream"
    spans[:] = [s for s in spans if s["name"] != "user_speaking"]  # a capture without an interruption
    report = verify(read_spans(json.dumps(doc), "sample"), catalog)
    names = report.violations["names"]
    assert any("span 'tts_node'" in m and "'tts_node_stream'" in m for m in names)
    assert not any("user_speaking" in m for m in names)
    assert any("user_speaking" in m for m in report.notes)


# ------------------------------------------------------------------------------------------------
# The presets against what their pinned framework version emits (tests/test_presets_truth.py's
# FRAMEWORK_SPANS: each span and attribute with the source file it is set in), through the same
# names rule: a preset that reads a name the pinned version does not emit fails.

def framework_sample(preset: str) -> str:
    """One span of every kind the pinned framework version emits, each with every attribute it sets."""
    from test_presets_truth import FRAMEWORK_SPANS

    spans = [_span(f"{i + 1:016x}", "", name, 0, 10, **{a.replace(".", "__"): 2.0 for a in sorted(attrs)})
             for i, (name, attrs) in enumerate(sorted(FRAMEWORK_SPANS[preset].items()))]
    return json.dumps({"resourceSpans": [{"resource": {"attributes": [_attr("service.name", "voice-agent")]},
                                          "scopeSpans": [{"scope": {"name": preset}, "spans": spans}]}]})


def unemitted(catalog, preset: str) -> list[str]:
    report = verify(read_spans(framework_sample(preset), preset), catalog)
    return [*report.violations.get("names", {}), *(n for n in report.notes if "nor anything close" in n)]


@pytest.mark.parametrize("preset", ["livekit", "pipecat"])
def test_a_preset_reads_only_names_its_pinned_framework_version_emits(preset):
    assert unemitted(load_catalog(preset), preset) == []


def test_a_preset_reading_a_name_its_framework_does_not_emit_fails():
    from dashgen.catalog import parse_catalog, preset_path

    text = preset_path("livekit").read_text(encoding="utf-8").replace("lk.response.ttft", "lk.response.ttft_ms")
    found = unemitted(parse_catalog(text, "livekit-mutated.yaml"), "livekit")
    assert len(found) == 1 and "'lk.response.ttft_ms'" in found[0] and "'lk.response.ttft'" in found[0], found
