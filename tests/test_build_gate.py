"""``dashgen build`` refuses output that ``dashgen lint`` would reject (issue 12, point 4), and the
generator never writes what its own gate refuses (issue 22).

A stage with so many measurements that its panels would run more TraceQL metrics queries than
a dashboard's budget is valid: it builds, its first measurements open and the rest in collapsed
rows whose queries wait until opened. What the gate still refuses comes from outside the
generator (a definition file of the team's, a build tampered with): build says what and where,
exits 2 and writes nothing (``--check`` too), and so do the commands that read the same build.
"""

from __future__ import annotations

import copy
import json
import re

import pytest
import yaml

from conftest import DEFAULT_CATALOG, run_dashgen
from dashgen.build import build_artifacts
from dashgen.catalog import PRESETS, load_catalog, parse_catalog
from dashgen.drawn import read_dashboard
from dashgen.errors import InputError
from dashgen.lint import lint_artifacts
from dashgen.lint.dashboards import MAX_METRICS_QUERIES, is_metrics_query
from dashgen.lint.gate import _stage_dashboards, refuse_lint_problems


def crowded_catalog(stage: str = "llm") -> str:
    """The default catalog with one stage given 8 copies of each of its measurements (a barge-in
    stage's copies are milestones too: every one shares the unit of the last with a limit)."""
    doc = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))
    crowded = next(s for s in doc["stages"] if s["id"] == stage)
    crowded["measurements"] = [
        {**copy.deepcopy(m), "id": f"{m['id']}_{i}", "attribute": f"{m['attribute']}_{i}", "title": f"{m['title']} {i}"}
        for i in range(8) for m in crowded["measurements"]]
    if crowded.get("slo"):
        crowded["slo"]["measurement"] = f"{crowded['slo']['measurement']}_0"
    return yaml.safe_dump(doc, sort_keys=False, width=120)


# A team's definition file whose dashboard runs 13 TraceQL metrics queries on load: the gate's to refuse.
CROWDED_DEFINITION = """\
from dashgen.api import TimeSeriesPanel


def dashboards(kit):
    query = kit.traceql.rate(kit.stage_filter(kit.stage("llm")))
    panels = [TimeSeriesPanel(key=f"rate-{i}", title=f"LLM spans per second {i}", description="LLM spans per second.",
                              targets=[kit.tempo_metrics(query)], extra={"fieldConfig": {"defaults": {},
                              "overrides": [{"matcher": {"id": "byFrameRefID", "options": "A"},
                                             "properties": [{"id": "displayName", "value": "spans"}]}]}})
               for i in range(13)]
    return [kit.dashboard("crowded", "Crowded", "Thirteen TraceQL metrics queries.", panels)]
"""


def _metrics_queries(panels) -> int:
    return sum(is_metrics_query(t.get("query", "")) for p in panels for t in p.targets_of("tempo"))


