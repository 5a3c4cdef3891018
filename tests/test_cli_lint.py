"""``dashgen lint``: offline checks, and Grafana's schemas with ``--schemas DIR``.

Acceptance (issue 2): "dashgen lint runs the offline checks and with --schemas DIR the
schema validation too (CLI test: clean exit 0; a hand-broken output dir exit 1 with the
problem named)."
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_dashgen


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lint") / "out"
    proc = run_dashgen("build", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def copy_tree(src: Path, dst: Path) -> Path:
    for p in src.rglob("*"):
        if p.is_file():
            (dst / p.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
            (dst / p.relative_to(src)).write_bytes(p.read_bytes())
    return dst


def overview(out: Path) -> Path:
    (path,) = [p for p in out.rglob("*.json") if json.loads(p.read_text()).get("title") == "Voice pipeline overview"]
    return path


@pytest.mark.parametrize("version", ["grafana-12", "grafana-11.6"])
def test_lint_clean_output_with_schemas_exit_0(built, grafana_schemas, version):
    proc = run_dashgen("lint", "--from", str(built), "--schemas", str(grafana_schemas / version))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "lint ok" in proc.stdout and "schemas checked" in proc.stdout
    assert "problem:" not in proc.stdout


def test_lint_fresh_build_exit_0():
    proc = run_dashgen("lint")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "voice-overview:" in proc.stdout and "TraceQL metrics queries" in proc.stdout


def _break(out: Path, mutate) -> Path:
    path = overview(out)
    d = json.loads(path.read_text())
    mutate(d)
    path.write_text(json.dumps(d, indent=2, sort_keys=True) + "\n")
    return path


def _ts(d: dict) -> dict:
    return next(p for p in d["panels"] if p.get("type") == "timeseries")


def test_lint_hand_broken_output_exit_1_names_the_problems(built, grafana_schemas, tmp_path):
    out = copy_tree(built, tmp_path / "broken")

    def mutate(d):
        d["id"] = 7                                                    # offline: dashboard id
        panels = d["panels"]
        panels[-1]["gridPos"] = dict(panels[-2]["gridPos"])            # offline: overlap
        panels[-1]["id"] = panels[-2]["id"] if panels[-2]["type"] != "row" else panels[-1]["id"]
        _ts(d)["options"]["bogusOption"] = True                        # schema only
        _ts(d)["targets"][0]["query"] += " | select(span.audio.turn_id)"  # TraceQL rule

    path = _break(out, mutate)
    rel = path.relative_to(out).as_posix()
    proc = run_dashgen("lint", "--from", str(out), "--schemas", str(grafana_schemas / "grafana-12"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    problems = [line for line in proc.stdout.splitlines() if line.startswith("problem: ")]
    text = "\n".join(problems)
    assert f"{rel}: has a dashboard 'id'" in text
    assert "overlap" in text
    assert "select() in a metrics query" in text
    assert f"{rel}: schema:" in text and "bogusOption" in text
    assert "Traceback" not in proc.stderr and "lint found" in proc.stderr

    # without --schemas the schema-only problem is not reported, the offline ones are
    offline = run_dashgen("lint", "--from", str(out))
    assert offline.returncode == 1 and "bogusOption" not in offline.stdout and "overlap" in offline.stdout


def test_lint_schema_only_problem(built, grafana_schemas, tmp_path):
    out = copy_tree(built, tmp_path / "schema-only")
    _break(out, lambda d: _ts(d)["fieldConfig"]["defaults"]["custom"].update(lineWidth="thick"))
    assert run_dashgen("lint", "--from", str(out)).returncode == 0
    proc = run_dashgen("lint", "--from", str(out), "--schemas", str(grafana_schemas / "grafana-12"))
    assert proc.returncode == 1 and "lineWidth" in proc.stdout


def test_lint_bad_schema_dir_is_usage_error(built, tmp_path):
    proc = run_dashgen("lint", "--from", str(built), "--schemas", str(tmp_path))
    assert proc.returncode == 2 and "dashboard.jsonschema.json" in proc.stderr and "Traceback" not in proc.stderr


def _hide_palette_stat_in_a_collapsed_row(d: dict) -> str:
    """Move the overview's first stat, coloured palette-classic, into a new collapsed row."""
    stat = next(p for p in d["panels"] if p.get("type") == "stat")
    d["panels"].remove(stat)
    stat["fieldConfig"]["defaults"]["color"] = {"mode": "palette-classic"}
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in d["panels"])
    d["panels"].append({"type": "row", "id": 999999, "title": "Hidden", "collapsed": True,
                        "gridPos": {"x": 0, "y": bottom, "w": 24, "h": 1}, "panels": [stat]})
    return stat["title"]


