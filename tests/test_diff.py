"""dashgen diff: each kind of change a reviewer cares about is detected and worded.

The base is a real build of the bundled default catalog; each test applies one concrete
change (to the catalog, or to a copy of the built JSON) and asserts on the worded lines,
the summary, the Markdown and the exit code.
"""

from __future__ import annotations

import copy
import re
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from dashgen.artifacts import write_output
from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog
from dashgen.review.diff import Diff, diff_outputs, format_diff

from conftest import DEFAULT_CATALOG, REPO, run_dashgen
from push_fixtures import rule as push_rule  # the Grafana A/B/C rule shape

TTS_THRESHOLD_LINE = "{quantile: 0.95, value: 350, severity: page, for: 10m}"


@pytest.fixture(scope="module")
def base() -> dict[str, str]:
    return build_artifacts(load_catalog(None)).artifacts


def dash_path(files: dict[str, str], uid: str) -> str:
    return next(p for p in files if p.startswith("dashboards/") and p.endswith(f"/{uid}.json"))


def edit(files: dict[str, str], uid: str, fn) -> dict[str, str]:
    """A copy of ``files`` with dashboard ``uid`` changed in place by ``fn(dashboard)``."""
    out = dict(files)
    path = dash_path(files, uid)
    d = json.loads(files[path])
    fn(d)
    out[path] = json.dumps(d, indent=2, sort_keys=True)
    return out


def panel(d: dict, title: str) -> dict:
    return next(p for p in d["panels"] if p.get("title") == title)


def lines(diff: Diff) -> list[str]:
    return [c.text for c in diff.changes]


def kinds(diff: Diff) -> list[str]:
    return [c.kind for c in diff.changes]


def section(diff: Diff, key: str):
    return next(s for s in diff.sections if s.key == key)


TTS_FB = "Time to first audio p50/p95/p99"


# ---------------------------------------------------------------------------------------------
# Nothing changed


def test_identical_builds_have_no_changes(base):
    diff = diff_outputs(base, dict(base), "main", "branch")
    assert not diff.changed and diff.sections == []
    assert diff.summary() == "no changes to dashboards or alert rules"
    md = format_diff(diff, "markdown")
    assert md.splitlines()[0] == "**dashgen diff** (`main` -> `branch`): no changes to dashboards or alert rules"


def test_reformatted_json_is_not_a_change(base):
    path = dash_path(base, "voice-tts")
    head = dict(base, **{path: json.dumps(json.loads(base[path]), indent=None, sort_keys=False)})
    assert head[path] != base[path]
    assert not diff_outputs(base, head).changed


# ---------------------------------------------------------------------------------------------
# Panels


def test_panel_retitled(base):
    head = edit(base, "voice-tts", lambda d: panel(d, TTS_FB).update(title="TTS first byte"))
    diff = diff_outputs(base, head)
    assert lines(diff) == [f"{TTS_FB}: retitled -> TTS first byte"]
    assert kinds(diff) == ["panel-retitled"]
    assert diff.summary() == "1 dashboard changed; 1 panel retitled"


def test_panel_moved_and_resized(base):
    def move(d):
        panel(d, TTS_FB)["gridPos"].update(x=12)
        panel(d, "TTS total p50/p95/p99")["gridPos"].update(x=0)

    diff = diff_outputs(base, edit(base, "voice-tts", move))
    assert f"{TTS_FB}: moved x0 y6 -> x12 y6 (12x8)" in lines(diff)
    assert "TTS total p50/p95/p99: moved x12 y6 -> x0 y6 (12x8)" in lines(diff)
    assert diff.summary() == "1 dashboard changed; 2 panels moved"

    diff = diff_outputs(base, edit(base, "voice-tts", lambda d: panel(d, TTS_FB)["gridPos"].update(w=24)))
    assert lines(diff) == [f"{TTS_FB}: resized 12x8 -> 24x8 (at x0 y6)"]


def test_panel_moved_to_another_row(base):
    d = json.loads(base[dash_path(base, "voice-tts")])
    last_row = max((p for p in d["panels"] if p["type"] == "row"), key=lambda p: p["gridPos"]["y"])
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in d["panels"])

    def move(d):
        panel(d, TTS_FB)["gridPos"].update(y=bottom)  # below everything: in the last row

    diff = diff_outputs(base, edit(base, "voice-tts", move))
    assert lines(diff) == [f"{TTS_FB}: moved x0 y6 -> x0 y{bottom} (12x8), from row TTS (text to speech): "
                           f"measurements to row {last_row['title']}"]


