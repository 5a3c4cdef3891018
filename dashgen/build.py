"""``dashgen build``: the pipeline from a catalog to files, atomically; ``--check`` for CI.

``build_artifacts`` is pure and runs one way: catalog -> alert rules (pure data) -> dashboards,
with the alert-rules dashboard built from the rules themselves -> the rules linked to their
panels -> the Collector bridge -> ``{relative path: file content}``. No stage reaches back into an earlier one.
Writing and checking that map against a directory is ``artifacts.write_output`` (an atomic
swap) and ``artifacts.check_output``.
"""

from __future__ import annotations

import dataclasses
import gc

from .records import dataclass  # dataclasses' decorator without generated code (start-up)
from .alerts.generate import alert_artifacts, rule_set
from .alerts.model import RuleSet
from .collector import collector_artifacts
from .catalog.model import Catalog
from .dashboards import alert_panels, build_dashboards
from .dashboards.kit import OWNER_TAG, Ctx
from .errors import InputError
from .dashboards.model import DEFAULT_SCHEMA_VERSION, SUPPORTED_SCHEMA_VERSIONS, V2_CLASSIC_BASE, V2_FORMAT
from .artifacts import MANIFEST, canonical_json, canonical_yaml, dashboard_path


@dataclass(frozen=True)
class BuildResult:
    artifacts: dict[str, str]  # posix relative path -> content
    dashboards: list  # BuiltDashboard, for callers that want the models
    rules: RuleSet  # the alert rule model (promtool tests are generated from it)
    # DefinitionProblems (file, line, panel, message) of definition files that still built (``lint`` reports them).
    problems: tuple = ()


def build_artifacts(catalog: Catalog, schema_version: int | str = DEFAULT_SCHEMA_VERSION,
                    definitions: tuple[str, ...] = (), catalog_file: str | None = None) -> BuildResult:
    """Every output file of ``catalog`` and its definition files (``catalog.definitions``, then
    ``definitions``: user code, run here; docs/extending.md); pure otherwise.

    ``catalog_file`` is how the manifest records the catalog (``dashgen.pipeline`` passes its path
    relative to the output directory, so later commands find it); default: a preset's name, else
    nothing.

    The cyclic garbage collector is paused meanwhile: a build makes many short-lived, acyclic
    objects, and the collector's full passes over a growing heap made large catalogs cost more
    per stage than small ones (bench/build.py measures it). It is restored afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build_artifacts(catalog, schema_version, (*catalog.definitions, *definitions), catalog_file)
    finally:
        if enabled:
            gc.enable()


def _build_artifacts(catalog: Catalog, schema_version: int | str, definitions: tuple[str, ...],
                     catalog_file: str | None) -> BuildResult:
    v2 = schema_version == V2_FORMAT
    if v2:  # the newest classic model, written as dashboard.grafana.app/v2 objects below
        schema_version = V2_CLASSIC_BASE
    if schema_version not in SUPPORTED_SCHEMA_VERSIONS:
        raise InputError(f"--schema-version {schema_version} is not supported (use one of "
                         f"{', '.join(map(str, SUPPORTED_SCHEMA_VERSIONS))} or {V2_FORMAT})")
    rules = rule_set(catalog)
    alerts_dashboards = alert_panels.build(Ctx(catalog, schema_version), rules)  # its pages
    dashboards = build_dashboards(catalog, schema_version) + alerts_dashboards
    rules = alert_panels.link(rules, alerts_dashboards)
    problems: tuple = ()
    if definitions:
        from .definitions import check_collisions, user_dashboards

        users = user_dashboards(definitions, Ctx(catalog, schema_version))
        check_collisions(dashboards, users)
        # each remembers where it was made, so lint and the gate name the file and line to fix
        dashboards = dashboards + [dataclasses.replace(u.built, origin=f"{u.path}:{u.line}") for u in users]
        problems = tuple(p for u in users for p in u.problems)
    artifacts: dict[str, str] = {}
    for d in dashboards:
        path = dashboard_path(d.folder_uid, d.uid)
        if path in artifacts:
            raise InputError(f"two dashboards would be written to {path}")
        artifacts[path] = canonical_json(_v2_object(d) if v2 else d.dashboard)
    if catalog_file is None and catalog.source.startswith("preset:"):
        catalog_file = catalog.source.partition(":")[2]
    artifacts[MANIFEST] = canonical_yaml(manifest(catalog, dashboards, catalog_file, v2))
    artifacts.update(alert_artifacts(rules))
    artifacts.update(collector_artifacts(catalog))
    return BuildResult(dict(sorted(artifacts.items())), dashboards, rules, problems)


def _v2_object(d) -> dict:
    """``d`` as a dashboard.grafana.app/v2 object, its threshold base steps kept as JSON null."""
    from .artifacts import to_plain
    from .dashboards.model import NULL
    from .dashboards.v2 import to_v2

    def keep_nulls(node):
        if isinstance(node, dict):
            if node.keys() == {"color", "value"} and node["value"] is None:
                node["value"] = NULL
            for v in node.values():
                keep_nulls(v)
        elif isinstance(node, list):
            for v in node:
                keep_nulls(v)
        return node

    return keep_nulls(to_v2(to_plain(d.dashboard)))


def manifest(catalog: Catalog, dashboards, catalog_file: str | None = None, v2: bool = False) -> dict:
    """What push needs besides the files: folders, datasources to resolve, the owner tag; and the
    catalog it was built from (``catalog_file``: a preset's name or a path relative to the output
    directory), which commands run without ``-c`` build again and which no other catalog replaces
    unasked (``dashgen.pipeline``)."""
    return {
        "catalog": catalog.name,
        **({"catalog_file": catalog_file} if catalog_file else {}),
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
        # the dashboards are dashboard.grafana.app/v2 objects (build --schema-version v2): push
        # writes them through /apis, v2 on Grafana 13 and v2beta1 on 12
        **({"dashboard_format": V2_FORMAT} if v2 else {}),
    }
