"""dashgen as a user gets it: the wheel, installed with its dependencies into a fresh venv.

Shared by tests/test_wheel.py and tests/test_readme_walkthrough.py, and made once per test
session (the second caller finds it under pytest's base temp directory; under pytest-xdist, in
the workers' common parent, behind a file lock).

The venv is made WITHOUT ``--system-site-packages``: from inside a venv (scripts/test always
runs the suite in .venv-test) ``sys.executable -m venv --system-site-packages`` would see only
the base interpreter's packages, not the running environment's, and fail to import grafanalib.
Installing the wheel with its declared dependencies, from whatever index pip is configured
with, is also what proves that ``pip install .`` alone brings everything the base commands
need (``lint --schemas`` included).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from conftest import REPO
from dashgen import DISTRIBUTION


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    sdist: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def env(self) -> dict[str, str]:
        """The environment of a shell with this venv activated (and nothing of the checkout's)."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        return {**env, "VIRTUAL_ENV": str(self.venv), "PATH": f"{self.bin}{os.pathsep}{env.get('PATH', '')}"}


def _run(*cmd: str, cwd: Path | None = None) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"


def installed_dashgen(tmp_path_factory) -> Installed:
    """Build the sdist and, from it, the wheel (``python -m build``, as a release is made), then
    install the wheel into a fresh venv: once for all xdist workers (a shared parent, a file lock)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # one wheel and venv for all xdist workers (a shared parent)
        base = base.parent
    root = base / "installed-dashgen"
    root.mkdir(exist_ok=True)
    with open(base / "installed-dashgen.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker makes it, the others wait and reuse it
        return _installed(root)


def _installed(root: Path) -> Installed:
    done = root / "done"
    if not done.exists():
        dist, venv = root / "dist", root / "venv"
        _run(sys.executable, "-m", "build", "--outdir", str(dist), str(REPO), cwd=root)
        _run(sys.executable, "-m", "venv", str(venv))
        stem = DISTRIBUTION.replace("-", "_")
        (wheel,) = dist.glob(f"{stem}-*.whl")
        (sdist,) = dist.glob(f"{stem}-*.tar.gz")
        _run(str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel))
        done.write_text(f"{wheel}\n{sdist}")
    wheel, sdist = done.read_text().splitlines()
    return Installed(Path(wheel), root / "venv", Path(sdist))