def test_panels_added_and_removed(base):
    d = json.loads(base[dash_path(base, "voice-tts")])
    last_row = max((p for p in d["panels"] if p["type"] == "row"), key=lambda p: p["gridPos"]["y"])
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in d["panels"])

    def change(d):
        p = copy.deepcopy(panel(d, TTS_FB))
        p.update(id=12345, title="TTS chunks per second", gridPos={"x": 0, "y": bottom, "w": 24, "h": 8})
        d["panels"].append(p)
        d["panels"].remove(panel(d, "Stutters per second"))

    diff = diff_outputs(base, edit(base, "voice-tts", change))
    assert f"TTS chunks per second: timeseries added in row {last_row['title']} at x0 y{bottom} 24x8" in lines(diff)
    assert "Stutters per second: timeseries removed" in lines(diff)
    assert diff.summary() == "1 dashboard changed; 1 panel added; 1 panel removed"


def test_insertion_shifting_many_panels_reads_as_one_line(base):
    def change(d):
        for p in d["panels"]:
            if p["gridPos"]["y"] >= 14:
                p["gridPos"]["y"] += 8

    n = sum(1 for p in json.loads(base[dash_path(base, "voice-tts")])["panels"] if p["gridPos"]["y"] >= 14)
    assert n >= 3
    diff = diff_outputs(base, edit(base, "voice-tts", change))
    shifted = [c for c in diff.changes if c.kind == "panel-moved-many"]
    assert len(shifted) == 1 and len(diff.changes) == 1
    assert shifted[0].detail.startswith(f"{n} panels moved down 8 grid rows (same columns and sizes): "
                                        "Largest inter-chunk gap p50/p95/p99, Largest inter-chunk gap distribution")
    assert diff.summary() == f"1 dashboard changed; {n} panels moved"


def test_panel_key_change_reads_as_a_new_id_not_remove_and_add(base):
    head = edit(base, "voice-tts", lambda d: panel(d, TTS_FB).update(id=4242))
    diff = diff_outputs(base, head)
    assert kinds(diff) == ["panel-reid"]
    assert lines(diff)[0].startswith(f"{TTS_FB}: panel id 940153613 -> 4242")


# ---------------------------------------------------------------------------------------------
# Queries, thresholds, units


def test_query_change_shows_before_and_after(base):
    before_q = json.loads(base[dash_path(base, "voice-tts")])
    old = panel(before_q, TTS_FB)["targets"][0]["query"]
    new = old.replace("0.5, 0.95, 0.99", "0.5, 0.9, 0.99")
    assert new != old
    head = edit(base, "voice-tts", lambda d: panel(d, TTS_FB)["targets"][0].update(query=new))
    diff = diff_outputs(base, head)
    (change,) = diff.changes
    assert change.text == f"{TTS_FB}: query A changed"
    assert (change.before, change.after, change.lang) == (old, new, "traceql")
    md = format_diff(diff, "markdown")
    assert f"  - {old}\n  + {new}\n" in md
    text = format_diff(diff, "text")
    assert f"      - {old}\n      + {new}\n" in text
    assert diff.summary() == "1 dashboard changed; 1 query changed"


def test_query_setting_and_added_query(base):
    def change(d):
        t = panel(d, TTS_FB)["targets"]
        t[0]["step"] = "5m"
        t.append(dict(t[0], refId="B", query="{ span.audio.stage = \"tts\" } | rate()"))

    diff = diff_outputs(base, edit(base, "voice-tts", change))
    assert f"{TTS_FB}: query A step 1m -> 5m" in lines(diff)
    assert f"{TTS_FB}: query B added" in lines(diff)
    added = next(c for c in diff.changes if c.kind == "query-added")
    assert added.before is None and added.after == "{ span.audio.stage = \"tts\" } | rate()"


