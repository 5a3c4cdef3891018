"""simulate -> verify-traces for every preset; verify-traces on broken exports; the simulator emits every
attribute the generated dashboards query; OTLP/HTTP export to a loopback collector."""

from __future__ import annotations

import base64
import copy
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from dashgen.build import build_artifacts
from dashgen.catalog import PRESETS, load_catalog
from dashgen.cli import main
from dashgen.telemetry.instrument import Instrumentation
from dashgen.telemetry.otlp_json import encode_spans, read_spans
from dashgen.telemetry.simulate import INCIDENTS, Simulator
from dashgen.telemetry.verify import verify

NOW = 1_760_000_000_000_000_000


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def simulate_spans(preset, sessions=20, seed=3, incidents=()):
    exp = InMemorySpanExporter()
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(exp))
    inst = Instrumentation(preset, tp, MeterProvider())
    Simulator(inst, seed=seed, incidents=incidents, now_ns=NOW).run(sessions)
    return exp.get_finished_spans()


@pytest.fixture(scope="module")
def default_export():
    return encode_spans(simulate_spans("default", sessions=6))


def spans_of(doc):
    return [s for rs in doc["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]


def attr(span, key):
    return next(a for a in span["attributes"] if a["key"] == key)


def write(tmp_path, doc, name="t.json"):
    p = tmp_path / name
    p.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return str(p)


# simulate -> verify, every preset ------------------------------------------------------------------

@pytest.mark.parametrize("preset", PRESETS)
def test_simulate_then_verify_passes(preset, tmp_path, capsys):
    out = str(tmp_path / "traces.json")
    code, stdout, err = run(["simulate", "-c", preset, "--sessions", "12", "--seed", "5", "--incident", "slow-tts",
                             "--out", out], capsys)
    assert code == 0, err
    m = re.search(r"simulated 12 sessions, (\d+) turns, (\d+) spans", stdout)
    assert m, stdout
    doc = json.loads(open(out).read())
    spans = spans_of(doc)
    assert len(spans) == int(m.group(2))
    assert all(re.fullmatch(r"[0-9a-f]{32}", s["traceId"]) and re.fullmatch(r"[0-9a-f]{16}", s["spanId"]) for s in spans)
    ints = [a["value"]["intValue"] for s in spans for a in s["attributes"] if "intValue" in a["value"]]
    assert all(isinstance(v, str) for v in ints)  # int64 as strings in OTLP JSON
    has_int = any(m.integer for st in load_catalog(preset).stages for m in st.measurements)
    # the good-turn verdict (1 or 0) is an integer in every convention: measurements alone decide the rest
    verdicts = [a["value"]["intValue"] for s in spans for a in s["attributes"] if a["key"] == "voice.turn.good"]
    assert verdicts and set(verdicts) <= {"0", "1"}
    assert (len(ints) > len(verdicts)) == has_int
    code, stdout, err = run(["verify-traces", "-c", preset, out], capsys)
    assert code == 0, stdout + err
    assert "FAIL" not in stdout
    for rule in ("stage-spans", "session-id", "turn-id", "under-turn", "required", "integer", "range"):
        assert re.search(rf"^ok    {rule}: .*\((\d+) checked\)", stdout, re.M), stdout
    n_stage = sum(int(n) for n in re.findall(r"\((\d+) checked\)", stdout.split("session-id")[1].split("\n")[0]))
    assert n_stage > 12 * 3  # at least a few stage spans per turn were really checked


def test_simulate_is_deterministic_per_seed():
    def values(seed):
        return sorted((s.name, sorted((k, v) for k, v in s.attributes.items() if not k.endswith(("id", "number")))
                       ) for s in simulate_spans("default", sessions=4, seed=seed))
    assert values(9) == values(9)
    assert values(9) != values(10)


# the seam: every attribute the dashboards query is emitted ------------------------------------------

def _tempo_queries(node):
    if isinstance(node, dict):
        if (node.get("datasource") or {}).get("type") == "tempo" and isinstance(node.get("query"), str):
            yield node["query"]
        for v in node.values():
            yield from _tempo_queries(v)
    elif isinstance(node, list):
        for v in node:
            yield from _tempo_queries(v)


SPAN_ATTR = re.compile(r"\bspan\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)")
SPAN_NAME = re.compile(r'\bname\s*=\s*"((?:[^"\\]|\\.)*)"')


@pytest.mark.parametrize("preset", PRESETS)
def test_simulator_emits_every_attribute_the_dashboards_query(preset):
    catalog = load_catalog(preset)
    artifacts = build_artifacts(catalog).artifacts
    queries = [q for path, text in artifacts.items() if path.startswith("dashboards/") and path.endswith(".json")
               for q in _tempo_queries(json.loads(text))]
    assert len(queries) >= 5, f"{preset}: only {len(queries)} Tempo queries found in the dashboards"
    queried = {a for q in queries for a in SPAN_ATTR.findall(q)}
    names = {n for q in queries for n in SPAN_NAME.findall(q)}
    assert queried
    # a dashboards bug, not an instrumentation one: every queried attribute is declared in the catalog
    assert queried <= catalog.span_attributes(), f"queried but not in the catalog: {queried - catalog.span_attributes()}"

    spans = simulate_spans(preset, sessions=40, seed=11)
    emitted: dict[str, set] = {}
    for s in spans:
        for k, v in s.attributes.items():
            emitted.setdefault(k, set()).add(type(v))
    missing = queried - set(emitted)
    assert not missing, f"{preset}: the dashboards query {sorted(missing)} but the simulator never emits them"
    assert names <= {s.name for s in spans}, f"span names queried but never emitted: {names - {s.name for s in spans}}"
    # integer measurements are emitted as int only (Tempo's quantiles drop floats)
    for st in catalog.stages:
        for m in st.measurements:
            if m.integer and m.attribute in queried:
                assert emitted[m.attribute] == {int}, (m.attribute, emitted[m.attribute])


# incidents move the numbers they should -----------------------------------------------------------

def _p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def _halves(spans, name, key):
    mid = NOW - 5 * 60 * 10**9  # incidents start half way through the 10-minute window
    early = [s.attributes[key] for s in spans if s.name == name and s.start_time < mid and s.attributes.get(key, -1) >= 0]
    late = [s.attributes[key] for s in spans if s.name == name and s.start_time >= mid + 60 * 10**9
            and s.attributes.get(key, -1) >= 0]
    assert len(early) > 20 and len(late) > 20
    return early, late


def test_interrupted_turns_would_move_the_tts_p95_and_carry_the_attribute_that_leaves_them_out():
    """interrupted-early: without the exclusion the interrupted turns' first bytes (taken at the
    interruption) push the TTS p95 past its 350 ms page; without them it stays where it was."""
    spans = simulate_spans("default", sessions=60, seed=2, incidents=("interrupted-early",))
    mid = NOW - 5 * 60 * 10**9 + 60 * 10**9
    late = [s.attributes for s in spans if s.name == "audio.tts" and s.start_time >= mid
            and s.attributes["audio.first_byte_ms"] >= 0]
    kept = [a["audio.first_byte_ms"] for a in late if a["audio.interrupted"] is False]
    assert len(kept) > 20 and len(kept) < len(late) * 0.9
    assert _p([a["audio.first_byte_ms"] for a in late], 0.95) > 350 > _p(kept, 0.95)
    # every stage span of a turn says the same, and a barge-in span is an interruption
    by_trace: dict = {}
    for s in spans:
        if s.name != "voice.turn":
            by_trace.setdefault(s.context.trace_id, set()).add(s.attributes["audio.interrupted"])
    assert all(len(v) == 1 for v in by_trace.values())
    assert all(s.attributes["audio.interrupted"] is True for s in spans if s.name == "audio.barge_in")


def test_baseline_sits_under_the_catalog_thresholds_and_incidents_cross_them():
    # interrupted-early has its own test: its barge-ins come before any audio is buffered
    spans = simulate_spans("default", sessions=60, seed=2, incidents=tuple(i for i in INCIDENTS
                                                                         if i != "interrupted-early"))
    early, late = _halves(spans, "audio.tts", "audio.first_byte_ms")
    assert _p(early, 0.95) < 350 < _p(late, 0.95)  # slow-tts pages
    early, late = _halves(spans, "audio.llm", "audio.first_byte_ms")
    assert _p(early, 0.5) < 400 and _p(early, 0.99) < 1000 and _p(late, 0.99) > 1200  # llm-tail
    early, late = _halves(spans, "audio.asr", "audio.revision_pct")
    share = lambda v: sum(x > 30 for x in v) / len(v)  # noqa: E731
    assert share(early) < 0.08 and share(late) > 0.15  # asr-late-revisions
    early, late = _halves(spans, "audio.client", "audio.buffer_ms")
    assert _p(early, 0.95) <= 200 and _p(late, 0.5) >= 380  # deep-client-buffer ...
    sil = [(s.start_time, s.attributes["audio.silence_ms"]) for s in spans if s.name == "audio.barge_in"]
    mid = NOW - 5 * 60 * 10**9
    assert _p([v for t, v in sil if t < mid], 0.95) < 230 and _p([v for t, v in sil if t >= mid], 0.5) > 200  # ... slows barge-in
    # the VAD-to-cancel step is well below 1 ms: the catalog declares it in us, so it keeps its value
    # (never 0 or 1, which Tempo's quantiles would drop); first byte is the cancel, after VAD
    barge = [s.attributes for s in spans if s.name == "audio.barge_in"]
    assert all(2 <= a["audio.cancel_delay_us"] < 2000 for a in barge)
    assert all(a["audio.first_byte_ms"] == a["audio.cancel_ms"] >= a["audio.vad_detect_ms"] for a in barge)


def test_unknown_incident_is_refused(tmp_path, capsys):
    code, _, err = run(["simulate", "--incident", "slow-ttss", "--out", str(tmp_path / "x.json")], capsys)
    assert code == 2 and "'slow-ttss' is not known" in err and "slow-tts" in err


def test_simulate_needs_exactly_one_destination(capsys):
    code, _, err = run(["simulate"], capsys)
    assert code == 2 and "--otlp-endpoint URL" in err and "--out FILE.json" in err


def test_simulate_without_opentelemetry_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)
    code, _, err = run(["simulate", "--out", str(tmp_path / "x.json")], capsys)
    assert code == 2
    assert err.strip().count("\n") == 0 and "(the 'otel' extra), which is not installed: pip install " in err


# verify-traces on broken exports ------------------------------------------------------------------

def _first(doc, name):
    return next(s for s in spans_of(doc) if s["name"] == name and attr(s, "audio.first_byte_ms")["value"].get(
        "intValue", "-1") != "-1")


def test_float_first_byte_fails(default_export, tmp_path, capsys):
    doc = copy.deepcopy(default_export)
    span = _first(doc, "audio.llm")
    attr(span, "audio.first_byte_ms")["value"] = {"doubleValue": 281.6}
    code, out, err = run(["verify-traces", write(tmp_path, doc)], capsys)
    assert code == 1
    assert re.search(r"^FAIL  integer: .*: 1 violation", out, re.M), out
    assert (f"1 x llm (audio.llm): audio.first_byte_ms is a float (doubleValue) (281.6), the catalog says integer: "
            f"Tempo's quantiles drop it (e.g. span {span['spanId']})") in out
    assert "ok    range" in out and "ok    session-id" in out
    assert "1 violation(s) in 1 rule(s)" in err


def test_missing_session_id_fails(default_export, tmp_path, capsys):
    doc = copy.deepcopy(default_export)
    tts = [s for s in spans_of(doc) if s["name"] == "audio.tts"][:2]
    for s in tts:
        s["attributes"] = [a for a in s["attributes"] if a["key"] != "audio.session_id"]
    code, out, _ = run(["verify-traces", write(tmp_path, doc)], capsys)
    assert code == 1
    assert f"2 x tts (audio.tts): missing session id (audio.session_id) (e.g. span {tts[0]['spanId']})" in out
    assert "ok    turn-id" in out


def test_negative_and_sub_two_values_fail(default_export, tmp_path, capsys):
    doc = copy.deepcopy(default_export)
    asr = _first(doc, "audio.asr")
    attr(asr, "audio.total_ms")["value"] = {"intValue": "-5"}
    tts = _first(doc, "audio.tts")
    attr(tts, "audio.tts_max_gap_ms")["value"] = {"intValue": 1}
    code, out, _ = run(["verify-traces", write(tmp_path, doc)], capsys)
    assert code == 1
    assert "FAIL  range: values of at least 2, or the nothing value: 2 violation(s)" in out
    assert f"asr (audio.asr): audio.total_ms has a negative value (it has no nothing value) (e.g. span {asr['spanId']})" in out
    assert "tts (audio.tts): audio.tts_max_gap_ms is 1: Tempo's quantiles drop values below 2" in out


def test_milestones_timed_from_different_zeros_fail(default_export, tmp_path, capsys):
    """Issue 15 point 6: cancel and silence count from VAD firing; a silence timed from another start
    (smaller than the cancel) is caught."""
    doc = copy.deepcopy(default_export)
    barge = next(s for s in spans_of(doc) if s["name"] == "audio.barge_in")
    cancel = int(attr(barge, "audio.cancel_ms")["value"]["intValue"])
    attr(barge, "audio.silence_ms")["value"] = {"intValue": str(max(2, cancel - 1))}
    code, out, _ = run(["verify-traces", write(tmp_path, doc)], capsys)
    assert code == 1
    assert "FAIL  milestones: barge-in milestones from one zero (VAD firing): 1 violation(s)" in out
    assert f"audio.silence_ms ({max(2, cancel - 1)}) is below audio.cancel_ms ({cancel})" in out


def test_orphan_stage_span_and_missing_measurement_fail(default_export, tmp_path, capsys):
    doc = copy.deepcopy(default_export)
    llm = _first(doc, "audio.llm")
    del llm["parentSpanId"]
    for s in spans_of(doc):
        if s["name"] == "audio.tts":
            s["attributes"] = [a for a in s["attributes"] if a["key"] != "audio.tts_max_gap_ms"]
    client = _first(doc, "audio.client")
    client["attributes"] = [a for a in client["attributes"] if a["key"] != "audio.first_byte_ms"]
    code, out, _ = run(["verify-traces", write(tmp_path, doc)], capsys)
    assert code == 1
    assert f"llm (audio.llm): not under a 'voice.turn' span (no parent) (e.g. span {llm['spanId']})" in out
    assert "tts: audio.tts_max_gap_ms never emitted" in out
    assert "client (audio.client): audio.first_byte_ms missing (it is -1 when the stage produced nothing" in out


def test_wrong_catalog_finds_no_stage_spans(default_export, tmp_path, capsys):
    code, out, _ = run(["verify-traces", "-c", "pipecat", write(tmp_path, default_export)], capsys)
    assert code == 1 and "FAIL  stage-spans" in out and "is it the right catalog?" in out


def test_tempo_batches_numbers_base64_ids_and_json_lines_are_read(default_export, tmp_path, capsys):
    doc = copy.deepcopy(default_export)
    for s in spans_of(doc):
        for key in ("traceId", "spanId", "parentSpanId"):
            if key in s:
                s[key] = base64.b64encode(bytes.fromhex(s[key])).decode()
        for a in s["attributes"]:
            if "intValue" in a["value"]:
                a["value"]["intValue"] = int(a["value"]["intValue"])
    tempo = {"batches": [{**rs, "scopeSpans": rs["scopeSpans"]} for rs in doc["resourceSpans"]]}
    code, out, err = run(["verify-traces", write(tmp_path, tempo, "tempo.json")], capsys)
    assert code == 0, out + err
    lines = "\n".join(json.dumps({"resourceSpans": [rs]}) for rs in default_export["resourceSpans"]) + "\n"
    lines += "\n" + json.dumps({"resourceSpans": default_export["resourceSpans"]})
    code, out, _ = run(["verify-traces", write(tmp_path, lines, "lines.jsonl")], capsys)
    assert code == 0, out
    n = len(spans_of(default_export))
    assert out.splitlines()[1].startswith(f"{2 * n} spans")
    recs = read_spans(json.dumps(tempo))
    assert {len(r.span_id) for r in recs} == {16} and all(r.span_id == r.span_id.lower() for r in recs)


def test_unreadable_inputs_are_one_line_errors(tmp_path, capsys):
    code, _, err = run(["verify-traces", str(tmp_path / "nope.json")], capsys)
    assert code == 2 and "no such file" in err
    code, _, err = run(["verify-traces", write(tmp_path, "{not json")], capsys)
    assert code == 2 and "not JSON" in err
    code, _, err = run(["verify-traces", write(tmp_path, {"data": []})], capsys)
    assert code == 2 and "no resourceSpans" in err


def test_verify_report_counts_what_it_checked():
    spans = read_spans(json.dumps(encode_spans(simulate_spans("default", sessions=3))))
    rep = verify(spans, load_catalog("default"))
    assert rep.ok
    assert rep.turn_spans == sum(1 for s in spans if s.name == "voice.turn") > 0
    assert sum(rep.stage_spans.values()) == rep.checked["session-id"] == len(spans) - rep.turn_spans


# OTLP/HTTP to a loopback collector ---------------------------------------------------------------

class _Collector(BaseHTTPRequestHandler):
    status = 200
    requests: list = []

    def do_POST(self):  # noqa: N802
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest, ExportTraceServiceResponse,
        )
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            import gzip
            body = gzip.decompress(body)
        req = ExportTraceServiceRequest()
        req.ParseFromString(body)
        n = sum(len(ss.spans) for rs in req.resource_spans for ss in rs.scope_spans)
        type(self).requests.append((self.path, self.headers.get("Content-Type"), n, req))
        payload = ExportTraceServiceResponse().SerializeToString()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def collector():
    _Collector.requests = []
    _Collector.status = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Collector
    server.shutdown()
    server.server_close()


