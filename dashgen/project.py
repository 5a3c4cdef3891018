"""The project file: which catalog a repository builds, and how, so no command has to be told.

A project says once what every command needs: the catalog, the definition files, the output
directory, the dashboard schema version and how to reach Grafana. It lives in ``dashgen.toml``
or in the ``[tool.dashgen]`` table of ``pyproject.toml`` (the first one found walking up from
the current directory, stopping at the repository's root, the directory holding ``.git``).
Paths in it are relative to the file. ``dashgen init`` writes one.

.. code-block:: toml

    catalog = "my.yaml"          # a file, or a bundled preset: default, pipecat, livekit
    definitions = []             # Python files adding dashboards (docs/extending.md)
    output = "."                 # receives dashboards/, alerts/, collector/
    schema_version = 42          # 41 (Grafana 11.x), 42 (Grafana 12.x) or "v2" (Grafana 13)

    [grafana]
    version = "13.0"             # the Grafana it targets: picks the schema version when none is set
    url = "https://grafana.example.com"   # or url_env: the variable that holds it
    url_env = "GRAFANA_URL"
    token_env = "GRAFANA_TOKEN"
    org_id = 1

The Grafana folder, uid prefix and datasource names stay where they are, in the catalog's
``grafana:`` key: one home each.
"""

from __future__ import annotations

import os
from dataclasses import field
from pathlib import Path

from .records import dataclass  # dataclasses' decorator without generated code (start-up)
from .errors import InputError

PROJECT_FILE = "dashgen.toml"
PYPROJECT = "pyproject.toml"
_KEYS = {"catalog": str, "definitions": list, "output": str, "schema_version": (int, str), "grafana": dict}
_GRAFANA_KEYS = {"version": str, "url": str, "url_env": str, "token_env": str, "org_id": int}


def format_for(grafana_version: str) -> int | str:
    """The dashboard format a Grafana stores by default: v2 from 13 (dynamic dashboards are GA and on
    by default), schemaVersion 42 on 12.x, 41 on 11.6. File provisioning reads classic JSON only:
    set ``schema_version`` yourself there."""
    try:
        major = int(str(grafana_version).split(".")[0])
    except ValueError:
        raise InputError(f"[grafana] version {grafana_version!r}: expected a Grafana version such as \"13.0\"") from None
    return "v2" if major >= 13 else 42 if major == 12 else 41


@dataclass(frozen=True)
class Project:
    """A project file as read: its paths already joined to the file's directory."""

    path: Path  # the file (dashgen.toml or pyproject.toml)
    catalog: str | None = None  # a path (joined) or a preset name
    definitions: tuple[str, ...] = ()
    output: Path | None = None
    schema_version: int | str | None = None
    grafana: dict = field(default_factory=dict)

    @property
    def default_schema_version(self) -> int | str | None:
        """``schema_version``, else the format of the Grafana ``[grafana] version`` names, else None."""
        if self.schema_version is not None:
            return self.schema_version
        return format_for(self.grafana["version"]) if self.grafana.get("version") else None

    @property
    def label(self) -> str:
        """How messages name the file: ``dashgen.toml`` or ``pyproject.toml [tool.dashgen]``."""
        shown = _shown(self.path)
        return shown if self.path.name == PROJECT_FILE else f"{shown} [tool.dashgen]"


def _shown(path: Path) -> str:
    """``path`` relative to the current directory when it is below it, else as it is."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)


def find_project(start: Path | None = None) -> Project | None:
    """The project file that governs ``start`` (default: the current directory), or None."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return read_project(candidate)
        pyproject = folder / PYPROJECT
        if pyproject.is_file():
            table = _toml(pyproject).get("tool", {}).get("dashgen")
            if isinstance(table, dict):
                return _project(pyproject, table)
        if (folder / ".git").exists():  # the repository's root: a project file above it is not ours
            return None
    return None


def read_project(path: Path) -> Project:
    """Read ``dashgen.toml`` (all of it is dashgen's) into a :class:`Project`."""
    return _project(path, _toml(path))


def _toml(path: Path) -> dict:
    import tomllib  # only when there is a project file to read: a build without one skips it

    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise InputError(f"{_shown(path)}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{_shown(path)}: not valid TOML: {exc}") from None