def test_catalog_threshold_350_to_300_is_worded_per_panel(base, tmp_path):
    text = DEFAULT_CATALOG.read_text(encoding="utf-8")
    assert TTS_THRESHOLD_LINE in text
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(text.replace(TTS_THRESHOLD_LINE, "{quantile: 0.95, value: 300, severity: page, for: 15m}"))
    head = build_artifacts(load_catalog(str(catalog))).artifacts
    diff = diff_outputs(base, head)
    tts = section(diff, "voice-tts")
    assert f"{TTS_FB}: threshold 350 -> 300 ms" in [c.text for c in tts.changes]
    overview = section(diff, "voice-overview")
    assert "First byte p95 by stage: threshold 350 -> 300 ms" in [c.text for c in overview.changes]
    assert "TTS time to first audio p95 now: threshold 350 -> 300 ms" in [c.text for c in overview.changes]
    # The slow-turns table filters on the threshold: retitled, and its query shown.
    table = next(c for c in tts.changes if c.kind == "panel-retitled")
    assert table.text.endswith("-> TTS spans with time to first audio above 300 ms (up to 50, sorted by it)")
    q = next(c for c in tts.changes if c.kind == "query-changed")
    assert "350" in q.before and "300" in q.after
    assert re.match(r"\d+ dashboards changed; .*\d+ thresholds changed", diff.summary()), diff.summary()
    # The alert rules generated from the same catalog line: Grafana-managed and Prometheus forms.
    texts = lines(diff)
    for line in ("alert voice-tts-first-byte-p95: threshold 350 -> 300 ms",
                 "alert voice-tts-first-byte-p95: for 10m -> 15m",
                 "alert VoiceTtsFirstByteP95High: threshold 350 -> 300",
                 "alert VoiceTtsFirstByteP95High: for 10m -> 15m"):
        assert line in texts, line
    assert "2 alert rules changed" in diff.summary()


def test_threshold_added_removed_and_recoloured(base):
    def change(d):
        steps = panel(d, TTS_FB)["fieldConfig"]["defaults"]["thresholds"]["steps"]
        steps[1]["color"] = "orange"
        steps.append({"color": "red", "value": 500})

    diff = diff_outputs(base, edit(base, "voice-tts", change))
    assert lines(diff) == [f"{TTS_FB}: threshold 350 ms: colour red -> orange",
                           f"{TTS_FB}: threshold added: 500 ms (red)"]

    def remove(d):
        panel(d, TTS_FB)["fieldConfig"]["defaults"]["thresholds"]["steps"].pop()

    diff = diff_outputs(base, edit(base, "voice-tts", remove))
    assert lines(diff) == [f"{TTS_FB}: threshold removed: 350 ms (red)"]


def test_threshold_moving_past_another_step_is_still_one_change(base):
    # The overview's first-byte panel has 150 orange, 350 red, 600 orange: 350 -> 700 passes 600.
    def change(d):
        steps = panel(d, "First byte p95 by stage")["fieldConfig"]["defaults"]["thresholds"]["steps"]
        steps[:] = [s for s in steps if s["value"] != 350] + [{"color": "red", "value": 700}]

    diff = diff_outputs(base, edit(base, "voice-overview", change))
    assert lines(diff) == ["First byte p95 by stage: threshold 350 -> 700 ms"]


def test_unit_changed(base):
    head = edit(base, "voice-tts", lambda d: panel(d, TTS_FB)["fieldConfig"]["defaults"].update(unit="s"))
    diff = diff_outputs(base, head)
    assert lines(diff) == [f"{TTS_FB}: unit ms -> s"]
    assert diff.summary() == "1 dashboard changed; 1 unit changed"


def test_other_panel_settings_are_still_reported(base):
    head = edit(base, "voice-tts", lambda d: panel(d, TTS_FB)["fieldConfig"]["defaults"]["custom"].update(fillOpacity=40))
    assert lines(diff_outputs(base, head)) == [f"{TTS_FB}: fieldConfig.defaults.custom.fillOpacity 10 -> 40"]


# ---------------------------------------------------------------------------------------------
# Dashboards and variables


