"""What a command imports is what it needs (issue 22: `dashgen build` within 1.3x its stack's
start-up; the figures are bench/build.py's, never timed here): the modules only some commands
use are imported when those run."""

from __future__ import annotations

import ast
import subprocess
import sys

from click.testing import CliRunner

from dashgen.cli import cli
from dashgen.lint.grafana_schemas import GRAFANA_VERSIONS

# what `build` never needs: Grafana's schema generator (and the subprocess module it runs npm
# with), the close-match hints of a misspelt catalog, the glob of definition files, the network,
# and grafanalib (~half the stack's start-up), which only a user's grafanalib file needs: dashgen's
# own panel classes keep grafanalib's model without inheriting its legacy Panel and Dashboard
NOT_FOR_BUILD = ("dashgen.lint.grafana_schemas", "subprocess", "glob", "requests", "urllib3", "jsonschema",
                 "grafanalib.core")


def loaded_after(tmp_path, *args: str, watch=NOT_FOR_BUILD) -> tuple[subprocess.CompletedProcess, list[str]]:
    script = ("import atexit, sys\n"
              f"atexit.register(lambda: print('LOADED', sorted(m for m in {watch!r} if m in sys.modules), "
              "file=sys.stderr))\n"
              "from dashgen.cli import main; main()\n")
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=tmp_path)
    line = [x for x in proc.stderr.splitlines() if x.startswith("LOADED ")]
    assert line, proc.stderr
    return proc, ast.literal_eval(line[-1].removeprefix("LOADED "))


def test_build_imports_only_what_it_runs(tmp_path):
    proc, loaded = loaded_after(tmp_path, "build", "-c", "default", "-o", "out")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "dashboards" / "manifest.yaml").is_file()
    assert loaded == [], loaded


def test_a_grafanalib_definition_file_loads_grafanalib_and_builds(tmp_path):
    """The other side of leaving grafanalib out of a plain build: a project whose definition file is
    a plain grafanalib dashboard still builds it (translated into dashgen's classes)."""
    (tmp_path / "plain.py").write_text(
        "from grafanalib.core import Dashboard, TimeSeries, Target\n"
        "dashboard = Dashboard(title='Sessions', uid='team-sessions', panels=[\n"
        "    TimeSeries(title='Sessions now', targets=[Target(expr='sum(voice_sessions)', refId='A')],\n"
        "               gridPos={'x': 0, 'y': 0, 'w': 12, 'h': 8})])\n", encoding="utf-8")
    proc, loaded = loaded_after(tmp_path, "build", "-c", "default", "--definitions", "plain.py", "-o", "out",
                                watch=("grafanalib.core",))
    assert proc.returncode == 0, proc.stderr
    assert loaded == ["grafanalib.core"], loaded
    assert "Sessions" in (tmp_path / "out" / "dashboards" / "manifest.yaml").read_text(encoding="utf-8")


def test_only_a_v2_build_loads_the_v2_conversions(tmp_path):
    watch = ("dashgen.dashboards.v2",)
    proc, loaded = loaded_after(tmp_path, "build", "-c", "default", "-o", "classic", watch=watch)
    assert proc.returncode == 0, proc.stderr
    assert loaded == [], loaded
    proc, loaded = loaded_after(tmp_path, "build", "-c", "default", "--schema-version", "v2", "-o", "v2", watch=watch)
    assert proc.returncode == 0, proc.stderr
    assert loaded == ["dashgen.dashboards.v2"], loaded


def test_help_imports_neither_lint_nor_its_schema_generator(tmp_path):
    proc, loaded = loaded_after(tmp_path, "--help", watch=("dashgen.lint", "dashgen.lint.grafana_schemas"))
    assert proc.returncode == 0 and "lint" in proc.stdout, proc.stderr
    assert loaded == [], loaded


def test_the_grafana_choices_are_the_pinned_releases():
    """lint --grafana reads its choices from grafana_schemas when shown or used."""
    runner = CliRunner()
    shown = runner.invoke(cli, ["lint", "--help"])
    assert f"[{'|'.join(GRAFANA_VERSIONS)}]" in shown.output
    refused = runner.invoke(cli, ["lint", "-c", "default", "--grafana", "9.9"])
    assert refused.exit_code == 2
    assert all(repr(v) in refused.output for v in GRAFANA_VERSIONS), refused.output
