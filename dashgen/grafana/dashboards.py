"""Dashboards: read, compare, save and delete through the legacy ``/api/dashboards`` API.

Ownership marker and drift
--------------------------
The owner tag (``dashgen``) plus a tag ``dashgen-hash:<12 hex>``: :func:`short_hash` of
``{"dashboard": <dashboard without id, version and the hash tag>, "folderUid": <folder>}``. Tags
are plain strings in Grafana's dashboard schema, so the dashboard stays schema-valid, the marker
survives export/import, and it is visible in ``/api/search`` results. A live dashboard whose
recomputed hash differs from its tag was changed by someone since dashgen last pushed it: drift.

Writes carry the version that was read with ``overwrite: false``, so an edit made between
dashgen's read and its write is a 412, reported as a conflict (grafana-http-api.md, Dashboards).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Iterator

from .client import GrafanaError
from .handler import Conflict, Handler, Read, WriteContext, short_hash
from .plan import CONFLICT, CREATE, DRIFTED, ORPHAN, PRUNE, UNCHANGED, UPDATE, DesiredDashboard, Item, Options

HASH_TAG_PREFIX = "dashgen-hash:"
SEARCH_CHUNK = 200  # uids per /api/search request: keeps the query string well under proxy limits


def hash_tag_of(dashboard: dict) -> str | None:
    for t in dashboard.get("tags") or []:
        if isinstance(t, str) and t.startswith(HASH_TAG_PREFIX):
            return t[len(HASH_TAG_PREFIX):]
    return None


def dashboard_hash(dashboard: dict, folder_uid: str | None) -> str:
    canon = {k: v for k, v in dashboard.items() if k not in ("id", "version")}
    canon["tags"] = [t for t in dashboard.get("tags") or [] if not (isinstance(t, str) and t.startswith(HASH_TAG_PREFIX))]
    return short_hash({"dashboard": canon, "folderUid": folder_uid or ""})


def _rewrite_uids(obj: Any, mapping: dict[str, str], types: dict[str, str]) -> Any:
    """Replace datasource references {"type": T, "uid": placeholder} by the resolved uid."""
    if isinstance(obj, dict):
        out = {k: _rewrite_uids(v, mapping, types) for k, v in obj.items()}
        uid = out.get("uid")
        if isinstance(uid, str) and uid in mapping and out.get("type") == types.get(uid):
            out["uid"] = mapping[uid]
        return out
    if isinstance(obj, list):
        return [_rewrite_uids(v, mapping, types) for v in obj]
    return obj


def _hit_of(body: dict) -> dict:
    """What a search hit says about a dashboard, from its GET body."""
    d, meta = body.get("dashboard") or {}, body.get("meta") or {}
    return {"uid": d.get("uid"), "title": d.get("title"), "tags": list(d.get("tags") or []),
            "folderUid": meta.get("folderUid") or "", "folderTitle": meta.get("folderTitle")}


def _who(meta: dict) -> tuple[int | None, str, str]:
    return meta.get("version"), meta.get("updatedBy") or "", meta.get("updated") or ""


@dataclass
class Wanted:
    """A built dashboard as it is pushed: datasources resolved, ownership tags added."""

    built: DesiredDashboard
    dashboard: dict
    hash: str


class Dashboards(Handler):
    kinds = ("dashboard",)

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.wanted: list[Wanted] = []
        self.bodies: dict[str, dict | None] = {}  # uid -> GET body (None: absent)
        self.owned_hits: dict[str, dict] = {}  # uid -> search hit carrying the owner tag
        self.other_hits: dict[str, dict] = {}  # uid -> search hit at a built uid without it

    # ---------------------------------------------------------------- desired
    def prepare(self, options: Options) -> None:
        build, resolved = self.build, self.instance.datasources
        mapping, types = self.instance.datasource_uids(build.datasources)
        by_var = {(build.datasources[k].get("variable") or k): r for k, r in resolved.items()}
        for b in build.dashboards:
            d = _rewrite_uids(copy.deepcopy(b.data), mapping, types)
            d.pop("id", None)
            d.pop("version", None)
            for var in (d.get("templating") or {}).get("list") or []:
                if isinstance(var, dict) and var.get("type") == "datasource" and var.get("name") in by_var:
                    r = by_var[var["name"]]
                    var["current"] = {**(var.get("current") or {}), "text": r["name"], "value": r["uid"]}
            tags = [t for t in d.get("tags") or [] if not (isinstance(t, str) and t.startswith(HASH_TAG_PREFIX))]
            if build.owner_tag not in tags:
                tags.append(build.owner_tag)
            d["tags"] = tags
            h = dashboard_hash(d, b.folder_uid)
            d["tags"] = tags + [HASH_TAG_PREFIX + h]
            self.wanted.append(Wanted(b, d, h))

    # ---------------------------------------------------------------- reads
    def get(self, uid: str) -> dict | None:
        return self.client.call("GET", f"/api/dashboards/uid/{uid}", allow_404=True)

    def _get_reads(self, uids: list[str]) -> list[Read]:
        return [Read(lambda u=u: self.get(u), lambda res, u=u: self._keep_body(u, res)) for u in uids]

    def _keep_body(self, uid: str, body: dict | None) -> None:
        self.bodies[uid] = body
        if body is not None:
            self.evidence.folders_seen.add(_hit_of(body)["folderUid"])

    def _keep_hits(self, hits: list[dict] | None) -> None:
        for h in hits or []:
            (self.owned_hits if self.build.owner_tag in (h.get("tags") or []) else self.other_hits)[h["uid"]] = h
            self.evidence.folders_seen.add(h.get("folderUid"))

    def _search_reads(self, uids: list[str]) -> list[Read]:
        return [Read(lambda c=uids[i:i + SEARCH_CHUNK]: self.client.call(
                    "GET", "/api/search", params={"type": "dash-db", "dashboardUIDs": c, "limit": 5000}),
                     self._keep_hits) for i in range(0, len(uids), SEARCH_CHUNK)]

    def reads(self, options: Options) -> Iterator[list[Read]]:
        """Learn which built dashboards exist, then read the ones whose content matters.

        - the default: one probe, a GET of the first built dashboard. If it exists, dashgen most
          likely pushed here before, and every other built uid is read by uid (their content is
          needed anyway: search results carry no version, so only the content shows an edit made
          in Grafana); a no-op push then costs the preflight + N dashboard GETs + the rule groups,
          with no search. If the probe is absent (a first push), one search by uid tells which of
          the others exist, so a first push does not pay N GETs of dashboards that are not there;
        - with ``prune`` or for ``plan``: every owned dashboard too (a tag search);
        - with ``quick``: a search by uid, whose hash tags are trusted.
        """
        uids = [d.uid for d in self.build.dashboards]
        if not (options.inventory or options.quick) and uids:
            yield self._get_reads(uids[:1])
            if self.bodies[uids[0]] is not None:
                yield self._get_reads(uids[1:])
                for uid, body in self.bodies.items():
                    if body is not None:  # None: absent, so compare plans a create
                        self._keep_hits([_hit_of(body)])
                return
            yield self._search_reads(uids)
        else:
            first = self._search_reads(uids)
            if options.inventory:
                first.append(Read(lambda: self.client.call("GET", "/api/search", params={
                    "type": "dash-db", "tag": self.build.owner_tag, "limit": 5000}), self._keep_hits))
            yield first
        wanted = {w.built.uid: (w.built.folder_uid, w.hash) for w in self.wanted}
        to_get: list[str] = list(self.other_hits)  # foreign dashboards at built uids: read them for the report
        for uid, hit in self.owned_hits.items():
            if uid not in wanted:
                if options.prune:
                    to_get.append(uid)
                continue
            if options.quick and (hit.get("folderUid") or "", hash_tag_of(hit)) == wanted[uid]:
                continue  # --quick: trust the hash tag shown by search
            to_get.append(uid)
        yield self._get_reads(to_get)

    # ---------------------------------------------------------------- compare (pure)
    def compare(self, options: Options) -> list[Item]:
        items = [self._compare_one(w, options) for w in self.wanted]
        built = {w.built.uid for w in self.wanted}
        items += [self._compare_orphan(uid, hit, options) for uid, hit in sorted(self.owned_hits.items())
                  if uid not in built]
        return items

    def _live_item(self, it: Item, got: dict) -> tuple[dict, dict]:
        ld, meta = got.get("dashboard") or {}, got.get("meta") or {}
        it.live = got
        it.live_version, it.changed_by, it.changed_at = _who(meta)
        return ld, meta

    def _compare_one(self, w: Wanted, options: Options) -> Item:
        b, owner = w.built, self.build.owner_tag
        it = Item("dashboard", b.uid, w.dashboard.get("title", b.uid), UNCHANGED, folder_uid=b.folder_uid,
                  requires=("folder", b.folder_uid), desired=w.dashboard, desired_hash=w.hash)
        hit = self.owned_hits.get(b.uid) or self.other_hits.get(b.uid)
        got = self.bodies.get(b.uid)
        if hit is None and got is None:
            it.action = CREATE
            return it
        if got is None:  # --quick and the search hit's hash tag already matches
            it.reason = "hash tag matches (not re-read: --quick)"
            return it
        ld, meta = self._live_item(it, got)
        live_folder = meta.get("folderUid") or ""
        if meta.get("provisioned"):
            it.action, it.reason = CONFLICT, "provisioned from files in Grafana: cannot be saved through the API"
        elif owner not in (ld.get("tags") or []):
            it.refuse_unless(options.force, CONFLICT,
                             f"a dashboard dashgen does not own (no {owner!r} tag) already uses this uid "
                             f"(title {ld.get('title')!r}, folder {live_folder or 'General'!r})")
        elif dashboard_hash(ld, live_folder) == w.hash:
            pass  # unchanged
        elif hash_tag_of(ld) != dashboard_hash(ld, live_folder):
            it.refuse_unless(options.force, DRIFTED, "changed in Grafana since dashgen last pushed it" + (
                "" if hash_tag_of(ld) else f" (no {HASH_TAG_PREFIX} tag)"))
        else:
            it.action = UPDATE
            if live_folder != b.folder_uid:
                it.reason = f"moves from folder {live_folder or 'General'!r}"
        return it

    def _compare_orphan(self, uid: str, hit: dict, options: Options) -> Item:
        it = Item("dashboard", uid, hit.get("title", uid), ORPHAN, folder_uid=hit.get("folderUid") or "",
                  reason="no longer built; `--prune` deletes it")
        if not options.prune:
            return it
        got = self.bodies.get(uid)
        if got is None:
            it.action, it.reason = UNCHANGED, "already gone"
            return it
        ld, meta = self._live_item(it, got)
        it.reason = "no longer built"
        if meta.get("provisioned"):
            it.action, it.reason = CONFLICT, "provisioned from files: cannot be deleted through the API"
        elif self.build.owner_tag not in (ld.get("tags") or []):
            it.action, it.reason = UNCHANGED, "no longer owned (owner tag removed): left alone"
        elif hash_tag_of(ld) != dashboard_hash(ld, meta.get("folderUid") or ""):
            it.refuse_unless(options.force, DRIFTED, "no longer built, but changed in Grafana since dashgen "
                             "last pushed it", write=PRUNE)
        else:
            it.action = PRUNE
        return it

    # ---------------------------------------------------------------- writes
    def write(self, it: Item, ctx: WriteContext) -> None:
        dash = dict(it.desired)
        expected = it.live_version if it.action == UPDATE else None
        if expected is not None:
            dash["version"] = expected
        body = {"dashboard": dash, "folderUid": it.folder_uid, "message": ctx.message, "overwrite": bool(it.forced)}

        def reconcile() -> Any:
            got = self.get(it.key)
            if got is None:
                return None  # not created yet: retry
            ld, meta = got.get("dashboard") or {}, got.get("meta") or {}
            if dashboard_hash(ld, meta.get("folderUid") or "") == it.desired_hash:
                return {"version": meta.get("version"), "status": "success", "reconciled": True}
            if expected is not None and meta.get("version") == expected:
                return None  # our write did not land: retry
            if it.forced:
                return None
            raise Conflict(_changed_detail(meta))

        try:
            res = self.client.call("POST", "/api/dashboards/db", body=body, reconcile=reconcile)
        except GrafanaError as exc:
            if exc.status == 412:
                got = None
                try:
                    got = self.get(it.key)
                except GrafanaError:
                    pass
                raise Conflict(_changed_detail((got or {}).get("meta") or {})) from None
            raise
        it.outcome = "created" if it.action == CREATE else "updated"
        version = (res or {}).get("version")
        note = f"version {version}" if version else ""
        it.detail = "; ".join(x for x in (it.detail, note) if x)

    def delete(self, it: Item, ctx: WriteContext) -> None:
        def reconcile() -> Any:
            return {"gone": True} if self.get(it.key) is None else None

        try:
            self.client.call("DELETE", f"/api/dashboards/uid/{it.key}", reconcile=reconcile)
        except GrafanaError as exc:
            if exc.status != 404:
                raise
        it.outcome = "deleted"


def _changed_detail(meta: dict) -> str:
    if not meta:
        return "changed by someone else between dashgen's read and its write (HTTP 412); run `dashgen plan` again"
    return (f"changed by someone else between dashgen's read and its write (HTTP 412): now version "
            f"{meta.get('version')} by {meta.get('updatedBy') or '?'} at {meta.get('updated') or '?'}; "
            "nothing was overwritten, run `dashgen plan` again")