def test_dashboard_added_removed_and_renamed(base):
    head = dict(base)
    llm = dash_path(base, "voice-llm")
    del head[llm]
    d = json.loads(base[dash_path(base, "voice-tts")])
    d.update(uid="voice-tts-canary", title="TTS canary")
    head["dashboards/voice-agent/voice-tts-canary.json"] = json.dumps(d)
    head = edit(head, "voice-asr", lambda d: d.update(title="ASR"))
    diff = diff_outputs(base, head)
    assert section(diff, "voice-llm").status == "removed"
    n_llm = sum(1 for p in json.loads(base[llm])["panels"] if p["type"] != "row")
    assert section(diff, "voice-llm").changes[0].text == f"dashboard removed: LLM (reply generation) ({n_llm} panels)"
    added = section(diff, "voice-tts-canary")
    assert added.status == "added" and added.changes[0].text == "dashboard added: TTS canary"
    n_panels = sum(1 for p in d["panels"] if p["type"] != "row")
    n_rows = sum(1 for p in d["panels"] if p["type"] == "row")
    assert added.changes[1].text == f"{n_panels} panels in {n_rows} rows"
    assert [c.subject for c in added.changes[2:]][:2] == ["(no row)", "row TTS (text to speech): measurements"]
    renamed = section(diff, "voice-asr")
    assert renamed.status == "renamed" and renamed.old_title == "ASR (speech to text)"
    assert [c.text for c in renamed.changes] == ["renamed ASR (speech to text) -> ASR"]
    assert diff.summary() == "1 dashboard added, 1 removed, 1 renamed"
    md = format_diff(diff, "markdown")
    assert "### Dashboard ASR (`voice-asr`): renamed (was ASR (speech to text))" in md
    assert "### Dashboard TTS canary (`voice-tts-canary`): added" in md


def test_dashboard_moved_to_another_folder(base):
    head = dict(base)
    path = dash_path(base, "voice-llm")
    head["dashboards/other-folder/voice-llm.json"] = head.pop(path)
    diff = diff_outputs(base, head)
    assert lines(diff) == ["moved from folder voice-agent -> other-folder"]


def test_variables_changed_added_removed(base):
    def change(d):
        svc = next(v for v in d["templating"]["list"] if v["name"] == "service")
        svc["current"] = {"text": "voice-agent", "value": "voice-agent"}
        svc["query"] = dict(svc["query"], label="resource.service.namespace")
        svc["label"] = "Service namespace"
        d["templating"]["list"] = [v for v in d["templating"]["list"] if v["name"] != "prometheus"]
        d["templating"]["list"].append({"type": "custom", "name": "region", "query": "eu,us",
                                        "current": {"text": "eu", "value": "eu"}})

    diff = diff_outputs(base, edit(base, "voice-tts", change))
    assert lines(diff) == [
        "variable $region: added (custom, default eu)",
        "variable $prometheus: removed (datasource)",
        "variable $service: default $__all -> voice-agent",
        "variable $service: label Service -> Service namespace",
        "variable $service: query.label resource.service.name -> resource.service.namespace",
    ]
    assert "3 variables changed" in diff.summary()


# ---------------------------------------------------------------------------------------------
# Alert rules


def grafana_group(threshold=350, for_="5m", severity="page", expr=None, extra_rule=False) -> str:
    """A Grafana provisioning rule-group body as alerts/grafana/<folder>/<group>.json holds it."""
    expr = expr or ('histogram_quantile(0.95, sum by (le) (rate(audio_first_byte_milliseconds_bucket'
                    '{stage="tts"}[5m])))')
    rule = push_rule("tts-first-byte-p95", "TTS first byte p95 above limit", "prometheus", expr, threshold)
    rule.update({"for": for_, "folderUID": "voice-agent", "ruleGroup": "test-latency", "orgID": 1,
                 "labels": {"severity": severity, "team": "voice"},
                 "annotations": {"summary": "TTS first byte p95 is high", "__dashboardUid__": "voice-tts",
                                 "__panelId__": "940153613"}})
    rules = [rule]
    if extra_rule:
        rules.append(dict(copy.deepcopy(rule), uid="asr-first-byte-p95", title="ASR first byte p95 above limit",
                          labels={"severity": "ticket", "team": "voice"}))
    return json.dumps({"title": "test-latency", "folderUid": "voice-agent", "interval": 60, "rules": rules}, indent=2)


GROUP = "alerts/grafana/voice-agent/test-latency.json"  # beside whatever the build has


def test_alert_rule_for_and_threshold(base):
    b = dict(base, **{GROUP: grafana_group()})
    h = dict(base, **{GROUP: grafana_group(threshold=300, for_="10m")})
    diff = diff_outputs(b, h)
    assert lines(diff) == ["alert tts-first-byte-p95: threshold 350 -> 300 ms",
                           "alert tts-first-byte-p95: for 5m -> 10m"]
    s = section(diff, "voice-agent/test-latency")
    assert s.kind == "grafana-rules" and s.status == "changed"
    assert diff.summary() == "1 alert rule changed"
    md = format_diff(diff, "markdown")
    assert "### Alert rule group `voice-agent/test-latency`: changed" in md
    assert "- **alert tts-first-byte-p95**: threshold 350 -> 300 ms" in md
    assert "- **alert tts-first-byte-p95**: for 5m -> 10m" in md


