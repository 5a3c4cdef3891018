"""A real, non-editable install works from any directory.

Acceptance (issue 2): "`pip install .` (a real, non-editable install) works from any
directory: the wheel ships `templates/` and the default catalog."
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import REPO, run_dashgen


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_wheel_install_builds_the_same_bytes_outside_the_repo(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q",
                    "-w", str(dist)], check=True, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    (wheel,) = dist.glob("dashgen-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "dashgen/catalog/presets/default.yaml" in names
    templates = sorted(REPO.joinpath("templates").rglob("*.j2"))
    assert templates
    for t in templates:
        assert f"dashgen/templates/{t.relative_to(REPO / 'templates').as_posix()}" in names, t

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    py = str(venv / "bin" / "python")
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--force-reinstall", str(wheel)],
                   check=True, capture_output=True, text=True, timeout=300)

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = subprocess.run([py, "-c", "import dashgen, sys; print(dashgen.__file__)"], cwd=outside, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).resolve().is_relative_to(venv.resolve()), where
    # the console script of the wheel, from a directory outside the repository
    proc = subprocess.run([str(venv / "bin" / "dashgen"), "build", "-o", "out"], cwd=outside, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    installed = tree(outside / "out")

    ref = run_dashgen("build", "-o", str(tmp_path / "in-repo"), cwd=REPO)
    assert ref.returncode == 0, ref.stderr
    assert installed == tree(tmp_path / "in-repo")
    assert any(k.startswith("dashboards/") for k in installed)
