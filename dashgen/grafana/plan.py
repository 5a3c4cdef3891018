"""Diff a build output against a live Grafana: what ``dashgen push`` would do.

Three steps, so that the decision logic is pure and testable:

1. :func:`load_build` reads a build output directory (via ``artifacts``: ``dashboards/manifest.yaml``,
   ``dashboards/<folder>/<uid>.json``, ``alerts/grafana/<folder>/<group>.json``).
2. :func:`preflight` (health, datasources by name) and :func:`render` produce the *desired*
   objects: datasource variables default to the resolved datasources, alert queries point at the
   resolved uids, and every object carries dashgen's ownership marker.
3. :func:`read_live` reads what is live (bounded worker pool) and :func:`diff` compares.

Ownership marker and drift detection
------------------------------------
Dashboards: the owner tag (``dashgen``) plus a tag ``dashgen-hash:<12 hex>``: the first 12 hex
digits of the SHA-256 of the canonical JSON of ``{"dashboard": <dashboard without id, version
and the hash tag>, "folderUid": <folder>}``. Tags are plain strings in Grafana's dashboard
schema, so the dashboard stays schema-valid, the marker survives export/import, and it is
visible in ``/api/search`` results. A live dashboard whose recomputed hash differs from its tag
was changed by someone since dashgen last pushed it: *drifted*.

Alert rules: an annotation ``dashgen_hash`` on each rule, computed the same way over the rule's
canonical form (server-added fields and the query defaults Grafana adds on write --
``intervalMs: 1000``, ``maxDataPoints: 43200`` -- are ignored, as are empty/false values).
"""

from __future__ import annotations

import copy
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from .. import artifacts
from ..errors import DashgenError, InputError
from .client import GrafanaClient, GrafanaError

HASH_TAG_PREFIX = "dashgen-hash:"
RULE_HASH_ANNOTATION = "dashgen_hash"
RULE_SERVER_KEYS = {"id", "updated", "provenance", "orgID", "folderUID", "ruleGroup"}
MODEL_DEFAULTS = {"intervalMs": 1000, "maxDataPoints": 43200}

# Actions, as shown by `dashgen plan`.
CREATE, UPDATE, UNCHANGED, DRIFTED, CONFLICT, PRUNE, ORPHAN = (
    "create", "update", "unchanged", "drifted", "conflict", "prune", "orphan")
BLOCKING = (DRIFTED, CONFLICT)
WRITES = (CREATE, UPDATE, PRUNE)