def test_alert_rule_severity_query_and_condition(base):
    b = dict(base, **{GROUP: grafana_group()})
    h = dict(base, **{GROUP: grafana_group(severity="ticket", expr="max(audio_tts_first_byte_p95)")})
    group = json.loads(h[GROUP])
    group["rules"][0]["data"][2]["model"]["conditions"][0]["evaluator"] = {"type": "lt", "params": [350]}
    group["rules"][0]["noDataState"] = "OK"
    h[GROUP] = json.dumps(group)
    diff = diff_outputs(b, h)
    texts = lines(diff)
    assert "alert tts-first-byte-p95: condition above 350 ms -> below 350 ms" in texts
    assert "alert tts-first-byte-p95: severity page -> ticket" in texts
    assert "alert tts-first-byte-p95: query A changed" in texts
    assert "alert tts-first-byte-p95: noDataState NoData -> OK" in texts
    q = next(c for c in diff.changes if c.kind == "alert-query")
    assert q.after == "max(audio_tts_first_byte_p95)" and q.lang == "promql"


def test_alert_rules_added_removed_and_group_files(base):
    b = dict(base, **{GROUP: grafana_group()})
    h = dict(base, **{GROUP: grafana_group(extra_rule=True)})
    diff = diff_outputs(b, h)
    assert lines(diff) == ["alert asr-first-byte-p95: added: ASR first byte p95 above limit (ticket, above 350 ms, for 5m)"]
    diff = diff_outputs(h, b)
    assert lines(diff) == ["alert asr-first-byte-p95: removed: ASR first byte p95 above limit"]
    assert diff.summary() == "1 alert rule removed"
    # A whole group file that appears: its section is "added".
    diff = diff_outputs(base, b)
    assert section(diff, "voice-agent/test-latency").status == "added"


def test_provisioning_yaml_duplicates_are_reported_once(base):
    import yaml

    def prov(threshold, for_):
        rule = json.loads(grafana_group(threshold, for_))["rules"][0]
        return yaml.safe_dump({"apiVersion": 1, "groups": [{"orgId": 1, "name": "test-latency", "folder": "Voice agent",
                                                            "interval": "1m", "rules": [rule]}]})

    b = dict(base, **{GROUP: grafana_group(), "alerts/provisioning/test-latency.yaml": prov(350, "5m")})
    h = dict(base, **{GROUP: grafana_group(300, "10m"), "alerts/provisioning/test-latency.yaml": prov(300, "10m")})
    assert lines(diff_outputs(b, h)) == ["alert tts-first-byte-p95: threshold 350 -> 300 ms",
                                         "alert tts-first-byte-p95: for 5m -> 10m"]
    # Only the provisioning file (no JSON body): still worded.
    b2 = dict(base, **{"alerts/provisioning/test-latency.yaml": prov(350, "5m")})
    h2 = dict(base, **{"alerts/provisioning/test-latency.yaml": prov(300, "10m")})
    assert lines(diff_outputs(b2, h2)) == ["alert tts-first-byte-p95: threshold 350 -> 300 ms",
                                           "alert tts-first-byte-p95: for 5m -> 10m"]


def prom_rules(threshold="0.35", for_="5m", extra=False) -> str:
    import yaml

    rules = [{"alert": "TTSFirstByteP95High",
              "expr": f"histogram_quantile(0.95, sum by (le) (rate(audio_first_byte_seconds_bucket{{stage=\"tts\"}}[5m]))) > {threshold}",
              "for": for_, "labels": {"severity": "page"}, "annotations": {"summary": "TTS first byte p95 high"}},
             {"record": "voice:tts_first_byte:p95", "expr": "histogram_quantile(0.95, sum by (le) (rate(x[5m])))"}]
    if extra:
        rules.append({"alert": "ASRFirstByteP95High", "expr": "asr_p95 > 0.15", "for": "10m",
                      "labels": {"severity": "ticket"}})
    return yaml.safe_dump({"groups": [{"name": "test-latency", "rules": rules}]}, sort_keys=False)


