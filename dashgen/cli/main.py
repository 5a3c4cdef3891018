"""The ``dashgen`` command line: a click group; each command delegates to one module."""

from __future__ import annotations

import os
import sys

import click

from pathlib import Path

from .. import __version__
from .common import catalog_option, definitions_option, require, schema_version_option
from ..errors import CatalogError, DashgenError, InputError
from ..lint.grafana_schemas import GRAFANA_VERSIONS


class LazyGroup(click.Group):
    """A group whose commands from other modules are imported only when used (or listed by --help).

    ``dashgen build`` must not pay for what it does not run: ``push`` imports requests, which
    alone costs a third of the grafanalib start-up floor (see bench/build.py).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, str] = {}

    def add_lazy_command(self, name: str, target: str) -> None:
        """Register ``name`` as ``"module:attribute"``, imported on first use."""
        self.lazy[name] = target

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx, name):
        if name not in self.commands and name in self.lazy:
            import importlib

            module, _, attr_name = self.lazy[name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attr_name), name)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="dashgen")
def cli() -> None:
    """dashgen turns a voice agent's stage catalog into Grafana dashboards and alert rules.

    \b
    Typical flow:
      dashgen build            write dashboards/ and alerts/ from the bundled catalog
      dashgen build --check    CI: fail (exit 1) when the committed output is stale
      dashgen lint             offline checks (uids, ids, layout, TraceQL rules)
      dashgen plan / push      diff against a live Grafana, then apply

    \b
    Exit codes: 0 ok, 1 failure, 2 bad usage or input, 3 drift or conflict refused.
    """


@cli.command("build")
@catalog_option
@click.option("--out", "-o", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Directory that receives dashboards/ and alerts/.")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 and list stale, missing and extra files when the output on disk "
                   "differs from a fresh build (run it in CI).")
@schema_version_option
@definitions_option
def build_command(catalog_ref, out_dir, check, schema_version, definitions):
    """Render every dashboard and alert rule into DIR/dashboards/ and DIR/alerts/.

    \b
    The output is deterministic (same catalog, same bytes on every machine) and is
    written atomically: on any error the previous output stays untouched.
    Output that dashgen lint would reject (e.g. a dashboard over the TraceQL
    query budget) is refused: exit 2, each problem located, nothing written.

    \b
    Examples:
      dashgen build                          # bundled default catalog, into ./
      dashgen build -c pipecat -o out/       # the Pipecat preset, into out/
      dashgen build -c my-catalog.yaml --check
    """
    from ..artifacts import check_output, write_output
    from ..build import build_artifacts
    from ..catalog import load_catalog
    from ..lint.gate import refuse_lint_problems

    catalog = load_catalog(catalog_ref)
    result = build_artifacts(catalog, int(schema_version), definitions)
    refuse_lint_problems(result.artifacts, result.dashboards, catalog)  # exit 2, nothing written
    if check:
        res = check_output(result.artifacts, out_dir)
        if res.ok:
            click.echo(f"dashgen: {len(result.artifacts)} files up to date in {out_dir}")
            return 0
        for label, paths in (("stale", res.stale), ("missing", res.missing), ("extra", res.extra)):
            for path in paths:
                click.echo(f"{label}: {path}")
        click.echo(f"dashgen: output in {out_dir} is out of date ({len(res.stale)} stale, {len(res.missing)} "
                   f"missing, {len(res.extra)} extra); run: dashgen build", err=True)
        return 1
    try:
        write_output(result.artifacts, out_dir)
    except OSError as exc:
        raise DashgenError(f"{out_dir}: cannot write the output: {exc.strerror or exc}") from None
    n_dash = len(result.dashboards)
    n_alerts = sum(1 for p in result.artifacts if p.startswith("alerts/"))
    n_bridge = sum(1 for p in result.artifacts if p.startswith("collector/"))
    click.echo(f"dashgen: wrote {n_dash} dashboards, {n_alerts} alert files and {n_bridge} collector files to {out_dir} "
               f"(catalog {catalog.source})")
    return 0


@cli.command("lint")
@catalog_option
@click.option("--from", "from_dir", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Lint the build output in DIR (e.g. the committed one) instead of a fresh build.")
@click.option("--schemas", "schemas_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, help="Also validate against Grafana's JSON schemas in DIR: the jsonschema/ folder "
                                 "of a grafana/grafana-foundation-sdk checkout (docs/dashboards.md says "
                                 "which branch matches your Grafana).")
@click.option("--grafana", "grafana_version", type=click.Choice(GRAFANA_VERSIONS), default=None,
              help="Also validate against this Grafana release's JSON schemas, generated once from its npm "
                   "packages (@grafana/schema) and cached (needs node and npm the first time).")
@schema_version_option
@definitions_option
def lint_command(catalog_ref, from_dir, schemas_dir, grafana_version, schema_version, definitions):
    """Offline checks: uids, panel ids, layout, TraceQL rules and query budget, schemas.

    \b
    Prints one line per dashboard with its panel and query counts, then every problem.
    Exit 0 when clean, 1 when a problem was found.

    \b
    Examples:
      dashgen lint
      dashgen lint --grafana 12
      dashgen lint --from . --schemas grafana-foundation-sdk/jsonschema
    """
    from ..build import build_artifacts
    from ..catalog import load_catalog
    from ..artifacts import read_output
    from ..lint import lint_artifacts
    from ..lint.dashboards import MAX_METRICS_QUERIES

    if schemas_dir and grafana_version:
        raise InputError("give --schemas DIR or --grafana VERSION, not both")
    if schemas_dir or grafana_version:
        require("lint --grafana" if grafana_version else "lint --schemas", "jsonschema")
    if grafana_version:
        from ..lint.grafana_schemas import SchemaFetchError, schema_folder
        try:
            schemas_dir = schema_folder(grafana_version)
        except SchemaFetchError as exc:
            raise DashgenError(f"lint --grafana {grafana_version}: {exc}") from None
    catalog = load_catalog(catalog_ref)
    built = None if from_dir else build_artifacts(catalog, int(schema_version), definitions)
    artifacts = read_output(from_dir) if from_dir else built.artifacts
    if from_dir and not artifacts:
        raise InputError(f"{from_dir}: no dashboards/ or alerts/ there (run dashgen build first)")
    try:
        report = lint_artifacts(artifacts, catalog, schemas_dir)
    except FileNotFoundError as exc:
        raise InputError(str(exc)) from None
    if schemas_dir:
        from ..lint.grafana_schemas import newer_dashboards
        for warning in newer_dashboards(artifacts, schemas_dir, grafana_version):
            click.echo(f"dashgen: warning: {warning}", err=True)
    if built is not None:  # what a definition file's translation could not carry, at its line
        report.problems[:0] = built.problems
    for s in report.stats:
        click.echo(f"{s.uid}: {s.panels} panels, {s.traceql_metrics}/{MAX_METRICS_QUERIES} TraceQL metrics queries, "
                   f"{s.traceql_search} TraceQL searches, {s.promql} PromQL")
    for problem in report.problems:
        click.echo(f"problem: {problem}")
    if report.problems:
        click.echo(f"dashgen: lint found {len(report.problems)} problem(s)", err=True)
        return 1
    click.echo(f"dashgen: lint ok ({len(report.stats)} dashboards{', schemas checked' if schemas_dir else ''})")
    return 0


@cli.group("catalog")
def catalog_group():
    """Inspect and validate stage catalogs."""


@catalog_group.command("show")
@click.argument("preset", type=click.Choice(["default", "pipecat", "livekit"]), default="default")
def catalog_show(preset):
    """Print a bundled catalog, to start your own from: dashgen catalog show > my.yaml"""
    from ..catalog import preset_path

    click.echo(preset_path(preset).read_text(encoding="utf-8"), nl=False)
    return 0


@catalog_group.command("validate")
@click.argument("catalog_ref", metavar="FILE|PRESET")
def catalog_validate(catalog_ref):
    """Validate a catalog; errors come as FILE:LINE:COL: problem (fix), exit 2."""
    from ..catalog import load_catalog

    c = load_catalog(catalog_ref)
    n = sum(len(s.measurements) for s in c.stages)
    click.echo(f"{catalog_ref}: ok ({len(c.stages)} stages, {n} measurements)")
    return 0


# Commands of other modules, imported only when run (keeps requests & co. off the build path).
cli.add_lazy_command("plan", "dashgen.cli.push:plan_command")
cli.add_lazy_command("push", "dashgen.cli.push:push_command")
cli.add_lazy_command("diff", "dashgen.cli.review:diff_command")
cli.add_lazy_command("preview", "dashgen.cli.review:preview_command")
cli.add_lazy_command("simulate", "dashgen.cli.telemetry:simulate_command")
cli.add_lazy_command("verify-traces", "dashgen.cli.telemetry:verify_traces_command")
cli.add_lazy_command("verify-metrics", "dashgen.cli.telemetry:verify_metrics_command")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: turns DashgenError into one line on stderr and an exit code.

    Run from the command line (``argv`` None), the process ends right after the command: the
    heap is frozen first, so the interpreter's last garbage collection does not walk every
    object the command made (a tenth of a build's own time; bench/build.py). Called with
    ``argv`` (tests, embedding), it leaves the collector alone.
    """
    try:
        _main(argv)
    finally:
        if argv is None:
            import gc

            gc.freeze()


def _main(argv: list[str] | None) -> None:
    try:
        rv = cli.main(args=argv, prog_name="dashgen", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("dashgen: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except CatalogError as exc:
        # file:line:col: problem (fix) -- bare, so editors and CI annotate the spot.
        click.echo(exc.message, err=True)
        sys.exit(exc.exit_code)
    except DashgenError as exc:
        click.echo(f"dashgen: error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("dashgen: interrupted", err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # a bug in dashgen, not in the input: one line, traceback on demand
        if os.environ.get("DASHGEN_DEBUG"):
            raise
        click.echo(f"dashgen: internal error: {type(exc).__name__}: {exc} (set DASHGEN_DEBUG=1 for the traceback "
                   f"and please report it)", err=True)
        sys.exit(1)
    # Commands return their exit code (an int) or None for success.
    sys.exit(rv if isinstance(rv, int) else 0)
