"""What several commands share: the catalog and schema-version options, the check for a
missing optional dependency (one exit code and one wording in every command), and the
.gitignore hint for dashgen's local directory."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import click

from ..catalog import PRESET_NAMES
from ..dashboards.model import DEFAULT_SCHEMA_VERSION, SCHEMA_VERSION_CHOICES, parse_schema_version
from ..errors import InputError

catalog_option = click.option(
    "--catalog", "-c", "catalog_ref", metavar="FILE|PRESET", default=None,
    help=f"Stage catalog: a YAML file, or a bundled preset ({', '.join(PRESET_NAMES)}). Default: $DASHGEN_CATALOG, "
         f"else the project file's catalog (dashgen.toml: dashgen init), else the one the output's "
         f"dashboards/manifest.yaml records; never a silent demo.",
)

replace_catalog_option = click.option(
    "--replace-catalog", is_flag=True,
    help="Accept a catalog other than the one the existing output was built from "
         "(recorded in dashboards/manifest.yaml); without it such a command refuses (exit 2).",
)

schema_version_option = click.option(
    "--schema-version", type=click.Choice(SCHEMA_VERSION_CHOICES, case_sensitive=False), default=None,
    envvar="DASHGEN_SCHEMA_VERSION",
    callback=lambda _ctx, _param, value: None if value is None else parse_schema_version(value),
    help=f"Dashboard format to write: schemaVersion 41 (Grafana 11.6+, file provisioning), 42 (Grafana "
         f"12.x) or v2 (Grafana 13's dashboard.grafana.app/v2 objects: docs/compatibility.md). Default: the "
         f"project file's schema_version, else {DEFAULT_SCHEMA_VERSION}. Env: DASHGEN_SCHEMA_VERSION.",
)

definitions_option = click.option(
    "--definitions", "definitions", metavar="PATH", multiple=True,
    type=click.Path(dir_okay=False, exists=True),
    help="A Python file adding dashboards of your own (repeatable), after those the catalog's definitions: "
         "names; replaces the project file's definitions. It is code run at build time (docs/extending.md).",
)


def require(command: str, module: str, *, extra: str | None = None, package: str | None = None) -> None:
    """Exit 2 with one install line when ``module``, which ``dashgen <command>`` needs, is missing.

    Every command that depends on an optional package (preview: matplotlib; simulate:
    OpenTelemetry) or on a base requirement a ``--no-deps`` install may lack (lint --schemas:
    jsonschema) goes through here, so the exit code and the wording are the same everywhere.
    The install line names the exact requirements from dashgen's own metadata (pyproject.toml
    is their one home), so the line is right for a checkout's install and a release's alike.
    """
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        what = f"{module.partition('.')[0]} (the '{extra}' extra)" if extra else module.partition(".")[0]
        raise InputError(f"dashgen {command} needs {what}, which is not installed: "
                         f"pip install {_install_args(extra, package or module)}") from None


def _install_args(extra: str | None, package: str) -> str:
    """The pip arguments that install ``extra`` (or the base requirement ``package``) of dashgen."""
    import importlib.metadata as md
    import re

    from .. import DISTRIBUTION

    try:
        declared = md.requires(DISTRIBUTION) or []
    except md.PackageNotFoundError:  # run from a source tree (PYTHONPATH): install its extra
        declared = []
    wanted = []
    for req in declared:
        spec, _, marker = (part.strip() for part in req.partition(";"))
        if extra:
            in_extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", marker)
            keep = in_extra is not None and in_extra.group(1) == extra
        else:
            keep = not marker and re.match(rf"{re.escape(package)}\b", spec) is not None
        if keep:
            wanted.append(f"'{spec}'")
    if wanted:
        return " ".join(wanted)
    return f"-e '.[{extra}]' (in the dashgen checkout)" if extra else package


def gitignore_hint(target: Path) -> None:
    """Say once, on stderr, that ``.dashgen/`` belongs in the project's .gitignore.

    dashgen keeps previews and push backups under ``.dashgen/``: local, regenerated, often
    large, never meant for a commit. The hint comes when dashgen is about to create that
    directory (so once, the first time) and only when there is a .gitignore beside it that
    does not already ignore it; a project without a .gitignore is none of our business.
    """
    parts = Path(target).parts
    if ".dashgen" not in parts:
        return
    root = Path(*parts[:parts.index(".dashgen")])
    gitignore = root / ".gitignore"
    if (root / ".dashgen").exists() or not gitignore.is_file():
        return
    try:
        patterns = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return
    for line in patterns:
        pattern = line.strip().lstrip("/").removeprefix("**/")
        for tail in ("/**", "/*", "/"):
            pattern = pattern.removesuffix(tail)
        if pattern and not pattern.startswith(("#", "!")) and fnmatch.fnmatchcase(".dashgen", pattern):
            return
    click.echo(f"dashgen: note: add .dashgen/ (previews, push backups) to {gitignore}", err=True)
