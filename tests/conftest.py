"""Shared fixtures. Keep this small: helpers used by one test file belong in that file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CATALOG = REPO / "dashgen" / "catalog" / "presets" / "default.yaml"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def grafana_schemas() -> Path:
    """Grafana's JSON schemas (read-only data beside the checkout, never copied into it).

    ``$DASHGEN_GRAFANA_SCHEMAS`` overrides ``<repo>/../shared/grafana-schemas``. Missing
    schemas FAIL the tests that need them: a skipped schema check proves nothing.
    """
    folder = Path(os.environ.get("DASHGEN_GRAFANA_SCHEMAS") or REPO.parent / "shared" / "grafana-schemas")
    for version in ("grafana-12", "grafana-11.6"):
        if not (folder / version / "dashboard.jsonschema.json").is_file():
            pytest.fail(f"Grafana schemas not found at {folder / version} (set DASHGEN_GRAFANA_SCHEMAS to the "
                        f"folder holding grafana-12/ and grafana-11.6/)")
    return folder


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
            short, paren, rest = s["title"].partition(" (")
            s["title"] = f"{short} {k}{paren}{rest}"
        out.append(s)
    return out
