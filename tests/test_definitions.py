"""Dashboards of your own (issue 13): definition files through dashgen.api's kit, plain grafanalib
files, the same pipeline as generated dashboards, and located errors in user code."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import REPO  # noqa: E402
from dashgen.sandbox.emulator import GrafanaEmulator  # noqa: E402
from push_fixtures import run_cli  # noqa: E402

from dashgen import api  # noqa: E402
from dashgen.artifacts import LEGACY_PANEL_KEYS  # noqa: E402
from dashgen.build import build_artifacts  # noqa: E402
from dashgen.catalog import load_catalog  # noqa: E402
from dashgen.dashboards.kit import OWNER_TAG  # noqa: E402
from dashgen.lint.schemas import SchemaSet, validate_dashboard  # noqa: E402

EXAMPLE = REPO / "examples" / "catalog.yaml"
KIT_UID, LEGACY_UID = "voice-llm-providers", "voice-voice-latency-grafanalib"

# The public API, pinned: a removal or rename fails here and is a visible, versioned change.
PUBLIC_NAMES = [
    "API_VERSION", "Attr", "BuiltDashboard", "Catalog", "Cond", "DashLink", "DataLink", "DatasourceVariable",
    "HeatmapPanel", "Kit", "Measurement", "PluginPanel", "PrometheusTarget", "Row", "Stage", "StatPanel", "TablePanel",
    "TempoTarget", "TextPanel", "TextboxVariable", "Threshold", "ThresholdStep", "TimeSeriesPanel", "TraceQL",
    "Var", "Variable", "promql", "rename", "rename_function", "rename_quantiles", "threshold_steps",
]
KIT_ATTRIBUTES = [
    "all_stages_filter", "bad_rate_panel", "by_stage", "catalog", "dashboard", "datasource_variables",
    "heatmap_panel", "links",
    "measured", "measurement", "prom", "prometheus", "promql", "quantiles_panel", "rate_panel", "schema_version",
    "select", "session_url", "slowest_table", "spread_panels", "stage", "stage_filter", "steps", "tags",
    "tempo", "tempo_metrics", "tempo_search", "traceql", "uid", "variables",
]


def test_the_public_api_is_exactly_the_pinned_names():
    assert sorted(api.__all__) == PUBLIC_NAMES
    assert all(hasattr(api, name) for name in api.__all__)
    assert sorted(n for n in dir(api.Kit) if not n.startswith("_")) == KIT_ATTRIBUTES
    assert api.API_VERSION == 2


# --- the example: one kit dashboard and one plain grafanalib file -------------------------------------

@pytest.fixture(scope="module")
def example():
    return {v: build_artifacts(load_catalog(str(EXAMPLE)), v) for v in (41, 42)}


def _dash(result, uid) -> dict:
    return json.loads(result.artifacts[f"dashboards/voice-agent/{uid}.json"])


def test_the_example_adds_both_dashboards_beside_the_generated_ones(example):
    result = example[41]
    uids = [d.uid for d in result.dashboards]
    assert uids[-2:] == [KIT_UID, LEGACY_UID] and "voice-overview" in uids
    manifest = result.artifacts["dashboards/manifest.yaml"]
    assert KIT_UID in manifest and LEGACY_UID in manifest
    assert result.problems == ()


@pytest.mark.parametrize("folder,version", [("grafana-13", 42), ("grafana-12", 42), ("grafana-11.6", 41)])
def test_the_example_dashboards_are_valid_for_grafana(example, grafana_schemas, folder, version):
    schemas = SchemaSet(grafana_schemas / folder)
    for uid in (KIT_UID, LEGACY_UID):
        d = _dash(example[version], uid)
        assert d["schemaVersion"] == version
        assert [str(p) for p in validate_dashboard(d, schemas)] == []


def test_the_kit_dashboard_uses_the_catalog(example):
    d = _dash(example[41], KIT_UID)
    queries = [t.get("query") or t.get("expr") for p in d["panels"] for t in p.get("targets", [])]
    assert any("by (span.gen_ai.provider.name)" in q and "quantile_over_time(span.audio.first_byte_ms, 0.95)" in q
               for q in queries if q)
    assert any("audio_first_byte_milliseconds_bucket" in q for q in queries if q)
    p95 = next(p for p in d["panels"] if p["title"].startswith("Time to first token p95, by"))
    assert [s["value"] for s in p95["fieldConfig"]["defaults"]["thresholds"]["steps"]] == [None, 600]
    assert {"dashgen", "dashgen-audio", "voice-agent"} <= set(d["tags"])
    assert d["links"][0]["tags"] == ["dashgen-audio"]


def test_the_grafanalib_file_becomes_current_grafana_json(example):
    d = _dash(example[41], LEGACY_UID)
    assert d["schemaVersion"] == 41 and "rows" not in d and "id" not in d
    assert OWNER_TAG in d["tags"] and "grafanalib" in d["tags"]
    for p in d["panels"]:
        assert not (LEGACY_PANEL_KEYS & set(p)), p["title"]
        for t in p.get("targets", []):
            assert t["datasource"] == {"type": "prometheus", "uid": "${prometheus}"}
            assert not {"query", "target", "metric", "step"} & set(t)
    by_title = {p["title"]: p for p in d["panels"]}
    assert by_title["First byte p95 by stage"]["gridPos"] == {"h": 8, "w": 16, "x": 0, "y": 1}  # as the file says
    assert by_title["Stage errors per second"]["gridPos"] == {"h": 8, "w": 12, "x": 0, "y": 9}  # laid out below
    assert [v["name"] for v in d["templating"]["list"]] == ["tempo", "prometheus"]


# --- grafanalib translation details ---------------------------------------------------------------------

def _write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


LEGACY_ROWS = """\
    from grafanalib.core import Dashboard, Row, Stat, Target, TimeSeries
    dashboard = Dashboard(title="Rows", uid="legacy-rows", rows=[
        Row(title="First", panels=[
            TimeSeries(title="A", description="a", dataSource="Prometheus", targets=[Target(expr="up")], span=8),
            Stat(title="B", description="b", dataSource="Prometheus", targets=[Target(expr="up")], span=4),
        ]),
        Row(panels=[%s]),
    ])