# ---------------------------------------------------------------------------- hashing
def _short_hash(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def hash_tag_of(dashboard: dict) -> str | None:
    for t in dashboard.get("tags") or []:
        if isinstance(t, str) and t.startswith(HASH_TAG_PREFIX):
            return t[len(HASH_TAG_PREFIX):]
    return None


def dashboard_hash(dashboard: dict, folder_uid: str | None) -> str:
    canon = {k: v for k, v in dashboard.items() if k not in ("id", "version")}
    canon["tags"] = [t for t in dashboard.get("tags") or [] if not (isinstance(t, str) and t.startswith(HASH_TAG_PREFIX))]
    return _short_hash({"dashboard": canon, "folderUid": folder_uid or ""})


def canonical_rule(rule: dict) -> dict:
    out: dict[str, Any] = {}
    for k, v in rule.items():
        if k in RULE_SERVER_KEYS:
            continue
        if k == "annotations":
            v = {a: b for a, b in (v or {}).items() if a != RULE_HASH_ANNOTATION}
        if k == "data":
            v = [dict(q, model={m: x for m, x in (q.get("model") or {}).items()
                                if not (m in MODEL_DEFAULTS and x == MODEL_DEFAULTS[m])})
                 for q in v or []]
        if v in (None, False, "", [], {}):
            continue
        out[k] = v
    return out


def rule_hash(rule: dict) -> str:
    return _short_hash(canonical_rule(rule))


# ---------------------------------------------------------------------------- build output
@dataclass
class BuiltDashboard:
    uid: str
    folder_uid: str
    data: dict
    path: str


@dataclass
class BuiltGroup:
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
    dashboards: list[BuiltDashboard]
    groups: list[BuiltGroup]


def _read_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InputError(f"{path}: cannot read JSON ({exc.__class__.__name__}: {str(exc)[:120]})") from None


def load_build(root: str | Path) -> Build:
    root = Path(root)
    files = artifacts.read_output(root)
    manifest_path = root / artifacts.MANIFEST
    if artifacts.MANIFEST not in files:
        raise InputError(f"{manifest_path}: not found; --from must point at a `dashgen build --out DIR` directory")
    try:
        manifest = yaml.safe_load(files[artifacts.MANIFEST]) or {}
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
    dashboards: list[BuiltDashboard] = []
    for rel, text in artifacts.of_kind(files, artifacts.DASHBOARD):
        path, folder = root / rel, artifacts.folder_of(rel)
        data = _read_json(path, text)
        if not isinstance(data, dict) or not data.get("uid"):
            raise InputError(f"{path}: not a dashboard (no uid)")
        if folder not in folder_uids:
            raise InputError(f"{path}: folder {folder!r} is not declared in {manifest_path}")
        dashboards.append(BuiltDashboard(data["uid"], folder, data, str(path)))
    groups: list[BuiltGroup] = []
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
        groups.append(BuiltGroup(folder, name, body, str(path)))
    uids = [d.uid for d in dashboards]
    dup = {u for u in uids if uids.count(u) > 1}
    if dup:
        raise InputError(f"{root}: dashboard uid(s) used twice: {', '.join(sorted(dup))}")
    return Build(str(root), folders, datasources, owner_tag, dashboards, groups)


# ---------------------------------------------------------------------------- preflight + render
def check_health(client: GrafanaClient) -> None:
    try:
        health = client.health()
    except GrafanaError as exc:
        raise DashgenError(f"Grafana at {client.base_url} is not reachable or not healthy: {exc.message}") from None
    if isinstance(health, dict) and health.get("database") not in (None, "ok"):
        raise DashgenError(f"Grafana at {client.base_url} reports database {health.get('database')!r}")


def preflight(client: GrafanaClient, build: Build) -> dict[str, dict]:
    """Health check, then resolve each manifest datasource by name. Returns {key: live datasource}."""
    check_health(client)
    return {key: _resolve_ds(client, ds) for key, ds in build.datasources.items()}


def _resolve_ds(client: GrafanaClient, ds: dict) -> dict:
    try:
        live = client.datasource_by_name(ds["name"])
    except GrafanaError as exc:
        if exc.status in (401, 403):
            raise DashgenError(f"Grafana rejected the credentials: {exc.message.split(': ', 1)[-1]} "
                               "(check GRAFANA_TOKEN/--token-file, GRAFANA_USER/GRAFANA_PASSWORD and --org-id)") from None
        raise
    if live is None:
        raise DashgenError(f"datasource {ds['name']!r} (type {ds['type']}) not found in Grafana at {client.base_url}; "
                           "create it, or change its name in the catalog")
    if live.get("type") != ds["type"]:
        raise DashgenError(f"datasource {ds['name']!r} has type {live.get('type')!r}, expected {ds['type']!r}")
    return {"uid": live["uid"], "name": live["name"], "type": live["type"]}


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


@dataclass
class Desired:
    dashboards: list[tuple[BuiltDashboard, dict, str]]  # (built, rendered dashboard, hash)
    groups: list[tuple[BuiltGroup, dict]]  # (built, rendered PUT body)


def render(build: Build, resolved: dict[str, dict]) -> Desired:
    mapping = {build.datasources[k]["uid"]: r["uid"] for k, r in resolved.items()}
    types = {build.datasources[k]["uid"]: build.datasources[k]["type"] for k in resolved}
    by_var = {(build.datasources[k].get("variable") or k): r for k, r in resolved.items()}
    dashboards = []
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
        dashboards.append((b, d, h))
    groups = []
    for g in build.groups:
        body = copy.deepcopy(g.body)
        body["title"], body["folderUid"] = g.name, g.folder_uid
        for rule in body["rules"]:
            for q in rule.get("data") or []:
                if q.get("datasourceUid") in mapping:
                    q["datasourceUid"] = mapping[q["datasourceUid"]]
            rule["folderUID"], rule["ruleGroup"] = g.folder_uid, g.name
            ann = {k: v for k, v in (rule.get("annotations") or {}).items() if k != RULE_HASH_ANNOTATION}
            rule["annotations"] = ann
            rule["annotations"] = {**ann, RULE_HASH_ANNOTATION: rule_hash(rule)}
        groups.append((g, body))
    return Desired(dashboards, groups)


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
    desired: Any = field(default=None, repr=False)
    desired_hash: str = ""
    live: Any = field(default=None, repr=False)
    outcome: str = ""  # set by apply: created, updated, deleted, unchanged, failed, conflict, skipped...
    detail: str = ""

    @property
    def name(self) -> str:
        return self.key

    def public(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k not in ("desired", "live")}
        return {k: v for k, v in d.items() if v not in (None, "", False)}


@dataclass
class Plan:
    items: list[Item]
    datasources: dict[str, dict]
    grafana_url: str = ""

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


# ---------------------------------------------------------------------------- live state
@dataclass
class Live:
    owned_hits: dict[str, dict]  # uid -> search hit (tag = owner tag)
    other_hits: dict[str, dict]  # uid -> search hit at a built uid without the owner tag
    dashboards: dict[str, dict | None]  # uid -> GET body, for every dashboard we need to know
    folders: dict[str, dict | None]
    groups: dict[str, dict | None]  # "<folder>/<group>" -> GET body
    exports: dict[str, dict | None]  # folder uid -> export (only with --prune)


def _pmap(fn: Callable, args: list, concurrency: int) -> list:
    if not args:
        return []
    if concurrency <= 1 or len(args) == 1:
        return [fn(a) for a in args]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(fn, args))


