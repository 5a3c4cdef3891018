"""Grafana 13's own format: ``build --schema-version v2`` and the Git Sync tree.

The v2 build is checked against the classic build of the same catalog (one element per classic
panel, same rows, queries, variables, links, thresholds), against Grafana's v2 schema, and
through the commands that read it (lint, diff).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from dashgen.artifacts import DASHBOARD, kind_of
from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog
from dashgen.dashboards.v2 import V2, V2BETA1, comparable, is_v2, to_classic, to_v2
from dashgen.lint.schemas import SchemaSet, validate_v2_dashboard

PRESETS = ("default", "livekit", "pipecat")


def dashboards_of(artifacts: dict[str, str]) -> dict[str, dict]:
    return {rel: json.loads(text) for rel, text in artifacts.items() if kind_of(rel) == DASHBOARD}


@pytest.fixture(scope="module", params=PRESETS)
def builds(request):
    catalog = load_catalog(request.param)
    return (dashboards_of(build_artifacts(catalog, 42).artifacts),
            dashboards_of(build_artifacts(catalog, "v2").artifacts), build_artifacts(catalog, "v2").artifacts)


def leaf_panels(panels: list) -> list:
    out = []
    for p in panels:
        if p.get("type") == "row":
            out.extend(p.get("panels") or [])
        else:
            out.append(p)
    return out


def test_v2_build_writes_app_platform_objects_one_element_per_panel(builds):
    classic, v2, _ = builds
    assert set(classic) == set(v2)
    for rel, obj in v2.items():
        d = classic[rel]
        assert obj["apiVersion"] == V2 and obj["kind"] == "Dashboard"
        assert obj["metadata"]["name"] == d["uid"] == Path(rel).stem
        spec = obj["spec"]
        panels = leaf_panels(d["panels"])
        assert sorted(spec["elements"]) == sorted(f"panel-{p['id']}" for p in panels)
        for p in panels:
            el = spec["elements"][f"panel-{p['id']}"]
            assert el["kind"] == "Panel"
            assert el["spec"]["title"] == p["title"]
            assert el["spec"]["vizConfig"]["group"] == p["type"]
            queries = el["spec"]["data"]["spec"]["queries"]
            assert [q["spec"]["refId"] for q in queries] == [t["refId"] for t in p.get("targets", [])]
            for q, t in zip(queries, p.get("targets", [])):
                assert q["spec"]["query"]["kind"] == "DataQuery"
                assert q["spec"]["query"]["group"] == t["datasource"]["type"]
                assert q["spec"]["query"]["datasource"] == {"name": t["datasource"]["uid"]}
                for key in ("expr", "query"):
                    if key in t:
                        assert q["spec"]["query"]["spec"][key] == t[key]
            assert el["spec"]["vizConfig"]["spec"]["fieldConfig"]["defaults"].get("thresholds") == \
                (p.get("fieldConfig") or {}).get("defaults", {}).get("thresholds")
        rows = [p for p in d["panels"] if p["type"] == "row"]
        if rows:
            assert spec["layout"]["kind"] == "RowsLayout"
            titled = [r["spec"]["title"] for r in spec["layout"]["spec"]["rows"] if not r["spec"].get("hideHeader")]
            assert titled == [r["title"] for r in rows]
            assert [r["spec"]["collapse"] for r in spec["layout"]["spec"]["rows"] if not r["spec"].get("hideHeader")] \
                == [r["collapsed"] for r in rows]
        else:
            assert spec["layout"]["kind"] == "GridLayout"
        assert [v["spec"]["name"] for v in spec["variables"]] == [v["name"] for v in d["templating"]["list"]]
        assert [link["title"] for link in spec["links"]] == [link["title"] for link in d.get("links", [])]
        assert spec["timeSettings"]["from"] == d["time"]["from"]


def normalised(d: dict) -> dict:
    """The documented normalisations of a v2 round trip (dashboards/v2.py ``comparable``)."""
    return comparable(d)


def test_round_trip_keeps_every_panel_query_variable_link_and_threshold(builds):
    classic, _, _ = builds
    for rel, d in classic.items():
        back = to_classic(to_v2(d))
        assert back["schemaVersion"] == 42
        assert normalised(back) == normalised(d), rel


def test_round_trip_catches_a_lost_query():
    d = {"uid": "x", "title": "X", "panels": [
        {"id": 1, "type": "timeseries", "title": "A", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
         "targets": [{"refId": "A", "datasource": {"type": "prometheus", "uid": "p"}, "expr": "up"}]}]}
    obj = to_v2(d)
    obj["spec"]["elements"]["panel-1"]["spec"]["data"]["spec"]["queries"] = []
    assert normalised(to_classic(obj)) != normalised(d)


def test_rows_place_their_panels_from_the_row_top_and_keep_collapsed_children():
    d = {"uid": "r", "title": "R", "panels": [
        {"id": 1, "type": "stat", "title": "top", "gridPos": {"x": 0, "y": 0, "w": 6, "h": 4}},
        {"id": 2, "type": "row", "title": "open", "collapsed": False, "gridPos": {"x": 0, "y": 4, "w": 24, "h": 1},
         "panels": []},
        {"id": 3, "type": "stat", "title": "in open", "gridPos": {"x": 0, "y": 5, "w": 6, "h": 4}},
        {"id": 4, "type": "row", "title": "closed", "collapsed": True, "gridPos": {"x": 0, "y": 9, "w": 24, "h": 1},
         "panels": [{"id": 5, "type": "stat", "title": "hidden", "gridPos": {"x": 6, "y": 10, "w": 6, "h": 4}}]},
    ]}
    rows = to_v2(d)["spec"]["layout"]["spec"]["rows"]
    assert [r["spec"].get("hideHeader", False) for r in rows] == [True, False, False]
    assert rows[1]["spec"]["layout"]["spec"]["items"][0]["spec"]["y"] == 0
    assert rows[2]["spec"]["collapse"] is True
    assert rows[2]["spec"]["layout"]["spec"]["items"][0]["spec"]["element"]["name"] == "panel-5"
    back = to_classic(to_v2(d))
    assert [(p["type"], p["title"], p["gridPos"]["y"]) for p in back["panels"]] == \
        [("stat", "top", 0), ("row", "open", 4), ("stat", "in open", 5), ("row", "closed", 9)]
    assert back["panels"][3]["panels"][0]["title"] == "hidden"


def test_v2beta1_names_transformations_by_kind_and_v2_by_group():
    d = {"uid": "t", "title": "T", "panels": [{"id": 1, "type": "table", "title": "t", "transformations": [
        {"id": "organize", "options": {"a": 1}}]}]}
    v2 = to_v2(d, V2)["spec"]["elements"]["panel-1"]["spec"]["data"]["spec"]["transformations"][0]
    beta = to_v2(d, V2BETA1)["spec"]["elements"]["panel-1"]["spec"]["data"]["spec"]["transformations"][0]
    assert v2 == {"kind": "Transformation", "group": "organize", "spec": {"options": {"a": 1}}}
    assert beta == {"kind": "organize", "spec": {"id": "organize", "options": {"a": 1}}}
    for obj in (to_v2(d, V2), to_v2(d, V2BETA1)):
        assert to_classic(obj)["panels"][0]["transformations"] == d["panels"][0]["transformations"]


def test_v2_spec_passes_grafanas_v2_schema(builds, grafana_schemas):
    """v2 objects against Grafana 13's v2 schema, and the v2beta1 form push writes on Grafana 12
    against 12's (both generated from that release's @grafana/schema)."""
    classic, v2, _ = builds
    schemas13, schemas12 = SchemaSet(grafana_schemas / "grafana-13"), SchemaSet(grafana_schemas / "grafana-12")
    assert schemas13.v2_validator() is not None and schemas12.v2_validator() is not None
    for rel, obj in v2.items():
        assert is_v2(obj)
        assert validate_v2_dashboard(obj, schemas13, rel) == [], rel
        assert validate_v2_dashboard(to_v2(classic[rel], V2BETA1), schemas12, rel) == [], rel


def test_v2_schema_check_catches_a_broken_element(builds, grafana_schemas):
    _, v2, _ = builds
    obj = copy.deepcopy(next(iter(v2.values())))
    name = sorted(obj["spec"]["elements"])[0]
    del obj["spec"]["elements"][name]["spec"]["vizConfig"]
    problems = validate_v2_dashboard(obj, SchemaSet(grafana_schemas / "grafana-13"), "x")
    assert problems and "elements" in problems[0].path


def test_v2_build_is_deterministic_and_its_manifest_says_v2(builds):
    _, _, artifacts = builds
    assert "dashboard_format: v2" in artifacts["dashboards/manifest.yaml"]
    catalog = load_catalog("default")
    assert build_artifacts(catalog, "v2").artifacts == build_artifacts(catalog, "v2").artifacts


def test_lint_and_diff_read_v2_output(tmp_path, dashgen_cli, grafana_schemas):
    classic, v2 = tmp_path / "classic", tmp_path / "v2"
    assert dashgen_cli("build", "-o", str(classic), "--schema-version", "42").returncode == 0
    res = dashgen_cli("build", "-o", str(v2), "--schema-version", "v2")
    assert res.returncode == 0, res.stderr
    res = dashgen_cli("lint", "--from", str(v2), "--schemas", str(grafana_schemas / "grafana-13"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "schemas checked" in res.stdout
    # the same dashboards in two formats: diff (through the classic view) finds no dashboard change
    res = dashgen_cli("diff", "--against", str(classic), "--head", str(v2), "--format", "json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert not [s for s in report.get("sections", []) if s.get("kind") == "dashboard"], res.stdout
    # and a real change in the v2 file is seen
    tts = v2 / "dashboards" / "voice-agent" / "voice-tts.json"
    obj = json.loads(tts.read_text())
    el = next(e for e in obj["spec"]["elements"].values() if e["spec"]["title"].startswith("Time to first audio"))
    el["spec"]["title"] = "TTS first audio (renamed)"
    tts.write_text(json.dumps(obj))
    res = dashgen_cli("diff", "--against", str(classic), "--head", str(v2))
    assert "TTS first audio (renamed)" in res.stdout, res.stdout


def test_git_sync_tree(tmp_path, dashgen_cli):
    out, repo = tmp_path / "out", tmp_path / "repo" / "voice"
    (repo / "other-team").mkdir(parents=True)
    (repo / "other-team" / "keep.json").write_text("{}")
    res = dashgen_cli("build", "-o", str(out), "--schema-version", "v2", "--git-sync", str(repo))
    assert res.returncode == 0, res.stderr
    assert "Git Sync carries no alert rules" in res.stdout
    folder = json.loads((repo / "voice-agent" / "_folder.json").read_text())
    assert folder == {"apiVersion": "folder.grafana.app/v1beta1", "kind": "Folder",
                      "metadata": {"name": "voice-agent"}, "spec": {"title": "Voice agent"}}
    built = {p.name for p in (out / "dashboards" / "voice-agent").glob("*.json")}
    synced = {p.name for p in (repo / "voice-agent").glob("*.json")} - {"_folder.json"}
    assert synced == built and len(built) == 9
    for name in built:
        assert (repo / "voice-agent" / name).read_bytes() == (out / "dashboards" / "voice-agent" / name).read_bytes()
        assert json.loads((repo / "voice-agent" / name).read_text())["apiVersion"] == V2
    assert (repo / "other-team" / "keep.json").read_text() == "{}"  # not ours: left alone
    assert not list((repo / "voice-agent").glob("alert*"))
    ok = dashgen_cli("build", "-o", str(out), "--schema-version", "v2", "--git-sync", str(repo), "--check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (repo / "voice-agent" / "stray.json").write_text("{}")
    stale = dashgen_cli("build", "-o", str(out), "--schema-version", "v2", "--git-sync", str(repo), "--check")
    assert stale.returncode == 1 and "extra: voice-agent/stray.json" in stale.stdout


def test_git_sync_limit_is_a_located_refusal_with_nothing_written(tmp_path, dashgen_cli):
    repo = tmp_path / "repo"
    res = dashgen_cli("build", "-o", str(tmp_path / "out"), "--git-sync", str(repo), "--git-sync-max-resources", "5")
    assert res.returncode == 2
    assert "10 resources" in res.stderr and "max_resources_per_repository" in res.stderr
    assert "Traceback" not in res.stderr
    assert not repo.exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("version,api", [("11.6.0", "auto"), ("13.0.0", "legacy")])
def test_push_of_v2_dashboards_needs_the_app_platform_v2_api(version, api, tmp_path, dashgen_cli):
    out = tmp_path / "out"
    assert dashgen_cli("build", "-o", str(out), "--schema-version", "v2").returncode == 0
    res, emu, writes = _emulated_push(["push", "--from", str(out), "--api", api], version=version, folder=False)
    assert res.code == 2, res.all
    assert "--schema-version 42" in res.err and "--only rule-groups" in res.err and "Traceback" not in res.all
    assert writes == []


# ------------------------------------------------------------------ push --only (the Git Sync flow)
def _emulated_push(args, version="13.0.0", folder=True):
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from push_fixtures import run_cli

    from dashgen.sandbox.emulator import GrafanaEmulator

    with GrafanaEmulator(grafana_version=version) as emu:
        if folder:  # what Git Sync created from voice-agent/_folder.json
            pre = run_cli(["push", "--only", "folders", "--from", args[args.index("--from") + 1],
                           "--retry-base-delay", "0.001"], {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token})
            assert pre.code == 0, pre.all
        emu.reset_records()
        res = run_cli([*args, "--retry-base-delay", "0.001", "--output", "json"],
                      {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token})
        return res, emu, [r.path for r in emu.writes()]


def test_push_only_rule_groups_of_a_v2_build_writes_rules_and_nothing_else(tmp_path, dashgen_cli):
    out = tmp_path / "out"
    assert dashgen_cli("build", "-o", str(out), "--schema-version", "v2").returncode == 0
    res, emu, writes = _emulated_push(["push", "--from", str(out), "--only", "rule-groups"])
    assert res.code == 0, res.all
    kinds = {r["kind"] for r in json.loads(res.out)["resources"]}
    assert kinds <= {"folder", "rule-group", "rule"} and "rule-group" in kinds
    assert writes and all("/dashboards" not in w and "folders" not in w for w in writes), writes
    assert not emu.dashboards and emu.rules


def test_push_only_rule_groups_needs_the_folder_git_sync_makes(tmp_path, dashgen_cli):
    out = tmp_path / "out"
    assert dashgen_cli("build", "-o", str(out), "--schema-version", "v2").returncode == 0
    res, emu, writes = _emulated_push(["push", "--from", str(out), "--only", "rule-groups"], folder=False)
    assert res.code == 2 and "does not exist" in res.err and "_folder.json" in res.err, res.all
    assert writes == [] and "Traceback" not in res.all


@pytest.mark.parametrize("version,stored", [("13.0.0", "v2"), ("12.2.0", "v2beta1")])
def test_v2_build_is_stored_as_v2_a_second_push_writes_nothing_and_an_edit_is_a_readable_diff(
        version, stored, tmp_path, dashgen_cli):
    import re
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from push_fixtures import run_cli

    from dashgen.sandbox.emulator import GrafanaEmulator

    out = tmp_path / "out"
    assert dashgen_cli("build", "-o", str(out), "--schema-version", "v2").returncode == 0
    fast = ["--retry-base-delay", "0.001"]
    with GrafanaEmulator(grafana_version=version) as emu:
        env = {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token}
        res = run_cli(["push", "--from", str(out), *fast], env)
        assert res.code == 0, res.all
        built = {p.stem: json.loads(p.read_text()) for p in (out / "dashboards" / "voice-agent").glob("*.json")}
        assert set(emu.dashboards) == set(built)
        for uid, d in emu.dashboards.items():
            assert d.stored == stored, uid
            spec = d.v2spec
            assert sorted(spec["elements"]) == sorted(built[uid]["spec"]["elements"])
            assert [r["spec"].get("title") for r in spec["layout"]["spec"].get("rows", [])] == \
                [r["spec"].get("title") for r in built[uid]["spec"]["layout"]["spec"].get("rows", [])]
            assert "dashgen" in spec["tags"] and any(t.startswith("dashgen-hash:") for t in spec["tags"])
            assert d.annotations["grafana.app/managedBy"] == "dashgen"
        # the legacy API cannot show them (406), as Grafana 12/13 answer for a v2-stored dashboard
        first = sorted(built)[0]
        legacy = [r for r in emu.requests if r.path == f"/api/dashboards/uid/{first}"]
        assert not [r for r in emu.requests if r.method == "POST" and r.path == "/api/dashboards/db"]
        emu.reset_records()
        res = run_cli(["push", "--from", str(out), *fast], env)
        assert res.code == 0 and emu.writes() == [], res.all
        # a person edits a panel title in the v2 editor: drift, reported in diff's words
        target = "voice-tts"

        def retitle(dash):
            panel = next(p for p in dash["panels"] if p.get("type") == "timeseries")
            panel["title"] = "TTS first audio, edited"
        emu.ui_save_v2(target, user="carol", mutate=retitle)
        emu.reset_records()
        res = run_cli(["plan", "--from", str(out), *fast], env)
        assert res.code == 3 and emu.writes() == [], res.all
        line = next(ln for ln in res.err.splitlines() if target in ln)
        assert "drifted" in line and "TTS first audio, edited" in line and re.search(r"build -> live: .*title", line), line
        assert legacy is not None


def test_emulator_refuses_an_invalid_v2_spec_and_a_v2_body_on_the_legacy_api():
    from dashgen.grafana.client import GrafanaClient, GrafanaError
    from dashgen.sandbox.emulator import GrafanaEmulator

    with GrafanaEmulator(grafana_version="13.0.0") as emu:
        c = GrafanaClient(emu.url, token=emu.token, retries=0)
        spec = to_v2({"uid": "d", "title": "D", "panels": [
            {"id": 1, "type": "stat", "title": "s", "gridPos": {"x": 0, "y": 0, "w": 6, "h": 4}}]})["spec"]
        path = "/apis/dashboard.grafana.app/v2/namespaces/default/dashboards"
        obj = {"apiVersion": V2, "kind": "Dashboard", "metadata": {"name": "d"}, "spec": spec}
        broken = copy.deepcopy(obj)
        broken["spec"]["layout"]["spec"]["items"][0]["spec"]["element"]["name"] = "panel-9"
        with pytest.raises(GrafanaError) as exc:
            c.call("POST", path, body=broken)
        assert exc.value.status == 422 and "panel-9" in exc.value.message
        with pytest.raises(GrafanaError) as exc:
            c.call("POST", "/api/dashboards/db", body={"dashboard": {**spec, "uid": "d"}, "overwrite": False})
        assert exc.value.status == 400 and "/apis/dashboard.grafana.app/v2" in exc.value.message
        c.call("POST", path, body=obj, ok=(200, 201))
        assert emu.dashboards["d"].stored == "v2"
        v1 = c.call("GET", "/apis/dashboard.grafana.app/v1/namespaces/default/dashboards/d")
        assert v1["status"]["conversion"]["storedVersion"] == "v2" and v1["spec"]["panels"][0]["title"] == "s"
        with pytest.raises(GrafanaError) as exc:
            c.call("GET", "/api/dashboards/uid/d")
        assert exc.value.status == 406


@pytest.mark.parametrize("target,setting,expect", [("13.0", None, "v2"), ("12.2", None, 42), ("11.6", None, 41),
                                                   ("13.0", "42", 42)])
def test_the_project_s_grafana_version_picks_the_format_it_stores(target, setting, expect, tmp_path, dashgen_cli):
    """[grafana] version in dashgen.toml: v2 for 13 (what it stores by default), 42 for 12, 41 for 11.6;
    an explicit schema_version wins (file provisioning reads classic JSON only)."""
    lines = ['catalog = "default"'] + ([f"schema_version = {setting}"] if setting else []) + \
        ["", "[grafana]", f'version = "{target}"']
    (tmp_path / "dashgen.toml").write_text("\n".join(lines) + "\n")
    res = dashgen_cli("build", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    d = json.loads((tmp_path / "dashboards" / "voice-agent" / "voice-overview.json").read_text())
    if expect == "v2":
        assert d["apiVersion"] == V2 and "elements" in d["spec"]
    else:
        assert d["schemaVersion"] == expect and "panels" in d