"""


def test_legacy_rows_translate_like_grafanas_migrator_and_ids_follow_titles(tmp_path):
    catalog = load_catalog("default")

    def built(extra):
        path = _write(tmp_path, "rows.dashboard.py", LEGACY_ROWS % extra)
        return json.loads(build_artifacts(catalog, 41, (str(path),)).artifacts["dashboards/voice-agent/legacy-rows.json"])

    d = built('TimeSeries(title="C", description="c", dataSource="Prometheus", targets=[Target(expr="up")])')
    grid = {p["title"]: p["gridPos"] for p in d["panels"]}
    # span 8 of 12 -> 16 of 24 columns; the default row height 250px -> ceil(250 / 38) = 7
    assert grid == {"First": {"x": 0, "y": 0, "w": 24, "h": 1}, "A": {"x": 0, "y": 1, "w": 16, "h": 7},
                    "B": {"x": 16, "y": 1, "w": 8, "h": 7}, "C": {"x": 0, "y": 8, "w": 24, "h": 7}}
    ids = {p["title"]: p["id"] for p in d["panels"]}
    again = built('TimeSeries(title="New", description="n", dataSource="Prometheus", targets=[Target(expr="up")]),'
                  'TimeSeries(title="C", description="c", dataSource="Prometheus", targets=[Target(expr="up")])')
    assert {p["title"]: p["id"] for p in again["panels"] if p["title"] != "New"} == ids


def test_an_angular_graph_panel_is_a_located_lint_problem(tmp_path):
    path = _write(tmp_path, "graph.dashboard.py", """\
        from grafanalib.core import Dashboard, Graph, Target

        dashboard = Dashboard(title="Old graph", panels=[
            Graph(title="Requests", description="r", dataSource="Prometheus", targets=[Target(expr="up")]),
        ])
    """)
    res = run_cli(["lint", "--definitions", str(path)])
    assert res.code == 1
    assert f"problem: {path}:4: panel 'Requests': a 'graph' panel" in res.out and "[definition]" in res.out
    assert "use grafanalib's TimeSeries instead" in res.out


def test_a_plain_grafanalib_file_without_descriptions_builds_with_warnings(tmp_path):
    """Issue 22: a team's first grafanalib file (two panels, no descriptions) is house style, not a
    refusal: build writes it and prints each missing description as a warning on stderr."""
    path = _write(tmp_path, "team.dashboard.py", """\
        from grafanalib.core import Dashboard, Stat, Target, TimeSeries

        dashboard = Dashboard(title="Team sessions", uid="team-sessions", panels=[
            Stat(title="Sessions now", dataSource="Prometheus", targets=[Target(expr="sum(up)")]),
            TimeSeries(title="Sessions over time", dataSource="Prometheus", targets=[Target(expr="sum(up)")]),
        ])
    """)
    res = run_cli(["build", "--definitions", str(path), "-o", str(tmp_path / "out")])
    assert res.code == 0, res.err
    written = json.loads((tmp_path / "out" / "dashboards" / "voice-agent" / "team-sessions.json").read_text())
    assert [p["title"] for p in written["panels"]] == ["Sessions now", "Sessions over time"]
    warnings = [line for line in res.err.splitlines() if line.startswith("dashgen: warning: ")]
    # each names the file and line that made the dashboard (its Dashboard(...) assignment), then the panel
    assert warnings == [f"dashgen: warning: {path}:3: dashboards/voice-agent/team-sessions.json: panel {t!r}: has no "
                        f"description [panel-description]" for t in ("Sessions now", "Sessions over time")]
    # lint agrees: warnings, exit 0; --format json says which rule, how severe, where
    lint = run_cli(["lint", "--definitions", str(path), "--format", "json"])
    assert lint.code == 0, lint.out + lint.err
    found = [p for p in json.loads(lint.out)["problems"] if p["rule"] == "panel-description"]
    assert [(p["severity"], p["location"]["dashboard"], p["location"]["panel"]) for p in found] == [
        ("warning", "team-sessions", "Sessions now"), ("warning", "team-sessions", "Sessions over time")]
    assert {p["location"]["catalog"] for p in found} == {f"{path}:3"}  # where the fix goes, as build says


def test_an_unknown_datasource_name_is_a_located_error(tmp_path):
    path = _write(tmp_path, "ds.dashboard.py", """\
        from grafanalib.core import Dashboard, Target, TimeSeries
        dashboard = Dashboard(title="Elsewhere", panels=[
            TimeSeries(title="Loki", description="l", dataSource="Loki", targets=[Target(expr="up")]),
        ])
    """)
    res = run_cli(["build", "--definitions", str(path), "-o", str(tmp_path / "out")])
    assert res.code == 2
    assert res.err.startswith(f"{path}:3: panel 'Loki': datasource 'Loki' is neither the catalog's Tempo")


# --- errors in user code: one located line, exit 2, nothing written ---------------------------------------

ERRORS = {
    "raises": ("def dashboards(kit):\n    x = 1\n    return kit.stage('nope')\n",
               3, "ValueError: the catalog has no stage 'nope'"),
    "imports": ("import os\nimport no_such_module_anywhere\n", 2,
                "ModuleNotFoundError: No module named 'no_such_module_anywhere'"),
    "syntax": ("x = 1\ndef dashboards(kit)\n    return []\n", 2, "SyntaxError: expected ':'"),
    "missing": ("x = 1\n", 1, "defines neither a function dashboards(kit) nor a module-level dashboard"),
    "wrong-return": ("\n\ndef dashboards(kit):\n    return 'a dashboard'\n", 3,
                     "dashboards(kit) returned str, not a list of dashboards"),
    "wrong-item": ("def dashboards(kit):\n    return [{'title': 'x'}]\n", 1,
                   "item 0 of what dashboards(kit) returned is a dict, not a dashboard"),
    "wrong-dashboard": ("\ndashboard = {'title': 'x'}\n", 2, "the module-level dashboard is a dict, not a dashboard"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_an_error_in_a_definition_file_is_one_located_line(tmp_path, case):
    body, line, message = ERRORS[case]
    path = _write(tmp_path, f"{case}.py", body)
    out = tmp_path / "out"
    res = run_cli(["build", "--definitions", str(path), "-o", str(out)])
    assert res.code == 2, res.all
    assert res.err.startswith(f"{path}:{line}: {message}"), res.err
    assert res.err.count("\n") == 1 and "Traceback" not in res.err
    assert not out.exists()


def test_dashgen_debug_shows_the_traceback(tmp_path, dashgen_cli):
    path = _write(tmp_path, "boom.py", "def dashboards(kit):\n    raise RuntimeError('boom')\n")
    quiet = dashgen_cli("build", "--definitions", str(path), "-o", str(tmp_path / "o"), cwd=REPO)
    loud = dashgen_cli("build", "--definitions", str(path), "-o", str(tmp_path / "o"), cwd=REPO,
                       env={"DASHGEN_DEBUG": "1"})
    assert quiet.returncode == loud.returncode == 2
    assert quiet.stderr == f"{path}:2: RuntimeError: boom (in dashboards(kit); DASHGEN_DEBUG=1 shows the traceback)\n"
    assert "Traceback (most recent call last)" in loud.stderr and loud.stderr.endswith(quiet.stderr)


@pytest.mark.parametrize("body,message", [
    ("    return [kit.dashboard('overview', 'Mine', 'd', [])]\n",
     "dashboard uid 'voice-overview' is already used by the generated dashboard 'overview'"),
    ("    return [kit.dashboard('mine', 'Session drilldown', 'd', [])]\n",
     "dashboard title 'Session drilldown' is already used by the generated dashboard 'session'"),
    ("    s = kit.stage('tts'); m = kit.measurement('tts', 'first_byte')\n"
     "    return [kit.dashboard('mine', 'Mine', 'd', [kit.quantiles_panel(s, m)])]\n",
     "panel 'tts-first-byte-quantiles' says it shows 'tts.first_byte:p50', which a panel of voice-tts shows"),
])
def test_a_collision_with_a_generated_dashboard_is_a_located_error(tmp_path, body, message):
    path = _write(tmp_path, "clash.py", "def dashboards(kit):\n" + body)
    res = run_cli(["build", "--definitions", str(path), "-o", str(tmp_path / "out")])
    assert res.code == 2
    line = body.count("\n") + 1
    assert res.err.startswith(f"{path}:{line}: {message}"), res.err


def test_a_catalog_definition_that_matches_nothing_is_a_catalog_error(tmp_path, default_catalog_text):
    catalog = tmp_path / "c.yaml"
    catalog.write_text(default_catalog_text + "definitions:\n  - mine/*.py\n", encoding="utf-8")
    res = run_cli(["build", "-c", str(catalog), "-o", str(tmp_path / "out")])
    line = default_catalog_text.count("\n") + 2
    assert res.code == 2
    assert res.err.startswith(f"{catalog}:{line}:5: definitions[0] 'mine/*.py' matches no file"), res.err


# --- the same pipeline: build --check, diff, plan, push, prune ---------------------------------------------

def test_user_dashboards_go_through_check_diff_plan_push_and_prune(tmp_path):
    out = tmp_path / "out"
    assert run_cli(["build", "-c", str(EXAMPLE), "-o", str(out)]).code == 0
    assert (out / "dashboards" / "voice-agent" / f"{KIT_UID}.json").is_file()
    assert run_cli(["build", "-c", str(EXAMPLE), "-o", str(out), "--check"]).code == 0
    stale = run_cli(["build", "-o", str(out), "--check"])  # without the definitions: two extra files
    assert stale.code == 1 and f"extra: dashboards/voice-agent/{KIT_UID}.json" in stale.out

    plain = tmp_path / "plain"
    assert run_cli(["build", "-o", str(plain)]).code == 0
    diff = run_cli(["diff", "--against", str(plain), "-c", str(EXAMPLE), "--replace-catalog"])
    assert diff.out.splitlines()[0].endswith("this build: 2 dashboards added; 1 other file changed"), diff.out
    assert "catalog_file default -> " in diff.out  # another catalog: the manifest says so
    assert "dashboard LLM providers (voice-llm-providers): added" in diff.out
    assert run_cli(["diff", "--against", str(out), "-c", str(EXAMPLE), "--exit-code"]).code == 0

    emu = GrafanaEmulator().start()
    try:
        env = {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token}
        plan = run_cli(["plan", "-c", str(EXAMPLE)], env)
        assert plan.code == 0 and f"dashboard   {KIT_UID}" in plan.out and LEGACY_UID in plan.out
        assert run_cli(["push", "-c", str(EXAMPLE), "--retry-base-delay", "0.001"], env).code == 0
        assert {KIT_UID, LEGACY_UID} <= set(emu.dashboards)
        pruned = run_cli(["push", "--prune", "--retry-base-delay", "0.001"], env)  # the catalog alone
        assert pruned.code == 0, pruned.all
        assert not {KIT_UID, LEGACY_UID} & set(emu.dashboards) and "voice-overview" in emu.dashboards
    finally:
        emu.stop()
