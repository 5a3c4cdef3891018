"""Issue 24 §4: framework contracts. Every preset pins the framework version it describes; the
package records what each version emits (presets/frameworks/<framework>-<version>.yaml: span names and
the attributes set on each, with their source files); a preset reading a name its pinned version does
not emit fails here. ``dashgen verify-traces`` on a captured OTLP sample names every span and attribute
the catalog reads that the sample lacks, and the near-miss it has instead.

The sample is one LiveKit Agents turn in the shape LiveKit emits it (agent_session holding
user_turn and agent_turn, llm_node and tts_node under the agent turn, float-second latencies,
resource service.name), with the names the recorded version emits, written out here as OTLP JSON
(a collector file exporter's shape). LiveKit Agents 1.7.0 renamed its content-bearing attributes
(lk.room_name -> lk.pii.room_name): a 1.6 capture against the 1.7 preset shows the rename."""
from __future__ import annotations

import copy
import json
import re

import pytest
import yaml

from dashgen.catalog import PRESETS, load_catalog, parse_catalog, preset_path
from dashgen.catalog.frameworks import framework, known, unemitted
from dashgen.errors import CatalogError
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


# ids and flags by name; every other recorded attribute is a float-second latency
VALUES = {"lk.job_id": "AJ_kT2mz8", "lk.speech_id": "speech_8a1f", "lk.interrupted": False,
          "lk.room_name": "room-4f2a", "lk.pii.room_name": "room-4f2a", "lk.user_input": "hello",
          "lk.pii.user_input": "hello", "lk.user_transcript": "hello", "lk.pii.user_transcript": "hello",
          "lk.chat_ctx": "[]", "lk.pii.chat_ctx": "[]"}
LATENCY = {"lk.transcription_delay": 0.18, "lk.end_of_turn_delay": 0.42, "lk.e2e_latency": 0.97,
           "lk.response.ttft": 0.31, "lk.response.ttfb": 0.24, "lk.interruption.detection_delay": 0.21}


def livekit_turn(version: str = "1.7") -> dict:
    """One LiveKit Agents turn, with the span and attribute names LiveKit Agents ``version`` emits
    (the package's record of that version: every attribute it lists on each span)."""
    fw = framework("livekit-agents", version)
    shape = [  # span id, parent, name, start, end (ms)
        ("1000000000000001", "", "agent_session", 0, 9000),
        ("1000000000000002", "1000000000000001", "user_speaking", 100, 1900),
        ("1000000000000003", "1000000000000001", "user_turn", 100, 2300),
        ("1000000000000004", "1000000000000001", "agent_turn", 2300, 6000),
        ("1000000000000005", "1000000000000004", "llm_node", 2310, 4000),
        ("1000000000000006", "1000000000000004", "tts_node", 2600, 5900),
    ]
    spans = [_span(sid, parent, name, start, end,
                   **{a.replace(".", "__"): VALUES.get(a, LATENCY.get(a, 0.5)) for a in fw.spans[name].attributes})
             for sid, parent, name, start, end in shape]
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


def write(tmp_path, doc: dict) -> str:
    path = tmp_path / "capture.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def test_verify_traces_names_a_renamed_attribute_in_a_livekit_sample(tmp_path, capsys):
    # a LiveKit Agents 1.6 capture against the livekit preset, pinned to 1.7: 1.7.0 renamed lk.room_name
    code, out, err = run(["verify-traces", "-c", "livekit", write(tmp_path, livekit_turn("1.6"))], capsys)
    assert code == 1, out
    problems = [ln for ln in out.splitlines() if "is not in the file" in ln]
    (line,) = problems  # the one name the preset reads that 1.6 emits under another name
    assert "attribute 'lk.pii.room_name' (read by convention.attributes)" in line
    assert "it has 'lk.room_name' instead" in line
    assert "livekit-agents 1.7 renamed 'lk.room_name' to 'lk.pii.room_name'" in line
    assert "1000000000000001" in line  # an example span carrying the old name: the agent_session span
    assert "FAIL  names" in out and "against catalog preset:livekit (pinned to livekit-agents 1.7)" in out
    # the same capture against the preset of the release it comes from: every name is there
    code, out, _ = run(["verify-traces", "-c", "livekit-1.6", write(tmp_path, livekit_turn("1.6"))], capsys)
    assert "is not in the file" not in out and "FAIL  names" not in out, out
    # and the other way round: a 1.7 capture against the 1.6 preset
    report = verify(read_spans(json.dumps(livekit_turn("1.7")), "sample"), load_catalog("livekit-1.6"))
    (line,) = report.violations["names"]
    assert "'lk.room_name'" in line and "'lk.pii.room_name' instead" in line and "renamed 'lk.room_name'" in line


