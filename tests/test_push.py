"""`dashgen plan` / `dashgen push` against a strict Grafana emulator (a real HTTP server)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dashgen.sandbox.emulator import Fault, GrafanaEmulator, make_token  # noqa: E402
from push_fixtures import FOLDER, GROUP, group_json, recording_group_json, run_cli, write_build  # noqa: E402

from dashgen.grafana.client import GrafanaClient, GrafanaError  # noqa: E402

FAST = ["--retry-base-delay", "0.001"]


def marker_tag(stored: dict) -> str:
    """The hex of the one ``dashgen-hash:`` tag of a stored dashboard, read here from its tags."""
    (tag,) = [t for t in stored.get("tags", []) if t.startswith("dashgen-hash:")]
    return tag[len("dashgen-hash:"):]


def content_hash(stored: dict, folder: str) -> str:
    """dashgen's ownership marker, recomputed here from its documented definition (docs/push.md, "Ownership"):
    the first 12 hex digits of the SHA-256 of the canonical JSON (sorted keys, no spaces) of
    ``{"dashboard": <the dashboard without id, version and the hash tag>, "folderUid": <folder>}``.
    An independent oracle: dashgen's own hashing code is not used, so a change to what it hashes
    (a key left out, another serialisation) fails these tests."""
    body = {k: v for k, v in stored.items() if k not in ("id", "version")}
    body["tags"] = [t for t in stored.get("tags", []) if not t.startswith("dashgen-hash:")]
    text = json.dumps({"dashboard": body, "folderUid": folder}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@pytest.fixture
def emu():
    e = GrafanaEmulator().start()
    yield e
    e.stop()


@pytest.fixture
def env(emu):
    return {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token}


@pytest.fixture
def build(tmp_path):
    return write_build(tmp_path / "build", 5)


def push(build, env, *extra):
    return run_cli(["push", "--from", str(build), *FAST, *extra], env)


def json_out(res):
    return json.loads(res.out)


def outcomes(res):
    return {(r["kind"], r["key"]): r.get("outcome") for r in json_out(res)["resources"]}


# ------------------------------------------------------------------ first push, no-op, plan
def test_first_push_into_empty_grafana(emu, env, build):
    res = push(build, env)
    assert res.code == 0, res.all
    assert "voice-agent" in emu.folders
    assert sorted(emu.dashboards) == [f"voice-{i:03d}" for i in range(5)]
    d = emu.dashboards["voice-002"]
    assert d.folder_uid == FOLDER and d.version == 1 and d.created_by == "sa-1-dashgen"
    # datasource variables default to the resolved datasources
    current = {v["name"]: v["current"] for v in d.data["templating"]["list"]}
    assert current["tempo"] == {"text": "Tempo", "value": "P214B5B846CF3925F"}
    assert current["prometheus"] == {"text": "Prometheus", "value": "PBFA97CFB590B2093"}
    # ownership marker: owner tag + content hash tag that matches the stored content
    assert "dashgen" in d.data["tags"] and marker_tag(d.data) == content_hash(d.data, FOLDER)
    assert not set(d.data) - {"uid", "title", "tags", "schemaVersion", "editable", "timezone", "time",
                              "templating", "panels"}, "hash must live in a schema-legal place"
    # save message: dashgen <version> <sha>, <= 500 chars
    msg = d.versions[-1]["message"]
    assert re.fullmatch(r"dashgen \d+\.\d+\.\d+( [0-9a-f]{4,40})?", msg) and len(msg) <= 500
    # alert rules: placeholders rewritten, provenance api, ownership annotation
    rules = {r["uid"]: r for r in emu.rules.values()}
    assert rules["tts-first-byte-p95"]["data"][0]["datasourceUid"] == "PBFA97CFB590B2093"
    assert rules["llm-error-rate"]["data"][0]["datasourceUid"] == "PBFA97CFB590B2093"
    assert all(r["provenance"] == "api" and "dashgen_hash" in r["annotations"] for r in rules.values())
    # order: the folder, then what it holds (dashboards and rule groups share one phase)
    writes = [(r.method, r.path) for r in emu.writes()]
    kinds = ["folder" if p == "/api/folders" else "dash" if p == "/api/dashboards/db" else "rules" for _, p in writes]
    assert kinds[0] == "folder" and sorted(kinds[1:]) == ["dash"] * 5 + ["rules"]
    # dashboard saves on create carry overwrite false
    saves = [json.loads(r.body) for r in emu.writes() if r.path == "/api/dashboards/db"]
    assert all(s["overwrite"] is False for s in saves)
    # feedback: plain progress lines off a TTY, summary table on stdout
    assert re.search(r"^\[\d/7\] create dashboard voice-00\d$", res.err, re.M)
    assert "Summary: 7 created" in res.out


def test_second_push_is_a_noop(emu, env, build):
    assert push(build, env).code == 0
    emu.reset_records()
    res = push(build, env)
    assert res.code == 0, res.all
    assert emu.writes() == []
    assert "Summary: 7 unchanged" in res.out
    # preflight (health, frontend settings with the datasources, API discovery) + 5 dashboard GETs
    # + 1 rule group GET: no search, no folder read
    paths = sorted(r.path for r in emu.requests)
    assert paths == sorted(["/api/health", "/api/frontend/settings", "/apis",
                            *[f"/api/dashboards/uid/voice-{i:03d}" for i in range(5)],
                            f"/api/v1/provisioning/folder/{FOLDER}/rule-groups/{GROUP}"])
    emu.reset_records()
    res = push(build, env, "--quick")
    assert res.code == 0 and emu.writes() == [] and len(emu.requests) == 5


def test_first_push_probes_one_dashboard_then_searches(emu, env, build):
    """A first push does not GET dashboards that are not there: one probe, one search by uid."""
    assert push(build, env).code == 0
    gets = [r.path for r in emu.requests if r.method == "GET" and r.path.startswith("/api/dashboards/uid/")]
    assert gets == ["/api/dashboards/uid/voice-000"]
    searches = [r.query for r in emu.requests if r.path == "/api/search"]
    assert len(searches) == 1 and sorted(searches[0]["dashboardUIDs"]) == [f"voice-{i:03d}" for i in range(5)]


def test_probe_absent_but_others_live_falls_back_to_search(emu, env, build):
    """The probed dashboard was deleted in Grafana, the others were not: the search finds them,
    they are read and compared (unchanged), and only the deleted one is created again."""
    assert push(build, env).code == 0
    del emu.dashboards["voice-000"]
    emu.reset_records()
    res = push(build, env, "--output", "json")
    assert res.code == 0, res.all
    assert outcomes(res)[("dashboard", "voice-000")] == "created"
    assert json_out(res)["summary"] == {"created": 1, "unchanged": 6}
    assert [r.path for r in emu.writes()] == ["/api/dashboards/db"]
    assert len([r for r in emu.requests if r.path == "/api/search"]) == 1


def test_probe_found_reads_every_uid_and_creates_the_missing(emu, env, build):
    """After a push, voice-003 is deleted in Grafana and a foreign dashboard sits at voice-004:
    without a search, the reads by uid still see both (create one, refuse the other)."""
    assert push(build, env).code == 0
    del emu.dashboards["voice-003"]
    foreign = emu.dashboards["voice-004"]
    foreign.data["tags"] = ["team-made"]
    emu.reset_records()
    res = push(build, env, "--output", "json")
    assert res.code == 3, res.all
    assert not [r for r in emu.requests if r.path in ("/api/search", f"/api/folders/{FOLDER}")]
    res = run_cli(["plan", "--from", str(build), "--output", "json"], env)
    actions = {(r["kind"], r["key"]): r["action"] for r in json_out(res)["resources"]}
    assert actions[("dashboard", "voice-003")] == "create"
    assert actions[("dashboard", "voice-004")] == "conflict"
    assert actions[("folder", FOLDER)] == "unchanged"


def test_plan_writes_nothing_and_reports_actions(emu, env, build):
    res = run_cli(["plan", "--from", str(build), "--output", "json"], env)
    assert res.code == 0, res.all
    assert emu.writes() == []
    doc = json_out(res)
    assert doc["summary"] == {"create": 7}
    assert {r["action"] for r in doc["resources"]} == {"create"}
    assert doc["datasources"]["tempo"]["uid"] == "P214B5B846CF3925F"
    push(build, env)
    write_build(build, 5, variant=" v2", only=[0, 1, 2, 3])  # voice-004 no longer built, 4 changed
    emu.reset_records()
    res = run_cli(["plan", "--from", str(build)], env)
    assert res.code == 0, res.all
    assert re.search(r"^dashboard\s+voice-000\s+update", res.out, re.M)
    assert "Plan: 4 update, 1 orphan, 2 unchanged" in res.out
    assert re.search(r"^dashboard\s+voice-004\s+orphan\s+no longer built; `--prune` deletes it", res.out, re.M)
    assert "no longer built: 1; `--prune` removes them" in res.out
    res = run_cli(["plan", "--from", str(build), "--prune"], env)
    assert res.code == 0, res.all
    assert re.search(r"^dashboard\s+voice-004\s+prune\s+no longer built", res.out, re.M)
    assert "Plan: 4 update, 1 prune, 2 unchanged" in res.out
    assert emu.writes() == []


def test_rule_group_compare_ignores_server_defaults(emu, env, build):
    assert push(build, env).code == 0
    stored = next(iter(emu.rules.values()))
    assert stored["data"][0]["model"]["intervalMs"] == 1000  # the emulator, like Grafana, adds these
    emu.reset_records()
    assert push(build, env).code == 0
    assert not [w for w in emu.writes() if "rule-groups" in w.path]
    # a real change of the group is pushed
    write_build(build, 5, groups=[group_json(threshold=500)])
    emu.reset_records()
    res = push(build, env, "--output", "json")
    assert res.code == 0
    assert outcomes(res)[("rule-group", f"{FOLDER}/{GROUP}")] == "updated"
    assert emu.rules["tts-first-byte-p95"]["data"][2]["model"]["conditions"][0]["evaluator"]["params"] == [500]


# ------------------------------------------------------------------ drift, force, 412
def test_ui_edit_is_refused_with_exit_3(emu, env, build):
    assert push(build, env).code == 0
    emu.human_edit("voice-003", user="alice")
    emu.reset_records()
    for b in (build, write_build(build, 5, variant=" v2")):  # same build, then a changed build
        res = push(b, env)
        assert res.code == 3, res.all
        assert emu.writes() == []
        line = next(ln for ln in res.err.splitlines() if "voice-003" in ln)
        assert "drifted" in line and "live version 2" in line and "alice" in line
        assert re.search(r"\d{4}-\d\d-\d\dT", line)
        assert "build -> live:" in line and "added by hand" in line, line  # what changed, in diff's words
        assert "--force" in res.err and "catalog" in res.err
        assert res.err.strip().splitlines()[-1].startswith("dashgen: error: refusing to push")
    assert any(p.get("title") == "added by hand" for p in emu.dashboards["voice-003"].data["panels"])
    res = run_cli(["plan", "--from", str(build)], env)
    assert res.code == 3 and re.search(r"^dashboard\s+voice-003\s+drifted", res.out, re.M)


def test_force_overwrites_after_backup(emu, env, build, tmp_path):
    assert push(build, env).code == 0
    emu.human_edit("voice-001", user="alice")
    backups = tmp_path / "backups"
    res = push(build, env, "--force", "--backup-dir", str(backups))
    assert res.code == 0, res.all
    files = list(backups.glob("*voice-001*"))
    assert len(files) == 1 and "-v2" in files[0].name
    saved = json.loads(files[0].read_text())
    assert any(p.get("title") == "added by hand" for p in saved["dashboard"]["panels"])
    assert saved["meta"]["updatedBy"] == "alice"
    d = emu.dashboards["voice-001"]
    assert d.version == 3 and not any(p.get("title") == "added by hand" for p in d.data["panels"])
    assert marker_tag(d.data) == content_hash(d.data, FOLDER)
    assert emu.token not in files[0].read_text()


def test_edit_between_read_and_write_is_reported_not_overwritten(emu, env, build):
    assert push(build, env).code == 0
    write_build(build, 5, variant=" v2")
    emu.before_save("voice-002", lambda: emu.human_edit("voice-002", user="carol"))
    emu.reset_records()
    res = push(build, env, "--output", "json")
    assert res.code == 3, res.all
    doc = json_out(res)
    r = next(r for r in doc["resources"] if r["key"] == "voice-002")
    assert r["outcome"] == "conflict" and "412" in r["detail"] and "carol" in r["detail"]
    assert "now version 2 by carol" in r["detail"]
    assert sum(1 for x in doc["resources"] if x.get("outcome") == "updated") == 4
    assert any(p.get("title") == "added by hand" for p in emu.dashboards["voice-002"].data["panels"])
    saves = [r for r in emu.requests if r.path == "/api/dashboards/db" and "voice-002" in r.body]
    assert len(saves) == 1 and saves[0].status == 412  # never retried, never forced
    assert "412" in res.err


# ------------------------------------------------------------------ ownership, prune
def test_foreign_dashboard_at_same_uid_is_a_conflict(emu, env, build, tmp_path):
    emu.add_folder(FOLDER, "Voice agent")
    emu.add_dashboard({"uid": "voice-000", "title": "Someone's dashboard", "tags": ["team-x"], "panels": []},
                      FOLDER, user="bob")
    res = push(build, env)
    assert res.code == 3, res.all
    assert "voice-000" in res.err and "does not own" in res.err and "bob" in res.err
    assert emu.writes() == [] and emu.dashboards["voice-000"].data["title"] == "Someone's dashboard"
    res = push(build, env, "--force", "--backup-dir", str(tmp_path / "b"))
    assert res.code == 0, res.all
    assert emu.dashboards["voice-000"].data["title"] == "Voice stage 000"
    assert json.loads(next((tmp_path / "b").glob("*voice-000*")).read_text())["dashboard"]["title"] == "Someone's dashboard"


def test_prune_deletes_only_owned_resources(emu, env, build):
    assert push(build, env).code == 0
    emu.add_dashboard({"uid": "team-x-board", "title": "Team X", "tags": ["voice"], "panels": []}, FOLDER)
    emu.add_dashboard({"uid": "other-dashgen", "title": "Elsewhere", "tags": ["dashgen"], "panels": []}, None)
    write_build(build, only=[0, 1, 2], groups=[group_json(rules=1)])
    emu.reset_records()
    res = push(build, env, "--output", "json")  # without --prune nothing is deleted, rules are kept
    assert res.code == 0, res.all
    assert [w for w in emu.writes() if w.method == "DELETE"] == []
    assert "llm-error-rate" in emu.rules and "voice-004" in emu.dashboards
    res = push(build, env, "--prune", "--output", "json")
    # "other-dashgen" carries the owner tag but no hash tag: someone made it by hand -> drifted, refused
    assert res.code == 3, res.all
    emu.dashboards.pop("other-dashgen")
    res = push(build, env, "--prune", "--output", "json")
    assert res.code == 0, res.all
    got = outcomes(res)
    assert got[("dashboard", "voice-003")] == got[("dashboard", "voice-004")] == "deleted"
    assert sorted(emu.dashboards) == ["team-x-board", "voice-000", "voice-001", "voice-002"]
    assert "llm-error-rate" not in emu.rules and "tts-first-byte-p95" in emu.rules
    assert FOLDER in emu.folders  # holds a foreign dashboard
    # a whole rule group that is no longer built is pruned rule by rule
    write_build(build, only=[0, 1, 2], groups=[])
    res = push(build, env, "--prune", "--output", "json")
    assert res.code == 0, res.all
    assert outcomes(res)[("rule", "tts-first-byte-p95")] == "deleted" and emu.rules == {}


def _renamed_group(folder: str, name: str, uid: str) -> dict:
    g = group_json(folder=folder, name=name, rules=1)
    g["rules"][0]["uid"], g["rules"][0]["title"] = uid, f"{name} page"
    return g


def test_prune_finds_every_owned_rule_group_the_build_no_longer_makes(emu, env, tmp_path):
    """A removed SLO leaves its burn-rate group behind: `plan` lists it, `--prune` deletes it,
    also in a folder the build no longer has; a failure to list rules is an error, not silence."""
    emu.add_folder("old-folder", "Old folder")
    before = write_build(tmp_path / "before", 2, groups=[group_json(), _renamed_group(FOLDER, "voice-slo-burn", "tts-burn")])
    manifest = (before / "dashboards" / "manifest.yaml").read_text()
    (before / "dashboards" / "manifest.yaml").write_text(
        manifest.replace("folders:\n", "folders:\n- title: Old folder\n  uid: old-folder\n"))
    old = before / "alerts" / "grafana" / "old-folder"
    old.mkdir()
    (old / "old-burn.json").write_text(json.dumps(_renamed_group("old-folder", "old-burn", "old-burn-page")))
    assert push(before, env).code == 0 and {"tts-burn", "old-burn-page"} <= set(emu.rules)
    build = write_build(tmp_path / "after", 2, groups=[group_json()])  # the SLO and the old folder are gone
    res = run_cli(["plan", "--from", str(build), "--output", "json"], env)
    assert res.code == 0, res.all
    orphans = {r["key"]: r["reason"] for r in json_out(res)["resources"] if r["action"] == "orphan"}
    assert set(orphans) == {"tts-burn", "old-burn-page"}
    assert "'voice-slo-burn' is no longer built" in orphans["tts-burn"] and "old-burn" in orphans["old-burn-page"]
    res = run_cli(["plan", "--from", str(build)], env)
    assert "no longer built: 2; `--prune` removes them" in res.out
    res = push(build, env, "--output", "json")  # without --prune nothing is deleted
    assert res.code == 0 and {"tts-burn", "old-burn-page"} <= set(emu.rules)
    emu.fail_fraction(1.0, faults=[Fault(503)], match=lambda m, p: p == "/api/v1/provisioning/alert-rules")
    emu.reset_records()
    res = push(build, env, "--prune", "--retries", "1")
    assert res.code == 1 and "alert-rules" in res.err and "503" in res.err and emu.writes() == [], res.all
    emu.clear_faults()
    res = push(build, env, "--prune", "--output", "json")
    assert res.code == 0, res.all
    assert {k for (kind, k), o in outcomes(res).items() if o == "deleted"} == {"tts-burn", "old-burn-page"}
    assert sorted(emu.rules) == ["llm-error-rate", "tts-first-byte-p95"]


def test_provenance_default_api_and_disable(emu, env, build):
    res = push(build, env, "--disable-provenance")
    assert res.code == 0, res.all
    assert all(r["provenance"] == "" for r in emu.rules.values())
    assert all(w.headers.get("X-Disable-Provenance") for w in emu.writes() if "rule-groups" in w.path)
    res = push(build, env)  # provenance 'api' now would clash with the editable rules
    assert res.code == 3 and "provenance" in res.err


# ------------------------------------------------------------------ faults
def test_twenty_percent_faults_converge_without_duplicates(emu, env, tmp_path):
    build = write_build(tmp_path / "b", 30)
    emu.fail_fraction(0.2, seed=7)
    res = push(build, env, "--retries", "10", "--output", "json")
    assert res.code == 0, res.all
    faults = [r for r in emu.requests if r.fault]
    assert len(faults) > 10 and {r.fault for r in faults} == {"status", "drop", "lose"}
    assert emu.duplicates() == []
    assert len(emu.dashboards) == 30 and len(emu.rules) == 2
    assert all(d.version == 1 for d in emu.dashboards.values())
    emu.clear_faults()
    emu.reset_records()
    assert push(build, env).code == 0 and emu.writes() == []


def test_lost_response_is_reread_before_retry(emu, env, build):
    emu.fail_next(1, lose=True, match=lambda m, p: m == "POST" and p == "/api/dashboards/db")
    res = push(build, env, "--concurrency", "1")
    assert res.code == 0, res.all
    saves = [r for r in emu.requests if r.path == "/api/dashboards/db"]
    assert len(saves) == 5 and saves[0].fault == "lose" and saves[0].applied
    lost_uid = json.loads(saves[0].body)["dashboard"]["uid"]
    i = emu.requests.index(saves[0])
    assert emu.requests[i + 1].method == "GET" and emu.requests[i + 1].path == f"/api/dashboards/uid/{lost_uid}"
    assert emu.duplicates() == []


def test_all_writes_failing_gives_exit_1_and_per_resource_report(emu, env, build):
    emu.fail_fraction(1.0, faults=[Fault(503)], match=lambda m, p: m != "GET")
    res = push(build, env, "--retries", "2", "--output", "json")
    assert res.code == 1
    doc = json_out(res)
    assert doc["exit_code"] == 1
    got = {(r["kind"], r["key"]): (r["outcome"], r.get("detail", "")) for r in doc["resources"]}
    assert got[("folder", FOLDER)][0] == "failed" and "503" in got[("folder", FOLDER)][1]
    assert all(o == "skipped" for (k, _), (o, _) in got.items() if k != "folder")
    assert len(got) == 7
    res = push(build, env, "--retries", "1")
    assert res.code == 1
    for uid in [f"voice-{i:03d}" for i in range(5)]:
        assert re.search(rf"^dashboard\s+{uid}\s+create\s+skipped", res.out, re.M)
    assert "dashgen: error: the push failed" in res.err


def test_unreachable_grafana_is_one_line_exit_1(emu, env, build):
    emu.fail_fraction(1.0, faults=[Fault(502)])
    res = push(build, env, "--retries", "2")
    assert res.code == 1 and res.out == ""
    assert res.err.count("\n") == 1 and res.err.startswith("dashgen: error: ") and "502" in res.err
    assert len([r for r in emu.requests if r.path == "/api/health"]) == 3  # retried twice, then one line
    assert emu.writes() == []


@pytest.mark.parametrize("url,host,cause", [
    ("https://grafana-typo.invalid", "grafana-typo.invalid", "does not resolve"),
    ("http://127.0.0.1:{port}", "127.0.0.1:{port}", "connection refused"),
])
def test_unresolvable_or_refusing_host_fails_at_preflight_in_a_second(url, host, cause, build):
    """No retries and no backoff for a host that never answered: one line naming host and cause."""
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url, host = url.format(port=port), host.format(port=port)
    t = time.monotonic()
    res = run_cli(["push", "--from", str(build)], {"GRAFANA_URL": url, "GRAFANA_TOKEN": make_token()})
    assert time.monotonic() - t < 1.5, "must not back off and retry"
    assert res.code == 1 and res.out == "" and res.err.count("\n") == 1, res.all
    assert res.err.startswith("dashgen: error: cannot reach Grafana at ") and host in res.err and cause in res.err


def test_instance_that_answered_keeps_its_retries(emu):
    """Once the instance answered, a refused or dropped connection (a restart) is retried."""
    c = GrafanaClient(emu.url, token=emu.token, retry_base_delay=0.001)
    c.call("GET", "/api/health")
    emu.fail_next(2, drop=True)
    assert c.call("GET", "/api/health")["database"] == "ok" and c.stats["retries"] == 2
    emu.fail_next(1, 504)
    assert c.call("GET", "/api/health")["database"] == "ok" and c.stats["retries"] == 3


def test_retry_after_is_honoured_and_4xx_not_retried(emu):
    c = GrafanaClient(emu.url, token=emu.token, retry_base_delay=0.001)
    emu.fail_next(1, 429, retry_after="1")
    t = time.monotonic()
    assert c.call("GET", "/api/health")["database"] == "ok"
    assert time.monotonic() - t >= 0.95 and len(emu.requests) == 2
    emu.reset_records()
    with pytest.raises(GrafanaError) as exc:
        c.call("POST", "/api/dashboards/db", body={"dashboard": {"title": ""}})
    assert exc.value.status == 400 and "Dashboard title cannot be empty" in exc.value.message
    assert len(emu.requests) == 1
    emu.fail_next(1, 404)
    with pytest.raises(GrafanaError):
        c.call("GET", "/api/health")
    assert len(emu.requests) == 2


# ------------------------------------------------------------------ security and preflight
def test_wrong_token_is_one_clear_line(emu, build):
    res = push(build, {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": make_token()})
    assert res.code == 1 and res.out == ""
    assert res.err.count("\n") == 1, res.err
    assert res.err.startswith("dashgen: error: Grafana rejected the credentials") and "Invalid API key" in res.err


def test_token_never_appears_anywhere(emu, env, build, tmp_path):
    emu.echo_auth_in_errors = True  # a hostile proxy echoing the Authorization header in error bodies
    outputs = []
    emu.fail_next(2, 503)
    outputs.append(push(build, env, "--output", "json"))
    emu.human_edit("voice-001")
    outputs.append(push(build, env))  # refused
    outputs.append(push(build, env, "--force", "--backup-dir", str(tmp_path / "bk")))
    emu.fail_fraction(1.0, faults=[Fault(400)], match=lambda m, p: m != "GET")
    write_build(build, 5, variant=" v2")
    outputs.append(push(build, env))
    emu.clear_faults()
    outputs.append(push(build, {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token + "x"}))
    assert any(emu.token in (r.body + json.dumps(r.headers)) for r in emu.requests)  # the sentinel was sent
    assert any("Bearer" in str(r.headers) for r in emu.requests)
    blob = "".join(r.all for r in outputs)
    blob += "".join(p.read_text() for p in (tmp_path / "bk").glob("*"))
    assert outputs[3].code == 1 and "HTTP 400" in outputs[3].out
    assert emu.token not in blob and emu.token[5:37] not in blob
    c = GrafanaClient(emu.url, token=emu.token)
    assert emu.token not in repr(c) and emu.token not in repr(c.__dict__.get("_secrets", "")[:0])
    with pytest.raises(GrafanaError) as exc:
        c.call("POST", "/api/dashboards/db", body={})
    assert emu.token not in str(exc.value) and emu.token not in json.dumps(exc.value.body)


def test_plain_http_to_remote_host_is_refused(build):
    res = push(build, {"GRAFANA_URL": "http://grafana.example.com", "GRAFANA_TOKEN": make_token()})
    assert res.code == 2 and "refusing to send credentials over plain http" in res.err and "--allow-insecure-http" in res.err
    c = GrafanaClient("http://grafana.example.com", token="glsa_x", allow_insecure_http=True)
    assert c.session.verify is True
    assert GrafanaClient("https://g.example.com", token="t").session.verify is True
    assert GrafanaClient("https://g.example.com", token="t", insecure_skip_verify=True).session.verify is False
    assert GrafanaClient("https://g.example.com", token="t", ca_cert="/etc/ca.pem").session.verify == "/etc/ca.pem"
    assert GrafanaClient("http://[::1]:3000", token="t").base_url == "http://[::1]:3000"


def test_basic_auth_and_org_mismatch(emu, build):
    res = push(build, {"GRAFANA_URL": emu.url, "GRAFANA_USER": "admin", "GRAFANA_PASSWORD": "admin-password"})
    assert res.code == 0, res.all
    res = push(build, {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token}, "--org-id", "2")
    assert res.code == 1 and "organization" in res.err and res.err.count("\n") == 1


@pytest.mark.parametrize("command", ["push", "plan"])
def test_missing_datasource_is_input_refused_at_preflight(emu, env, build, command):
    """Issue 23 section 4: input decided at preflight with nothing written is exit 2, not 1."""
    emu.remove_datasource("Tempo")
    res = run_cli([command, "--from", str(build), *FAST], env)
    assert res.code == 2 and res.err.count("\n") == 1, res.all
    assert "datasource 'Tempo'" in res.err and "not found" in res.err and "grafana.datasources" in res.err
    assert emu.writes() == []


def test_datasource_of_another_type_is_input_refused(emu, env, build):
    emu.remove_datasource("Tempo")
    emu.add_datasource("Tempo", "loki", "LOKI0000000000001")
    res = push(build, env)
    assert res.code == 2 and res.err.count("\n") == 1, res.all
    assert "datasource 'Tempo' has type 'loki'" in res.err and "expected 'tempo'" in res.err
    assert emu.writes() == []


# ------------------------------------------------------------------ the emulator itself is strict
def test_emulator_contract(emu):
    c = GrafanaClient(emu.url, token=emu.token, retries=0)

    def err(method, path, body=None, **kw):
        with pytest.raises(GrafanaError) as exc:
            c.call(method, path, body=body, **kw)
        return exc.value.status, exc.value.body

    s, b = err("GET", "/api/search", headers={"Authorization": ""})
    assert (s, b["messageId"]) == (401, "auth.unauthorized")
    assert err("POST", "/api/dashboards/db", {"dashboard": {"title": " "}})[1]["status"] == "empty-name"
    assert err("POST", "/api/dashboards/db", {"dashboard": {"title": "t"}, "message": "m" * 501})[1]["message"] == "message too long, max 500 characters"
    assert err("POST", "/api/dashboards/db", {"dashboard": {"title": "t", "uid": "a/b"}})[1]["message"] == "uid contains illegal characters"
    assert err("POST", "/api/dashboards/db", {"dashboard": {"title": "t", "uid": "a" * 41}})[1]["message"] == "uid too long, max 40 characters"
    assert err("POST", "/api/dashboards/db", {"dashboard": {"title": "t"}, "folderUid": "nope"})[1]["message"] == "Folder not found"
    assert c.call("POST", "/api/dashboards/db", body={"dashboard": {"title": "t", "uid": "x"}})["version"] == 1
    s, b = err("POST", "/api/dashboards/db", {"dashboard": {"title": "t", "uid": "x"}})
    assert (s, b["status"]) == (412, "version-mismatch")
    assert c.call("POST", "/api/dashboards/db", body={"dashboard": {"title": "t", "uid": "x", "version": 1}})["version"] == 2
    assert c.call("GET", "/api/dashboards/uid/x/versions")["versions"][0]["version"] == 2
    assert err("GET", "/api/search", params={"limit": 5001})[0] == 422
    c.call("POST", "/api/folders", body={"uid": "f1", "title": "F"})
    assert err("POST", "/api/folders", {"uid": "f2", "title": "F"})[0] == 409
    assert err("POST", "/api/folders", {"uid": "f1", "title": "G"})[0] == 412
    assert err("POST", "/api/folders", {"title": ""})[1]["message"] == "folder title cannot be empty"
    g = group_json(folder="f1")
    for r in g["rules"]:
        r["data"][0]["datasourceUid"] = "PBFA97CFB590B2093"
    s, b = err("PUT", "/api/v1/provisioning/folder/f1/rule-groups/voice-latency", dict(g, interval=15))
    assert s == 400 and "divided exactly by scheduler interval: 10" in b["message"]
    bad = json.loads(json.dumps(g))
    bad["rules"][0]["title"] = ""
    assert err("PUT", "/api/v1/provisioning/folder/f1/rule-groups/voice-latency", bad)[1]["message"] == "invalid alert rule: title is empty"
    g["rules"] = g["rules"][:1]
    c.call("PUT", "/api/v1/provisioning/folder/f1/rule-groups/voice-latency", body=g)
    live = c.call("GET", "/api/v1/provisioning/alert-rules/tts-first-byte-p95")
    assert live["provenance"] == "api" and live["data"][0]["model"]["maxDataPoints"] == 43200
    s, b = err("DELETE", "/api/v1/provisioning/alert-rules/tts-first-byte-p95", headers={"X-Disable-Provenance": "1"})
    assert (s, b["messageId"]) == (409, "alerting.provenanceMismatch")
    assert c.call("GET", "/api/v1/provisioning/alert-rules/export", params={"folderUid": "f1", "format": "json"})["groups"][0]["name"] == "voice-latency"
    assert c.call("DELETE", "/api/v1/provisioning/alert-rules/nope", ok=(204,)) is None
    rec = recording_group_json(folder="f1")
    rec["rules"][0]["data"][0]["datasourceUid"] = "PBFA97CFB590B2093"
    s, b = err("PUT", "/api/v1/provisioning/folder/f1/rule-groups/rec", rec)
    assert (s, b["message"]) == (400, "invalid alert rule: recording rules cannot be created on this instance")
    emu.feature_toggles["grafanaManagedRecordingRules"] = True
    rec["rules"][0]["record"]["metric"] = "bad metric"
    s, b = err("PUT", "/api/v1/provisioning/folder/f1/rule-groups/rec", rec)
    assert "valid Prometheus metric name" in b["message"]
    settings = c.call("GET", "/api/frontend/settings")
    assert settings["featureToggles"] == {"grafanaManagedRecordingRules": True}
    assert settings["datasources"]["Tempo"]["meta"]["alerting"] is False  # 11.6: no Tempo alerting
    assert err("GET", "/apis")[0] == 404  # 11.x: no App Platform for general use


# ------------------------------------------------------------------ the real build output
STOCK = ["11.6.0", "12.2.0", "13.0.0"]


def _real_build(tmp_path, text: str | None = None):
    """The bundled catalog's build output (or ``text``'s), its dashboard count and Grafana groups."""
    from dashgen.artifacts import write_output
    from dashgen.build import build_artifacts
    from dashgen.catalog import load_catalog, parse_catalog

    out = tmp_path / "real"
    catalog = load_catalog(None) if text is None else parse_catalog(text, "my.yaml")
    write_output(build_artifacts(catalog).artifacts, out)
    n_dash = len(list((out / "dashboards").glob("*/*.json")))
    groups = {p.stem: json.loads(p.read_text()) for p in (out / "alerts" / "grafana").glob("*/*.json")}
    return out, n_dash, groups


@pytest.mark.parametrize("version", STOCK)
def test_push_real_build_output_to_stock_grafana(version, tmp_path):
    """The bundled catalog pushes with exit 0 to a stock 11.6, 12 and 13 (grafanaManagedRecordingRules
    off): its SLO recording group is left out with one notice naming the toggle (the Prometheus rule
    files carry it), everything else is created, nothing is refused; a second push writes nothing."""
    out, n_dash, groups = _real_build(tmp_path)
    assert {k for k, g in groups.items() if any("record" in r for r in g["rules"])} == {"voice-slo-recording"}
    with GrafanaEmulator(grafana_version=version) as emu:
        env = {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token}
        res = run_cli(["push", "--from", str(out), *FAST, "--output", "json"], env)
        assert res.code == 0, res.all
        doc = json_out(res)
        assert doc["summary"] == {"created": 1 + n_dash + len(groups) - 1}
        notes = [ln for ln in res.err.splitlines() if ln.startswith("dashgen: note:")]
        assert len(notes) == 1 and "grafanaManagedRecordingRules" in notes[0] and "voice-slo-recording" in notes[0]
        assert version in notes[0] and doc["notices"] and "alerts/prometheus" in doc["notices"][0]
        assert len(emu.dashboards) == n_dash
        assert all(marker_tag(d.data) == content_hash(d.data, d.folder_uid) for d in emu.dashboards.values())
        assert all(r["provenance"] == "api" and "record" not in r for r in emu.rules.values())
        assert not [r for r in emu.requests if r.status == 400]
        emu.reset_records()
        res = run_cli(["push", *FAST], env)  # builds from the bundled catalog itself: same result, no writes
        assert res.code == 0, res.all
        assert emu.writes() == []
        assert not [r.path for r in emu.requests if "slo-recording" in r.path]  # left out: not even read


@pytest.mark.parametrize("version", STOCK)
def test_bundled_recording_rules_pushed_where_the_toggle_is_on(version, tmp_path):
    out, n_dash, groups = _real_build(tmp_path)
    with GrafanaEmulator(grafana_version=version, feature_toggles={"grafanaManagedRecordingRules": True}) as emu:
        env = {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token}
        res = run_cli(["push", "--from", str(out), *FAST, "--output", "json"], env)
        assert res.code == 0, res.all
        assert json_out(res)["summary"] == {"created": 1 + n_dash + len(groups)} and "note:" not in res.err
        recorded = [r for r in emu.rules.values() if r.get("record")]
        assert len(recorded) == len(groups["voice-slo-recording"]["rules"]) == 60
        emu.reset_records()
        assert run_cli(["push", "--from", str(out), *FAST], env).code == 0 and emu.writes() == []


@pytest.mark.parametrize("version", STOCK)
def test_catalog_that_requires_recording_rules_is_refused_on_stock_grafana(version, tmp_path, default_catalog_text):
    """alerting.grafana_recording_rules: true is an explicit ask: an instance without the toggle is
    refused before any write (exit 2, one line naming the toggle and the version); auto (the
    default) leaves them out instead (above)."""
    text = default_catalog_text.replace("alerting:\n", "alerting:\n  grafana_recording_rules: true\n", 1)
    assert text != default_catalog_text
    out, _, _ = _real_build(tmp_path, text)
    with GrafanaEmulator(grafana_version=version) as emu:
        env = {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token}
        for cmd in ("push", "plan"):
            res = run_cli([cmd, "--from", str(out), *FAST], env)
            assert res.code == 2 and emu.writes() == [], res.all
            assert res.err.count("\n") == 1 and "grafanaManagedRecordingRules" in res.err and version in res.err
            assert "alerting.grafana_recording_rules: true" in res.err and "Traceback" not in res.all
    with GrafanaEmulator(grafana_version=version, feature_toggles={"grafanaManagedRecordingRules": True}) as emu:
        res = run_cli(["push", "--from", str(out), *FAST], {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token})
        assert res.code == 0 and any(r.get("record") for r in emu.rules.values()), res.all


def test_recording_rules_pushed_where_the_toggle_is_on(tmp_path):
    build = write_build(tmp_path / "b", 2, groups=[group_json(), recording_group_json()])
    with GrafanaEmulator(grafana_version="12.2.0", feature_toggles={"grafanaManagedRecordingRules": True}) as emu:
        env = {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token}
        res = push(build, env, "--recording-rules", "require")
        assert res.code == 0, res.all
        stored = emu.rules["tts-bad-ratio-5m"]
        assert stored["record"]["metric"] == "slo:bad_event_ratio:rate5m" and stored["condition"] == ""
        assert "note:" not in res.err
        emu.reset_records()  # Grafana cleared the alerting-only fields: still not a change, nor drift
        res = push(build, env)
        assert res.code == 0 and emu.writes() == [], res.all


@pytest.mark.parametrize("version", STOCK)
def test_recording_rules_required_but_toggle_off_is_exit_2(version, tmp_path):
    build = write_build(tmp_path / "b", 2, groups=[group_json(), recording_group_json()])
    with GrafanaEmulator(grafana_version=version) as emu:
        env = {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token}
        res = push(build, env, "--recording-rules", "require")
        assert res.code == 2 and emu.writes() == [], res.all
        assert res.err.count("\n") == 1 and "grafanaManagedRecordingRules" in res.err and version in res.err
        res = push(build, env)  # auto: left out, the rest pushed
        assert res.code == 0 and "tts-bad-ratio-5m" not in emu.rules and "llm-error-rate" in emu.rules


@pytest.mark.parametrize("version,toggles,ok", [
    ("11.6.0", {"tempoAlerting": True}, False),  # the toggle does not exist before 12.1
    ("12.0.2", {"tempoAlerting": True}, False),
    ("12.2.0", {}, False),  # stock: off
    ("13.0.0", {}, False),
    ("12.1.0", {"tempoAlerting": True}, True),
    ("13.0.0", {"tempoAlerting": True}, True),
])
def test_tempo_rules_need_12_1_with_tempo_alerting(version, toggles, ok, tmp_path):
    """Tempo rules exist in a build only when the catalog opted in (alerting.tempo_rules): an
    instance that cannot evaluate them is refused before any write, naming version and toggle."""
    build = write_build(tmp_path / "b", 2, groups=[group_json(tempo=True)])
    with GrafanaEmulator(grafana_version=version, feature_toggles=toggles) as emu:
        res = push(build, {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token})
        if ok:
            assert res.code == 0, res.all
            assert emu.rules["slow-turns-tempo"]["data"][0]["datasourceUid"] == "P214B5B846CF3925F"
            return
        assert res.code == 2 and emu.writes() == [], res.all
        assert res.err.count("\n") == 1 and "tempoAlerting" in res.err and "12.1" in res.err and version in res.err


def test_preflight_learns_version_toggles_and_api_groups(tmp_path):
    from dashgen.grafana.instance import Instance, preflight_reads
    from dashgen.grafana.workflow import run_round

    for version, groups in (("11.6.0", {}), ("12.2.0", {"dashboard.grafana.app": "v1beta1"}),
                            ("13.0.0", {"dashboard.grafana.app": "v1"})):
        with GrafanaEmulator(grafana_version=version, feature_toggles={"tempoAlerting": True}) as emu:
            inst = Instance(emu.url)
            c = GrafanaClient(emu.url, token=emu.token)
            assert run_round(preflight_reads(c, inst, {"t": {"type": "tempo", "name": "Tempo", "uid": "t"}}), 4) is None
            inst.raise_problems()
            assert inst.version == version and inst.toggle("tempoAlerting") and not inst.recording_rules
            assert inst.datasources["t"]["uid"] == "P214B5B846CF3925F"
            assert {g: v["preferredVersion"]["version"] for g, v in inst.api_groups.items()
                    if g == "dashboard.grafana.app"} == groups
            assert inst.tempo_alerting("Tempo") is (version != "11.6.0")


def test_dry_run_and_provisioned_dashboard(emu, env, build):
    res = push(build, env, "--dry-run")
    assert res.code == 0 and "Plan: 7 create" in res.out and emu.writes() == []
    emu.add_folder(FOLDER, "Voice agent")
    emu.add_dashboard({"uid": "voice-001", "title": "From files", "tags": ["dashgen"]}, FOLDER, provisioned=True)
    res = push(build, env, "--force")  # even --force cannot save a provisioned dashboard: refused up front
    assert res.code == 3 and "provisioned" in res.err and emu.writes() == []


def test_progress_bar_on_a_terminal_and_lines_otherwise():
    import io

    from dashgen.grafana.report import Progress

    tty = io.StringIO()
    p = Progress(2, tty, tty=True)
    p.step("create dashboard a")
    p.step("create dashboard b")
    assert tty.getvalue().startswith("\r[") and "2/2" in tty.getvalue() and tty.getvalue().endswith("\n")
    plain = io.StringIO()
    p = Progress(2, plain, tty=False)
    p.step("update dashboard voice-tts")
    assert plain.getvalue() == "[1/2] update dashboard voice-tts\n"


# ------------------------------------------------------------------ App Platform (--api auto|legacy|apps)
@contextlib.contextmanager
def grafana(version, **toggles_etc):
    """An emulator of ``version`` and the environment that points dashgen at it."""
    with GrafanaEmulator(grafana_version=version, **toggles_etc) as emu:
        yield emu, {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token}


@pytest.mark.parametrize("version,api_version", [("12.2.0", "v1beta1"), ("13.0.0", "v1")])
def test_apps_mode_objects_ownership_and_noop(version, api_version, build):
    with grafana(version) as (emu, env):
        res = push(build, env)
        assert res.code == 0, res.all
        writes = [(w.method, w.path) for w in emu.writes()]
        assert writes[0] == ("POST", f"/apis/folder.grafana.app/{api_version}/namespaces/default/folders")
        assert sorted(writes[1:])[:5] == [("POST", f"/apis/dashboard.grafana.app/{api_version}/namespaces/default/dashboards")] * 5
        assert not [p for _, p in writes if p.startswith(("/api/dashboards", "/api/folders"))]
        d = emu.dashboards["voice-002"]
        assert d.folder_uid == FOLDER and d.annotations == {
            "grafana.app/managedBy": "dashgen", "grafana.app/managerId": "voice-test",
            "grafana.app/sourcePath": "dashboards/voice-agent/voice-002.json",
            "grafana.app/sourceChecksum": marker_tag(d.data)}
        assert marker_tag(d.data) == content_hash(d.data, FOLDER)  # the tags stay: readable both ways
        assert re.fullmatch(r"dashgen \d+\.\d+\.\d+( [0-9a-f]{4,40})?", d.versions[-1]["message"])
        emu.reset_records()
        res = push(build, env)
        assert res.code == 0 and emu.writes() == [], res.all
        dash_reads = [r.path for r in emu.requests if "/dashboards/" in r.path]
        # the probe runs beside the preflight, before the API is chosen, so through /api; then
        # every dashboard, the probe's too, through the App Platform
        assert dash_reads[0] == "/api/dashboards/uid/voice-000"
        assert sorted(dash_reads[1:]) == [f"/apis/dashboard.grafana.app/{api_version}/namespaces/default/dashboards/"
                                          f"voice-00{i}" for i in range(5)]
        assert len(emu.requests) == 6 + 4  # health, settings, /apis, the probe, 5 dashboards, 1 rule group


def test_api_apps_needs_grafana_12_and_legacy_still_works_on_13(build):
    with grafana("11.6.0") as (emu, env):
        res = push(build, env, "--api", "apps")
        assert res.code == 2 and emu.writes() == [] and res.err.count("\n") == 1, res.all
        assert "11.6.0" in res.err and "dashboard.grafana.app" in res.err and "Grafana 12" in res.err
        assert push(build, env).code == 0  # auto on 11.6: legacy
        assert {w.path for w in emu.writes()} >= {"/api/dashboards/db", "/api/folders"}
    with grafana("13.0.0") as (emu, env):
        res = push(build, env, "--api", "legacy")
        assert res.code == 0, res.all
        assert not [r for r in emu.requests if r.path.startswith("/apis")]
        assert {w.path for w in emu.writes()} >= {"/api/dashboards/db", "/api/folders"}


@pytest.mark.parametrize("first,then", [("legacy", "auto"), ("apps", "legacy")])
def test_pushed_one_way_is_recognised_the_other_way(first, then, build):
    """Switching a live instance between legacy and apps mode rewrites nothing."""
    with grafana("13.0.0") as (emu, env):
        assert push(build, env, "--api", first).code == 0
        emu.reset_records()
        res = push(build, env, "--api", then, "--output", "json")
        assert res.code == 0, res.all
        assert emu.writes() == [] and json_out(res)["summary"] == {"unchanged": 7}
        write_build(build, 5, variant=" v2")  # and a real change goes through the other API
        res = push(build, env, "--api", then)
        assert res.code == 0, res.all
        assert len([w for w in emu.writes() if "dashboard" in w.path]) == 5


def test_apps_human_edit_and_resource_version_conflict_are_drift(build):
    with grafana("13.0.0") as (emu, env):
        assert push(build, env).code == 0
        emu.human_edit("voice-003", user="alice")
        emu.reset_records()
        res = push(build, env)
        assert res.code == 3 and emu.writes() == [], res.all
        line = next(ln for ln in res.err.splitlines() if "voice-003" in ln)
        assert "drifted" in line and "user:alice" in line and re.search(r"\d{4}-\d\d-\d\dT", line)
        del emu.dashboards["voice-003"]
        write_build(build, 5, variant=" v2")
        emu.before_save("voice-001", lambda: emu.human_edit("voice-001", user="dave"))
        emu.reset_records()
        res = push(build, env, "--output", "json")
        assert res.code == 3, res.all
        got = {r["key"]: r for r in json_out(res)["resources"]}
        assert got["voice-001"]["outcome"] == "conflict" and "409" in got["voice-001"]["detail"]
        assert "user:dave" in got["voice-001"]["detail"]
        puts = [r for r in emu.requests if r.method == "PUT" and r.path.endswith("/voice-001")]
        assert len(puts) == 1 and puts[0].status == 409  # never retried blindly
        assert emu.dashboards["voice-001"].updated_by == "dave"
        assert got["voice-002"]["outcome"] == "updated" and got["voice-003"]["outcome"] == "created"


@pytest.mark.parametrize("kind,identity", [("terraform", "tf-voice"), ("repo", "git-sync-main"), ("dashgen", "other-catalog")])
def test_foreign_manager_is_exit_3_naming_it_even_with_force(kind, identity, build, tmp_path):
    with grafana("13.0.0") as (emu, env):
        emu.add_folder(FOLDER, "Voice agent")
        emu.add_dashboard({"uid": "voice-001", "title": "Theirs", "tags": ["dashgen"]}, FOLDER,
                          annotations={"grafana.app/managedBy": kind, "grafana.app/managerId": identity})
        for extra in ([], ["--force", "--backup-dir", str(tmp_path / "b")]):
            res = push(build, env, *extra)
            assert res.code == 3 and emu.writes() == [], res.all
            line = next(ln for ln in res.err.splitlines() if "voice-001" in ln)
            assert f"managed by {kind} {identity!r}" in line
        assert emu.dashboards["voice-001"].data["title"] == "Theirs"


def test_emulator_app_platform_contract():
    with grafana("13.0.0") as (emu, _):
        c = GrafanaClient(emu.url, token=emu.token, retries=0)
        base = "/apis/dashboard.grafana.app/v1/namespaces/default/dashboards"

        def err(method, path, body=None):
            with pytest.raises(GrafanaError) as exc:
                c.call(method, path, body=body, ok=(200, 201))
            return exc.value.status, exc.value.body

        obj = {"apiVersion": "dashboard.grafana.app/v1", "kind": "Dashboard",
               "metadata": {"name": "x", "annotations": {"grafana.app/managedBy": "terraform", "grafana.app/managerId": "a"}},
               "spec": {"title": "X"}}
        assert err("GET", "/apis/folder.grafana.app/v0alpha1/namespaces/default/folders/f")[0] == 404
        assert err("GET", "/apis/dashboard.grafana.app/v1/namespaces/org-2/dashboards/x")[0] == 403
        assert err("POST", base, dict(obj, metadata={}))[1]["reason"] == "Invalid"
        assert err("POST", base, dict(obj, apiVersion="dashboard.grafana.app/v1beta1"))[0] == 400
        assert err("POST", base, dict(obj, metadata=dict(obj["metadata"], resourceVersion="1")))[0] == 500
        created = c.call("POST", base, body=obj, ok=(201,))
        assert created["metadata"]["generation"] == 1 and "x" in emu.dashboards
        assert err("POST", base, obj)[1]["reason"] == "AlreadyExists"
        stale = dict(obj, metadata=dict(obj["metadata"], resourceVersion="1"))
        assert err("PUT", f"{base}/x", stale)[1]["reason"] == "Conflict"
        other = dict(obj, metadata={"name": "x", "annotations": {"grafana.app/managedBy": "kubectl", "grafana.app/managerId": "a"}})
        s, b = err("PUT", f"{base}/x", other)
        assert s == 403 and b["details"]["causes"][0]["reason"] == "ResourceManagerKindConflict"
        legacy = c.call("GET", "/api/dashboards/uid/x")  # one store, two views
        assert legacy["dashboard"]["title"] == "X" and legacy["dashboard"]["uid"] == "x"
        assert c.call("DELETE", f"{base}/x")["status"] == "Success"
        with pytest.raises(GrafanaError) as exc:
            c.call("GET", "/apis/dashboard.grafana.app/v1/namespaces/default/dashboards/x")
        assert exc.value.status == 404


# ------------------------------------------------------------------ v2 dashboards (dynamic dashboards)
@pytest.mark.parametrize("version,api,stored", [("13.0.0", "auto", "v2"), ("13.0.0", "legacy", "v2"),
                                                ("12.2.0", "legacy", "v2beta1"), ("12.2.0", "apps", "v2beta1")])
def test_v2_resaved_dashboard_is_drift_and_force_backs_up_the_v2_object(version, api, stored, build, tmp_path):
    """A person re-saved a dashgen dashboard in the dynamic-dashboards editor: it is stored as v2,
    the legacy GET answers 406. Both modes report it (exit 3: who, when, what changed in the v1
    view), never overwrite it silently; --force saves the v2 object, then writes the build."""
    with grafana(version) as (emu, env):
        assert push(build, env, "--api", api).code == 0
        emu.ui_save_v2("voice-002", user="carol")
        assert emu.dashboards["voice-002"].stored == stored
        for cmd in (["plan"], ["push"]):
            emu.reset_records()
            res = run_cli([*cmd, "--from", str(build), *FAST, "--api", api], env)
            assert res.code == 3 and emu.writes() == [], res.all
            line = next(ln for ln in res.err.splitlines() if "voice-002" in ln)
            assert "drifted" in line and f"stored as {stored}" in line and "user:carol" in line
            assert re.search(r"\d{4}-\d\d-\d\dT", line) and "(edited)" in line  # what changed, in the v1 view
            assert "HTTP 406" not in res.all and "Traceback" not in res.all
        res = push(build, env, "--api", api, "--force", "--backup-dir", str(tmp_path / "bk"))
        assert res.code == 0, res.all
        backup = json.loads(next((tmp_path / "bk").glob("*voice-002*")).read_text())
        assert backup["apiVersion"] == f"dashboard.grafana.app/{stored}" and "elements" in backup["spec"]
        assert emu.dashboards["voice-002"].stored == "v1"
        assert emu.dashboards["voice-002"].data["panels"][0]["title"] == "stage 2 p95"
        emu.reset_records()
        assert push(build, env, "--api", api).code == 0 and emu.writes() == []


def test_emulator_v2_views():
    with grafana("13.0.0") as (emu, _):
        c = GrafanaClient(emu.url, token=emu.token, retries=0)
        emu.add_dashboard({"uid": "d", "title": "D", "panels": [{"id": 1, "type": "timeseries", "title": "p"}]})
        assert c.call("GET", "/apis/dashboard.grafana.app/v1/namespaces/default/dashboards/d")["status"] == {}
        emu.ui_save_v2("d")
        with pytest.raises(GrafanaError) as exc:
            c.call("GET", "/api/dashboards/uid/d")
        assert exc.value.status == 406 and "/apis/dashboard.grafana.app/v2/namespaces/default/dashboards/d" in exc.value.message
        v1 = c.call("GET", "/apis/dashboard.grafana.app/v1/namespaces/default/dashboards/d")
        assert v1["status"]["conversion"] == {"failed": False, "storedVersion": "v2"} and v1["spec"]["panels"][0]["title"] == "p (edited)"
        v2 = c.call("GET", "/apis/dashboard.grafana.app/v2/namespaces/default/dashboards/d")
        assert v2["status"] == {} and v2["spec"]["elements"]["panel-1"]["spec"]["title"] == "p (edited)"
        assert [h["uid"] for h in c.call("GET", "/api/search", params={"dashboardUIDs": "d"})] == ["d"]


def test_legacy_406_is_a_v2_dashboard_whatever_its_message_says():
    """Grafana's 406 names the v2 API to use; a 406 worded otherwise (a proxy, another release) is
    still "stored as v2", never a generic HTTP error."""
    from dashgen.grafana.client import GrafanaError
    from dashgen.grafana.dashboard_api import LegacyDashboards

    class Answers406:
        def __init__(self, message: str):
            self.message = message

        def call(self, method: str, path: str, **_: object) -> None:
            raise GrafanaError(f"{method} {path}: HTTP 406: {self.message}", 406, None, method, path)

    hinted = "dashboard api version not supported, use /apis/dashboard.grafana.app/v2beta1/namespaces/default/dashboards/x instead"
    assert LegacyDashboards(Answers406(hinted)).get("x").stored_version == "v2beta1"
    live = LegacyDashboards(Answers406("Not Acceptable")).get("x")
    assert live.stored_version == "v2" and live.dashboard == {}


def test_recording_rules_refused_despite_the_toggle_are_left_out_not_failed(tmp_path):
    """Detect with the toggle, and still handle the 400 (pkg/services/ngalert/api/api_provisioning.go). An instance
    whose toggle is on but whose grafana.ini turns recording rules off refuses the group: in auto
    mode that group is left out (exit 0, saying why), the rest pushed; when required, it fails."""
    build = write_build(tmp_path / "b", 2, groups=[group_json(), recording_group_json()])
    with GrafanaEmulator(grafana_version="12.2.0", feature_toggles={"grafanaManagedRecordingRules": True}) as emu:
        emu.recording_rules_enabled = False
        env = {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token}
        res = push(build, env, "--output", "json")
        assert res.code == 0, res.all
        got = {r["key"]: r for r in json_out(res)["resources"]}
        recording = got[f"{FOLDER}/voice-slo-recording"]
        assert recording["outcome"] == "left out" and "[recording_rules]" in recording["detail"]
        assert got[f"{FOLDER}/{GROUP}"]["outcome"] == "created"
        assert "llm-error-rate" in emu.rules and not [r for r in emu.rules.values() if r.get("record")]
        res = push(build, env, "--recording-rules", "require")
        assert res.code == 1 and "recording rules cannot be created on this instance" in res.all