def _pmap_settled(fn: Callable, args: list, concurrency: int) -> list:
    """Like _pmap, but returns exceptions in place of results."""
    def safe(a: Any) -> Any:
        try:
            return fn(a)
        except Exception as exc:  # noqa: BLE001 - re-raised by the caller
            return exc
    return _pmap(safe, args, concurrency)


def _first_reads(client: GrafanaClient, build: Build, prune: bool,
                 quick: bool = False) -> list[tuple[str, Any, Callable[[], Any]]]:
    """Reads that depend only on the build, run alongside the preflight.

    Rule groups, and how to learn which built dashboards exist:

    - the default: one probe, a GET of the first built dashboard. If it exists, dashgen most
      likely pushed here before and :func:`read_live` GETs every other built uid (their content is
      needed anyway: search results carry no version, so only the content shows an edit made in
      Grafana); a no-op push then costs health + datasources + N dashboard GETs + the rule groups,
      with no search. If the probe is absent (a first push), one search by uid tells which of the
      others exist, so a first push does not pay N GETs of dashboards that are not there;
    - with ``prune``: every owned dashboard (tag search) and the rules of each folder (export);
    - with ``quick``: a search by uid, whose hash tags are trusted.
    """
    uids = [d.uid for d in build.dashboards]
    jobs: list[tuple[str, Any, Callable[[], Any]]]
    if prune or quick or not uids:
        jobs = _search_jobs(client, uids)
    else:
        jobs = [("p", uids[0], lambda: client.get_dashboard(uids[0]))]
    for g in build.groups:
        jobs.append(("g", f"{g.folder_uid}/{g.name}", lambda g=g: client.get_rule_group(g.folder_uid, g.name)))
    if prune:
        jobs.append(("s", None, lambda: client.search(type="dash-db", tag=build.owner_tag, limit=5000)))
        for f in build.folders:
            jobs.append(("e", f["uid"], lambda f=f: client.export_rules(f["uid"])))
    return jobs


def _search_jobs(client: GrafanaClient, uids: list[str]) -> list[tuple[str, Any, Callable[[], Any]]]:
    return [("u", i, lambda c=uids[i:i + 200]: client.search(type="dash-db", dashboardUIDs=c, limit=5000))
            for i in range(0, len(uids), 200)]


def _hit_of(body: dict) -> dict:
    """What a search hit says about a dashboard, from its GET body."""
    d, meta = body.get("dashboard") or {}, body.get("meta") or {}
    return {"uid": d.get("uid"), "title": d.get("title"), "tags": list(d.get("tags") or []),
            "folderUid": meta.get("folderUid") or "", "folderTitle": meta.get("folderTitle")}


