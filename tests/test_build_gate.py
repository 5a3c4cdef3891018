"""``dashgen build`` refuses output that ``dashgen lint`` would reject (issue 12, point 4).

The catalog below is valid key by key, but one stage has so many measurements that its
dashboard would run more TraceQL metrics queries than the budget: build must say so at that
stage's line in the catalog, exit 2 and write nothing (``--check`` too).
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
from dashgen.errors import InputError
from dashgen.lint import lint_artifacts
from dashgen.lint.dashboards import MAX_METRICS_QUERIES
from dashgen.lint.gate import _stage_dashboards, refuse_lint_problems


def crowded_catalog() -> str:
    """The default catalog with the llm stage given 8 copies of each of its measurements."""
    doc = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))
    llm = next(s for s in doc["stages"] if s["id"] == "llm")
    llm["measurements"] = [
        {**copy.deepcopy(m), "id": f"{m['id']}_{i}", "attribute": f"{m['attribute']}_{i}", "title": f"{m['title']} {i}"}
        for i in range(8) for m in llm["measurements"]]
    if llm.get("slo"):
        llm["slo"]["measurement"] = f"{llm['slo']['measurement']}_0"
    return yaml.safe_dump(doc, sort_keys=False, width=120)


def test_build_refuses_a_dashboard_over_the_query_budget_at_the_stages_line(tmp_path):
    text = crowded_catalog()
    (tmp_path / "crowded.yaml").write_text(text, encoding="utf-8")
    # lint agrees that this output is bad (the premise of the test)
    catalog = parse_catalog(text, "crowded.yaml")
    report = lint_artifacts(build_artifacts(catalog).artifacts, catalog)
    over = [s for s in report.stats if s.traceql_metrics > MAX_METRICS_QUERIES]
    assert [s.uid for s in over] == ["voice-llm"], report.stats

    for args in (("-o", "out"), ("--check", "-o", "out")):
        proc = run_dashgen("build", "-c", "crowded.yaml", *args, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert proc.stdout == "" and "Traceback" not in proc.stderr
        assert not (tmp_path / "out").exists()
        first, *lines = proc.stderr.splitlines()
        assert first == "dashgen: error: build refused: the output would fail dashgen lint (1 problem); nothing written"
        line_no = text.splitlines().index("- id: llm") + 1
        assert len(lines) == 1 and lines[0].startswith(
            f"crowded.yaml:{line_no}:7: stage llm: dashboards/voice-agent/voice-llm.json: "
            f"{over[0].traceql_metrics} TraceQL metrics queries (at most {MAX_METRICS_QUERIES}"), lines
        assert lines[0].endswith("(give stage llm fewer measurements, or fewer panels per measurement, "
                                 "e.g. panels: [quantiles])")


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

    (tmp_path / "crowded.yaml").write_text(crowded_catalog(), encoding="utf-8")
    with GrafanaEmulator() as emu:
        env = {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token}
        for cmd in ("plan", "push"):
            proc = run_dashgen(cmd, "-c", "crowded.yaml", cwd=tmp_path, env=env)
            assert proc.returncode == 2, proc.stderr
            assert "build refused: the output would fail dashgen lint" in proc.stderr and "stage llm" in proc.stderr
            assert "Traceback" not in proc.stderr
        assert emu.requests == []


def test_diff_and_preview_refuse_what_build_refuses(tmp_path):
    """review reads the same gated build: a diff or a preview never shows output build would refuse."""
    (tmp_path / "crowded.yaml").write_text(crowded_catalog(), encoding="utf-8")
    base = tmp_path / "base"
    assert run_dashgen("build", "-c", "default", "-o", str(base), cwd=tmp_path).returncode == 0
    for args in (["diff", "--against", str(base), "--replace-catalog"], ["preview", "-o", "previews"]):
        proc = run_dashgen(*args, "-c", "crowded.yaml", cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "build refused: the output would fail dashgen lint" in proc.stderr and "stage llm" in proc.stderr
    assert not (tmp_path / "previews").exists()