def test_simulate_sends_otlp_http_protobuf_to_the_endpoint(collector, capsys):
    url, handler = collector
    code, out, err = run(["simulate", "--sessions", "25", "--service", "sim-test", "--otlp-endpoint", url], capsys)
    assert code == 0, err
    n_spans = int(re.search(r"turns, (\d+) spans", out).group(1))
    assert f"-> {url}/v1/traces" in out
    assert len(handler.requests) >= 2  # batches of 512 spans
    assert {(p, ct) for p, ct, _, _ in handler.requests} == {("/v1/traces", "application/x-protobuf")}
    assert sum(n for _, _, n, _ in handler.requests) == n_spans
    req = handler.requests[0][3]
    svc = {kv.value.string_value for rs in req.resource_spans for kv in rs.resource.attributes if kv.key == "service.name"}
    assert svc == {"sim-test"}
    span = next(s for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans if s.name == "audio.tts")
    fb = next(kv.value for kv in span.attributes if kv.key == "audio.first_byte_ms")
    assert fb.WhichOneof("value") == "int_value" and fb.int_value >= 2


def test_simulate_reports_a_refusing_endpoint(collector, capsys):
    url, handler = collector
    handler.status = 400
    code, _, err = run(["simulate", "--sessions", "2", "--otlp-endpoint", url + "/v1/traces"], capsys)
    assert code == 1
    assert "the OTLP export failed after 0 of" in err and f"{url}/v1/traces" in err
    assert len(handler.requests) == 1