def read_live(client: GrafanaClient, build: Build, desired: Desired, *, prune: bool, concurrency: int = 8,
              quick: bool = False, first: dict[tuple[str, Any], Any] | None = None) -> Live:
    if first is None:
        jobs = _first_reads(client, build, prune, quick)
        first = dict(zip([(k, a) for k, a, _ in jobs], _pmap(lambda j: j[2](), jobs, concurrency)))
    first = dict(first)
    groups = {a: v for (k, a), v in first.items() if k == "g"}
    exports = {a: v for (k, a), v in first.items() if k == "e"}
    live = Live({}, {}, {}, {}, groups, exports)
    probe = next(((a, v) for (k, a), v in first.items() if k == "p"), None)
    if probe is not None and probe[1] is not None:
        # dashgen has pushed here: read every built dashboard by uid (no search needed)
        live.dashboards[probe[0]] = probe[1]
        rest = [d.uid for d in build.dashboards if d.uid != probe[0]]
        _read_all(client, build, live, rest, {_hit_of(probe[1])["folderUid"]}, concurrency)
        for uid, body in live.dashboards.items():
            if body is not None:  # None: absent, so diff plans a create
                hit = _hit_of(body)
                (live.owned_hits if build.owner_tag in hit["tags"] else live.other_hits)[uid] = hit
        return live
    if probe is not None:  # the first built dashboard is absent: most likely a first push, so the
        # folders are read alongside the search (one round trip fewer before the writes start)
        jobs = _search_jobs(client, [d.uid for d in build.dashboards])
        jobs += [("f", f["uid"], lambda f=f: client.get_folder(f["uid"])) for f in build.folders]
        for (kind, arg, _), res in zip(jobs, _pmap(lambda j: j[2](), jobs, concurrency)):
            if kind == "f":
                live.folders[arg] = res
            else:
                first[(kind, arg)] = res
    for (kind, _), hits in first.items():
        if kind in ("u", "s"):
            for h in hits or []:
                (live.owned_hits if build.owner_tag in (h.get("tags") or []) else live.other_hits)[h["uid"]] = h
    desired_hash = {b.uid: (b.folder_uid, h) for b, _, h in desired.dashboards}
    to_get: list[str] = list(live.other_hits)  # foreign dashboards at built uids: read them for the report
    for uid, hit in live.owned_hits.items():
        if uid not in desired_hash:
            if prune:
                to_get.append(uid)
            continue
        if quick and (hit.get("folderUid") or "", hash_tag_of(hit)) == desired_hash[uid]:
            continue  # --quick: trust the hash tag shown by search
        to_get.append(uid)
    known = {h.get("folderUid") for h in [*live.owned_hits.values(), *live.other_hits.values()]}
    _read_all(client, build, live, to_get, known, concurrency)
    return live


def _read_all(client: GrafanaClient, build: Build, live: Live, dashboards: list[str], known_folders: set,
              concurrency: int) -> None:
    """GET ``dashboards`` and every built folder neither read yet nor in ``known_folders``, in one
    worker pool. A folder that holds a dashboard already seen exists, so it is not read (nor is its
    title compared: dashgen creates folders but leaves a live title as it is)."""
    reads = [f["uid"] for f in build.folders if f["uid"] not in known_folders and f["uid"] not in live.folders]
    jobs = [("d", u) for u in dashboards] + [("f", u) for u in reads]

    def run(job: tuple[str, str]) -> Any:
        kind, arg = job
        return client.get_dashboard(arg) if kind == "d" else client.get_folder(arg)

    for (kind, arg), res in zip(jobs, _pmap(run, jobs, concurrency)):
        (live.dashboards if kind == "d" else live.folders)[arg] = res
    for f in build.folders:
        if f["uid"] not in live.folders:
            live.folders[f["uid"]] = {"uid": f["uid"], "title": f["title"], "inferred": True}


# ---------------------------------------------------------------------------- diff (pure)
def _who(meta: dict) -> tuple[int | None, str, str]:
    return meta.get("version"), meta.get("updatedBy") or "", meta.get("updated") or ""


def _group_live_rules(live_group: dict | None) -> list[dict]:
    return list((live_group or {}).get("rules") or [])


def _strip_server(rule: dict) -> dict:
    """A live rule as it can be sent back in a group PUT (server-only fields removed)."""
    return {k: v for k, v in rule.items() if k not in ("id", "updated", "provenance")}


