"""One way from a catalog to gated output: every command that builds goes through here.

:func:`resolve` decides what to build from the flags, the environment, the project file
(``dashgen.toml``, :mod:`dashgen.project`) and the output's manifest, in this order:

    -c FILE|PRESET  >  DASHGEN_CATALOG  >  the project file's catalog
    >  the catalog the output's dashboards/manifest.yaml records  >  error (exit 2)

There is no silent default: a directory that says nothing about its catalog gets
"no catalog: pass -c FILE or run dashgen init". :func:`run` then loads the catalog, builds
(:func:`dashgen.build.build_artifacts`) and passes the result through the lint gate (the one
place that calls :func:`dashgen.lint.gate.refuse_lint_problems`), giving a :class:`Result`
that ``build``, ``lint``, ``diff``, ``preview``, ``plan``/``push`` and ``verify-metrics`` read
in memory.

``python -m dashgen.pipeline`` prints a build's files as one JSON object: ``dashgen diff
--base REF`` runs it with REF's own dashgen (dashgen.review.gitref).
"""

from __future__ import annotations

import dataclasses

import os
from dataclasses import field
from pathlib import Path

from .records import dataclass  # dataclasses' decorator without generated code (start-up)
from .errors import InputError
from .project import Project, find_project

CATALOG_ENV = "DASHGEN_CATALOG"
NO_CATALOG = "no catalog: pass -c FILE or run dashgen init"


@dataclass(frozen=True)
class Inputs:
    """What a command builds, each value resolved from a flag, the project file or a default."""

    catalog_ref: str | None  # what load_catalog takes: a path or a preset name (None: unresolved)
    origin: str  # where the catalog came from: "-c", "DASHGEN_CATALOG", "dashgen.toml", a manifest
    out_dir: Path
    schema_version: int | str  # 41, 42 or "v2"
    definitions: tuple[str, ...]
    project: Project | None = None
    # the flags given on the command line that a re-run must repeat (for "run: ..." hints)
    flags: tuple[str, ...] = field(default=())

    @property
    def catalog_file(self) -> str | None:
        """How the output's manifest records the catalog: a preset's name, or its path relative to
        the output directory (posix), so it names the same file from any working directory."""
        from .catalog import PRESET_NAMES

        if self.catalog_ref is None or self.catalog_ref in PRESET_NAMES:
            return self.catalog_ref
        try:
            rel = Path(os.path.relpath(Path(self.catalog_ref).resolve(), Path(self.out_dir).resolve()))
        except ValueError:  # another drive (Windows): no relative path exists
            return None
        # a catalog far from the output (another checkout, a temporary directory) is not recorded:
        # such a path says where one machine keeps things, and output is the same on every machine
        ups = rel.parts.count(os.pardir)
        return rel.as_posix() if ups == 0 or (ups <= 2 and len(rel.parts) - ups <= 2) else None

    def command(self, name: str) -> str:
        """The command line that runs ``dashgen NAME`` on these inputs again, e.g. in a hint."""
        return " ".join(("dashgen", name, *self.flags))


@dataclass(frozen=True)
class Result:
    """A gated build: its files, the models behind them and what did not stop it."""

    inputs: Inputs
    catalog: object  # Catalog
    artifacts: dict[str, str]
    dashboards: list
    rules: object  # RuleSet
    definition_problems: tuple = ()  # DefinitionProblems of definition files that still built (lint reports them)
    warnings: tuple = ()  # the gate's warnings (lint.report.Problem): printed, never refused


def resolve(catalog_ref: str | None = None, *, out_dir: Path | None = None, schema_version: str | int | None = None,
            definitions: tuple[str, ...] = (), manifest_dir: Path | None = None, required: bool = True) -> Inputs:
    """Resolve the inputs of a command from its flags (None/empty: not given) and the project.

    ``manifest_dir`` is where to read the recorded catalog when nothing else names one (default:
    the output directory); ``required=False`` leaves ``catalog_ref`` None instead of refusing.
    """
    from .dashboards.model import DEFAULT_SCHEMA_VERSION, parse_schema_version

    project = find_project()
    flags: list[str] = []
    if out_dir is not None:
        flags += ["-o", _quote(str(out_dir))]
    out = Path(out_dir) if out_dir is not None else Path(_near(project.output) if project and project.output else ".")
    if catalog_ref:
        ref, origin = catalog_ref, "-c"
        flags[:0] = ["-c", _quote(catalog_ref)]
    elif os.environ.get(CATALOG_ENV):
        ref, origin = os.environ[CATALOG_ENV], CATALOG_ENV
    elif project is not None and project.catalog:
        ref, origin = _near(project.catalog), project.label
    else:
        where = Path(manifest_dir) if manifest_dir is not None else out
        ref = recorded_catalog(where)
        origin = _shown(where / _manifest())
        if ref is None and required:
            raise InputError(NO_CATALOG)
    if schema_version is not None:
        version = parse_schema_version(schema_version)
        flags += ["--schema-version", str(version)]
    else:
        version = (project.default_schema_version if project else None) or DEFAULT_SCHEMA_VERSION
    if definitions:
        defs = tuple(definitions)
        for d in defs:
            flags += ["--definitions", _quote(d)]
    else:
        defs = tuple(_near(d) for d in project.definitions) if project else ()
    return Inputs(ref, origin, out, version, defs, project, tuple(flags))