# ------------------------------------------------------------------------------------------------
# The presets against what their pinned framework version emits (presets/frameworks/), two ways: the
# contract itself (dashgen.catalog.frameworks.unemitted: a stage's names on the stage's own span), and
# verify-traces' names rule on a sample with every span and attribute that version records.

FRAMEWORK_PRESETS = [p for p in PRESETS if p != "default"]


def framework_sample(fw) -> str:
    """One span of every kind ``fw`` emits, each with every attribute it sets."""
    spans = [_span(f"{i + 1:016x}", "", name, 0, 10, **{a.replace(".", "__"): 2.0 for a in sorted(f.attributes)})
             for i, (name, f) in enumerate(sorted(fw.spans.items()))]
    return json.dumps({"resourceSpans": [{"resource": {"attributes": [_attr("service.name", "voice-agent")]},
                                          "scopeSpans": [{"scope": {"name": fw.key}, "spans": spans}]}]})


def unemitted_in_sample(catalog) -> list[str]:
    report = verify(read_spans(framework_sample(framework(catalog.framework.name, catalog.framework.version)),
                               "sample"), catalog)
    return [*report.violations.get("names", {}), *(n for n in report.notes if "nor anything close" in n)]


@pytest.mark.parametrize("preset", FRAMEWORK_PRESETS)
def test_a_preset_pins_a_framework_version_and_reads_only_names_it_emits(preset):
    catalog = load_catalog(preset)
    assert catalog.framework is not None, f"{preset} pins no framework version"
    assert unemitted(catalog) == []
    assert unemitted_in_sample(catalog) == []


def test_the_presets_pin_the_versions_they_are_named_for():
    pins = {p: (load_catalog(p).framework.name, load_catalog(p).framework.version) for p in FRAMEWORK_PRESETS}
    assert pins == {"livekit": ("livekit-agents", "1.7"), "livekit-1.6": ("livekit-agents", "1.6"),
                    "pipecat": ("pipecat", "1.7")}
    # the version-named aliases load the same file as the name they stand for
    assert preset_path("livekit-1.7") == preset_path("livekit") and preset_path("pipecat-1.7") == preset_path("pipecat")
    assert load_catalog("default").framework is None  # dashgen's own convention: no framework


def mutated(preset: str, old: str, new: str):
    text = preset_path(preset).read_text(encoding="utf-8")
    assert old in text
    return parse_catalog(text.replace(old, new), f"{preset}-mutated.yaml")


