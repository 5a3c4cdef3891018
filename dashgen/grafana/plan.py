"""The plan: what ``dashgen push`` would do, as data. Pure: no HTTP, and no resource kind.

A plan is a list of :class:`Item` (one per folder, dashboard, rule group or rule), each with an
action. The kinds live in their handlers (``folders``, ``dashboards``, ``rule_groups``): each one
compares its desired objects with what it read live and returns items; :func:`diff` only
concatenates them in dependency order. ``workflow`` runs the reads, ``apply`` executes the
writes, ``report`` prints the result.

The build output is read from disk by :func:`load_build` through ``dashgen.artifacts``, the one
reader/writer of the output tree.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import yaml

from .. import artifacts
from ..errors import InputError

if TYPE_CHECKING:
    from .handler import Handler

# What `--only` can name: with Git Sync, Grafana pulls the dashboards and folders and dashgen
# pushes only the alert rules (`--only rule-groups`), which Git Sync does not carry.
ONLY_KINDS = ("folders", "dashboards", "rule-groups")

# Actions, as shown by `dashgen plan`.
CREATE, UPDATE, UNCHANGED, DRIFTED, CONFLICT, PRUNE, ORPHAN = (
    "create", "update", "unchanged", "drifted", "conflict", "prune", "orphan")
BLOCKING = (DRIFTED, CONFLICT)
WRITES = (CREATE, UPDATE, PRUNE)


@dataclass(frozen=True)
class Options:
    """What the user asked for; the handlers' compare and read steps depend on it."""

    prune: bool = False
    force: bool = False
    quick: bool = False
    disable_provenance: bool = False
    orphans: bool = False  # list what dashgen owns that the build no longer makes (`dashgen plan`)
    api: str = "auto"  # auto | legacy | apps: which API dashboards and folders go through
    recording_rules: str = "auto"  # auto (push them where the instance takes them) | require
    only: tuple[str, ...] = ()  # push only these kinds (ONLY_KINDS); () = every kind

    def pushes(self, kind: str) -> bool:
        """Whether this run writes ``kind`` (``folders``, ``dashboards``, ``rule-groups``)."""
        return not self.only or kind in self.only

    @property
    def inventory(self) -> bool:
        """Read everything dashgen owns, not only what the build makes."""
        return self.prune or self.orphans


# ---------------------------------------------------------------------------- plan model
@dataclass
class Item:
    kind: str  # folder | dashboard | rule-group | rule
    key: str  # uid, or "<folder>/<group>" for rule groups
    title: str
    action: str
    folder_uid: str = ""
    reason: str = ""
    live_version: int | None = None
    changed_by: str = ""
    changed_at: str = ""
    forced: bool = False  # --force turned a drift/conflict into this write; back up first
    requires: tuple[str, str] | None = None  # (kind, key) of an item that must not have failed
    lock: str = ""  # the optimistic-lock token read with the live object (a version, a resourceVersion)
    desired: Any = field(default=None, repr=False)
    desired_hash: str = ""
    live: Any = field(default=None, repr=False)
    outcome: str = ""  # set by apply: created, updated, deleted, unchanged, failed, conflict, skipped...
    detail: str = ""

    @property
    def name(self) -> str:
        return self.key

    def public(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k not in ("desired", "live", "requires", "lock")}
        return {k: v for k, v in d.items() if v not in (None, "", False)}

    def refuse_unless(self, force: bool, action: str, reason: str, write: str = UPDATE) -> None:
        """A drift or conflict: blocking, unless ``--force`` turns it into ``write`` (backed up first)."""
        self.action, self.forced, self.reason = (write if force else action), force, reason


@dataclass
class Plan:
    items: list[Item]
    datasources: dict[str, dict]
    grafana_url: str = ""
    notices: list[str] = field(default_factory=list)  # one line each: what was left out, and why

    def by_action(self, *actions: str) -> list[Item]:
        return [i for i in self.items if i.action in actions]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in self.items:
            out[i.action] = out.get(i.action, 0) + 1
        return out

    @property
    def blocking(self) -> list[Item]:
        return self.by_action(*BLOCKING)

    @property
    def writes(self) -> list[Item]:
        return self.by_action(*WRITES)


def diff(handlers: Sequence["Handler"], options: Options, datasources: dict[str, dict]) -> Plan:
    """Every handler's comparison of its desired and live objects, in the handlers' order
    (the order apply writes in: a folder before what it holds)."""
    return Plan([item for h in handlers for item in h.compare(options)], datasources,
                notices=[n for h in handlers for n in h.notices])