def load(inputs: Inputs):
    """The validated catalog of ``inputs`` (refuses, exit 2, when none was resolved): the catalog's own
    checks and what its meaning requires (``voice.checks``: burn windows for its SLO period, pages
    that can fire)."""
    from .voice.checks import load_catalog

    if inputs.catalog_ref is None:
        raise InputError(NO_CATALOG)
    return load_catalog(inputs.catalog_ref)


def run(inputs: Inputs, *, catalog=None, gate: bool = True) -> Result:
    """Load (unless ``catalog`` is given), build and gate: what ``dashgen build`` would write, in memory."""
    from .build import build_artifacts
    from .canonical import decoded

    catalog = catalog if catalog is not None else load(inputs)
    # the gate reads the data the files were encoded from, not the text again (canonical.decoded)
    with decoded():
        built = build_artifacts(catalog, inputs.schema_version, inputs.definitions, inputs.catalog_file)
        result = Result(inputs, catalog, built.artifacts, built.dashboards, built.rules, tuple(built.problems))
        if gate:
            result = dataclasses.replace(result, warnings=tuple(check(result)))
    return result


def check(result: Result) -> list:
    """The lint gate: exit 2, each problem located, when ``dashgen lint`` would reject the build;
    else its warnings (house style), for the command to print."""
    from .lint.gate import refuse_lint_problems

    return refuse_lint_problems(result.artifacts, result.dashboards, result.catalog)


def warn(result: Result) -> None:
    """Print the gate's warnings on stderr, one line each with its rule id."""
    import click

    for w in result.warnings:
        click.echo(f"dashgen: warning: {w} [{w.rule}]", err=True)


# -------------------------------------------------------------------------------------------------
# The catalog the output records


def _manifest() -> str:
    from .artifacts import MANIFEST

    return MANIFEST


def read_manifest(out_dir: Path) -> dict | None:
    """``DIR/dashboards/manifest.yaml`` as data, or None when there is none (or it is unreadable)."""
    import yaml

    from .canonical import parse  # libyaml's parser when there (the same data as yaml.safe_load)

    path = Path(out_dir) / _manifest()
    try:
        data = parse(str(path), path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


def refuse_other_catalog(inputs: Inputs, catalog, manifest: dict | None, out_dir: Path, where: str) -> None:
    """Exit 2, naming both, when ``catalog`` is not the one ``manifest`` (the output in ``out_dir``) records.

    Output built from one catalog is never rewritten from, or compared with, another without
    being asked (``--replace-catalog``): a team's dashboards are not replaced by a demo because
    a flag was left out. A manifest from before dashgen recorded the file is compared by the
    catalog's ``name``.
    """
    if not manifest:
        return
    from .catalog import PRESET_NAMES

    recorded = manifest.get("catalog_file")
    if isinstance(recorded, str) and recorded:
        theirs = recorded if recorded in PRESET_NAMES else _near(Path(out_dir) / recorded)
        if _same_ref(theirs, inputs.catalog_ref):
            return
        fix = f"run with -c {_quote(theirs)}"
        theirs = f"the catalog {theirs}"
    elif manifest.get("catalog") in (None, "", catalog.name):
        return
    else:
        theirs, fix = f"a catalog named {manifest.get('catalog')!r}", "run with -c and that catalog"
    origin = "" if inputs.origin == "-c" else f" (from {inputs.origin})"
    raise InputError(f"{where} records {theirs}, not {inputs.catalog_ref}{origin}: output built from one catalog "
                     f"is not rebuilt from or compared with another; {fix}, or add --replace-catalog to switch "
                     f"to {inputs.catalog_ref}")


def _same_ref(a: str, b: str | None) -> bool:
    from .catalog import PRESET_NAMES

    if b is None or (a in PRESET_NAMES) != (b in PRESET_NAMES):
        return False
    if a in PRESET_NAMES:
        return a == b
    return Path(a).resolve() == Path(b).resolve()


def recorded_catalog(out_dir: Path) -> str | None:
    """The catalog the output in ``out_dir`` was built from, as a ``-c`` value, or None."""
    manifest = read_manifest(out_dir)
    recorded = manifest.get("catalog_file") if manifest else None
    if not isinstance(recorded, str) or not recorded:
        return None
    from .catalog import PRESET_NAMES

    return recorded if recorded in PRESET_NAMES else _near(Path(out_dir) / recorded)


# -------------------------------------------------------------------------------------------------


def _near(path) -> str:
    """``path`` relative to the current directory when that is shorter (for messages), else absolute."""
    from .catalog import PRESET_NAMES

    if str(path) in PRESET_NAMES:
        return str(path)
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return rel if not rel.startswith(os.path.join(os.pardir, os.pardir, os.pardir)) else str(Path(path).resolve())


def _shown(path: Path) -> str:
    return os.path.normpath(str(path))


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def main(argv: list[str] | None = None) -> int:
    """``python -m dashgen.pipeline [-c REF] [--schema-version N] [--no-gate]``: the build as JSON on stdout."""
    import argparse
    import json
    import sys

    parser = argparse.ArgumentParser(prog="python -m dashgen.pipeline",
                                     description="Build a catalog and print its files as one JSON object.")
    parser.add_argument("-c", "--catalog", default=None)
    parser.add_argument("--schema-version", default=None)
    parser.add_argument("--no-gate", action="store_true", help="Do not refuse what dashgen lint would reject.")
    args = parser.parse_args(argv)
    from .errors import DashgenError

    try:
        result = run(resolve(args.catalog, schema_version=args.schema_version), gate=not args.no_gate)
    except DashgenError as exc:
        print(f"dashgen: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    sys.stdout.write(json.dumps(result.artifacts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
