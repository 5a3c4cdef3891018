"""Folders: created when missing (legacy ``/api/folders`` or the App Platform), otherwise left as they are.

dashgen creates the folders its manifest declares (``POST /api/folders`` with the manifest's uid)
but never renames or deletes one: a folder may hold dashboards dashgen does not own, and deleting
a folder deletes what it holds (Grafana's folder API reference, "Delete folder").
"""

from __future__ import annotations

from typing import Any, Iterator

from ..errors import InputError
from .handler import Handler, Read, WriteContext
from .plan import CREATE, UNCHANGED, Item, Options


class Folders(Handler):
    kinds = ("folder",)
    option_name = "folders"  # what --only calls it

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.live: dict[str, dict | None] = {}

    def get(self, uid: str) -> dict | None:
        """The live folder as ``{uid, title}``, or None; through the App Platform in apps mode."""
        if self.instance.apps is None:
            return self.client.call("GET", f"/api/folders/{uid}", allow_404=True)
        obj = self.client.call("GET", self.instance.apps.folders(uid), allow_404=True)
        return None if obj is None else {"uid": uid, "title": (obj.get("spec") or {}).get("title")}

    def reads(self, options: Options) -> Iterator[list[Read]]:
        # Wait for the round after the one in which dashboards are first read (the preflight's): a
        # dashboard read then proves its folder exists, and a folder known that way is not read
        # (nor its title compared: a live title is left as is).
        yield []
        yield [Read(lambda uid=f["uid"]: self.get(uid), lambda res, uid=f["uid"]: self.live.__setitem__(uid, res))
               for f in self.build.folders if f["uid"] not in self.evidence.folders_seen]

    def compare(self, options: Options) -> list[Item]:
        items = []
        for f in self.build.folders:
            lf = self.live.get(f["uid"])
            if lf is None and f["uid"] not in self.evidence.folders_seen:
                if not options.pushes(self.option_name):
                    raise InputError(
                        f"folder {f['uid']!r} ({f['title']}) does not exist in Grafana, and --only "
                        f"{','.join(options.only)} creates no folder: let Git Sync create it first (its "
                        f"{f['uid']}/_folder.json), or add folders to --only")
                items.append(Item("folder", f["uid"], f["title"], CREATE, desired={"uid": f["uid"], "title": f["title"]}))
                continue
            title = (lf or {}).get("title")
            note = "" if title in (None, f["title"]) else f"live title is {title!r}; left as is"
            items.append(Item("folder", f["uid"], f["title"], UNCHANGED, reason=note))
        return items

    def write(self, item: Item, ctx: WriteContext) -> None:
        def reconcile() -> Any:
            live = self.get(item.key)
            return live if live and live.get("title") == item.title else None

        api = self.instance.apps
        if api is None:
            self.client.call("POST", "/api/folders", body={"uid": item.key, "title": item.title}, reconcile=reconcile)
        else:  # metadata.name is the uid; a name already taken is 409 AlreadyExists (Kubernetes API semantics)
            body = {"apiVersion": api.folder_api_version, "kind": "Folder",
                    "metadata": {"name": item.key, "namespace": api.namespace}, "spec": {"title": item.title}}
            self.client.call("POST", api.folders(), body=body, ok=(200, 201), reconcile=reconcile)
        item.outcome = "created"