def diff(build: Build, desired: Desired, live: Live, *, prune: bool = False, force: bool = False,
         disable_provenance: bool = False, resolved: dict[str, dict] | None = None) -> Plan:
    items: list[Item] = []
    owner = build.owner_tag
    # folders
    for f in build.folders:
        lf = live.folders.get(f["uid"])
        if lf is None:
            items.append(Item("folder", f["uid"], f["title"], CREATE, desired={"uid": f["uid"], "title": f["title"]}))
        else:
            note = "" if lf.get("title") in (None, f["title"]) else f"live title is {lf.get('title')!r}; left as is"
            items.append(Item("folder", f["uid"], f["title"], UNCHANGED, reason=note))
    # dashboards
    for b, d, h in desired.dashboards:
        title = d.get("title", b.uid)
        it = Item("dashboard", b.uid, title, UNCHANGED, folder_uid=b.folder_uid, desired=d, desired_hash=h)
        items.append(it)
        hit = live.owned_hits.get(b.uid) or live.other_hits.get(b.uid)
        got = live.dashboards.get(b.uid)
        if hit is None and got is None:
            it.action = CREATE
            continue
        if got is None:  # --quick and the search hit's hash tag already matches
            it.reason = "hash tag matches (not re-read: --quick)"
            continue
        ld, meta = got.get("dashboard") or {}, got.get("meta") or {}
        it.live = got
        it.live_version, it.changed_by, it.changed_at = _who(meta)
        live_folder = meta.get("folderUid") or ""
        if meta.get("provisioned"):
            it.action, it.reason = CONFLICT, "provisioned from files in Grafana: cannot be saved through the API"
            continue
        if owner not in (ld.get("tags") or []):
            it.action = UPDATE if force else CONFLICT
            it.forced = force
            it.reason = (f"a dashboard dashgen does not own (no {owner!r} tag) already uses this uid "
                         f"(title {ld.get('title')!r}, folder {live_folder or 'General'!r})")
            continue
        live_hash = dashboard_hash(ld, live_folder)
        if live_hash == h:
            continue  # unchanged
        marker = hash_tag_of(ld)
        if marker != live_hash:
            it.action = UPDATE if force else DRIFTED
            it.forced = force
            it.reason = "changed in Grafana since dashgen last pushed it" + (
                "" if marker else f" (no {HASH_TAG_PREFIX} tag)")
            continue
        it.action = UPDATE
        if live_folder != b.folder_uid:
            it.reason = f"moves from folder {live_folder or 'General'!r}"
    built = {b.uid for b, _, _ in desired.dashboards}
    for uid, hit in sorted(live.owned_hits.items()):
        if uid in built:
            continue
        it = Item("dashboard", uid, hit.get("title", uid), ORPHAN, folder_uid=hit.get("folderUid") or "",
                  reason="no longer built; `--prune` deletes it")
        items.append(it)
        if not prune:
            continue
        got = live.dashboards.get(uid)
        if got is None:
            it.reason = "already gone"
            it.action = UNCHANGED
            continue
        ld, meta = got.get("dashboard") or {}, got.get("meta") or {}
        it.live = got
        it.live_version, it.changed_by, it.changed_at = _who(meta)
        it.reason = "no longer built"
        if meta.get("provisioned"):
            it.action, it.reason = CONFLICT, "provisioned from files: cannot be deleted through the API"
        elif owner not in (ld.get("tags") or []):
            it.action, it.reason = UNCHANGED, "no longer owned (owner tag removed): left alone"
        elif hash_tag_of(ld) != dashboard_hash(ld, meta.get("folderUid") or ""):
            it.action = PRUNE if force else DRIFTED
            it.forced = force
            it.reason = "no longer built, but changed in Grafana since dashgen last pushed it"
        else:
            it.action = PRUNE
    # rule groups
    provenance = "" if disable_provenance else "api"
    built_rule_uids: set[str] = set()
    for g, body in desired.groups:
        key = f"{g.folder_uid}/{g.name}"
        it = Item("rule-group", key, g.name, UNCHANGED, folder_uid=g.folder_uid, desired=body)
        items.append(it)
        built_rule_uids.update(r.get("uid") for r in body["rules"] if r.get("uid"))
        lg = live.groups.get(key)
        if lg is None:
            it.action = CREATE
            continue
        it.live = lg
        lrules = _group_live_rules(lg)
        foreign = [r for r in lrules if RULE_HASH_ANNOTATION not in (r.get("annotations") or {})]
        drifted = [r for r in lrules if r not in foreign
                   and r["annotations"][RULE_HASH_ANNOTATION] != rule_hash(r)]
        wrong_prov = [r for r in lrules if (r.get("provenance") or "") != provenance]
        if wrong_prov:
            was = wrong_prov[0].get("provenance") or "none"
            it.action = CONFLICT
            it.reason = (f"live rules have provenance {was!r}, this push uses {provenance or 'none'!r} "
                         f"({'drop' if disable_provenance else 'add'} --disable-provenance, or delete the group in Grafana first)")
            continue
        if foreign:
            it.action = UPDATE if force else CONFLICT
            it.forced = force
            it.reason = ("holds rules dashgen does not own, which a group PUT would delete: "
                         + ", ".join(repr(r.get("title")) for r in foreign[:5]))
            continue
        if drifted:
            it.action = UPDATE if force else DRIFTED
            it.forced = force
            it.reason = "rules changed in Grafana since dashgen last pushed them: " + ", ".join(
                repr(r.get("title")) for r in drifted[:5])
            continue
        desired_uids = {r.get("uid") for r in body["rules"]}
        leftovers = [r for r in lrules if r.get("uid") not in desired_uids]
        if leftovers and not prune:
            # keep rules dashgen no longer builds: a group PUT would otherwise delete them
            body = copy.deepcopy(body)
            body["rules"] += [_strip_server(r) for r in leftovers]
            it.desired = body
            it.reason = f"keeps {len(leftovers)} rule(s) no longer built (`--prune` deletes them)"
        elif leftovers:
            it.reason = f"prunes {len(leftovers)} rule(s) no longer built: " + ", ".join(
                repr(r.get("title")) for r in leftovers[:5])
        if group_equal(body, lg):
            it.action = UNCHANGED
        else:
            it.action = UPDATE
    if prune:
        built_groups = {f"{g.folder_uid}/{g.name}" for g, _ in desired.groups}
        for folder, export in sorted(live.exports.items()):
            for grp in (export or {}).get("groups") or []:
                key = f"{folder}/{grp.get('name')}"
                if key in built_groups:
                    continue
                for r in grp.get("rules") or []:
                    if RULE_HASH_ANNOTATION not in (r.get("annotations") or {}) or r.get("uid") in built_rule_uids:
                        continue
                    it = Item("rule", r["uid"], r.get("title", r["uid"]), PRUNE, folder_uid=folder,
                              reason=f"rule group {grp.get('name')!r} is no longer built", live=r)
                    if r["annotations"][RULE_HASH_ANNOTATION] != rule_hash(r):
                        it.action = PRUNE if force else DRIFTED
                        it.forced = force
                        it.reason += "; changed in Grafana since dashgen last pushed it"
                    items.append(it)
    return Plan(items, resolved or {})


