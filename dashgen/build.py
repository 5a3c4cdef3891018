"""``dashgen build``: the pipeline from a catalog to files, atomically; ``--check`` for CI.

``build_artifacts`` is pure and runs one way: catalog -> dashboards -> panel index (what each
panel shows, built once) -> alert rules (linking to those panels) -> ``{relative path: file
content}``. No stage reaches back into an earlier one.
``write_output`` is the only writer: it renders into a temporary directory beside the
output and swaps ``dashboards/`` and ``alerts/`` in, so an error never leaves a
half-written output and the previous one stays as it was.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .alerts.generate import alert_artifacts, rule_set
from .alerts.model import RuleSet
from .catalog.model import Catalog
from .dashboards import build_dashboards
from .dashboards.kit import OWNER_TAG, Ctx, panel_index
from .errors import InputError
from .dashboards.model import DEFAULT_SCHEMA_VERSION, SUPPORTED_SCHEMA_VERSIONS
from .artifacts import canonical_json, canonical_yaml

OUTPUT_DIRS = ("dashboards", "alerts")
MANIFEST = "dashboards/manifest.yaml"


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
    dashboards = build_dashboards(catalog, schema_version)
    problems: tuple[str, ...] = ()
    if definitions:
        from .definitions import check_collisions, user_dashboards

        users = user_dashboards(definitions, Ctx(catalog, schema_version))
        check_collisions(dashboards, users)
        dashboards = dashboards + [u.built for u in users]
        problems = tuple(p for u in users for p in u.problems)
    artifacts: dict[str, str] = {}
    for d in dashboards:
        path = f"dashboards/{d.folder_uid}/{d.uid}.json"
        if path in artifacts:
            raise InputError(f"two dashboards would be written to {path}")
        artifacts[path] = canonical_json(d.dashboard)
    artifacts[MANIFEST] = canonical_yaml(manifest(catalog, dashboards))
    rules = rule_set(catalog, panel_index(dashboards))
    artifacts.update(alert_artifacts(rules))
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
    }


def _existing_files(out_dir: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for top in OUTPUT_DIRS:
        root = out_dir / top
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            if path.is_file():
                found[path.relative_to(out_dir).as_posix()] = path
    return found


@dataclass(frozen=True)
class CheckResult:
    stale: list[str]
    missing: list[str]
    extra: list[str]

    @property
    def ok(self) -> bool:
        return not (self.stale or self.missing or self.extra)


def check_output(artifacts: dict[str, str], out_dir: Path) -> CheckResult:
    on_disk = _existing_files(out_dir)
    stale, missing = [], []
    for rel, content in artifacts.items():
        path = on_disk.get(rel)
        if path is None:
            missing.append(rel)
        elif path.read_bytes() != content.encode("utf-8"):
            stale.append(rel)
    extra = sorted(set(on_disk) - set(artifacts))
    return CheckResult(stale, missing, extra)


def write_output(artifacts: dict[str, str], out_dir: Path) -> None:
    """Write ``artifacts`` under ``out_dir``, replacing ``dashboards/`` and ``alerts/`` whole.

    Everything is written to a temporary directory first; then each output directory is
    swapped in with renames. If anything fails, the previous output is restored.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out_dir}: cannot create the output directory: {exc.strerror}") from None
    try:
        staging = Path(tempfile.mkdtemp(prefix=".dashgen-build-", dir=out_dir))
    except OSError as exc:
        raise InputError(f"{out_dir}: cannot write there: {exc.strerror}") from None
    old = staging / ".old"
    moved_away: list[str] = []
    moved_in: list[str] = []
    try:
        for rel, content in artifacts.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(content)
        for top in OUTPUT_DIRS:
            (staging / top).mkdir(exist_ok=True)
        old.mkdir()
        for top in OUTPUT_DIRS:
            if (out_dir / top).exists():
                os.replace(out_dir / top, old / top)
                moved_away.append(top)
            os.replace(staging / top, out_dir / top)
            moved_in.append(top)
    except BaseException:
        # Drop what we moved in, put back what we moved away.
        for top in moved_in:
            shutil.rmtree(out_dir / top, ignore_errors=True)
        for top in moved_away:
            os.replace(old / top, out_dir / top)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)
