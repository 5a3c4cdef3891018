"""A real, non-editable install works from any directory, with only its declared dependencies.

Acceptance (issue 2): "`pip install .` (a real, non-editable install) works from any
directory: the wheel ships `templates/` and the default catalog." Issue 12: the install brings
everything the base commands need (``lint --schemas`` included), and the test itself runs from
inside a venv (see tests/installed.py).
"""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import REPO, run_dashgen
from installed import installed_dashgen


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    return installed_dashgen(tmp_path_factory)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_wheel_ships_templates_and_presets(installed):
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert "dashgen/catalog/presets/default.yaml" in names
    templates = sorted(REPO.joinpath("templates").rglob("*.j2"))
    assert templates
    for t in templates:
        assert f"dashgen/templates/{t.relative_to(REPO / 'templates').as_posix()}" in names, t


def test_wheel_install_builds_the_same_bytes_outside_the_repo(installed, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    where = subprocess.run(["python", "-c", "import dashgen; print(dashgen.__file__)"], cwd=outside,
                           env=installed.env(), capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).resolve().is_relative_to(installed.venv.resolve()), where
    # the console script of the wheel, from a directory outside the repository
    proc = subprocess.run(["dashgen", "build", "-o", "out"], cwd=outside, env=installed.env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    installed_tree = tree(outside / "out")

    ref = run_dashgen("build", "-o", str(tmp_path / "in-repo"), cwd=REPO)
    assert ref.returncode == 0, ref.stderr
    assert installed_tree == tree(tmp_path / "in-repo")
    assert any(k.startswith("dashboards/") for k in installed_tree)


def test_lint_schemas_works_after_a_plain_install(installed, grafana_schemas, tmp_path):
    proc = subprocess.run(["dashgen", "lint", "--schemas", str(grafana_schemas / "grafana-12")], cwd=tmp_path,
                          env=installed.env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == "dashgen: lint ok (9 dashboards, schemas checked)"


def test_lint_grafana_works_after_a_plain_install(installed, grafana_schemas, tmp_path):
    """The wheel ships the schema generator (its pinned npm packages and generate.js): the installed
    dashgen finds the schemas the checkout's generated under the same key, i.e. the same pins."""
    names = zipfile.ZipFile(installed.wheel).namelist()
    for f in ("package.json", "package-lock.json", "generate.js"):
        assert f"dashgen/lint/schemagen/{f}" in names
    env = {**installed.env(), "DASHGEN_SCHEMA_CACHE": str(grafana_schemas.parent)}
    proc = subprocess.run(["dashgen", "lint", "--grafana", "12"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == "dashgen: lint ok (9 dashboards, schemas checked)"
    assert "fetching" not in proc.stderr  # served from the cache, nothing generated again
