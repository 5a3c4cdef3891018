"""``dashgen diff`` and ``dashgen preview``: what a reviewer of a dashboards pull request needs."""

from __future__ import annotations

from pathlib import Path

import click

from .common import catalog_option, definitions_option, gitignore_hint, require, schema_version_option
from ..errors import InputError


def _current_build(catalog_ref, schema_version, definitions=()) -> dict[str, str]:
    from ..build import build_artifacts
    from ..voice.checks import load_catalog

    return build_artifacts(load_catalog(catalog_ref), int(schema_version), definitions).artifacts


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
@click.option("--root", "root_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True,
              help="Where dashboards/ and alerts/ live in the repository (the --out of dashgen build); --base reads there.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "text", "json"]), default="text", show_default=True,
              help="markdown for a pull-request comment, text for a terminal, json for tools.")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to FILE instead of stdout.")
@click.option("--exit-code", is_flag=True, help="Exit 1 when something changed, 0 when nothing did.")
@catalog_option
@schema_version_option
@definitions_option
def diff_command(base_ref, against_dir, head_dir, root_dir, fmt, output, exit_code, catalog_ref, schema_version,
                 definitions):
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
    from ..review.diff import diff_outputs, format_diff

    if base_ref is not None and against_dir is not None:
        raise InputError("--base and --against are alternatives: give one")
    if head_dir is not None:
        head = _read_dir(head_dir, "--head")
        head_label = str(head_dir)
    else:
        head = _current_build(catalog_ref, schema_version, definitions)
        head_label = "this build"
    if against_dir is not None:
        base = _read_dir(against_dir, "--against")
        base_label = str(against_dir)
    else:
        from ..review.gitref import base_output

        got = base_output(base_ref or "HEAD", root_dir, catalog_ref, int(schema_version))
        base, base_label = got.artifacts, got.label
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
    from ..build import build_artifacts
    from ..voice.checks import load_catalog
    from ..review.preview import write_previews

    catalog = load_catalog(catalog_ref) if from_dir is None or catalog_ref else None
    if from_dir is not None:
        files = _read_dir(from_dir, "--from")
    else:
        files = build_artifacts(catalog, int(schema_version), definitions).artifacts
    dashboards = []
    for rel, text in of_kind(files, DASHBOARD):
        try:
            dashboards.append(json.loads(text))
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