def test_prometheus_rules(base):
    path = "alerts/prometheus/test-latency.yaml"
    diff = diff_outputs(dict(base, **{path: prom_rules()}), dict(base, **{path: prom_rules("0.3", "10m", extra=True)}))
    assert lines(diff) == [
        "alert ASRFirstByteP95High: added (ticket, for 10m): asr_p95 > 0.15",
        "alert TTSFirstByteP95High: threshold 0.35 -> 0.3",
        "alert TTSFirstByteP95High: for 5m -> 10m",
    ]
    assert section(diff, path).kind == "prometheus-rules"
    assert diff.summary() == "1 alert rule added, 1 changed"


# ---------------------------------------------------------------------------------------------
# Formats and other files


def test_json_format_and_markdown_summary_on_top(base):
    head = edit(base, "voice-tts", lambda d: panel(d, TTS_FB)["fieldConfig"]["defaults"].update(unit="s"))
    diff = diff_outputs(base, head, "origin/main", "this build")
    doc = json.loads(format_diff(diff, "json"))
    assert doc["changed"] is True and doc["summary"] == "1 dashboard changed; 1 unit changed"
    assert doc["sections"][0]["changes"][0]["kind"] == "unit-changed"
    assert doc["sections"][0]["changes"][0]["text"] == f"{TTS_FB}: unit ms -> s"
    md = format_diff(diff, "markdown")
    assert md.splitlines()[0] == "**dashgen diff** (`origin/main` -> `this build`): 1 dashboard changed; 1 unit changed"


def test_markdown_escapes_titles(base):
    head = edit(base, "voice-tts", lambda d: panel(d, TTS_FB).update(title="p95 *all* <b>stages</b> | x_y"))
    md = format_diff(diff_outputs(base, head), "markdown")
    assert r"retitled -> p95 \*all\* \<b>stages\</b> \| x\_y" in md


def test_manifest_and_unknown_files(base):
    import yaml

    man = yaml.safe_load(base["dashboards/manifest.yaml"])
    man["datasources"]["tempo"]["uid"] = "tempo-eu"
    head = dict(base, **{"dashboards/manifest.yaml": yaml.safe_dump(man), "alerts/README.txt": "hello"})
    diff = diff_outputs(base, head)
    assert lines(diff) == ["file added", "datasources.tempo.uid tempo -> tempo-eu"]
    assert [s.path for s in diff.sections] == ["alerts/README.txt", "dashboards/manifest.yaml"]


# ---------------------------------------------------------------------------------------------
# The command line: --against/--head, --exit-code, git refs


def test_cli_against_head_and_exit_code(base, tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    write_output(base, old)
    write_output(base, new)
    r = run_dashgen("diff", "--against", str(old), "--head", str(new), "--exit-code")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"dashgen diff {old} -> {new}: no changes")
    path = new / dash_path(base, "voice-tts")
    d = json.loads(path.read_text())
    panel(d, TTS_FB)["fieldConfig"]["defaults"]["unit"] = "s"
    path.write_text(json.dumps(d))
    r = run_dashgen("diff", "--against", str(old), "--head", str(new), "--exit-code", "--format", "markdown")
    assert r.returncode == 1, r.stderr
    assert f"- **{TTS_FB}**: unit ms -> s" in r.stdout
    r = run_dashgen("diff", "--against", str(old), "--head", str(new))  # without --exit-code: 0
    assert r.returncode == 0
    r = run_dashgen("diff", "--against", str(tmp_path / "nothing"), "--head", str(new))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no dashboards/ or alerts/ there" in r.stderr


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def make_repo(path: Path) -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "user.name", "test")
    return path


