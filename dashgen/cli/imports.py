"""``dashgen import``: a Grafana dashboard -> a definition file (docs/import.md)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from ..errors import InputError
from .common import catalog_option


@click.command("import")
@click.argument("source", required=False, metavar="SOURCE")
@click.option("--out", "-o", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The definition file to write, e.g. team/ceph.dashboard.py.")
@click.option("--uid", default=None,
              help="Read the dashboard with this uid from the Grafana at GRAFANA_URL (GRAFANA_TOKEN), "
                   "instead of a SOURCE file.")
@catalog_option
def import_command(source, out, uid, catalog_ref):
    """Turn a Grafana dashboard into a definition file on dashgen's kit.

    \b
    SOURCE is a dashboard JSON file: a classic dashboard of any schemaVersion Grafana still
    migrates, a Grafana export (with __inputs), or a v2 object. Or --uid reads one from a Grafana.
    The file builds the same dashboard: dashgen build --definitions FILE (docs/import.md).
    Datasources that are the catalog's become its variables; the rest stay as given.

    \b
    Examples:
      dashgen import ceph-cluster.json --out team/ceph_cluster.dashboard.py
      GRAFANA_URL=https://grafana.example.com GRAFANA_TOKEN=glsa_... dashgen import --uid abc123 -o abc.py
    """
    from .. import pipeline
    from ..importer import import_dashboard
    from ..importer.source import read_file, read_grafana

    if (source is None) == (uid is None):
        raise InputError("give one SOURCE file or --uid UID (dashgen import --help)")
    if out.suffix != ".py":
        raise InputError(f"--out {out}: a definition file is Python; name it *.py (e.g. {out.stem}.dashboard.py)")
    # the project's catalog (or -c): its datasources become the imported dashboard's variables;
    # with none anywhere, the bundled default's datasource names
    inputs = pipeline.resolve(catalog_ref, required=False)
    catalog = pipeline.load(inputs) if inputs.catalog_ref is not None else pipeline.load(pipeline.resolve("default"))
    if uid is not None:
        data, origin = read_grafana(_client(), uid), f"the Grafana dashboard {uid!r}"
    else:
        data, origin = read_file(source), os.path.basename(source)
    result = import_dashboard(data, catalog, origin)
    _write(out, result.source)
    for w in result.warnings:
        click.echo(f"dashgen: warning: {w}", err=True)
    click.echo(f"dashgen: wrote {out} ({result.panels} panels, {result.variables} variables, "
               f"{len(result.warnings)} warnings); build it with: dashgen build --definitions {out}")
    return 0


def _client():
    from .push import _client as push_client

    return push_client(os.environ.get("GRAFANA_URL"), None, None, None, False, False, 2, 0.5, 30.0, 1)


def _write(out: Path, text: str) -> None:
    """All or nothing: a temporary file beside ``out``, renamed over it."""
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"--out {out}: no such directory {folder}")
    fd, tmp = tempfile.mkstemp(prefix=".dashgen-import-", suffix=".py", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, out)
    except OSError as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise InputError(f"--out {out}: cannot write it: {exc.strerror or exc}") from None