# ---------------------------------------------------------------------------- build output
@dataclass
class DesiredDashboard:
    uid: str
    folder_uid: str
    data: dict
    path: str


@dataclass
class DesiredGroup:
    folder_uid: str
    name: str
    body: dict
    path: str


@dataclass
class Build:
    root: str
    folders: list[dict]
    datasources: dict[str, dict]
    owner_tag: str
    dashboards: list[DesiredDashboard]
    groups: list[DesiredGroup]
    catalog: str = ""  # the catalog's name: with dashgen, the manager identity on the App Platform
    recording_rules: str = "auto"  # "require": the catalog asked for Grafana-managed recording rules
    dashboard_format: str = "classic"  # "v2": the dashboards are dashboard.grafana.app/v2 objects


def _read_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InputError(f"{path}: cannot read JSON ({exc.__class__.__name__}: {str(exc)[:120]})") from None


def load_build(root: str | Path) -> Build:
    """The build output in the directory ``root`` (``push --from DIR``)."""
    return build_from_files(artifacts.read_output(root), root)


def build_from_files(files: dict[str, str], root: str | Path = ".") -> Build:
    """A build from its files ``{relative path: text}`` (a fresh one is never written to disk
    first); ``root`` is where they live, or ``.`` for a build in memory: messages name files under it."""
    root = Path(root)
    manifest_path = root / artifacts.MANIFEST
    if artifacts.MANIFEST not in files:
        raise InputError(f"{manifest_path}: not found; --from must point at a `dashgen build --out DIR` directory")
    try:
        manifest = artifacts.parse(artifacts.MANIFEST, files[artifacts.MANIFEST]) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{manifest_path}: cannot read YAML ({str(exc).splitlines()[0][:120]})") from None
    folders = manifest.get("folders") or []
    datasources = manifest.get("datasources") or {}
    if not isinstance(folders, list) or not all(isinstance(f, dict) and f.get("uid") and f.get("title") for f in folders):
        raise InputError(f"{manifest_path}: `folders` must be a list of {{uid, title}}")
    for key, ds in datasources.items():
        if not isinstance(ds, dict) or not all(ds.get(k) for k in ("type", "name", "uid")):
            raise InputError(f"{manifest_path}: datasources.{key} needs type, name and uid")
    owner_tag = manifest.get("owner_tag") or "dashgen"
    folder_uids = {f["uid"] for f in folders}
    dashboards: list[DesiredDashboard] = []
    for rel, text in artifacts.of_kind(files, artifacts.DASHBOARD):
        path, folder = root / rel, artifacts.folder_of(rel)
        data = _read_json(path, text)
        if isinstance(data, dict) and str(data.get("apiVersion", "")).startswith("dashboard.grafana.app/v2"):
            data = dict(data, uid=(data.get("metadata") or {}).get("name"))  # a v2 object: named by metadata.name
        if not isinstance(data, dict) or not data.get("uid"):
            raise InputError(f"{path}: not a dashboard (no uid)")
        if folder not in folder_uids:
            raise InputError(f"{path}: folder {folder!r} is not declared in {manifest_path}")
        dashboards.append(DesiredDashboard(data["uid"], folder, data, str(path)))
    groups: list[DesiredGroup] = []
    for rel, text in artifacts.of_kind(files, artifacts.GRAFANA_RULES):
        path, folder = root / rel, artifacts.folder_of(rel)
        body = _read_json(path, text)
        if not isinstance(body, dict) or not isinstance(body.get("rules"), list):
            raise InputError(f"{path}: not a rule group body (needs title, folderUid, interval, rules)")
        if body.get("folderUid", folder) != folder:
            raise InputError(f"{path}: folderUid {body.get('folderUid')!r} does not match its directory {folder!r}")
        if folder not in folder_uids:
            raise InputError(f"{path}: folder {folder!r} is not declared in {manifest_path}")
        name = body.get("title") or path.stem
        groups.append(DesiredGroup(folder, name, body, str(path)))
    uids = [d.uid for d in dashboards]
    dup = {u for u in uids if uids.count(u) > 1}
    if dup:
        raise InputError(f"{root}: dashboard uid(s) used twice: {', '.join(sorted(dup))}")
    recording = manifest.get("recording_rules") or "auto"
    if recording not in ("auto", "require"):
        raise InputError(f"{manifest_path}: recording_rules must be auto or require, not {recording!r}")
    return Build(str(root), folders, datasources, owner_tag, dashboards, groups, str(manifest.get("catalog") or ""),
                 recording, str(manifest.get("dashboard_format") or "classic"))