def test_a_preset_reading_a_name_its_framework_does_not_emit_fails():
    found = unemitted(mutated("livekit", "lk.response.ttft", "lk.response.ttft_ms"))
    assert found == ["llm.first_byte reads attribute 'lk.response.ttft_ms', which livekit-agents-1.7 "
                     "(livekit/agents@livekit-agents@1.7.0) does not set on 'llm_node' spans"], found
    in_sample = unemitted_in_sample(mutated("livekit", "lk.response.ttft", "lk.response.ttft_ms"))
    assert len(in_sample) == 1 and "'lk.response.ttft_ms'" in in_sample[0] and "'lk.response.ttft'" in in_sample[0]
    # a 1.7 name in the 1.6 preset: named with the rename the record holds
    (line,) = unemitted(mutated("livekit-1.6", "attributes: [lk.room_name]", "attributes: [lk.pii.room_name]"))
    assert "'lk.pii.room_name'" in line and "livekit-agents-1.6" in line
    # a name the version emits, but on another span than the stage's: LLM reading the TTS node's ttfb
    (line,) = unemitted(mutated("livekit", "attribute: lk.response.ttft", "attribute: lk.response.ttfb"))
    assert "'lk.response.ttfb'" in line and "on 'llm_node' spans" in line
    # a span the version does not start, and a Pipecat flag it does not set
    (line,) = unemitted(mutated("livekit", "span: tts_node", "span: tts_stream"))
    assert line == ("stage tts reads span 'tts_stream', which livekit-agents-1.7 "
                    "(livekit/agents@livekit-agents@1.7.0) does not start")
    (line,) = unemitted(mutated("pipecat", "attribute: turn.was_interrupted", "attribute: turn.interrupted"))
    assert "'turn.interrupted'" in line and "on 'turn' spans" in line
    # LiveKit's own histograms: a name it does not record, a label it does not set
    (line,) = unemitted(mutated("livekit", "name: lk_agents_turn_llm_ttft_seconds", "name: lk_agents_llm_ttft_seconds"))
    assert line.startswith("llm.first_byte reads metric 'lk_agents_llm_ttft_seconds'") and "does not record" in line
    found = unemitted(mutated("livekit", "labels: &model_labels [model_name, model_provider]",
                              "labels: &model_labels [model_name, model_provider, stage]"))  # every histogram
    assert len(found) == 5 and all("reads labels ['stage'] of 'lk_agents_turn_" in x for x in found), found


def test_a_pin_without_a_record_is_an_input_error_naming_its_line_and_the_known_versions():
    text = preset_path("livekit").read_text(encoding="utf-8")
    with pytest.raises(CatalogError) as exc:
        parse_catalog(text.replace('version: "1.7"}', 'version: "1.4"}'), "my.yaml")
    line = text.splitlines().index('framework: {name: livekit-agents, version: "1.7"}') + 1
    msg = str(exc.value)
    assert f"my.yaml:{line}" in msg and "livekit-agents 1.4" in msg and "livekit-agents-1.7" in msg, msg


def test_every_recorded_name_comes_with_its_source_file():
    assert set(known()) == {"livekit-agents-1.6", "livekit-agents-1.7", "pipecat-1.7"}
    for key in known():
        name, _, version = key.rpartition("-")
        fw = framework(name, version)
        assert (fw.name, fw.version) == (name, version) and len(fw.commit) == 40 and fw.tag
        prefix = {"livekit/agents": "livekit-agents/livekit/agents/", "pipecat-ai/pipecat": "src/pipecat/"}[fw.repo]
        for span, facts in fw.spans.items():
            for path in (facts.started, *facts.attributes.values(), *filter(None, [facts.error_status])):
                assert path.startswith(prefix) and path.endswith(".py"), (key, span, path)
        for prom, (otel, labels, path) in fw.metrics.items():
            assert prom == otel.replace(".", "_") + "_seconds" and path.startswith(prefix), (key, prom)
        # a rename's new name is emitted by this version, its old name by none of its spans
        for new, old in fw.renamed.items():
            assert new in fw.attributes() and old not in fw.attributes()
    # what 1.7.0 renamed, 1.6 emits under the old name on the same span
    v16, v17 = framework("livekit-agents", "1.6"), framework("livekit-agents", "1.7")
    for span, facts in v17.spans.items():
        assert {v17.renamed.get(a, a) for a in facts.attributes} == set(v16.spans[span].attributes), span


def test_build_takes_the_version_named_presets(tmp_path, capsys):
    for preset in ("livekit", "livekit-1.7", "livekit-1.6"):
        code, out, err = run(["build", "-c", preset, "--out", str(tmp_path / preset)], capsys)
        assert code == 0, err

    def dashboards(preset):
        root = tmp_path / preset / "dashboards"
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.json")}
    # livekit-1.7 is livekit; 1.6 draws the same dashboards (no panel reads a renamed name)
    assert dashboards("livekit") and dashboards("livekit-1.7") == dashboards("livekit")
    assert dashboards("livekit-1.6") == dashboards("livekit")


