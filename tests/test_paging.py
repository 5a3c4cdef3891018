"""One paging policy (dashgen/voice/paging.py), read by every consumer; one PromQL truth for both
rule forms; one notification per stage incident, proven with a real Alertmanager."""

from __future__ import annotations

import http.server
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.request

import pytest
import yaml

from dashgen.alerts.grafana import EXPR_UID
from dashgen.alerts.routing import ALERTMANAGER, GRAFANA_POLICY
from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog

AM = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
AMTOOL = shutil.which("amtool")
PRESETS = ("default", "livekit", "pipecat")


@pytest.fixture(scope="module", params=PRESETS)
def built(request):
    return build_artifacts(load_catalog(request.param))


@pytest.fixture(scope="module")
def default_built():
    return build_artifacts(load_catalog("default"))


def _grafana_rules(artifacts: dict[str, str]) -> list[dict]:
    return [r for rel, text in artifacts.items() if rel.startswith("alerts/grafana/")
            for r in json.loads(text)["rules"]]


def _prometheus_rules(artifacts: dict[str, str]) -> list[dict]:
    return [r for rel, text in artifacts.items() if rel.startswith("alerts/prometheus/")
            for g in yaml.safe_load(text)["groups"] for r in g["rules"]]


# --- the bundled catalogs page on the practice's p95 limits ----------------------------------------

def test_the_default_catalog_pages_on_each_layers_p95():
    rs = build_artifacts(load_catalog()).rules
    pages = {r.name: r for r in rs.rules if r.group == "latency" and r.labels["severity"] == "page"}
    limits = {name: r.when[0][0].value for name, r in pages.items()}
    assert limits == {"VoiceAsrFirstByteP95High": 150, "VoiceTtsFirstByteP95High": 350,
                      "VoiceBargeInSilenceP95High": 200}
    for r in pages.values():  # sustained: for >= twice the window; guarded: >= 20 events for a p95
        sig = r.when[0][0].signal
        assert r.for_ == "10m" and sig.window == "5m" and sig.events.min_events == 20
        assert "increase(audio_" in r.expr and ">= 20" in r.expr
    burn = {r.name for r in rs.rules if r.group == "slo-burn" and r.labels["severity"] == "page"}
    assert burn == {"VoiceAsrFirstByteSloBurnPage", "VoiceTtsFirstByteSloBurnPage", "VoiceBargeInSilenceSloBurnPage",
                    "VoiceGoodTurnSloBurnPage"}


def test_no_threshold_is_demoted(built):
    """The effective severity of every quantile rule is its catalog threshold's."""
    c = built.rules.catalog
    want = {}
    for s in c.stages:
        for m in s.measurements:
            for t in m.thresholds:
                want[(s.id, t.value)] = t.severity
    got = {(r.stage, r.when[0][0].value): r.labels["severity"] for r in built.rules.rules if r.group == "latency"}
    assert got == want


def test_dashboards_colour_each_limit_by_the_rules_severity(default_built):
    """The dashboards' threshold steps and the alert rules agree: every p95 page limit is red."""
    colours = {}
    for rel, text in default_built.artifacts.items():
        if rel.startswith("dashboards/") and rel.endswith(".json"):
            for p in json.loads(text).get("panels", []):
                for s in ((p.get("fieldConfig") or {}).get("defaults") or {}).get("thresholds", {}).get("steps", []):
                    if s.get("value") is not None:
                        colours.setdefault(float(s["value"]), set()).add(s["color"])
    for r in default_built.rules.rules:
        if r.group == "latency":
            colour = {"page": "red", "ticket": "orange"}[r.labels["severity"]]
            assert colour in colours[r.when[0][0].value], (r.name, colours[r.when[0][0].value])


# --- one PromQL truth --------------------------------------------------------------------------------

def test_every_grafana_alert_reads_one_data_query(built):
    for r in _grafana_rules(built.artifacts):
        data = [q for q in r["data"] if q["datasourceUid"] != EXPR_UID]
        assert len(data) == 1, (r["title"], [q["refId"] for q in data])


def test_grafana_and_prometheus_twins_evaluate_the_same_expression(built):
    """Every Prometheus alert's expr is its Grafana twin's one data query, followed by the math and
    threshold Grafana's own Prometheus-rule import adds (pkg/services/ngalert/prom/query.go)."""
    grafana = {r["uid"]: r for r in _grafana_rules(built.artifacts)}
    prom_rules = _prometheus_rules(built.artifacts)
    alerts = {r["alert"]: r["expr"] for r in prom_rules if "alert" in r}
    records = {(r["record"], r["expr"]) for r in prom_rules if "record" in r}
    checked = 0
    for rule in built.rules.rules:
        if not rule.prometheus:
            continue
        g = grafana.get(rule.uid)
        if g is None:  # a recording rule the Grafana forms leave out
            continue
        (query,) = [q for q in g["data"] if q["datasourceUid"] != EXPR_UID]
        if rule.is_alert:
            assert query["model"]["expr"] == alerts[rule.name], rule.uid
        else:
            assert (rule.records.metric, query["model"]["expr"]) in records, rule.uid
        if rule.is_alert:
            steps = [q["model"] for q in g["data"] if q["datasourceUid"] == EXPR_UID]
            assert [s["type"] for s in steps] == ["math", "threshold"]
            ref = query["refId"]
            assert steps[0]["expression"] == f"is_number(${ref}) || is_nan(${ref}) || is_inf(${ref})"
            assert steps[1]["conditions"][0]["evaluator"] == {"type": "gt", "params": [0]}
            assert g["condition"] == steps[1]["refId"]
        checked += 1
    assert checked == len([r for r in _grafana_rules(built.artifacts) if r["data"][0]["model"].get("expr")])
    assert len(alerts) == len([r for r in built.rules.rules if r.is_alert and r.prometheus])


