"""``dashgen build --git-sync DIR``: the tree Grafana's Git Sync reads, so Grafana pulls what CI built.

Git Sync (GA in Grafana 13; experimental in 12 behind the ``provisioning`` toggle) syncs
dashboards and folders from a Git repository both ways. It reads one directory per folder;
a folder's ``_folder.json`` (a ``folder.grafana.app`` ``Folder`` object) gives it a stable uid
and title, without which Git Sync derives the uid from a hash of the path
(grafana/grafana ``pkg/registry/apis/provisioning/resources/folder_metadata.go``: the file name,
``ReadFolderMetadata``, and the hash fallback; read when the ``provisioningFolderMetadata``
toggle is on). Each dashboard is one file named after its uid, in the format of the build:
classic JSON (schemaVersion 41/42) or a ``dashboard.grafana.app/v2`` object (``--schema-version
v2``, what Grafana 13 stores).

Git Sync carries dashboards and folders only, never alert rules: ``dashgen push --only
rule-groups`` pushes those (docs/push.md). Its documented limits
(``docs/sources/as-code/observability-as-code/git-sync/usage-limits.md``): about 1,000 synced
resources per repository connection (20 on Grafana Cloud Free; on-prem
``max_resources_per_repository``), folders nested at most four deep. The tree is checked
against them before anything is written.
"""

from __future__ import annotations

import json
from pathlib import Path

from .artifacts import DASHBOARD, MANIFEST, canonical_json, check_output, kind_of, parse, write_output
from .errors import InputError

FOLDER_METADATA = "_folder.json"
FOLDER_API_VERSION = "folder.grafana.app/v1beta1"  # served by Grafana 12 and 13
DEFAULT_MAX_RESOURCES = 1000  # Git Sync's recommended ceiling per repository connection
MAX_FOLDER_DEPTH = 4


def git_sync_tree(artifacts: dict[str, str]) -> dict[str, str]:
    """``{path in the repository: text}``: ``<folder uid>/_folder.json`` and ``<folder uid>/<uid>.json``.

    Pure: read from the build's own files (the manifest names the folders and their titles).
    """
    manifest = parse(MANIFEST, artifacts[MANIFEST])
    titles = {f["uid"]: f["title"] for f in manifest.get("folders") or []}
    tree: dict[str, str] = {}
    for rel, text in artifacts.items():
        if kind_of(rel) != DASHBOARD:
            continue
        folder, name = rel.split("/")[1:]
        if folder not in titles:
            raise InputError(f"{rel}: its folder {folder!r} is not in the build's manifest")
        tree[f"{folder}/{name}"] = text
    for folder in {path.split("/")[0] for path in tree}:
        tree[f"{folder}/{FOLDER_METADATA}"] = canonical_json({
            "apiVersion": FOLDER_API_VERSION, "kind": "Folder",
            "metadata": {"name": folder}, "spec": {"title": titles[folder]}})
    return dict(sorted(tree.items()))


def check_limits(tree: dict[str, str], max_resources: int = DEFAULT_MAX_RESOURCES) -> None:
    """Refuse (exit 2) a tree Git Sync should not be given: too many resources, folders too deep."""
    folders = {path.rsplit("/", 1)[0] for path in tree}
    resources = len(folders) + sum(1 for path in tree if not path.endswith("/" + FOLDER_METADATA))
    if resources > max_resources:
        raise InputError(
            f"--git-sync: {resources} resources (dashboards and folders) exceed {max_resources} per repository "
            f"connection, Git Sync's limit (about 1,000 on-prem, 20 on Grafana Cloud Free): connect the "
            f"repository once per folder path, or raise --git-sync-max-resources to your instance's "
            f"max_resources_per_repository")
    deep = [f for f in folders if f.count("/") + 1 > MAX_FOLDER_DEPTH]
    if deep:
        raise InputError(f"--git-sync: folder {sorted(deep)[0]} is nested deeper than Git Sync's "
                         f"{MAX_FOLDER_DEPTH} levels")


def write_tree(tree: dict[str, str], out_dir: Path) -> None:
    """Replace the tree's folder directories under ``out_dir`` atomically; leave anything else there."""
    write_output(tree, Path(out_dir), tops=sorted({path.split("/")[0] for path in tree}))


def check_tree(tree: dict[str, str], out_dir: Path) -> list[str]:
    """What differs between ``tree`` and ``out_dir`` (stale, missing and extra files of its folders),
    as ``build --check`` says it of the output tree."""
    res = check_output(tree, Path(out_dir), tops=sorted({path.split("/")[0] for path in tree}))
    return [f"{label}: {rel}" for label, paths in (("stale", res.stale), ("missing", res.missing),
                                                    ("extra", res.extra)) for rel in paths]


def summary(tree: dict[str, str]) -> str:
    dashboards = sum(1 for path in tree if not path.endswith("/" + FOLDER_METADATA))
    folders = len(tree) - dashboards
    fmt = "v2" if any(json.loads(t).get("apiVersion", "").startswith("dashboard.grafana.app/v2")
                      for p, t in tree.items() if not p.endswith(FOLDER_METADATA)) else "classic"
    return f"{dashboards} dashboards ({fmt}) in {folders} folder{'s' if folders != 1 else ''}"