def test_the_16_preset_is_the_17_preset_with_the_names_17_renamed():
    """livekit-1.6 is a copy of livekit with 1.6's names: any other change to livekit (a stage, a limit)
    must be made to both, and this fails until it is."""
    v17 = framework("livekit-agents", "1.7")
    text = preset_path("livekit").read_text(encoding="utf-8")
    for new, old in v17.renamed.items():
        text = re.sub(rf"(?<![\w.]){re.escape(new)}(?![\w.])", old, text)
    expected = yaml.safe_load(text)
    expected["framework"]["version"] = "1.6"
    assert yaml.safe_load(preset_path("livekit-1.6").read_text(encoding="utf-8")) == expected


@pytest.mark.parametrize("pinned", known())
def test_a_framework_record_holds_what_the_pure_python_parser_reads(pinned):
    """The records are read with libyaml's parser when pyyaml has it (start-up): the same data as
    yaml.safe_load's, value for value."""
    from dashgen.catalog.frameworks import FRAMEWORKS_DIR

    d = yaml.safe_load((FRAMEWORKS_DIR / f"{pinned}.yaml").read_text(encoding="utf-8"))
    fw = framework(*pinned.rsplit("-", 1))
    assert (fw.name, fw.version, fw.releases, fw.repo, fw.tag, fw.commit, fw.constants) == (
        d["framework"], d["version"], d["releases"], d["repo"], d["tag"], d["commit"], d["constants"])
    assert {s: (f.started, dict(f.attributes), f.error_status) for s, f in fw.spans.items()} == {
        s: (f["started"], dict(f.get("attributes") or {}), f.get("error_status")) for s, f in d["spans"].items()}
    assert dict(fw.renamed) == dict(d.get("renamed") or {})
    assert sorted((n, sorted(labels), src) for n, labels, src in fw.metrics.values()) == sorted(
        (n, sorted(m["labels"]), m["source"]) for n, m in (d.get("metrics") or {}).items())


@pytest.mark.parametrize("version, preset", [("1.7", "livekit"), ("1.6", "livekit-1.6")])
def test_a_livekit_turn_as_livekit_lays_it_out_passes_every_rule(version, preset):
    """user_turn and user_speaking are children of agent_session, beside the agent_turn, and carry no
    lk.speech_id: the presets declare them ``in_turn: false``, so verify-traces looks for the session
    span above them, and for no turn id."""
    catalog = load_catalog(preset)
    assert {s.id for s in catalog.stages if not s.in_turn} == {"user_turn", "user_speaking"}
    report = verify(read_spans(json.dumps(livekit_turn(version)), "sample"), catalog)
    assert report.ok, report.lines()
    assert report.checked["under-turn"] == 4  # user_turn, user_speaking (session); llm_node, tts_node (turn)
    assert report.checked["turn-id"] == 3  # llm_node, tts_node and the turn itself


def test_a_stage_of_the_turn_outside_it_and_a_session_stage_outside_the_session_still_fail():
    doc = livekit_turn()
    spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"]
    by_name = {s["name"]: s for s in spans}
    by_name["llm_node"]["parentSpanId"] = by_name["agent_session"]["spanId"]  # not in the turn
    by_name["user_turn"]["parentSpanId"] = ""  # a root span: in no session
    report = verify(read_spans(json.dumps(doc), "sample"), load_catalog("livekit"))
    under = report.violations["under-turn"]
    assert any("llm" in m and "not under a 'agent_turn' span (parent is 'agent_session')" in m for m in under), under
    assert any("user_turn" in m and "not under a 'agent_session' span (no parent)" in m for m in under), under
    assert report.count("under-turn") == 2 and report.count("turn-id") == 1  # the llm node lost its turn id


def test_the_turn_span_stage_cannot_be_outside_its_turn():
    from dashgen.voice.checks import parse_catalog as parse_and_check

    text = preset_path("livekit").read_text(encoding="utf-8")
    text = text.replace("    span: agent_turn\n", "    span: agent_turn\n    in_turn: false\n", 1)
    line = text.splitlines().index("    span: agent_turn") + 2
    with pytest.raises(CatalogError) as err:
        parse_and_check(text, "livekit.yaml")
    assert str(err.value).startswith(f"livekit.yaml:{line}:"), str(err.value)
    assert "in_turn: false but its span is the turn span 'agent_turn'" in str(err.value)
    assert "leave in_turn out" in str(err.value)