def test_cli_base_ref_reads_the_committed_output(base, tmp_path):
    repo = make_repo(tmp_path / "repo")
    write_output(base, repo)
    git(repo, "add", "dashboards", "alerts", "collector")
    git(repo, "commit", "-q", "-m", "dashboards")
    # Fresh build of the same catalog against HEAD: nothing changed.
    r = run_dashgen("diff", "--base", "HEAD", "--exit-code", cwd=repo)
    assert r.returncode == 0, r.stderr
    assert "no changes" in r.stdout.splitlines()[0]
    # A changed catalog: the fresh build differs from the committed output.
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(DEFAULT_CATALOG.read_text().replace(TTS_THRESHOLD_LINE,
                                                            "{quantile: 0.95, value: 300, severity: page, for: 15m}"))
    r = run_dashgen("diff", "--base", "main", "--catalog", str(catalog), "--exit-code", "--format", "markdown", cwd=repo)
    assert r.returncode == 2 and "records the catalog default, not " in r.stderr  # another catalog: asked first
    r = run_dashgen("diff", "--base", "main", "--catalog", str(catalog), "--replace-catalog", "--exit-code",
                    "--format", "markdown", cwd=repo)
    assert r.returncode == 1, r.stderr
    assert r.stdout.startswith("**dashgen diff** (`main (")
    assert f"- **{TTS_FB}**: threshold 350 -> 300 ms" in r.stdout
    # The committed output at a ref vs the output on disk (--head .), and --root.
    d_path = repo / dash_path(base, "voice-llm")
    d_path.unlink()
    r = run_dashgen("diff", "--base", "HEAD", "--head", str(repo), "--root", str(repo), "--exit-code")
    assert r.returncode == 1, r.stderr
    assert "dashboard removed: LLM (reply generation)" in r.stdout
    out = tmp_path / "comment.md"
    r = run_dashgen("diff", "--base", "HEAD", "--head", str(repo), "--root", str(repo), "--format", "markdown",
                    "-o", str(out))
    assert r.returncode == 0 and out.read_text().startswith("**dashgen diff**")
    assert r.stdout.startswith(f"dashgen: diff written to {out}: 1 dashboard removed")


def test_cli_base_ref_without_committed_output_builds_it(tmp_path):
    repo = make_repo(tmp_path / "repo")
    shutil.copy(DEFAULT_CATALOG, repo / "catalog.yaml")
    git(repo, "add", "catalog.yaml")
    git(repo, "commit", "-q", "-m", "catalog")
    text = (repo / "catalog.yaml").read_text()
    (repo / "catalog.yaml").write_text(text.replace(TTS_THRESHOLD_LINE,
                                                    "{quantile: 0.95, value: 300, severity: page, for: 15m}"))
    r = run_dashgen("diff", "--base", "HEAD", "--catalog", "catalog.yaml", "--exit-code", cwd=repo)
    assert r.returncode == 1, r.stderr
    assert f"  {TTS_FB}: threshold 350 -> 300 ms" in r.stdout
    assert git(repo, "worktree", "list").count("\n") == 1  # the temporary worktree is gone


def test_cli_git_errors_are_one_line_exit_2(tmp_path):
    repo = make_repo(tmp_path / "repo")
    (repo / "x").write_text("x")
    git(repo, "add", "x")
    git(repo, "commit", "-q", "-m", "x")
    r = run_dashgen("diff", "--base", "no-such-branch", cwd=repo)
    assert r.returncode == 2
    assert r.stderr == ("dashgen: error: --base no-such-branch: unknown git ref (not a branch, tag or commit here; "
                        "for a remote branch run git fetch first)\n")
    plain = tmp_path / "plain"
    plain.mkdir()
    r = run_dashgen("diff", "--base", "HEAD", cwd=plain, env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "not inside a git repository" in r.stderr
    r = run_dashgen("diff", "--base", "HEAD", "--against", str(plain), cwd=repo)
    assert r.returncode == 2 and "alternatives" in r.stderr


def test_cli_base_ref_of_a_dashgen_checkout_is_built_with_that_revision_s_own_code(tmp_path):
    """--base REF without committed output, in dashgen's own repository: REF is built by REF's dashgen
    (``python -m dashgen.pipeline`` in a worktree), so a change to dashgen's code shows in the diff."""
    repo = make_repo(tmp_path / "repo")
    shutil.copytree(REPO / "dashgen", repo / "dashgen", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "templates", repo / "templates")
    overview = repo / "dashgen" / "dashboards" / "overview.py"
    text = overview.read_text()
    assert text.count('"Voice pipeline overview"') == 1
    overview.write_text(text.replace('"Voice pipeline overview"', '"Voice pipeline overview (old)"'))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "dashgen with an old title")
    overview.write_text(text)  # the working tree's dashgen (what this build runs) has today's title
    r = run_dashgen("diff", "--base", "HEAD", "-c", "default", "--exit-code", cwd=repo)
    assert r.returncode == 1, r.stderr
    assert "renamed" in r.stdout or "title" in r.stdout, r.stdout
    assert "Voice pipeline overview (old)" in r.stdout
    assert git(repo, "worktree", "list").count("\n") == 1
