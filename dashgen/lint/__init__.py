"""``dashgen lint``: offline checks of built output, with no Grafana and no network.

Works on plain files (what is on disk, or a fresh build), so it also catches hand edits. Each
checker owns one kind of check and appends to one report: ``dashboards`` (uids, ids, layout,
legacy keys, TraceQL rules, the metrics query budget), ``alerts`` (the three rule forms and
their panel links), ``semantics`` (what Grafana and Tempo will really draw or refuse), ``schemas`` (Grafana's own JSON schemas, when a schema folder is given).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..catalog.model import Catalog
from . import alerts, dashboards, schemas, semantics
from .report import LintInput, LintReport

CHECKERS = [dashboards.check, semantics.checker, alerts.check, schemas.check]


def lint_artifacts(artifacts: dict[str, str], catalog: Catalog | None, schemas_dir: Path | None = None,
                   tolerate_null_threshold: bool | None = None) -> LintReport:
    """Lint built files given as ``{relative path: content}``."""
    report = LintReport()
    parsed: dict[str, dict] = {}
    for rel, content in sorted(artifacts.items()):
        if rel.startswith("dashboards/") and rel.endswith(".json"):
            try:
                parsed[rel] = json.loads(content)
            except json.JSONDecodeError as exc:
                report.problems.append(f"{rel}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}")
    if tolerate_null_threshold is None:
        tolerate_null_threshold = schemas_dir is not None and "11." in Path(schemas_dir).name
    inp = LintInput(artifacts, parsed, catalog, schemas_dir, tolerate_null_threshold)
    for check in CHECKERS:
        check(inp, report)
    return report
