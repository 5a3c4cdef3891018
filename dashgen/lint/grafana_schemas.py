"""Grafana's JSON schemas for ``dashgen lint --grafana VERSION``: fetched, generated, cached.

Grafana publishes its schema types per release on the npm registry (``@grafana/schema``: the
dashboard and panel kinds; ``@grafana/grafana-foundation-sdk``: the datasource query, alerting and
unit kinds). ``schemagen/`` beside this file pins one release of each per Grafana version
(``package.json`` + ``package-lock.json``) and ``generate.js`` turns them into JSON Schema
(draft-07) with ts-json-schema-generator, in the folder layout :class:`SchemaSet` reads. Like
kubeconform's schema cache, the result is kept per version under a cache folder, keyed by the
pinned versions, so only the first lint of a version costs anything (npm ci + ~10 s).

Needs node and npm on PATH (only the first time per version); dashgen ships no schema file.

``python -m dashgen.lint.grafana_schemas [--cache DIR] [VERSION...]`` fills the cache and prints
the folder (the test set-up runs it).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

GRAFANA_VERSIONS = ("11.6", "12", "13")
GENERATOR = Path(__file__).with_name("schemagen")
CACHE_ENV = "DASHGEN_SCHEMA_CACHE"


class SchemaFetchError(RuntimeError):
    """The schemas could not be fetched or generated; the message says what to do."""


def default_cache() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dashgen" / "grafana-schemas"


def cache_key() -> str:
    """Changes whenever a pinned package or the generator changes."""
    h = hashlib.sha256()
    for name in ("package-lock.json", "generate.js"):
        h.update((GENERATOR / name).read_bytes())
    return h.hexdigest()[:16]


def _run(cmd: list[str], cwd: Path, what: str) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise SchemaFetchError(f"{what} failed ({' '.join(cmd)}): " + " | ".join(tail))


def schema_folder(version: str, cache: Path | None = None) -> Path:
    """The folder of Grafana ``version``'s schemas (``dashboard.jsonschema.json`` ...), generated on
    first use from the pinned npm packages."""
    version = str(version)
    if version not in GRAFANA_VERSIONS:
        raise SchemaFetchError(f"unknown Grafana version {version!r}: use one of {', '.join(GRAFANA_VERSIONS)}")
    root = (cache or default_cache()).resolve() / cache_key()
    folder = root / f"grafana-{version}"
    if (folder / "dashboard.jsonschema.json").is_file():
        return folder
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise SchemaFetchError(
            f"dashgen lint --grafana {version} generates Grafana's schemas once from its npm packages and needs "
            f"node and npm for that (Debian: apt-get install nodejs npm; macOS: brew install node); "
            f"or pass --schemas DIR, a folder of Grafana JSON schemas")
    root.mkdir(parents=True, exist_ok=True)
    work = root / "npm"
    stamp = work / "node_modules" / ".dashgen-lock.json"
    lock = (GENERATOR / "package-lock.json").read_bytes()
    if not (stamp.is_file() and stamp.read_bytes() == lock):
        work.mkdir(exist_ok=True)
        for name in ("package.json", "package-lock.json", "generate.js"):
            shutil.copyfile(GENERATOR / name, work / name)
        print(f"dashgen: fetching Grafana's schema packages from the npm registry into {work}", file=sys.stderr)
        _run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], work, "npm ci")
        stamp.write_bytes(lock)
    # generate into a temporary folder beside the final one, then rename: never half-written
    tmp = Path(tempfile.mkdtemp(prefix=f".grafana-{version}-", dir=root))
    try:
        _run([node, str(work / "generate.js"), str(tmp), version], work, "generating the schemas")
        try:
            os.replace(tmp / f"grafana-{version}", folder)
        except OSError:
            if not (folder / "dashboard.jsonschema.json").is_file():  # not a concurrent run's result
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def written_schema_version(folder: Path) -> int | None:
    """The dashboard ``schemaVersion`` that folder's Grafana release writes (``defaultDashboard`` of
    its dashboard kind, recorded by generate.js in SOURCES.json); None for a folder from elsewhere."""
    try:
        return int(json.loads((Path(folder) / "SOURCES.json").read_text(encoding="utf-8"))["schemaVersion"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def newer_dashboards(artifacts: dict[str, str], folder: Path, grafana: str | None = None) -> list[str]:
    """A warning per ``schemaVersion`` newer than the one that Grafana release writes: a
    ``--schema-version 42`` build linted against 11.6 (which writes 41). Grafana migrates older
    dashboards up when it loads them, never newer ones down, so the schema check alone would not say
    that this Grafana is older than the dashboards."""
    written = written_schema_version(folder)
    if written is None:
        return []
    newer: dict[int, list[str]] = {}
    for rel, content in sorted(artifacts.items()):
        if not (rel.startswith("dashboards/") and rel.endswith(".json")):
            continue
        try:
            version = json.loads(content).get("schemaVersion")
        except (ValueError, AttributeError):
            continue
        if isinstance(version, int) and version > written:
            newer.setdefault(version, []).append(rel)
    name = f"Grafana {grafana}" if grafana else str(folder)
    return [f"{len(rels)} dashboard(s) have schemaVersion {version} ({rels[0]}{', ...' if len(rels) > 1 else ''}), newer "
            f"than {name} writes ({written}): build them with --schema-version {written} for that Grafana"
            for version, rels in sorted(newer.items())]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    cache = None
    if args[:1] == ["--cache"]:
        cache, args = Path(args[1]), args[2:]
    try:
        for version in args or GRAFANA_VERSIONS:
            print(schema_folder(version, cache))
    except SchemaFetchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
