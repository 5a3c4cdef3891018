"""A real, non-editable install works from any directory, with only its declared dependencies.

Acceptance (issue 2): "`pip install .` (a real, non-editable install) works from any
directory: the wheel ships `templates/` and the default catalog." Issue 12: the install brings
everything the base commands need (``lint --schemas`` included), and the test itself runs from
inside a venv (see tests/installed.py).
"""

from __future__ import annotations

import re
import subprocess
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from conftest import REPO, run_dashgen
from installed import installed_dashgen

from dashgen import DISTRIBUTION, __version__


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
    proc = subprocess.run(["dashgen", "build", "-c", "default", "-o", "out"], cwd=outside, env=installed.env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    installed_tree = tree(outside / "out")

    ref = run_dashgen("build", "-o", str(tmp_path / "in-repo"), cwd=REPO)
    assert ref.returncode == 0, ref.stderr
    assert installed_tree == tree(tmp_path / "in-repo")
    assert any(k.startswith("dashboards/") for k in installed_tree)


def test_lint_schemas_works_after_a_plain_install(installed, grafana_schemas, tmp_path):
    proc = subprocess.run(["dashgen", "lint", "-c", "default", "--schemas", str(grafana_schemas / "grafana-12")], cwd=tmp_path,
                          env=installed.env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == "dashgen: lint ok (9 dashboards, schemas checked)"


# ------------------------------------------------------------------ issue 23 section 2: releasable
def tracked(under: str) -> list[str]:
    out = subprocess.run(["git", "ls-files", under], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if (REPO / line).is_file()]


def wheel_metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(z.read(name).decode()), z.namelist()


def test_the_wheel_names_its_own_distribution_version_and_license(installed):
    meta, names = wheel_metadata(installed.wheel)
    assert meta["Name"] == DISTRIBUTION == "voice-dashgen"  # "dashgen" on PyPI is another project
    source_version = re.search(r'^__version__ = "([^"]+)"', (REPO / "dashgen" / "__init__.py").read_text(), re.M)
    assert meta["Version"] == source_version.group(1) == __version__  # one home: dashgen/__init__.py
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta["Requires-Python"] == ">=3.11"
    assert {"otel", "preview"} <= set(meta.get_all("Provides-Extra"))
    assert "grafanalib==0.7.1" in meta.get_all("Requires-Dist")
    classifiers = meta.get_all("Classifier")
    assert "Programming Language :: Python :: 3.11" in classifiers and "Typing :: Typed" in classifiers
    (license_file,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    with zipfile.ZipFile(installed.wheel) as z:
        assert z.read(license_file) == (REPO / "LICENSE").read_bytes()
    assert "Apache License" in (REPO / "LICENSE").read_text() and "Version 2.0, January 2004" in (REPO / "LICENSE").read_text()
    assert "voice-dashgen" in meta.get_payload()  # the README is the long description, naming the distribution


def test_the_wheel_has_every_file_of_the_package(installed):
    """Every tracked file under dashgen/ (presets, the sandbox, windows, py.typed) is in the wheel."""
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    package = tracked("dashgen")
    assert "dashgen/py.typed" in package and "dashgen/sandbox/emulator.py" in package
    missing = [f for f in package if f not in names]
    assert missing == []
    assert not [n for n in names if n.startswith(("tests/", "bench/", "dashboards/", "alerts/"))]


def test_the_sdist_carries_what_a_release_needs(installed):
    with tarfile.open(installed.sdist) as t:
        root = t.getnames()[0].split("/")[0]
        names = {n.partition("/")[2] for n in t.getnames()}
        pkg_info = Parser().parsestr(t.extractfile(f"{root}/PKG-INFO").read().decode())
    assert root == f"voice_dashgen-{__version__}"
    assert pkg_info["Name"] == DISTRIBUTION and pkg_info["Version"] == __version__
    for f in ("LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml", *tracked("dashgen"), *tracked("templates")):
        assert f in names, f


def test_the_changelog_has_a_section_for_this_version():
    changelog = (REPO / "CHANGELOG.md").read_text()
    first = re.search(r"^## (\S+)", changelog, re.M)
    assert first and first.group(1) == __version__


def test_version_and_sandbox_from_the_installed_wheel(installed, tmp_path):
    version = subprocess.run(["dashgen", "--version"], cwd=tmp_path, env=installed.env(),
                             capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout == f"dashgen {__version__} (distribution {DISTRIBUTION})\n"
    meta = subprocess.run(["python", "-c", f"import importlib.metadata as m; print(m.version({DISTRIBUTION!r}))"],
                          cwd=tmp_path, env=installed.env(), capture_output=True, text=True, timeout=60)
    assert meta.stdout.strip() == __version__
    sandbox = subprocess.run(["dashgen", "sandbox", "--help"], cwd=tmp_path, env=installed.env(),
                             capture_output=True, text=True, timeout=60)
    assert sandbox.returncode == 0 and "in-memory Grafana emulator" in sandbox.stdout


def test_the_example_workflow_and_docs_install_this_distribution():
    """Never a bare "dashgen" requirement: on PyPI that name is another project's."""
    bare = re.compile(r"""(?<![\w-])dashgen(\[[\w,]+\])?\s*(==|>=|~=)|pip install ['"]?dashgen\b""")
    for path in [REPO / ".github" / "workflows" / "dashboards.yml", REPO / ".pre-commit-hooks.yaml",
                 REPO / "README.md", REPO / "CHANGELOG.md", *sorted((REPO / "docs").glob("*.md"))]:
        assert not bare.search(path.read_text()), path
    workflow = (REPO / ".github" / "workflows" / "dashboards.yml").read_text()
    assert f'DASHGEN_INSTALL: "{DISTRIBUTION}[preview]=={__version__}"' in workflow
    assert f"pip install {DISTRIBUTION}" in (REPO / "README.md").read_text()


def test_lint_grafana_works_after_a_plain_install(installed, grafana_schemas, tmp_path):
    """The wheel ships the schema generator (its pinned npm packages and generate.js): the installed
    dashgen finds the schemas the checkout's generated under the same key, i.e. the same pins."""
    names = zipfile.ZipFile(installed.wheel).namelist()
    for f in ("package.json", "package-lock.json", "generate.js"):
        assert f"dashgen/lint/schemagen/{f}" in names
    env = {**installed.env(), "DASHGEN_SCHEMA_CACHE": str(grafana_schemas.parent)}
    proc = subprocess.run(["dashgen", "lint", "-c", "default", "--grafana", "12"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == "dashgen: lint ok (9 dashboards, schemas checked)"
    assert "fetching" not in proc.stderr  # served from the cache, nothing generated again
