"""``dashgen diff`` and ``dashgen preview``: what a reviewer of a dashboards pull request needs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from .common import (catalog_option, definitions_option, gitignore_hint, replace_catalog_option, require,
                     schema_version_option)
from ..errors import InputError


def _read_dir(path: Path, option: str) -> dict[str, str]:
    from ..artifacts import read_output

    files = read_output(path)
    if not files:
        raise InputError(f"{option} {path}: no dashboards/ or alerts/ there (run dashgen build -o {path} first)")
    return files


@click.command("diff")
@click.option("--base", "base_ref", metavar="GIT_REF", default=None,
              help="Compare against the output committed at this git ref (e.g. origin/main); when the ref "
                   "has no committed dashboards/ or alerts/, its catalog is built in a temporary worktree. "
                   "Default: HEAD.")
@click.option("--against", "against_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Compare against the build output in DIR instead of a git ref.")
@click.option("--head", "head_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The new side: the build output in DIR instead of a fresh build of the catalog.")
@click.option("--root", "root_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where dashboards/ and alerts/ live in the repository (the --out of dashgen build); --base reads "
                   "there. Default: the project file's output, else ./")
@click.option("--format", "fmt", type=click.Choice(["markdown", "text", "json"]), default="text", show_default=True,
              help="markdown for a pull-request comment, text for a terminal, json for tools.")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to FILE instead of stdout.")
@click.option("--exit-code", is_flag=True, help="Exit 1 when something changed, 0 when nothing did.")
@catalog_option
@schema_version_option
@definitions_option
@replace_catalog_option
def diff_command(base_ref, against_dir, head_dir, root_dir, fmt, output, exit_code, catalog_ref, schema_version,
                 definitions, replace_catalog):
    """What a change does to the dashboards and alert rules, the way a reviewer reads it.

    \b
    Compares the base (the output committed at --base REF, or the build in --against DIR)
    with the current build of the catalog (or --head DIR): dashboards added, removed or
    renamed; panels added, removed, moved or retitled; each changed query before and after;
    threshold, unit and alert-rule changes; variables. A one-line summary comes first.

    \b
    Examples:
      dashgen diff                                     # committed output at HEAD vs a fresh build
      dashgen diff --base origin/main --format markdown > comment.md
      dashgen diff --against old-build/ --head new-build/ --exit-code
    """
    from ..artifacts import MANIFEST, parse
    from ..review.diff import diff_outputs, format_diff
    from .. import pipeline

    if base_ref is not None and against_dir is not None:
        raise InputError("--base and --against are alternatives: give one")
    # without -c: the project's catalog, else the one the base output (--against, or --root) records
    inputs = pipeline.resolve(catalog_ref, out_dir=root_dir, schema_version=schema_version, definitions=definitions,
                              manifest_dir=against_dir, required=False)
    root_dir = inputs.out_dir
    head = _read_dir(head_dir, "--head") if head_dir is not None else None
    if against_dir is not None:
        base = _read_dir(against_dir, "--against")
        base_label, base_root = str(against_dir), against_dir
    else:
        from ..review.gitref import base_output

        got = base_output(base_ref or "HEAD", root_dir, inputs.catalog_ref, inputs.schema_version)
        base, base_label, base_root = got.artifacts, got.label, root_dir
    if head is None:
        catalog = pipeline.load(inputs)
        if not replace_catalog and MANIFEST in base:
            try:
                manifest = parse(MANIFEST, base[MANIFEST])
            except Exception:  # an unreadable manifest is diffed, not trusted
                manifest = None
            pipeline.refuse_other_catalog(inputs, catalog, manifest if isinstance(manifest, dict) else None,
                                          base_root, f"the base's {MANIFEST} ({base_label})")
        # built as if into the base's directory (its manifest names the catalog relative to there);
        # what build would refuse is not reviewed
        head = pipeline.run(replace(inputs, out_dir=Path(base_root)), catalog=catalog).artifacts
        head_label = "this build"
    else:
        head_label = str(head_dir)
    diff = diff_outputs(base, head, base_label, head_label)
    text = format_diff(diff, fmt)
    if output is not None:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{output}: cannot write: {exc.strerror or exc}") from None
        click.echo(f"dashgen: diff written to {output}: {diff.summary()}")
    else:
        click.echo(text, nl=False)
    return (1 if diff.changed else 0) if exit_code else 0


@click.command("preview")
@click.option("--out", "-o", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path(".dashgen/preview"), show_default=True,
              help="Directory that receives <uid>.png and <uid>.svg for every dashboard.")
@click.option("--from", "from_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Preview the build output in DIR (e.g. the committed one) instead of a fresh build.")
@click.option("--only", "only", multiple=True, metavar="UID", help="Only these dashboards (repeatable).")
@click.option("--format", "formats", type=click.Choice(["png", "svg"]), multiple=True,
              help="Image formats to write (repeatable). Default: png and svg.")
@catalog_option
@schema_version_option
@definitions_option
def preview_command(out_dir, from_dir, only, formats, catalog_ref, schema_version, definitions):
    """Draw every dashboard offline (no Grafana) as PNG and SVG, to see its layout in review.

    \b
    Rows, panels at their grid positions with titles, each panel type drawn the way Grafana
    draws it (time series with threshold lines, heatmap cells, stat values, tables, text),
    filled with synthetic data shaped by the catalog's thresholds (deterministic).

    \b
    Examples:
      dashgen preview                      # into .dashgen/preview/
      dashgen preview -o previews/ --only voice-overview --format png
    """
    require("preview", "matplotlib", extra="preview")
    import json
    import time

    from ..artifacts import DASHBOARD, of_kind
    from ..dashboards.v2 import classic_view
    from ..review.preview import write_previews
    from .. import pipeline

    # --from DIR draws what is there; the catalog (-c, the project's, DIR's manifest's), when known,
    # only shapes the synthetic data
    inputs = pipeline.resolve(catalog_ref, schema_version=schema_version, definitions=definitions,
                              manifest_dir=from_dir, required=from_dir is None)
    catalog = pipeline.load(inputs) if inputs.catalog_ref is not None else None
    if from_dir is not None:
        files = _read_dir(from_dir, "--from")
    else:
        files = pipeline.run(inputs, catalog=catalog).artifacts  # what build would refuse is not drawn
    dashboards = []
    for rel, text in of_kind(files, DASHBOARD):
        try:
            dashboards.append(classic_view(json.loads(text)))
        except json.JSONDecodeError as exc:
            raise InputError(f"{from_dir}/{rel}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    if only:
        unknown = sorted(set(only) - {d.get("uid") for d in dashboards})
        if unknown:
            raise InputError(f"--only {', '.join(unknown)}: no such dashboard uid "
                             f"(have: {', '.join(sorted(d.get('uid', '') for d in dashboards))})")
        dashboards = [d for d in dashboards if d.get("uid") in only]
    gitignore_hint(out_dir)
    started = time.monotonic()
    try:
        written = write_previews(dashboards, out_dir, catalog=catalog, formats=tuple(formats) or ("png", "svg"),
                                 warn=lambda line: click.echo(f"dashgen: warning: {line}", err=True))
    except OSError as exc:
        raise InputError(f"{out_dir}: cannot write the previews: {exc.strerror or exc}") from None
    for path in written:
        click.echo(str(path))
    click.echo(f"dashgen: {len(dashboards)} dashboard previews ({len(written)} files) in {out_dir} "
               f"({time.monotonic() - started:.1f}s)")
    return 0