def group_equal(desired_body: dict, live_group: dict) -> bool:
    if int(desired_body.get("interval") or 0) != int(live_group.get("interval") or 0):
        return False
    want = [canonical_rule(r) | {"_ann": (r.get("annotations") or {}).get(RULE_HASH_ANNOTATION)}
            for r in desired_body.get("rules") or []]
    have = [canonical_rule(r) | {"_ann": (r.get("annotations") or {}).get(RULE_HASH_ANNOTATION)}
            for r in _group_live_rules(live_group)]
    key = lambda r: str(r.get("uid") or r.get("title"))  # noqa: E731
    return sorted(want, key=key) == sorted(have, key=key)


def make_plan(client: GrafanaClient, build: Build, *, prune: bool = False, force: bool = False,
              disable_provenance: bool = False, concurrency: int = 8, quick: bool = False) -> tuple[Plan, Desired]:
    # preflight (health, datasources by name) and the reads that do not depend on it, in one
    # concurrent batch; nothing is written before all of it succeeded
    jobs: list[tuple[str, Any, Callable[[], Any]]] = [("health", None, lambda: check_health(client))]
    jobs += [("ds", key, lambda ds=ds: _resolve_ds(client, ds)) for key, ds in build.datasources.items()]
    jobs += _first_reads(client, build, prune, quick)
    results = _pmap_settled(lambda j: j[2](), jobs, concurrency)
    for want in ("health", "ds"):  # preflight problems first: they explain the rest
        for (kind, _, _), res in zip(jobs, results):
            if kind == want and isinstance(res, BaseException):
                raise res
    for res in results:
        if isinstance(res, BaseException):
            raise res
    resolved = {key: res for (kind, key, _), res in zip(jobs, results) if kind == "ds"}
    first = {(kind, key): res for (kind, key, _), res in zip(jobs, results) if kind not in ("ds", "health")}
    desired = render(build, resolved)
    live = read_live(client, build, desired, prune=prune, concurrency=concurrency, quick=quick, first=first)
    plan = diff(build, desired, live, prune=prune, force=force, disable_provenance=disable_provenance,
                resolved=resolved)
    plan.grafana_url = client.base_url
    return plan, desired
