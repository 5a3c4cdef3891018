"""The ``dashgen`` command line: a click group; each command delegates to one module."""

from __future__ import annotations

import os
import sys

import click

from pathlib import Path

from .. import DISTRIBUTION, __version__
from ..artifacts import MANIFEST
from ..catalog.load import PRESET_NAMES
from .common import catalog_option, definitions_option, replace_catalog_option, require, schema_version_option
from ..errors import CatalogError, DashgenError, InputError


class GrafanaVersion(click.Choice):
    """``lint --grafana``'s choices, the releases ``dashgen.lint.grafana_schemas`` pins, read from there
    only when the option is used or its help shown: the commands that never validate against
    Grafana's schemas (``build`` above all) do not import that module and its ``subprocess``."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        from ..lint.grafana_schemas import GRAFANA_VERSIONS

        return GRAFANA_VERSIONS

    @choices.setter
    def choices(self, value) -> None:  # click.Choice.__init__ assigns them: they are read above instead
        pass


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
@click.version_option(__version__, "--version", prog_name="dashgen",
                      message=f"%(prog)s %(version)s (distribution {DISTRIBUTION})")
def cli() -> None:
    """dashgen turns a voice agent's stage catalog into Grafana dashboards and alert rules.

    \b
    Typical flow:
      dashgen init -c my.yaml  write dashgen.toml: the project's catalog, output, Grafana
      dashgen build            write dashboards/ and alerts/ from the project's catalog
      dashgen build --check    CI: fail (exit 1) when the committed output is stale
      dashgen lint             offline checks (uids, ids, layout, TraceQL rules)
      dashgen plan / push      diff against a live Grafana, then apply
      dashgen sandbox          a local in-memory Grafana emulator to try plan / push on

    \b
    Exit codes: 0 ok, 1 failure, 2 bad usage or input, 3 drift or conflict refused.
    """


@cli.command("build")
@catalog_option
@click.option("--out", "-o", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory that receives dashboards/ and alerts/. Default: the project file's output, else ./")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 and list stale, missing and extra files when the output on disk "
                   "differs from a fresh build (run it in CI).")
@click.option("--git-sync", "git_sync_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="DIR",
              help="Also write the tree Grafana's Git Sync reads into DIR (a folder of the synced repository): "
                   "<folder uid>/_folder.json and one <uid>.json per dashboard, in the --schema-version format "
                   "(v2 is what Grafana 13 stores). Git Sync carries no alert rules: push them with "
                   "dashgen push --only rule-groups. With --check, checks DIR instead.")
@click.option("--git-sync-max-resources", type=click.IntRange(1), default=1000, show_default=True,
              help="Refuse a Git Sync tree with more dashboards and folders than this (Git Sync's recommended "
                   "ceiling per repository connection; 20 on Grafana Cloud Free).")
@schema_version_option
@definitions_option
@replace_catalog_option
def build_command(catalog_ref, out_dir, check, git_sync_dir, git_sync_max_resources, schema_version, definitions,
                  replace_catalog):
    """Render every dashboard and alert rule into DIR/dashboards/ and DIR/alerts/.

    \b
    The output is deterministic (same catalog, same bytes on every machine) and is
    written atomically: on any error the previous output stays untouched.
    Output that dashgen lint would reject (e.g. a dashboard over the TraceQL
    query budget) is refused: exit 2, each problem located, nothing written.
    Output built from another catalog (its dashboards/manifest.yaml says which)
    is not replaced unless --replace-catalog.

    \b
    The catalog: -c, else $DASHGEN_CATALOG, else the project file (dashgen.toml,
    written by dashgen init), else the one the output's manifest records.

    \b
    Examples:
      dashgen build                          # the project's catalog, into its output
      dashgen build -c pipecat -o out/       # the Pipecat preset, into out/
      dashgen build -c my-catalog.yaml --check
      dashgen build --schema-version v2 --git-sync ../grafana-repo/voice   # Grafana 13 Git Sync
    """
    from ..artifacts import check_output, write_output
    from .. import pipeline

    inputs = pipeline.resolve(catalog_ref, out_dir=out_dir, schema_version=schema_version, definitions=definitions)
    out_dir = inputs.out_dir
    catalog = pipeline.load(inputs)
    if not replace_catalog:
        pipeline.refuse_other_catalog(inputs, catalog, pipeline.read_manifest(out_dir), out_dir,
                                      str(out_dir / MANIFEST))
    result = pipeline.run(inputs, catalog=catalog)  # exit 2 when lint would refuse it, nothing written
    pipeline.warn(result)
    tree = None
    if git_sync_dir is not None:
        from ..gitsync import check_limits, git_sync_tree

        tree = git_sync_tree(result.artifacts)
        check_limits(tree, git_sync_max_resources)  # exit 2, nothing written
    if check and tree is not None:
        from ..gitsync import check_tree

        problems = check_tree(tree, git_sync_dir)
        for line in problems:
            click.echo(line)
        if problems:
            click.echo(f"dashgen: the Git Sync tree in {git_sync_dir} is out of date; run: "
                       f"{inputs.command('build')} --git-sync {git_sync_dir}", err=True)
            return 1
    if check:
        res = check_output(result.artifacts, out_dir)
        if res.ok:
            click.echo(f"dashgen: {len(result.artifacts)} files up to date in {out_dir}")
            return 0
        for label, paths in (("stale", res.stale), ("missing", res.missing), ("extra", res.extra)):
            for path in paths:
                click.echo(f"{label}: {path}")
        click.echo(f"dashgen: output in {out_dir} is out of date ({len(res.stale)} stale, {len(res.missing)} "
                   f"missing, {len(res.extra)} extra); run: {inputs.command('build')}"
                   f"{' --replace-catalog' if replace_catalog else ''}", err=True)
        return 1
    try:
        write_output(result.artifacts, out_dir)
        if tree is not None:
            from ..gitsync import summary, write_tree

            write_tree(tree, git_sync_dir)
            click.echo(f"dashgen: wrote the Git Sync tree to {git_sync_dir}: {summary(tree)}; Git Sync carries "
                       f"no alert rules (dashgen push --only rule-groups)")
    except OSError as exc:
        raise DashgenError(f"{out_dir}: cannot write the output: {exc.strerror or exc}") from None
    n_dash = len(result.dashboards)
    n_alerts = sum(1 for p in result.artifacts if p.startswith("alerts/"))
    n_bridge = sum(1 for p in result.artifacts if p.startswith("collector/"))
    click.echo(f"dashgen: wrote {n_dash} dashboards, {n_alerts} alert files and {n_bridge} collector files to {out_dir} "
               f"(catalog {result.catalog.source})")
    return 0


@cli.command("lint")
@catalog_option
@click.option("--from", "from_dir", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Lint the build output in DIR (e.g. the committed one) instead of a fresh build; without -c, "
                   "against the catalog its manifest records.")
@click.option("--schemas", "schemas_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, help="Also validate against Grafana's JSON schemas in DIR: the jsonschema/ folder "
                                 "of a grafana/grafana-foundation-sdk checkout (docs/dashboards.md says "
                                 "which branch matches your Grafana).")
@click.option("--grafana", "grafana_version", type=GrafanaVersion(), default=None,
              help="Also validate against this Grafana release's JSON schemas, generated once from its npm "
                   "packages (@grafana/schema) and cached (needs node and npm the first time).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one object with every problem's rule, severity, location and message.")
@click.option("--exclusions", "exclusions_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=None, help="Rules silenced per dashboard or panel (default: .dashgen-lint.yaml here, "
                                 "if any; docs/dashboards.md).")
@schema_version_option
@definitions_option
@replace_catalog_option
def lint_command(catalog_ref, from_dir, schemas_dir, grafana_version, fmt, exclusions_file, schema_version,
                 definitions, replace_catalog):
    """Offline checks: uids, panel ids, layout, TraceQL rules and query budget, schemas.

    \b
    Prints one line per dashboard with its panel and query counts, then every problem
    with its severity and rule id. Exit 0 when there is no error (warnings are house
    style and never fail), 1 when there is one.

    \b
    Examples:
      dashgen lint
      dashgen lint --format json
      dashgen lint --grafana 12
      dashgen lint --from . --schemas grafana-foundation-sdk/jsonschema
    """
    from ..artifacts import read_output
    from ..lint import lint_artifacts
    from ..lint.dashboards import MAX_METRICS_QUERIES
    import json

    from .. import pipeline
    from ..lint.exclusions import load_exclusions
    from ..lint.report import Location, problem

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
    inputs = pipeline.resolve(catalog_ref, schema_version=schema_version, definitions=definitions,
                              manifest_dir=from_dir)
    catalog = pipeline.load(inputs)
    if from_dir and not replace_catalog:
        pipeline.refuse_other_catalog(inputs, catalog, pipeline.read_manifest(from_dir), from_dir,
                                      str(from_dir / MANIFEST))
    built = None if from_dir else pipeline.run(inputs, catalog=catalog, gate=False)  # lint reports, never refuses
    artifacts = read_output(from_dir) if from_dir else built.artifacts
    if from_dir and not artifacts:
        raise InputError(f"{from_dir}: no dashboards/ or alerts/ there (run dashgen build first)")
    exclusions = load_exclusions(exclusions_file)
    try:
        report = lint_artifacts(artifacts, catalog, schemas_dir, exclusions=exclusions)
    except FileNotFoundError as exc:
        raise InputError(str(exc)) from None
    if schemas_dir:
        from ..lint.grafana_schemas import newer_dashboards
        for warning in newer_dashboards(artifacts, schemas_dir, grafana_version):
            click.echo(f"dashgen: warning: {warning}", err=True)
    if built is not None:  # each problem also where its fix goes, as build prints it (lint.gate.locate)
        from ..lint.gate import locate

        report.problems[:] = locate(report.problems, built.dashboards, catalog)
        # what a definition file's translation could not carry, at its line
        report.problems[:0] = [problem("definition", Location(d.path, panel=d.panel, line=d.line), d.message)
                               for d in built.definition_problems]
    if fmt == "json":
        click.echo(json.dumps({"ok": report.ok, "errors": len(report.errors), "warnings": len(report.warnings),
                               "excluded": len(report.excluded),
                               "problems": [p.as_dict() for p in report.problems],
                               "dashboards": [vars(s) for s in report.stats]}, indent=2))
        return 0 if report.ok else 1
    for s in report.stats:
        click.echo(f"{s.uid}: {s.panels} panels, {s.traceql_metrics}/{MAX_METRICS_QUERIES} TraceQL metrics queries, "
                   f"{s.traceql_search} TraceQL searches, {s.promql} PromQL")
    for p in report.problems:
        click.echo(f"{'problem' if p.is_error else 'warning'}: {p} [{p.rule}]")
    counts = (f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
              + (f", {len(report.excluded)} excluded" if report.excluded else ""))
    if not report.ok:
        click.echo(f"dashgen: lint found {counts}", err=True)
        return 1
    click.echo(f"dashgen: lint ok ({len(report.stats)} dashboards{', schemas checked' if schemas_dir else ''}"
               f"{'; ' + counts if report.problems or report.excluded else ''})")
    return 0


@cli.command("init")
@click.option("--catalog", "-c", "catalog", metavar="FILE|PRESET", default=None,
              help="The project's stage catalog: a YAML file (relative to here) or a bundled preset "
                   f"({', '.join(PRESET_NAMES)}). Default: catalog.yaml with --from-preset, else the catalog the "
                   "output's manifest records.")
@click.option("--from-preset", "from_preset", type=click.Choice(PRESET_NAMES), default=None,
              help="Start the catalog file from this bundled preset (written to --catalog, which must not exist yet).")
@click.option("--output", "output", metavar="DIR", default=".", show_default=True,
              help="Where dashgen build writes dashboards/, alerts/ and collector/.")
@click.option("--schema-version", type=click.Choice(["41", "42", "v2"]), default=None,
              help="Dashboard format: 41 for Grafana 11.x, 42 for 12.x, v2 for Grafana 13's own; left out: "
                   "41, or what the project's [grafana] version picks.")
@click.option("--definitions", "definitions", metavar="FILE", multiple=True,
              help="A Python file adding dashboards of your own (repeatable; docs/extending.md).")
@click.option("--grafana-url", "grafana_url", metavar="URL", default=None,
              help="Grafana's base URL for plan and push (else they read $GRAFANA_URL).")
@click.option("--force", is_flag=True, help="Overwrite an existing dashgen.toml.")
def init_command(catalog, from_preset, output, schema_version, definitions, grafana_url, force):
    """Write dashgen.toml, the project file every dashgen command here reads.

    \b
    It names the catalog, the definition files, the output directory, the schema
    version and how plan/push reach Grafana, so `dashgen build`, `dashgen diff`,
    `dashgen lint --from .` and `dashgen push` need no -c and always build YOUR
    catalog. Without a project file (or -c, or DASHGEN_CATALOG, or an output whose
    dashboards/manifest.yaml records its catalog) a command refuses, exit 2.
    [tool.dashgen] in pyproject.toml is read the same way (same keys).

    \b
    Examples:
      dashgen init --catalog my.yaml                 # your existing catalog
      dashgen init --from-preset default --catalog my.yaml   # start my.yaml from a preset
      dashgen init --catalog pipecat --schema-version 41 --grafana-url https://grafana.example.com
    """
    from .. import pipeline
    from ..catalog import load_catalog, preset_path
    from ..project import PROJECT_FILE, render_project

    target = Path(PROJECT_FILE)
    if target.exists() and not force:
        raise InputError(f"{PROJECT_FILE} already exists (edit it, or pass --force to write a new one)")
    if catalog is None:
        catalog = "catalog.yaml" if from_preset else pipeline.recorded_catalog(Path(output))
        if catalog is None:
            raise InputError("which catalog? pass --catalog FILE (or a preset name), or --from-preset NAME to start one")
    if from_preset:
        if catalog in PRESET_NAMES:
            raise InputError(f"--from-preset copies a preset into a file of yours: --catalog names that file, "
                             f"not the preset {catalog}")
        if Path(catalog).exists():
            raise InputError(f"{catalog} already exists: leave out --from-preset to use it as it is")
    else:
        load_catalog(catalog)  # a catalog that does not load is refused here, not at the first build
    for d in definitions:
        if not Path(d).is_file():
            raise InputError(f"--definitions {d}: no such file")
    text = render_project(catalog=Path(catalog).as_posix() if catalog not in PRESET_NAMES else catalog, output=output,
                          schema_version=(schema_version if schema_version == "v2" else int(schema_version)) if schema_version else None,
                          definitions=tuple(Path(d).as_posix() for d in definitions),
                          grafana={"url": grafana_url} if grafana_url else {})
    try:
        if from_preset:
            Path(catalog).parent.mkdir(parents=True, exist_ok=True)
            Path(catalog).write_text(preset_path(from_preset).read_text(encoding="utf-8"), encoding="utf-8")
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {exc.filename}: {exc.strerror or exc}") from None
    made = f" and {catalog} (from the {from_preset} preset)" if from_preset else ""
    click.echo(f"dashgen: wrote {PROJECT_FILE}{made}; next: dashgen build")
    return 0


@cli.group("catalog")
def catalog_group():
    """Inspect and validate stage catalogs."""


@catalog_group.command("show")
@click.argument("preset", type=click.Choice(PRESET_NAMES), default="default")
def catalog_show(preset):
    """Print a bundled catalog, to start your own from: dashgen catalog show > my.yaml"""
    from ..catalog import preset_path

    click.echo(preset_path(preset).read_text(encoding="utf-8"), nl=False)
    return 0


@catalog_group.command("validate")
@click.argument("catalog_ref", metavar="FILE|PRESET")
def catalog_validate(catalog_ref):
    """Validate a catalog; errors come as FILE:LINE:COL: problem (fix), exit 2."""
    from ..voice.checks import load_catalog

    c = load_catalog(catalog_ref)
    n = sum(len(s.measurements) for s in c.stages)
    click.echo(f"{catalog_ref}: ok ({len(c.stages)} stages, {n} measurements)")
    return 0


# Commands of other modules, imported only when run (keeps requests & co. off the build path).
cli.add_lazy_command("plan", "dashgen.cli.push:plan_command")
cli.add_lazy_command("push", "dashgen.cli.push:push_command")
cli.add_lazy_command("sandbox", "dashgen.cli.sandbox:sandbox_command")
cli.add_lazy_command("diff", "dashgen.cli.review:diff_command")
cli.add_lazy_command("import", "dashgen.cli.imports:import_command")
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