def _project(path: Path, table: dict) -> Project:
    where = _shown(path) if path.name == PROJECT_FILE else f"{_shown(path)} [tool.dashgen]"
    _check(table, _KEYS, where)
    grafana = table.get("grafana", {})
    _check(grafana, _GRAFANA_KEYS, f"{where} [grafana]")
    definitions = table.get("definitions", [])
    if not all(isinstance(d, str) for d in definitions):
        raise InputError(f"{where}: definitions must be a list of file names (e.g. [\"dashboards/mine.py\"])")
    base = path.parent
    catalog = table.get("catalog")
    if catalog is not None:
        from .catalog import PRESET_NAMES

        catalog = catalog if catalog in PRESET_NAMES else str(base / catalog)
    output = table.get("output")
    schema_version = table.get("schema_version")
    if schema_version is not None:
        from .dashboards.model import SCHEMA_VERSION_CHOICES, parse_schema_version

        if str(schema_version).lower() not in SCHEMA_VERSION_CHOICES:
            raise InputError(f"{where}: schema_version {schema_version!r} is not supported (use one of "
                             f"{', '.join(SCHEMA_VERSION_CHOICES)})")
        schema_version = parse_schema_version(schema_version)
    if grafana.get("version"):
        format_for(grafana["version"])  # a bad version is an error here, not when it is first used
    return Project(path, catalog, tuple(str(base / d) for d in definitions),
                   base / output if output is not None else None, schema_version, dict(grafana))


def _check(table: dict, keys: dict, where: str) -> None:
    for key, value in table.items():
        if key not in keys:
            raise InputError(f"{where}: unknown key {key!r} (known: {', '.join(keys)})")
        if not isinstance(value, keys[key]) or isinstance(value, bool):
            kinds = keys[key] if isinstance(keys[key], tuple) else (keys[key],)
            raise InputError(f"{where}: {key} must be a {' or '.join(k.__name__ for k in kinds)}, not {value!r}")


def render_project(*, catalog: str, output: str = ".", schema_version: int | None = None,
                   definitions: tuple[str, ...] = (), grafana: dict | None = None) -> str:
    """The text of a ``dashgen.toml`` (what ``dashgen init`` writes), commented for a reader."""
    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [
        "# dashgen's project file: every dashgen command run in this directory (or below it) reads it,",
        "# so `dashgen build`, `dashgen diff` and `dashgen push` need no -c. Flags and DASHGEN_CATALOG win over it.",
        "",
        "# The stage catalog: a YAML file (relative to this file) or a bundled preset (default, pipecat, livekit).",
        f"catalog = {q(catalog)}",
        "# Python files adding dashboards of your own (docs/extending.md).",
        f"definitions = [{', '.join(q(d) for d in definitions)}]",
        "# Where dashboards/, alerts/ and collector/ are written (relative to this file).",
        f"output = {q(output)}",
    ]
    if schema_version is not None:
        value = q(schema_version) if isinstance(schema_version, str) else schema_version
        lines += ["# Dashboard format: 41 (Grafana 11.x), 42 (Grafana 12.x) or \"v2\" (Grafana 13's own).",
                  f"schema_version = {value}"]
    else:
        lines += ["# Dashboard format: 41 (Grafana 11.x, the default), 42 (Grafana 12.x) or \"v2\" (Grafana 13's",
                  "# own). Left out, [grafana] version picks it: 13 -> v2, 12 -> 42, 11.6 -> 41.",
                  "# schema_version = 42"]
    grafana = dict(grafana or {})
    lines += ["", "# How plan and push reach Grafana (never the token itself: name the variable that holds it).",
              "[grafana]"]
    if "url" in grafana:
        lines.append(f"url = {q(grafana['url'])}")
    else:
        lines.append('# url = "https://grafana.example.com"')
    lines.append(f"url_env = {q(grafana.get('url_env', 'GRAFANA_URL'))}")
    lines.append(f"token_env = {q(grafana.get('token_env', 'GRAFANA_TOKEN'))}")
    if "org_id" in grafana:
        lines.append(f"org_id = {int(grafana['org_id'])}")
    else:
        lines.append("# org_id = 1")
    return "\n".join(lines) + "\n"