# --- one notification per stage -----------------------------------------------------------------------

def test_routing_artifacts_group_by_stage_and_inhibit(default_built):
    am = yaml.safe_load(default_built.artifacts[ALERTMANAGER])
    assert am["route"]["group_by"] == ["team", "stage"]
    assert all(r["group_by"] == ["team", "stage"] for r in am["route"]["routes"])
    (inhibit,) = am["inhibit_rules"]
    assert inhibit["equal"] == ["team", "stage"]
    policy = yaml.safe_load(default_built.artifacts[GRAFANA_POLICY])
    (tree,) = policy["policies"]
    assert tree["group_by"] == ["team", "stage"] and "alertname" not in tree["group_by"]
    assert {tuple(m) for r in tree["routes"] for m in r["object_matchers"]} >= {
        ("team", "=", "voice"), ("severity", "=", "page"), ("severity", "=", "ticket")}
    # simplified routing would group by alertname whatever it asks, so no rule carries it
    assert not any("notification_settings" in r for r in _grafana_rules(default_built.artifacts))


def test_amtool_accepts_the_alertmanager_config(default_built, tmp_path):
    assert AMTOOL, "amtool not on PATH: run ./scripts/test (installs Debian's prometheus-alertmanager)"
    f = tmp_path / "alertmanager.yaml"
    f.write_text(default_built.artifacts[ALERTMANAGER], encoding="utf-8")
    proc = subprocess.run([AMTOOL, "check-config", str(f)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "SUCCESS" in proc.stdout, proc.stdout + proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def _alert(rule) -> dict:
    labels = {"alertname": rule.name, **rule.labels, **rule.when[0][0].signal.series_labels}
    return {"labels": labels, "annotations": {"summary": rule.annotations["summary"]}}


def _api(port: int, path: str, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST" if body is not None else "GET",
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read() or b"null")


def test_a_real_alertmanager_sends_one_notification_per_stage(default_built, tmp_path):
    """The built routing in a real Alertmanager (127.0.0.1 only, killed at the end): TTS's p95 page
    and its burn-rate page together, and ASR's p95 page alone, are two notifications: TTS's carries
    the burn page only (the p95 page is inhibited), ASR's its p95 page."""
    assert AM, "Alertmanager not on PATH: run ./scripts/test (installs Debian's prometheus-alertmanager)"
    hook_port, am_port = _free_port(), _free_port()
    _Hook.received = []
    server = http.server.HTTPServer(("127.0.0.1", hook_port), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = yaml.safe_load(default_built.artifacts[ALERTMANAGER])
    for r in config["receivers"]:
        r["webhook_configs"] = [{"url": f"http://127.0.0.1:{hook_port}/", "send_resolved": False}]
    config["route"]["group_wait"] = "1s"  # the test's patience, not the routing under test
    (tmp_path / "am.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    proc = subprocess.Popen([AM, f"--config.file={tmp_path / 'am.yaml'}", f"--storage.path={tmp_path / 'data'}",
                             f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _api(am_port, "/api/v2/status")
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "Alertmanager did not start"
                time.sleep(0.2)
        rules = {r.name: r for r in default_built.rules.rules}
        sent = [rules["VoiceTtsFirstByteP95High"], rules["VoiceTtsFirstByteSloBurnPage"],
                rules["VoiceAsrFirstByteP95High"]]
        _api(am_port, "/api/v2/alerts", [_alert(r) for r in sent])
        deadline = time.monotonic() + 30
        while len(_Hook.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # anything more would arrive now
        by_stage = {n["groupLabels"]["stage"]: sorted(a["labels"]["alertname"] for a in n["alerts"])
                    for n in _Hook.received}
        assert len(_Hook.received) == 2, _Hook.received
        assert by_stage == {"tts": ["VoiceTtsFirstByteSloBurnPage"], "asr": ["VoiceAsrFirstByteP95High"]}
        states = {a["labels"]["alertname"]: a["status"] for a in _api(am_port, "/api/v2/alerts")}
        assert states["VoiceTtsFirstByteP95High"]["state"] == "suppressed"
        assert states["VoiceTtsFirstByteP95High"]["inhibitedBy"]
        assert states["VoiceAsrFirstByteP95High"]["state"] == "active"
    finally:
        proc.kill()
        proc.wait(timeout=10)
        server.shutdown()
