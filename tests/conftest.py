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