@pytest.mark.parametrize("stage", ["llm", "barge_in"])
def test_a_stage_over_the_query_budget_builds_with_its_last_parts_in_collapsed_rows(tmp_path, stage):
    text = crowded_catalog(stage)
    uid = f"voice-{stage.replace('_', '-')}"
    (tmp_path / "crowded.yaml").write_text(text, encoding="utf-8")
    proc = run_dashgen("build", "-c", "crowded.yaml", "-o", "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "warning" not in proc.stderr, proc.stderr
    raw = json.loads((tmp_path / "out" / "dashboards" / "voice-agent" / f"{uid}.json").read_text(encoding="utf-8"))
    d = read_dashboard(raw)
    opened = _metrics_queries([p for p in d.charts if not p.folded])
    folded = _metrics_queries([p for p in d.charts if p.folded])
    # the budget is used, not wasted, and the rest is there, one click away
    assert MAX_METRICS_QUERIES - 3 < opened <= MAX_METRICS_QUERIES < opened + folded, (opened, folded)
    rows = [p for p in raw["panels"] if p["type"] == "row" and p["collapsed"]]
    assert rows and all(r["panels"] for r in rows)
    # collapsed rows come last, each placed where its panels go when it opens: directly below it
    assert raw["panels"][-len(rows):] == rows
    for r in rows:
        y = r["gridPos"]["y"]
        assert min(p["gridPos"]["y"] for p in r["panels"]) == y + 1, r["title"]
        assert re.fullmatch(r".+ \(collapsed: \d+ TraceQL metrics quer(y|ies) when opened\)", r["title"]), r["title"]
    # every measurement of the stage still has its panels, open or in a row
    catalog = parse_catalog(text, "crowded.yaml")
    titles = " | ".join(p.title for p in d.charts)
    measured = [m for m in catalog.stage(stage).measurements if m.id.rpartition("_")[0] not in ("first_byte", "total")
                or stage != "barge_in"]  # the barge-in dashboard leaves first byte and total to span search
    assert all(m.title in titles for m in measured), titles
    about = next(p for p in raw["panels"] if p["type"] == "text")
    assert "in collapsed rows at the bottom: open one to run its queries" in about["options"]["content"]
    if stage == "barge_in":  # the one-view panel (PromQL, no Tempo cost) names every milestone
        from dashgen.voice.barge_in import milestones

        one_view = next(p for p in d.charts if p.title.endswith("milestone by milestone"))
        legends = [t["legendFormat"] for t in one_view.raw["targets"]]
        assert len(legends) == len(milestones(catalog.stage(stage))) > 8 and len(set(legends)) == len(legends)
    # lint (the gate's checks) agrees, with the count on load
    report = lint_artifacts(build_artifacts(catalog).artifacts, catalog)
    assert report.ok, report.problems[:3]
    assert next(s for s in report.stats if s.uid == uid).traceql_metrics == opened


def test_build_refuses_a_stage_dashboard_over_the_query_budget_at_the_stages_line():
    """The generator keeps to the budget; were a stage's dashboard over it anyway, the refusal names
    the stage's catalog line and what to change there."""
    text = DEFAULT_CATALOG.read_text(encoding="utf-8")
    catalog = parse_catalog(text, "default.yaml")
    built = build_artifacts(catalog)
    artifacts = dict(built.artifacts)
    rel = "dashboards/voice-agent/voice-llm.json"
    raw = json.loads(artifacts[rel])
    panel = next(p for p in raw["panels"] if any(is_metrics_query(t.get("query", "")) for t in p.get("targets", [])))
    target = next(t for t in panel["targets"] if is_metrics_query(t.get("query", "")))
    panel["targets"] += [{**target, "refId": f"X{i}"} for i in range(MAX_METRICS_QUERIES)]
    artifacts[rel] = json.dumps(raw)
    with pytest.raises(InputError) as err:
        refuse_lint_problems(artifacts, built.dashboards, catalog)
    assert err.value.exit_code == 2
    first, *lines = str(err.value).splitlines()
    assert first.startswith("build refused: the output would fail dashgen lint (") and first.endswith("; nothing written")
    lines = [line for line in lines if "TraceQL metrics queries" in line]  # the copied targets break more rules
    line_no = text.splitlines().index("  - id: llm") + 1
    col = text.splitlines()[line_no - 1].index("llm") + 1
    n = _metrics_queries(read_dashboard(raw).charts)
    assert len(lines) == 1 and lines[0].startswith(
        f"default.yaml:{line_no}:{col}: stage llm: {rel}: {n} TraceQL metrics queries run when it opens "
        f"(at most {MAX_METRICS_QUERIES}"), lines
    assert lines[0].endswith("(give stage llm fewer measurements, or fewer panels per measurement, "
                             "e.g. panels: [quantiles])")


def test_build_refuses_a_definition_over_the_query_budget_and_writes_nothing(tmp_path):
    (tmp_path / "crowded.py").write_text(CROWDED_DEFINITION, encoding="utf-8")
    for args in (("-o", "out"), ("--check", "-o", "out")):
        proc = run_dashgen("build", "-c", "default", "--definitions", "crowded.py", *args, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert proc.stdout == "" and "Traceback" not in proc.stderr
        assert not (tmp_path / "out").exists()
        first, *lines = proc.stderr.splitlines()
        assert first == "dashgen: error: build refused: the output would fail dashgen lint (1 problem); nothing written"
        made = CROWDED_DEFINITION.splitlines().index(next(line for line in CROWDED_DEFINITION.splitlines()
                                                          if "kit.dashboard(" in line)) + 1
        assert lines == [f"crowded.py:{made}: dashboards/voice-agent/voice-crowded.json: 13 TraceQL metrics queries "
                         "run when it opens "
                         f"(at most {MAX_METRICS_QUERIES}: each one costs the Tempo cluster on every refresh; "
                         "a collapsed row's wait until it is opened)"], lines


@pytest.mark.parametrize("preset", PRESETS)
def test_every_stage_dashboard_is_found_for_its_catalog_line(preset):
    catalog = load_catalog(preset)
    result = build_artifacts(catalog)
    found = _stage_dashboards(result.dashboards, catalog)
    assert sorted(stage.id for _, stage in found.values()) == sorted(s.id for s in catalog.stages)
    refuse_lint_problems(result.artifacts, result.dashboards, catalog)  # the presets pass


def _every_group(artifacts: dict, change) -> list[str]:
    groups = [rel for rel in artifacts if rel.startswith("alerts/grafana/")]
    for rel in groups:
        group = json.loads(artifacts[rel])
        change(group)
        artifacts[rel] = json.dumps(group)
    return groups


def test_problems_outside_a_stage_are_listed_as_lint_words_them_and_capped():
    catalog = load_catalog("default")
    result = build_artifacts(catalog)
    artifacts = dict(result.artifacts)
    n = 0

    def change(group):  # errors: an interval the scheduler cannot keep, uids Grafana refuses
        nonlocal n
        group["interval"] = 15
        for rule in group["rules"]:
            rule["uid"] = "not a uid!"
        n += 1 + len(group["rules"])
    groups = _every_group(artifacts, change)
    assert n > 20
    with pytest.raises(InputError) as err:
        refuse_lint_problems(artifacts, result.dashboards, catalog)
    assert err.value.exit_code == 2
    first, *lines = str(err.value).splitlines()
    assert first == f"build refused: the output would fail dashgen lint ({n} problems); nothing written"
    assert lines[0] == f"{groups[0]}: interval 15 is not a positive multiple of 10 seconds"
    assert len(lines) == 21 and lines[-1] == f"... and {n - 20} more (dashgen lint lists them all)"
    assert all(re.match(r"alerts/grafana/\S+\.json: ", line) for line in lines[:20])


def test_warnings_never_refuse_and_come_back_located():
    """House style (lint/rules.py: severity warning) is printed by build, never a refusal (issue 20 §3)."""
    catalog = load_catalog("default")
    result = build_artifacts(catalog)
    artifacts = dict(result.artifacts)

    def change(group):
        for rule in group["rules"]:
            if rule.get("record") is None:
                rule.get("annotations", {}).pop("runbook_url", None)
    _every_group(artifacts, change)
    warnings = refuse_lint_problems(artifacts, result.dashboards, catalog)
    assert warnings and {(w.rule, w.severity) for w in warnings} == {("alert-runbook", "warning")}
    assert all(str(w).startswith("alerts/grafana/") and str(w).endswith(": no runbook_url annotation")
               for w in warnings)


def test_plan_and_push_refuse_what_build_refuses_before_any_request(tmp_path):
    """lint -> plan -> apply: a catalog whose build lint rejects is not planned or pushed either."""
    from dashgen.sandbox.emulator import GrafanaEmulator

    (tmp_path / "crowded.py").write_text(CROWDED_DEFINITION, encoding="utf-8")
    with GrafanaEmulator() as emu:
        env = {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token}
        for cmd in ("plan", "push"):
            proc = run_dashgen(cmd, "-c", "default", "--definitions", "crowded.py", cwd=tmp_path, env=env)
            assert proc.returncode == 2, proc.stderr
            assert "build refused: the output would fail dashgen lint" in proc.stderr and "voice-crowded" in proc.stderr
            assert "Traceback" not in proc.stderr
        assert emu.requests == []


def test_diff_and_preview_refuse_what_build_refuses(tmp_path):
    """review reads the same gated build: a diff or a preview never shows output build would refuse."""
    (tmp_path / "crowded.py").write_text(CROWDED_DEFINITION, encoding="utf-8")
    base = tmp_path / "base"
    assert run_dashgen("build", "-c", "default", "-o", str(base), cwd=tmp_path).returncode == 0
    for args in (["diff", "--against", str(base)], ["preview", "-o", "previews"]):
        proc = run_dashgen(*args, "-c", "default", "--definitions", "crowded.py", cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "build refused: the output would fail dashgen lint" in proc.stderr and "voice-crowded" in proc.stderr
    assert not (tmp_path / "previews").exists()
