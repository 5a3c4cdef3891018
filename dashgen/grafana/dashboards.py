"""Dashboards: desired state, reads, comparison, writes; through either API (``dashboard_api``).

Ownership marker and drift
--------------------------
The owner tag (``dashgen``) plus a tag ``dashgen-hash:<12 hex>``: :func:`short_hash` of
``{"dashboard": <dashboard without id, version and the hash tag>, "folderUid": <folder>}``. Tags
are plain strings in Grafana's dashboard schema, so the dashboard stays schema-valid, the marker
survives export/import, and it is visible in ``/api/search`` results. A live dashboard whose
recomputed hash differs from its tag was changed by someone since dashgen last pushed it: drift.

On the App Platform, dashgen also carries its ownership in the manager annotations
(``managedBy: dashgen``, ``managerId: <catalog>``, ``sourcePath``: the built file,
``sourceChecksum``: the hash). A dashboard another tool manages (Terraform, Git Sync, another
catalog) is never taken over, not even with ``--force``: Grafana 13 refuses a change of manager,
and a tool must not strip another's annotations to get through (Grafana's ``pkg/apimachinery/utils/meta.go``, the manager annotations).
The tags stay too, so a dashboard pushed through one API is recognised through the other and
switching a live instance from legacy to apps mode rewrites nothing that did not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterator

import os

from . import apps
from .dashboard_api import AppDashboards, LegacyDashboards, LiveDashboard, V2Dashboards
from .handler import Handler, Read, WriteContext, short_hash
from .instance import api_groups_of, discover
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


def _what_changed(desired: dict, live: LiveDashboard, limit: int = 3) -> str:
    """Live vs build in ``dashgen diff``'s words (as far as the classic view shows it): ``; build -> live: ...``."""
    if not live.dashboard:
        return ""
    from ..review.diff.dashboards import diff_dashboard  # the reviewer's wording; imported only for a drift report

    def plain(d: dict) -> dict:
        return {**{k: v for k, v in d.items() if k not in ("id", "version")},
                "tags": [t for t in d.get("tags") or [] if not (isinstance(t, str) and t.startswith(HASH_TAG_PREFIX))]}

    changes = diff_dashboard(plain(desired), plain(live.dashboard), "x/d.json", "x/d.json")
    if not changes:
        return ""
    more = f"; and {len(changes) - limit} more" if len(changes) > limit else ""
    return "; build -> live: " + "; ".join(c.text for c in changes[:limit]) + more


def _rewrite_uids(obj: Any, mapping: dict[str, str], types: dict[str, str]) -> Any:
    """A copy of ``obj`` (every dict and list new) with each datasource reference
    {"type": T, "uid": placeholder} pointing at the resolved uid."""
    if isinstance(obj, dict):
        out = {k: _rewrite_uids(v, mapping, types) for k, v in obj.items()}
        uid = out.get("uid")
        if isinstance(uid, str) and uid in mapping and out.get("type") == types.get(uid):
            out["uid"] = mapping[uid]
        return out
    if isinstance(obj, list):
        return [_rewrite_uids(v, mapping, types) for v in obj]
    return obj


@dataclass
class Wanted:
    """A built dashboard as it is pushed: datasources resolved, ownership tags added."""

    built: DesiredDashboard
    dashboard: dict
    hash: str


