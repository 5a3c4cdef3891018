"""promtool must be installed (./scripts/test installs it); rule tests depend on it."""
import shutil
import subprocess


def test_promtool_runs():
    promtool = shutil.which("promtool")
    assert promtool, "promtool not on PATH: run ./scripts/test (installs the 'prometheus' package)"
    proc = subprocess.run([promtool, "--version"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert "promtool" in (proc.stdout + proc.stderr)
