"""Options shared by several commands (build, lint, plan, push, diff, preview)."""

from __future__ import annotations

import click

from ..catalog import PRESETS
from ..dashboards.model import DEFAULT_SCHEMA_VERSION, SUPPORTED_SCHEMA_VERSIONS

catalog_option = click.option(
    "--catalog", "-c", "catalog_ref", metavar="FILE|PRESET", default=None, envvar="DASHGEN_CATALOG",
    help=f"Stage catalog: a YAML file, or a bundled preset ({', '.join(PRESETS)}). "
         f"Default: the bundled 'default' (audio.* convention). Env: DASHGEN_CATALOG.",
)

schema_version_option = click.option(
    "--schema-version", type=click.Choice([str(v) for v in SUPPORTED_SCHEMA_VERSIONS]),
    default=str(DEFAULT_SCHEMA_VERSION), show_default=True,
    help="Dashboard schemaVersion to write: 41 (Grafana 11.x) or 42 (Grafana 12.x).",
)