def test_lint_format_json_gives_rule_severity_and_location_and_finds_a_stat_in_a_collapsed_row(built, tmp_path):
    out = copy_tree(built, tmp_path / "collapsed")
    titles = []
    path = _break(out, lambda d: titles.append(_hide_palette_stat_in_a_collapsed_row(d)))
    rel = path.relative_to(out).as_posix()
    proc = run_dashgen("lint", "--from", str(out), "--format", "json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is False and report["errors"] == 1
    assert report["problems"] == [{
        "rule": "threshold-colour", "severity": "error",
        "location": {"file": rel, "dashboard": "voice-overview", "panel": titles[0]},
        "message": "colour mode 'palette-classic' ignores its threshold steps (use 'thresholds')"}]
    assert {d["uid"] for d in report["dashboards"]} >= {"voice-overview"}

    # the text form says the same, with the rule id; a clean output gives an empty list, exit 0
    text = run_dashgen("lint", "--from", str(out))
    assert f"problem: {rel}: panel {titles[0]!r}: colour mode 'palette-classic'" in text.stdout
    assert "[threshold-colour]" in text.stdout
    clean = run_dashgen("lint", "--from", str(built), "--format", "json")
    assert clean.returncode == 0 and json.loads(clean.stdout)["problems"] == []


def test_an_exclusion_silences_one_rule_for_one_panel(built, tmp_path):
    out = copy_tree(built, tmp_path / "excluded")
    titles = []
    _break(out, lambda d: titles.append(_hide_palette_stat_in_a_collapsed_row(d)))
    other = tmp_path / "other.yaml"
    other.write_text(f"exclusions:\n  threshold-colour:\n    entries:\n      - dashboard: voice-overview\n"
                     f"        panel: Some other panel\n", encoding="utf-8")
    assert run_dashgen("lint", "--from", str(out), "--exclusions", str(other)).returncode == 1
    mine = tmp_path / ".dashgen-lint.yaml"
    mine.write_text(f"exclusions:\n  threshold-colour:\n    reason: the palette is meant here\n    entries:\n"
                    f"      - dashboard: Voice pipeline overview\n        panel: {titles[0]}\n", encoding="utf-8")
    proc = run_dashgen("lint", "--from", str(out), cwd=tmp_path)  # found in the directory lint runs in
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 excluded" in proc.stdout and "problem:" not in proc.stdout


def test_a_bad_exclusions_file_is_a_located_input_error(built, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("exclusions:\n  no-such-rule: {}\n", encoding="utf-8")
    proc = run_dashgen("lint", "--from", str(built), "--exclusions", str(bad))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{bad}:2:3: unknown lint rule 'no-such-rule'" in proc.stderr


# --- dashgen lint --grafana VERSION: Grafana's schemas from its npm packages, cached ---------------

def test_lint_grafana_version_validates_with_that_releases_schemas(built, grafana_schemas, tmp_path):
    env = {"DASHGEN_SCHEMA_CACHE": str(grafana_schemas.parent)}  # the cache the fixture filled
    for version in ("11.6", "12", "13"):
        proc = run_dashgen("lint", "--from", str(built), "--grafana", version, env=env)
        assert proc.returncode == 0, (version, proc.stdout + proc.stderr)
        assert "schemas checked" in proc.stdout
    out = copy_tree(built, tmp_path / "broken")
    _break(out, lambda d: _ts(d)["fieldConfig"]["defaults"]["custom"].update(lineWidth="thick"))
    proc = run_dashgen("lint", "--from", str(out), "--grafana", "13", env=env)
    assert proc.returncode == 1 and "lineWidth" in proc.stdout, proc.stdout + proc.stderr


def test_lint_warns_when_the_build_is_newer_than_that_grafana(grafana_schemas):
    """A --schema-version 42 build linted against 11.6 (which writes 41) is a warning, not a failure."""
    env = {"DASHGEN_SCHEMA_CACHE": str(grafana_schemas.parent)}
    newer = run_dashgen("lint", "--schema-version", "42", "--grafana", "11.6", env=env)
    assert newer.returncode == 0, newer.stdout + newer.stderr
    warnings = [ln for ln in newer.stderr.splitlines() if ln.startswith("dashgen: warning:")]
    assert len(warnings) == 1 and "schemaVersion 42" in warnings[0] and "--schema-version 41" in warnings[0], newer.stderr
    for args in (("--schema-version", "41", "--grafana", "11.6"), ("--schema-version", "42", "--grafana", "12")):
        same = run_dashgen("lint", *args, env=env)
        assert same.returncode == 0 and "warning" not in same.stderr, (args, same.stderr)


def test_lint_grafana_without_node_says_what_to_do(tmp_path):
    """An empty cache and no node on PATH: one line saying what is needed, no traceback."""
    proc = run_dashgen("lint", "--grafana", "12", env={"DASHGEN_SCHEMA_CACHE": str(tmp_path / "cache"),
                                                         "PATH": str(tmp_path)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "node and npm" in proc.stderr and "--schemas DIR" in proc.stderr and "Traceback" not in proc.stderr
