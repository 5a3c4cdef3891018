"""Shared fixtures. Keep this small: helpers used by one test file belong in that file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CATALOG = REPO / "dashgen" / "catalog" / "presets" / "default.yaml"


# The slow tier, left out by ``./scripts/test --fast`` (pytest -m "not slow"): test files that start
# a real Prometheus or Collector, run promtool over hours of synthetic series, or make and fill a
# fresh virtual environment. Marked here, in one place, so the list is seen whole; whatever runs
# within seconds stays in the fast tier.
SLOW_FILES = frozenset({
    "test_catalog_fuzz.py",       # hypothesis: hundreds of random catalogs
    "test_collector_bridge.py",   # otelcol-style bridge: re-parses every rule file per case
    "test_diff.py",               # git repositories and dashgen diff runs in subprocesses
    "test_gitignore_hint.py",     # renders a preview in a subprocess
    "test_large_catalog.py",      # builds a 200-stage catalog
    "test_preview.py",            # matplotlib renders every dashboard to PNG and SVG
    "test_promtool.py",           # promtool test rules on four catalogs
    "test_readme_walkthrough.py",  # a fresh venv holding only the wheel, then the README as written
    "test_scripts_test.py",       # scripts/test itself, from a user's venv
    "test_simulate_verify.py",    # simulate + verify-traces/verify-metrics end to end
    "test_verify_metrics.py",     # a real Prometheus server per catalog
    "test_wheel.py",              # builds the wheel and installs it into a fresh venv
    "test_detection_times.py",    # promtool measures every paging rule's time to page
    "test_paging.py",             # a real Alertmanager, promtool scenarios
    "test_sloth_compat.py",       # promtool runs Sloth's own queries on the built rules
    "test_collector_field.py",    # a real Prometheus fed the bridge's series
    "test_stage_errors.py",       # a real Prometheus evaluates the error alerts
    "test_sandbox.py",            # dashgen sandbox as a subprocess, plan and push against it
    "test_push.py",               # the emulator over HTTP, every push scenario
    "test_project.py",            # dashgen in subprocesses, project by project
    "test_import.py",             # a corpus of real dashboards imported and built back
    "test_v2.py",                 # builds, lint and diff in subprocesses, pushes to the emulator
    "test_catalog_variants.py",   # dozens of catalog variants built and gated
    "test_turn_breakdown.py",     # node runs Grafana's own transformations
    "test_build_gate.py",         # build, plan, push, diff and preview refusals in subprocesses
})
# and single tests of fast files that run dashgen several times in subprocesses
SLOW_TESTS = frozenset({
    "test_lint_grafana_version_validates_with_that_releases_schemas",  # lint --grafana x 4 runs
    "test_lint_warns_when_the_build_is_newer_than_that_grafana",       # lint + build x 3 runs
    "test_every_accepted_attribute_name_parses_in_grafanas_grammar",   # node, Grafana's grammar
    "test_bad_catalog_is_one_located_line_exit_2_and_writes_nothing",   # dashgen x 20 subprocesses
    "test_yaml_output_does_not_depend_on_libyaml",                      # every file through pure-Python YAML
    "test_direct_writer_writes_libyaml_bytes",                          # hypothesis: documents through both writers
    "test_user_dashboards_go_through_check_diff_plan_push_and_prune",   # build, diff, plan, push in turn
    "test_tempo_rules_at_many_stages_keep_the_query_budget_on_every_page",  # catalogs of many stages built
    "test_lint_format_json_gives_rule_severity_and_location_and_finds_a_stat_in_a_collapsed_row",  # lint x 2
    "test_schema_version_42_flag",                                      # build x 2 in subprocesses
    "test_an_exclusion_silences_one_rule_for_one_panel",                # lint x 3 in subprocesses
    "test_lint_hand_broken_output_exit_1_names_the_problems",           # lint in subprocesses
    "test_check_reports_stale_missing_and_extra",                       # build x 3 in subprocesses
    "test_byte_identical_across_runs_directories_and_hash_seeds",       # build x 3 in subprocesses
    "test_cli_build_failure_midway_keeps_old_output",                   # build x 2 in subprocesses
    "test_promtool_the_good_turn_slo_pages_tickets_and_stays_silent",   # promtool over 9 hours of series
    "test_promtool_fails_when_the_healthy_case_expects_a_page",       # promtool, the good-turn SLO's cases
})


def _is_slow(item) -> bool:
    return item.path.name in SLOW_FILES or item.originalname in SLOW_TESTS


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _is_slow(item):
            item.add_marker(pytest.mark.slow)
    # the longest tests first, then the slow files (a stable sort: each file's own order is kept): the
    # workers start on the long tests and fill in with the short ones, instead of one long test
    # running alone at the end
    items.sort(key=lambda item: (_rank_in_longest(item), not _is_slow(item)))


# The longest single tests (--durations, longest first): run before everything else, so xdist's two
# workers each take one at the start rather than one of them finishing the run alone.
LONGEST = (
    "test_promtool.py::test_promtool_unit_tests_pass[variant]",
    "test_promtool.py::test_promtool_unit_tests_pass[default]",
    "test_detection_times.py::test_the_docs_table_is_the_measured_one",
    "test_promtool.py::test_promtool_unit_tests_pass[pipecat]",
    "test_readme_walkthrough.py::test_readme_walkthrough_runs_as_written",
    "test_promtool.py::test_promtool_unit_tests_pass[livekit]",
)


def _rank_in_longest(item) -> int:
    nodeid = item.nodeid.split("/")[-1]
    return LONGEST.index(nodeid) if nodeid in LONGEST else len(LONGEST)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def grafana_schemas() -> Path:
    """Grafana's JSON schemas for 11.6, 12 and 13: the folder holding ``grafana-11.6/``, ``grafana-12/``
    and ``grafana-13/``, generated from Grafana's npm packages by the same code as
    ``dashgen lint --grafana`` and cached in the test venv (``scripts/test`` fills the cache first).
    A fetch that fails FAILS the tests that need them: a skipped schema check proves nothing."""
    from dashgen.lint.grafana_schemas import GRAFANA_VERSIONS, SchemaFetchError, schema_folder

    cache = Path(os.environ.get("DASHGEN_SCHEMA_CACHE") or Path(sys.prefix) / "grafana-schemas")
    try:
        folders = {schema_folder(v, cache) for v in GRAFANA_VERSIONS}
    except SchemaFetchError as exc:
        pytest.fail(f"Grafana schemas: {exc}")
    (parent,) = {f.parent for f in folders}
    return parent


@pytest.fixture(scope="session")
def default_catalog_text() -> str:
    return DEFAULT_CATALOG.read_text(encoding="utf-8")


def run_dashgen(*args: str, cwd: Path | str | None = None, env: dict | None = None,
                python: str | None = None) -> subprocess.CompletedProcess:
    """Run the ``dashgen`` command line in a fresh interpreter, exactly as a user would."""
    return subprocess.run(
        [python or sys.executable, "-c", "from dashgen.cli import main; main()", *args],
        cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture(scope="session")
def dashgen_cli():
    """``dashgen_cli("build", "-o", dir)`` -> CompletedProcess (text stdout/stderr)."""
    return run_dashgen


def clone_stages(stages: list[dict], n: int) -> list[dict]:
    """``n`` stages copied in turn from ``stages`` (catalog documents), the copies' ids, spans and
    titles made distinct (``tts_1``, ``audio.tts_1``, ``TTS 1 (text to speech)``: alert titles use
    the part before `` (``)."""
    import copy

    out = []
    for i in range(n):
        s = copy.deepcopy(stages[i % len(stages)])
        k = i // len(stages)
        if k:
            s["id"], s["span"] = f"{s['id']}_{k}", f"{s['span']}_{k}"
            if s.get("role") == "turn":  # only the turn span's stage is the turn: a copy is a stage like any
                s["role"] = "custom"
            short, paren, rest = s["title"].partition(" (")
            s["title"] = f"{short} {k}{paren}{rest}"
        out.append(s)
    return out