class Dashboards(Handler):
    kinds = ("dashboard",)
    option_name = "dashboards"  # what --only calls it

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.bodies: dict[str, LiveDashboard | None] = {}  # uid -> as read (None: absent)
        self._store: LegacyDashboards | None = None
        self.owned_hits: dict[str, dict] = {}  # uid -> search hit carrying the owner tag
        self.other_hits: dict[str, dict] = {}  # uid -> search hit at a built uid without it

    # ---------------------------------------------------------------- desired
    @property
    def manager(self) -> tuple[str, str]:
        """dashgen's identity on the App Platform: the kind names dashgen, the identity the catalog."""
        return apps.MANAGER_KIND, self.build.catalog or self.build.owner_tag

    @property
    def store(self) -> LegacyDashboards:
        """Where dashboards are read and written: chosen by the preflight, so first used after it
        (the first round's probe, which runs beside the preflight, reads through /api on its own)."""
        if self._store is None:
            apps_api = self.instance.apps
            if self.v2:
                self._store = V2Dashboards(self.client, apps_api, self.instance.v2_version)
            else:
                self._store = LegacyDashboards(self.client) if apps_api is None else AppDashboards(self.client, apps_api)
        return self._store

    @property
    def v2(self) -> bool:
        """The build's dashboards are dashboard.grafana.app/v2 objects, written as such."""
        return self.build.dashboard_format == "v2"

    def prepare(self, options: Options) -> None:
        self.wanted  # noqa: B018 - computed here, while a read round is in flight, unless a read needed it first

    @cached_property
    def wanted(self) -> list[Wanted]:
        """The built dashboards as pushed: computed once, on first use, after the preflight."""
        wanted = []
        build, resolved = self.build, self.instance.datasources
        mapping, types = self.instance.datasource_uids(build.datasources)
        by_var = {(build.datasources[k].get("variable") or k): r for k, r in resolved.items()}
        if self.v2:  # imported only for a v2 build: dashgen.dashboards loads grafanalib
            from ..dashboards.v2 import to_classic, to_v2
            v2_api = f"{apps.DASHBOARD_GROUP}/{self.instance.v2_version}"
        for b in build.dashboards:
            # a v2 object is worked on as the classic dashboard it stands for, written back as v2 (V2Dashboards)
            data = to_classic(b.data) if self.v2 else b.data
            d = _rewrite_uids(data, mapping, types)  # a fresh tree: the build is never mutated
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
            if self.v2:  # what reads back from the stored v2 object: the hash must be of that
                d = {**to_classic(to_v2(d, v2_api)), "uid": b.uid}
                d.pop("id", None)
            h = dashboard_hash(d, b.folder_uid)
            d["tags"] = tags + [HASH_TAG_PREFIX + h]
            wanted.append(Wanted(b, d, h))
        return wanted

    # ---------------------------------------------------------------- reads
    def _get_reads(self, uids: list[str]) -> list[Read]:
        return [Read(lambda u=u: self.store.get(u), lambda res, u=u: self._keep_body(u, res)) for u in uids]

    def _keep_body(self, uid: str, live: LiveDashboard | None) -> None:
        self.bodies[uid] = live
        if live is not None and live.dashboard:
            self.evidence.folders_seen.add(live.folder_uid)

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

        - the default: one probe, a GET of the first built dashboard, in the preflight's round. If
          it exists, dashgen most likely pushed here before, and every other built uid is read by
          uid (their content is needed anyway: search results carry no version, so only the
          content shows an edit made in Grafana); a no-op push then costs the preflight + N
          dashboard GETs + the rule groups, with no search. If the probe is absent (a first push),
          one search by uid tells which of the others exist, so a first push does not pay N GETs
          of dashboards that are not there;
        - with ``prune`` or for ``plan``: every owned dashboard too (a tag search);
        - with ``quick``: a search by uid, whose hash tags are trusted.

        The first round runs before the preflight has chosen the API, so it reads what every
        Grafana serves: the probe through ``/api/dashboards/uid`` (a 406 there is a v2-stored
        dashboard, not an absent one), and search (``/api/search``), which Grafana 13 still
        serves for every dashboard. On the App Platform a found probe is read once more through
        it, for its annotations and resourceVersion: one request, against a round trip saved on
        every first push.
        """
        uids = [d.uid for d in self.build.dashboards]
        if not (options.inventory or options.quick) and uids:
            probe = LegacyDashboards(self.client)
            yield [Read(lambda: probe.get(uids[0]), lambda res: self._keep_body(uids[0], res))]
            if self.bodies[uids[0]] is not None:
                yield self._get_reads(uids if isinstance(self.store, AppDashboards) else uids[1:])
                yield self._v2_rereads()
                for live in self.bodies.values():
                    if live is not None:  # None: absent, so compare plans a create
                        self._keep_hits([live.hit()])
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
        yield self._v2_rereads()

    def _v2_reader(self) -> AppDashboards | None:
        """The App Platform, to read what the legacy API cannot show (a v2-stored dashboard)."""
        if isinstance(self.store, AppDashboards):
            return self.store
        if not self.instance.api_groups:  # --api legacy skipped discovery; a 406 is rare enough to pay it now
            self.instance.api_groups = api_groups_of(discover(self.client))
        api = apps.choose_api("auto", self.instance.api_groups, self.instance.describe(), self.client.org_id)
        return AppDashboards(self.client, api) if api else None

    def _v2_rereads(self) -> list[Read]:
        """A dashboard a person re-saved as v2 answers the legacy GET with 406 (Grafana's
        pkg/api/dashboard.go): read its v1 view on the App Platform, for who changed it, when, and what."""
        unseen = [uid for uid, live in self.bodies.items() if live is not None and live.stored_version and not live.dashboard]
        reader = self._v2_reader() if unseen else None
        if reader is None:
            return []
        def keep(res: LiveDashboard | None, uid: str) -> None:
            if res is not None and not res.stored_version:  # the 406 already said it is stored as v2
                res.stored_version = self.bodies[uid].stored_version
            self._keep_body(uid, res)

        return [Read(lambda u=u: reader.get(u), lambda res, u=u: keep(res, u)) for u in unseen]

    def backup_copy(self, it: Item) -> Any:
        """A v2-stored dashboard is backed up as stored: read through the v2 API, not its v1 view."""
        live = self.bodies.get(it.key)
        reader = self._v2_reader() if live is not None and live.stored_version else None
        return reader.get_stored(it.key, live.stored_version) if reader else it.live

    # ---------------------------------------------------------------- compare (pure)
    def compare(self, options: Options) -> list[Item]:
        items = [self._compare_one(w, options) for w in self.wanted]
        built = {w.built.uid for w in self.wanted}
        items += [self._compare_orphan(uid, hit, options) for uid, hit in sorted(self.owned_hits.items())
                  if uid not in built]
        return items

    def _live_item(self, it: Item, live: LiveDashboard) -> None:
        it.live = live.raw
        it.live_version, it.changed_by, it.changed_at = live.version, live.changed_by, live.changed_at
        it.lock = live.lock

    def _not_ours(self, live: LiveDashboard) -> str:
        """Why dashgen must leave this live dashboard alone even with --force ("" if it need not)."""
        if live.provisioned:
            return "provisioned from files in Grafana: cannot be saved through the API"
        if live.manager is not None and live.manager != self.manager:
            return (f"managed by {apps.describe_manager(live.manager)} (grafana.app/managedBy, managerId); "
                    "dashgen does not take over another tool's dashboard, not even with --force")
        return ""

    def _compare_one(self, w: Wanted, options: Options) -> Item:
        b, owner = w.built, self.build.owner_tag
        it = Item("dashboard", b.uid, w.dashboard.get("title", b.uid), UNCHANGED, folder_uid=b.folder_uid,
                  requires=("folder", b.folder_uid), desired=w.dashboard, desired_hash=w.hash)
        hit = self.owned_hits.get(b.uid) or self.other_hits.get(b.uid)
        live = self.bodies.get(b.uid)
        if hit is None and live is None:
            it.action = CREATE
            return it
        if live is None:  # --quick and the search hit's hash tag already matches
            it.reason = "hash tag matches (not re-read: --quick)"
            return it
        self._live_item(it, live)
        ld = live.dashboard
        if self._not_ours(live):
            it.action, it.reason = CONFLICT, self._not_ours(live)
        elif live.stored_version and not self.v2:
            it.refuse_unless(options.force, DRIFTED, self._v2_reason(live) + _what_changed(w.dashboard, live))
        elif owner not in (ld.get("tags") or []) and live.manager != self.manager:
            it.refuse_unless(options.force, CONFLICT,
                             f"a dashboard dashgen does not own (no {owner!r} tag) already uses this uid "
                             f"(title {ld.get('title')!r}, folder {live.folder_uid or 'General'!r})")
        elif dashboard_hash(ld, live.folder_uid) == w.hash:
            pass  # unchanged
        elif hash_tag_of(ld) != dashboard_hash(ld, live.folder_uid):
            it.refuse_unless(options.force, DRIFTED, "changed in Grafana since dashgen last pushed it" + (
                "" if hash_tag_of(ld) else f" (no {HASH_TAG_PREFIX} tag)") + _what_changed(w.dashboard, live))
        else:
            it.action = UPDATE
            if live.folder_uid != b.folder_uid:
                it.reason = f"moves from folder {live.folder_uid or 'General'!r}"
        return it

    @staticmethod
    def _v2_reason(live: LiveDashboard) -> str:
        return (f"re-saved in Grafana's dynamic dashboards editor (now stored as {live.stored_version}) "
                "since dashgen last pushed it; a v1 write would drop what v1 cannot hold")

    def _compare_orphan(self, uid: str, hit: dict, options: Options) -> Item:
        it = Item("dashboard", uid, hit.get("title", uid), ORPHAN, folder_uid=hit.get("folderUid") or "",
                  reason="no longer built; `--prune` deletes it")
        if not options.prune:
            return it
        live = self.bodies.get(uid)
        if live is None:
            it.action, it.reason = UNCHANGED, "already gone"
            return it
        self._live_item(it, live)
        ld = live.dashboard
        it.reason = "no longer built"
        if self._not_ours(live):
            it.action, it.reason = CONFLICT, self._not_ours(live).replace("saved", "deleted")
        elif live.stored_version:
            it.refuse_unless(options.force, DRIFTED, "no longer built, but " + self._v2_reason(live), write=PRUNE)
        elif self.build.owner_tag not in (ld.get("tags") or []):
            it.action, it.reason = UNCHANGED, "no longer owned (owner tag removed): left alone"
        elif hash_tag_of(ld) != dashboard_hash(ld, live.folder_uid):
            it.refuse_unless(options.force, DRIFTED, "no longer built, but changed in Grafana since dashgen "
                             "last pushed it", write=PRUNE)
        else:
            it.action = PRUNE
        return it

    # ---------------------------------------------------------------- writes
    def write(self, it: Item, ctx: WriteContext) -> None:
        built = next(w.built for w in self.wanted if w.built.uid == it.key)
        kind, identity = self.manager
        source = {apps.MANAGED_BY: kind, apps.MANAGER_ID: identity, apps.SOURCE_CHECKSUM: it.desired_hash,
                  apps.SOURCE_PATH: os.path.relpath(built.path, self.build.root)}
        version = self.store.save(it.key, it.desired, it.folder_uid, lock=it.lock if it.action == UPDATE else "",
                                  overwrite=it.forced, message=ctx.message, source=source,
                                  landed=lambda live: dashboard_hash(live.dashboard, live.folder_uid) == it.desired_hash)
        it.outcome = "created" if it.action == CREATE else "updated"
        note = f"version {version}" if version else ""
        it.detail = "; ".join(x for x in (it.detail, note) if x)

    def delete(self, it: Item, ctx: WriteContext) -> None:
        self.store.delete(it.key)
        it.outcome = "deleted"
