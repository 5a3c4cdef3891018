"""``dashgen build``: the pipeline from a catalog to files, atomically; ``--check`` for CI.

``build_artifacts`` is pure and runs one way: catalog -> alert rules (pure data) -> dashboards,
with the alert-rules dashboard built from the rules themselves -> the rules linked to their
panels -> the Collector bridge -> ``{relative path: file content}``. No stage reaches back into an earlier one.
Writing and checking that map against a directory is ``artifacts.write_output`` (an atomic
swap) and ``artifacts.check_output``.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass

from .alerts.generate import alert_artifacts, rule_set
from .alerts.model import RuleSet
from .collector import collector_artifacts
from .catalog.model import Catalog
from .dashboards import alert_panels, build_dashboards
from .dashboards.kit import OWNER_TAG, Ctx
from .errors import InputError
from .dashboards.model import DEFAULT_SCHEMA_VERSION, SUPPORTED_SCHEMA_VERSIONS
from .artifacts import MANIFEST, canonical_json, canonical_yaml, dashboard_path


@dataclass(frozen=True)
class BuildResult:
    artifacts: dict[str, str]  # posix relative path -> content
    dashboards: list  # BuiltDashboard, for callers that want the models
    rules: RuleSet  # the alert rule model (promtool tests are generated from it)
    # Located ``file:line: ...`` problems of definition files that still built (``lint`` reports them).
    problems: tuple[str, ...] = ()


def build_artifacts(catalog: Catalog, schema_version: int = DEFAULT_SCHEMA_VERSION,
                    definitions: tuple[str, ...] = ()) -> BuildResult:
    """Every output file of ``catalog`` and its definition files (``catalog.definitions``, then
    ``definitions``: user code, run here; docs/extending.md); pure otherwise.

    The cyclic garbage collector is paused meanwhile: a build makes many short-lived, acyclic
    objects, and the collector's full passes over a growing heap made large catalogs cost more
    per stage than small ones (bench/build.py measures it). It is restored afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build_artifacts(catalog, schema_version, (*catalog.definitions, *definitions))
    finally:
        if enabled:
            gc.enable()


def _build_artifacts(catalog: Catalog, schema_version: int, definitions: tuple[str, ...]) -> BuildResult:
    if schema_version not in SUPPORTED_SCHEMA_VERSIONS:
        raise InputError(f"--schema-version {schema_version} is not supported (use one of "
                         f"{', '.join(map(str, SUPPORTED_SCHEMA_VERSIONS))})")
    rules = rule_set(catalog)
    alerts_dashboards = alert_panels.build(Ctx(catalog, schema_version), rules)  # its pages
    dashboards = build_dashboards(catalog, schema_version) + alerts_dashboards
    rules = alert_panels.link(rules, alerts_dashboards)
    problems: tuple[str, ...] = ()
    if definitions:
        from .definitions import check_collisions, user_dashboards

        users = user_dashboards(definitions, Ctx(catalog, schema_version))
        check_collisions(dashboards, users)
        dashboards = dashboards + [u.built for u in users]
        problems = tuple(p for u in users for p in u.problems)
    artifacts: dict[str, str] = {}
    for d in dashboards:
        path = dashboard_path(d.folder_uid, d.uid)
        if path in artifacts:
            raise InputError(f"two dashboards would be written to {path}")
        artifacts[path] = canonical_json(d.dashboard)
    artifacts[MANIFEST] = canonical_yaml(manifest(catalog, dashboards))
    artifacts.update(alert_artifacts(rules))
    artifacts.update(collector_artifacts(catalog))
    return BuildResult(dict(sorted(artifacts.items())), dashboards, rules, problems)


def manifest(catalog: Catalog, dashboards) -> dict:
    """What push needs besides the files: folders, datasources to resolve, the owner tag."""
    return {
        "catalog": catalog.name,
        "owner_tag": OWNER_TAG,
        "folders": [{"uid": catalog.folder_uid, "title": catalog.folder_title}],
        "datasources": {
            ds.role: {"type": ds.type, "name": ds.name, "uid": ds.uid, "variable": ds.variable}
            for ds in (catalog.tempo, catalog.prometheus)
        },
        "dashboards": [{"uid": d.uid, "title": d.title, "folder": d.folder_uid} for d in dashboards],
        # the catalog asked for Grafana-managed recording rules (alerting.grafana_recording_rules: true):
        # push refuses an instance that cannot take them, as `--recording-rules require` does
        **({"recording_rules": "require"} if catalog.alerting.grafana_recording_rules is True else {}),
    }
