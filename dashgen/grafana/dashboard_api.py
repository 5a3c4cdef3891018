"""The two APIs a dashboard can be read and written through: the legacy ``/api/dashboards``
(Grafana 11.6, and ``--api legacy``) and the App Platform (``/apis/dashboard.grafana.app``).

Both give the handler the same :class:`LiveDashboard`, so ``dashboards`` compares without
knowing which API was used, and a dashboard pushed one way is recognised the other way: the two
APIs are two views of one store (Grafana's legacy ``pkg/api/dashboard.go`` and the
dashboard app's legacy storage read and write the same rows), and dashgen's content marker (the
owner and hash tags) is inside the dashboard in both.

Optimistic locking: the legacy API takes the ``version`` that was read with ``overwrite: false``
(412 when it moved on); the App Platform takes ``metadata.resourceVersion`` (409 Conflict). Either
way the write is not retried: the live object is re-read and the change reported as a conflict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from . import apps
from .client import GrafanaClient, GrafanaError
from .handler import Conflict

V2_PATH_RE = re.compile(r"/apis/dashboard\.grafana\.app/(v2\w*)/")


@dataclass
class LiveDashboard:
    """A live dashboard, whichever API read it."""

    uid: str
    dashboard: dict  # the classic JSON (uid and tags included); {} when this API cannot show it
    folder_uid: str
    version: int | None = None  # legacy version = App Platform generation
    changed_by: str = ""
    changed_at: str = ""
    provisioned: bool = False  # file-provisioned: cannot be saved through the API
    manager: tuple[str, str] | None = None  # (kind, identity) from the manager annotations
    lock: str = ""  # what a guarded write sends back: the legacy version or the resourceVersion
    stored_version: str = ""  # "v2beta1"/"v2" when a person re-saved it as a v2 dashboard
    raw: Any = field(default=None, repr=False)  # as read, for a --force backup

    def hit(self) -> dict:
        """What a search hit says about it."""
        return {"uid": self.uid, "title": self.dashboard.get("title", self.uid), "tags": list(self.dashboard.get("tags") or []),
                "folderUid": self.folder_uid}


def _changed_detail(live: LiveDashboard | None, status: int) -> str:
    if live is None:
        return f"changed by someone else between dashgen's read and its write (HTTP {status}); run `dashgen plan` again"
    return (f"changed by someone else between dashgen's read and its write (HTTP {status}): now version "
            f"{live.version} by {live.changed_by or '?'} at {live.changed_at or '?'}; "
            "nothing was overwritten, run `dashgen plan` again")


class LegacyDashboards:
    def __init__(self, client: GrafanaClient):
        self.client = client

    def get(self, uid: str) -> LiveDashboard | None:
        try:
            body = self.client.call("GET", f"/api/dashboards/uid/{uid}", allow_404=True)
        except GrafanaError as exc:
            if exc.status == 406:  # stored as v2: the legacy API cannot show it (Grafana's pkg/api/dashboard.go: 406 "dashboard api version not supported")
                m = V2_PATH_RE.search(exc.message)  # the message names the API to use, with its version
                return LiveDashboard(uid, {}, "", stored_version=m.group(1) if m else "v2")
            raise
        if body is None:
            return None
        d, meta = body.get("dashboard") or {}, body.get("meta") or {}
        return LiveDashboard(uid, d, meta.get("folderUid") or "", meta.get("version"), meta.get("updatedBy") or "",
                             meta.get("updated") or "", bool(meta.get("provisioned")), None,
                             str(meta.get("version") or ""), raw=body)

    def save(self, uid: str, dashboard: dict, folder_uid: str, *, lock: str, overwrite: bool, message: str,
             landed: Callable[[LiveDashboard], bool], source: dict[str, str]) -> Any:
        dash = dict(dashboard)
        if lock:
            dash["version"] = int(lock)
        body = {"dashboard": dash, "folderUid": folder_uid, "message": message, "overwrite": overwrite}

        def reconcile() -> Any:
            live = self.get(uid)
            if live is None:
                return None  # not created yet: retry
            if landed(live):
                return {"version": live.version, "reconciled": True}
            if lock and live.lock == lock or overwrite:
                return None  # our write did not land: retry
            raise Conflict(_changed_detail(live, 412))

        try:
            res = self.client.call("POST", "/api/dashboards/db", body=body, reconcile=reconcile)
        except GrafanaError as exc:
            if exc.status == 412:
                raise Conflict(_changed_detail(self._reread(uid), 412)) from None
            raise
        return (res or {}).get("version")

    def _reread(self, uid: str) -> LiveDashboard | None:
        try:
            return self.get(uid)
        except GrafanaError:
            return None

    def delete(self, uid: str) -> None:
        try:
            self.client.call("DELETE", f"/api/dashboards/uid/{uid}",
                             reconcile=lambda: {"gone": True} if self.get(uid) is None else None)
        except GrafanaError as exc:
            if exc.status != 404:
                raise


class AppDashboards(LegacyDashboards):
    def __init__(self, client: GrafanaClient, api: apps.AppsAPI):
        super().__init__(client)
        self.api = api

    def live_of(self, obj: dict) -> LiveDashboard:
        meta = obj.get("metadata") or {}
        ann = meta.get("annotations") or {}
        name = meta.get("name") or ""
        stored = ((obj.get("status") or {}).get("conversion") or {}).get("storedVersion") or ""
        return LiveDashboard(name, {**(obj.get("spec") or {}), "uid": name}, ann.get(apps.FOLDER) or "",
                             meta.get("generation"), ann.get(apps.UPDATED_BY) or ann.get(apps.ANN + "createdBy") or "",
                             ann.get(apps.UPDATED_AT) or meta.get("creationTimestamp") or "",
                             ann.get(apps.MANAGED_BY) == "classic-file-provisioning", apps.manager_of(ann),
                             str(meta.get("resourceVersion") or ""), stored if stored.startswith("v2") else "", raw=obj)

    def get(self, uid: str) -> LiveDashboard | None:
        obj = self.client.call("GET", self.api.dashboards(uid), allow_404=True)
        return None if obj is None else self.live_of(obj)

    def get_stored(self, uid: str, version: str) -> Any:
        """The object in the version it is stored in (a v2 dashboard read through the v2 API)."""
        return self.client.call("GET", self.api.dashboards(uid, version))

    def save(self, uid: str, dashboard: dict, folder_uid: str, *, lock: str, overwrite: bool, message: str,
             landed: Callable[[LiveDashboard], bool], source: dict[str, str]) -> Any:
        spec = {k: v for k, v in dashboard.items() if k not in ("id", "uid", "version")}
        return self.save_body(uid, spec, folder_uid, lock=lock, message=message, landed=landed, source=source)

    def save_body(self, uid: str, spec: dict, folder_uid: str, *, lock: str, message: str,
                  landed: Callable[[LiveDashboard], bool], source: dict[str, str], version: str | None = None) -> Any:
        """Create or update the object with this ``spec`` in ``version`` (default: the API's stable
        one); a 409 is drift, never retried. ``reconcile`` reads back through :meth:`get`."""
        version = version or self.api.dashboard_version
        annotations = {**source, apps.MESSAGE: message}
        if folder_uid:
            annotations[apps.FOLDER] = folder_uid
        metadata: dict[str, Any] = {"name": uid, "namespace": self.api.namespace, "annotations": annotations}
        if lock:
            metadata["resourceVersion"] = lock  # 409 if it moved on since dashgen read it
        body = {"apiVersion": f"{apps.DASHBOARD_GROUP}/{version}", "kind": "Dashboard", "metadata": metadata,
                "spec": spec}

        def reconcile() -> Any:
            live = self.get(uid)
            if live is None and not lock:
                return None  # not created yet: retry
            if live is not None and landed(live):
                return live.raw
            if live is not None and live.lock == lock:
                return None
            raise Conflict(_changed_detail(live, 409))

        try:
            if lock:
                res = self.client.call("PUT", self.api.dashboards(uid, version), body=body, reconcile=reconcile)
            else:
                res = self.client.call("POST", self.api.dashboards(None, version), body=body, ok=(200, 201),
                                       reconcile=reconcile)
        except GrafanaError as exc:
            if exc.status == 409:  # Conflict (a newer resourceVersion) or AlreadyExists: drift, never retried
                raise Conflict(_changed_detail(self._reread(uid), 409)) from None
            if exc.status == 403 and "manager" in exc.message.lower():
                live = self._reread(uid)
                owner = apps.describe_manager(live.manager) if live and live.manager else "another tool"
                raise Conflict(f"managed by {owner}: Grafana refused to hand it to dashgen ({exc.message})") from None
            raise
        return ((res or {}).get("metadata") or {}).get("generation")

    def delete(self, uid: str) -> None:
        try:
            self.client.call("DELETE", self.api.dashboards(uid),
                             reconcile=lambda: {"gone": True} if self.get(uid) is None else None)
        except GrafanaError as exc:
            if exc.status != 404:
                raise


class V2Dashboards(AppDashboards):
    """Dashboards written as ``dashboard.grafana.app/v2`` objects (``build --schema-version v2``),
    through ``v2`` on Grafana 13 and ``v2beta1`` on 12.

    The handler works on the classic view (dashboards/v2.py ``to_classic``), so ownership tags,
    hashes, drift and its readable diff are the classic ones; this store converts at the API
    boundary. A dashboard still stored as v1 (pushed by a classic build before) is read through
    the v1 API, as it is stored, instead of Grafana's conversion of it.
    """

    def __init__(self, client: GrafanaClient, api: apps.AppsAPI, version: str):
        super().__init__(client, api)
        self.version = version

    def live_of(self, obj: dict) -> LiveDashboard:
        from ..dashboards.v2 import to_classic

        live = super().live_of(obj)
        live.dashboard = {**to_classic(obj), "uid": live.uid}
        live.stored_version = ""  # stored as v2: what this store writes, not a person's re-save
        return live

    def get(self, uid: str) -> LiveDashboard | None:
        obj = self.client.call("GET", self.api.dashboards(uid, self.version), allow_404=True)
        if obj is None:
            return None
        stored = ((obj.get("status") or {}).get("conversion") or {}).get("storedVersion") or self.version
        if not str(stored).startswith("v2"):  # stored as v1: read it as it is stored, not converted
            return AppDashboards.get(self, uid)
        return self.live_of(obj)

    def save(self, uid: str, dashboard: dict, folder_uid: str, *, lock: str, overwrite: bool, message: str,
             landed: Callable[[LiveDashboard], bool], source: dict[str, str]) -> Any:
        from ..dashboards.v2 import to_v2

        spec = to_v2({**dashboard, "uid": uid}, f"{apps.DASHBOARD_GROUP}/{self.version}")["spec"]
        return self.save_body(uid, spec, folder_uid, lock=lock, message=message, landed=landed, source=source,
                              version=self.version)
