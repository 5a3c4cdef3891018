"""`./scripts/test` runs from inside a user's activated venv and leaves that venv alone (issue 12).

The user's venv here is a real one (``python -m venv``), activated the way ``. bin/activate``
does it (VIRTUAL_ENV, PATH). scripts/test must run the tests in its own environment and write
nothing into the user's. The test environment it uses is the one running this test when that
is already a venv of this checkout (as under scripts/test), else a new one in a temporary
directory (made and filled from the package index: slower, but the same path a fresh machine takes).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dashgen
from conftest import REPO


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_scripts_test_from_an_activated_venv(tmp_path):
    user_venv = tmp_path / "user-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(user_venv)], check=True, timeout=120)
    before = snapshot(user_venv)

    in_own_venv = sys.prefix != sys.base_prefix and Path(dashgen.__file__).resolve().is_relative_to(REPO)
    test_venv = sys.prefix if in_own_venv else str(tmp_path / "test-venv")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(VIRTUAL_ENV=str(user_venv), PATH=f"{user_venv / 'bin'}{os.pathsep}{env['PATH']}",
               DASHGEN_TEST_VENV=test_venv)
    proc = subprocess.run([str(REPO / "scripts" / "test"), "-p", "no:cacheprovider", "tests/test_readme.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 passed" in proc.stdout.splitlines()[-1]
    assert snapshot(user_venv) == before  # nothing installed into, or changed in, the user's venv
