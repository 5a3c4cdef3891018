"""``dashgen lint``: offline checks of built output, with no Grafana and no network.

Works on plain files (what is on disk, or a fresh build), so it also catches hand edits. Each
checker owns one kind of check and appends typed problems (``report.Problem``: rule id, severity,
location, message; ``rules`` lists every rule) to one report: ``dashboards`` (uids, ids, layout,
legacy keys, TraceQL rules, the metrics query budget), ``tempo`` (default ranges within Tempo's
metrics limit, no TraceQL feature newer than the catalog's oldest Tempo), ``semantics`` (what
Grafana and Tempo will really draw or refuse), ``alerts`` (the three rule forms and their panel
links), ``schemas`` (Grafana's own JSON schemas, when a schema folder is given). Every checker
reads the dashboards as Grafana does, through ``dashgen.drawn``. ``exclusions`` silences one rule
for one dashboard or panel.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..canonical import parse
from ..catalog.model import Catalog
from ..dashboards.v2_format import is_v2  # the conversions only for a v2 file
from . import alerts, dashboards, schemas, semantics, tempo
from .exclusions import Exclusions
from .report import LintInput, LintReport, Location, Problem, problem

CHECKERS = [dashboards.check, tempo.check, semantics.checker, alerts.check, schemas.check]

__all__ = ["CHECKERS", "Exclusions", "LintReport", "Location", "Problem", "lint_artifacts"]


def lint_artifacts(artifacts: dict[str, str], catalog: Catalog | None, schemas_dir: Path | None = None,
                   tolerate_null_threshold: bool | None = None, exclusions: Exclusions | None = None) -> LintReport:
    """Lint built files given as ``{relative path: content}``."""
    report = LintReport()
    parsed: dict[str, dict] = {}
    v2_objects: dict[str, dict] = {}
    for rel, content in sorted(artifacts.items()):
        if rel.startswith("dashboards/") and rel.endswith(".json"):
            try:
                doc = parse(rel, content)
            except json.JSONDecodeError as exc:
                report.problems.append(problem("json", Location(rel, line=exc.lineno, col=exc.colno),
                                               f"not valid JSON: {exc.msg}"))
                continue
            if is_v2(doc):  # the same rules on the classic model it stands for; schemas see both
                from ..dashboards.v2 import to_classic

                v2_objects[rel] = doc
                doc = to_classic(doc)
            parsed[rel] = doc
    if tolerate_null_threshold is None:
        tolerate_null_threshold = schemas_dir is not None and "11." in Path(schemas_dir).name
    inp = LintInput(artifacts, parsed, catalog, schemas_dir, tolerate_null_threshold, v2_objects=v2_objects)
    for check in CHECKERS:
        check(inp, report)
    if exclusions is not None and exclusions.rules:
        titles = {d.uid: d.title for d in inp.drawn.values()}
        report.excluded = [p for p in report.problems if exclusions.excludes(p, titles)]
        report.problems = [p for p in report.problems if not exclusions.excludes(p, titles)]
    return report
