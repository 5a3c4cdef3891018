"""Grafana-managed alert rule groups, through the alerting provisioning API.

A group is written whole (``PUT /api/v1/provisioning/folder/<folder>/rule-groups/<group>``
replaces the group: rules missing from the body are deleted), and a rule dashgen no longer
builds is deleted on its own (``DELETE /api/v1/provisioning/alert-rules/<uid>``) with ``--prune``.

Ownership marker: an annotation ``dashgen_hash`` on each rule, :func:`short_hash` of the rule's
canonical form (server-added fields and the query defaults Grafana adds on write --
``intervalMs: 1000``, ``maxDataPoints: 43200`` -- are ignored, as are empty/false values).
A rule without it is not dashgen's; a rule whose hash no longer matches was edited in Grafana.
"""

from __future__ import annotations

import copy
from typing import Any, Iterator
from urllib.parse import quote

from ..errors import InputError
from .client import GrafanaError
from .handler import Handler, Read, WriteContext, short_hash
from .instance import RECORDING_TOGGLE, TEMPO_ALERTING_SINCE, TEMPO_TOGGLE
from .plan import CONFLICT, CREATE, DRIFTED, ORPHAN, PRUNE, UNCHANGED, UPDATE, DesiredGroup, Item, Options

RULE_HASH_ANNOTATION = "dashgen_hash"
RULE_SERVER_KEYS = {"id", "updated", "provenance", "orgID", "folderUID", "ruleGroup"}
MODEL_DEFAULTS = {"intervalMs": 1000, "maxDataPoints": 43200}
# Grafana ignores and clears these on a recording rule (Grafana's alerting, pkg/services/ngalert)
RECORDING_IGNORED = {"condition", "noDataState", "execErrState", "for", "notification_settings"}
RECORDING_REFUSED = "recording rules cannot be created on this instance"  # Grafana's 400 (pkg/services/ngalert/api/api_provisioning.go)


def _is_recording(rule: dict) -> bool:
    return rule.get("record") is not None


def _recording_only(rules: list[dict]) -> bool:
    """A group of recording rules and nothing else: what an instance without them loses whole."""
    return bool(rules) and all(_is_recording(r) for r in rules)


def canonical_rule(rule: dict) -> dict:
    out: dict[str, Any] = {}
    ignored = RULE_SERVER_KEYS | (RECORDING_IGNORED if _is_recording(rule) else set())
    for k, v in rule.items():
        if k in ignored:
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
    return short_hash(canonical_rule(rule))


def owns(rule: dict) -> bool:
    return RULE_HASH_ANNOTATION in (rule.get("annotations") or {})


def edited(rule: dict) -> bool:
    """An owned rule changed in Grafana since dashgen pushed it."""
    return rule["annotations"][RULE_HASH_ANNOTATION] != rule_hash(rule)


def group_equal(desired_body: dict, live_group: dict) -> bool:
    if int(desired_body.get("interval") or 0) != int(live_group.get("interval") or 0):
        return False
    want = [canonical_rule(r) | {"_ann": (r.get("annotations") or {}).get(RULE_HASH_ANNOTATION)}
            for r in desired_body.get("rules") or []]
    have = [canonical_rule(r) | {"_ann": (r.get("annotations") or {}).get(RULE_HASH_ANNOTATION)}
            for r in live_group.get("rules") or []]
    key = lambda r: str(r.get("uid") or r.get("title"))  # noqa: E731
    return sorted(want, key=key) == sorted(have, key=key)


def _strip_server(rule: dict) -> dict:
    """A live rule as it can be sent back in a group PUT (server-only fields removed)."""
    return {k: v for k, v in rule.items() if k not in ("id", "updated", "provenance")}


def _titles(rules: list[dict]) -> str:
    return ", ".join(repr(r.get("title")) for r in rules[:5])


class RuleGroups(Handler):
    kinds = ("rule-group", "rule")
    option_name = "rule-groups"  # what --only calls it

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.wanted: list[tuple[DesiredGroup, dict]] = []  # (built, PUT body)
        self.live: dict[str, dict | None] = {}  # "<folder>/<group>" -> GET body
        self.all_rules: list[dict] = []  # every rule of the organisation (only to find what is no longer built)
        self.left_out: set[str] = set()  # uids of built rules this instance cannot take (never pruned)
        self.require_recording = False  # --recording-rules require, or the catalog's grafana_recording_rules: true

    @staticmethod
    def _path(folder: str, group: str) -> str:
        return f"/api/v1/provisioning/folder/{folder}/rule-groups/{quote(group, safe='')}"

    def get(self, folder: str, group: str) -> dict | None:
        return self.client.call("GET", self._path(folder, group), allow_404=True)

    # ---------------------------------------------------------------- desired
    def _admit(self, options: Options) -> list[DesiredGroup]:
        """The built groups, without the rules this instance cannot take. A rule left out on the
        instance's account is a one-line notice; one the user explicitly asked for (the catalog's
        ``alerting.tempo_rules``, ``--recording-rules require``) stops the push before any write."""
        inst, ds = self.instance, self.build.datasources
        tempo = {d["uid"]: d["name"] for d in ds.values() if d.get("type") == "tempo"}
        uses_tempo = [r for g in self.build.groups for r in g.body["rules"]
                      if any(q.get("datasourceUid") in tempo for q in r.get("data") or [])]
        if uses_tempo and not all(inst.tempo_alerting(tempo[q["datasourceUid"]]) for r in uses_tempo
                                  for q in r["data"] if q.get("datasourceUid") in tempo):
            raise InputError(
                f"the build has {len(uses_tempo)} alert rule(s) on Tempo (the catalog's alerting.tempo_rules), "
                f"but {inst.describe()} cannot evaluate them: Tempo alerting needs Grafana "
                f"{'.'.join(map(str, TEMPO_ALERTING_SINCE))} or later with the {TEMPO_TOGGLE} feature toggle on; "
                "nothing was written")
        recording = [r for g in self.build.groups for r in g.body["rules"] if _is_recording(r)]
        self.require_recording = "require" in (options.recording_rules, self.build.recording_rules)
        if not recording or inst.recording_rules:
            return list(self.build.groups)
        if self.require_recording:
            by_flag = options.recording_rules == "require"
            asked, or_else = (("--recording-rules require", "drop --recording-rules require") if by_flag else
                              ("the catalog's alerting.grafana_recording_rules: true",
                               "set it to auto (pushed where the toggle is on, left out elsewhere)"))
            raise InputError(
                f"{asked}: {inst.describe()} has the {RECORDING_TOGGLE} feature toggle off, so it refuses the "
                f"build's {len(recording)} Grafana-managed recording rule(s); turn the toggle on or {or_else}; "
                "nothing was written")
        self.left_out = {r.get("uid") for r in recording}
        groups = sorted({g.name for g in self.build.groups if any(_is_recording(r) for r in g.body["rules"])})
        self.notices.append(
            f"{len(recording)} Grafana-managed recording rule(s) left out ({', '.join(groups)}): {inst.describe()} "
            f"has the {RECORDING_TOGGLE} feature toggle off; the Prometheus rule files (alerts/prometheus/) carry them")
        admitted = []
        for g in self.build.groups:
            rules = [r for r in g.body["rules"] if not _is_recording(r)]
            if rules:
                admitted.append(g if len(rules) == len(g.body["rules"]) else
                                DesiredGroup(g.folder_uid, g.name, dict(g.body, rules=rules), g.path))
        return admitted

    def prepare(self, options: Options) -> None:
        mapping, _ = self.instance.datasource_uids(self.build.datasources)
        for g in self._admit(options):
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
            self.wanted.append((g, body))

    # ---------------------------------------------------------------- reads
    def _group_reads(self, groups: list[DesiredGroup]) -> list[Read]:
        return [Read(lambda g=g: self.get(g.folder_uid, g.name),
                     lambda res, g=g: self.live.__setitem__(f"{g.folder_uid}/{g.name}", res))
                for g in groups]

    def reads(self, options: Options) -> Iterator[list[Read]]:
        # a group of recording rules only is read once the preflight has shown the instance takes
        # them: where it does not, it is left out (see _admit) and reading it would be a wasted request
        recording_only = [g for g in self.build.groups if _recording_only(g.body["rules"])]
        later = {id(g) for g in recording_only}
        reads = self._group_reads([g for g in self.build.groups if id(g) not in later])
        if options.inventory:
            # GET /api/v1/provisioning/alert-rules lists every rule of the organisation, whichever
            # folder it is in (a per-folder export misses folders the build no longer has); no
            # rules is 200 [], so any error here is an error, never "nothing to prune"
            reads.append(Read(lambda: self.client.call("GET", "/api/v1/provisioning/alert-rules"),
                              lambda res: self.all_rules.extend(r for r in res or [] if isinstance(r, dict))))
        yield reads
        if recording_only and self.instance.recording_rules:
            yield self._group_reads(recording_only)

    # ---------------------------------------------------------------- compare (pure)
    def compare(self, options: Options) -> list[Item]:
        items = [self._compare_group(g, body, options) for g, body in self.wanted]
        if options.inventory:
            items += self._compare_leftover_groups(options)
        return items

    def _compare_group(self, g: DesiredGroup, body: dict, options: Options) -> Item:
        key = f"{g.folder_uid}/{g.name}"
        it = Item("rule-group", key, g.name, UNCHANGED, folder_uid=g.folder_uid, requires=("folder", g.folder_uid),
                  desired=body)
        lg = self.live.get(key)
        if lg is None:
            it.action = CREATE
            return it
        it.live = lg
        lrules = list(lg.get("rules") or [])
        provenance = "" if options.disable_provenance else "api"
        wrong_prov = [r for r in lrules if (r.get("provenance") or "") != provenance]
        foreign = [r for r in lrules if not owns(r)]
        drifted = [r for r in lrules if owns(r) and edited(r)]
        if wrong_prov:
            was = wrong_prov[0].get("provenance") or "none"
            it.action = CONFLICT
            it.reason = (f"live rules have provenance {was!r}, this push uses {provenance or 'none'!r} "
                         f"({'drop' if options.disable_provenance else 'add'} --disable-provenance, "
                         "or delete the group in Grafana first)")
            return it
        if foreign:
            it.refuse_unless(options.force, CONFLICT,
                             "holds rules dashgen does not own, which a group PUT would delete: " + _titles(foreign))
            return it
        if drifted:
            it.refuse_unless(options.force, DRIFTED,
                             "rules changed in Grafana since dashgen last pushed them: " + _titles(drifted))
            return it
        desired_uids = {r.get("uid") for r in body["rules"]}
        leftovers = [r for r in lrules if r.get("uid") not in desired_uids]
        if leftovers and not options.prune:
            # keep rules dashgen no longer builds: a group PUT would otherwise delete them
            body = copy.deepcopy(body)
            body["rules"] += [_strip_server(r) for r in leftovers]
            it.desired = body
            it.reason = f"keeps {len(leftovers)} rule(s) no longer built (`--prune` deletes them)"
        elif leftovers:
            it.reason = f"prunes {len(leftovers)} rule(s) no longer built: " + _titles(leftovers)
        it.action = UNCHANGED if group_equal(body, lg) else UPDATE
        return it

    def _compare_leftover_groups(self, options: Options) -> list[Item]:
        """Owned rules in groups the build no longer makes: listed, and with --prune deleted one by one."""
        built_groups = {f"{g.folder_uid}/{g.name}" for g, _ in self.wanted}
        built_rules = {r.get("uid") for _, body in self.wanted for r in body["rules"] if r.get("uid")}
        items = []
        for r in sorted(self.all_rules, key=lambda r: (r.get("folderUID") or "", r.get("ruleGroup") or "",
                                                       r.get("uid") or "")):
            folder, group = r.get("folderUID") or "", r.get("ruleGroup") or ""
            if (f"{folder}/{group}" in built_groups or not owns(r) or r.get("uid") in built_rules
                    or r.get("uid") in self.left_out):
                continue
            it = Item("rule", r["uid"], r.get("title", r["uid"]), PRUNE if options.prune else ORPHAN,
                      folder_uid=folder, reason=f"rule group {group!r} is no longer built", live=r)
            if not options.prune:
                it.reason += "; `--prune` deletes it"
            elif edited(r):
                it.refuse_unless(options.force, DRIFTED,
                                 it.reason + "; changed in Grafana since dashgen last pushed it", write=PRUNE)
            items.append(it)
        return items

    # ---------------------------------------------------------------- writes
    def write(self, it: Item, ctx: WriteContext) -> None:
        folder, _, group = it.key.partition("/")

        def reconcile() -> Any:
            live = self.get(folder, group)
            return live if live and group_equal(it.desired, live) else None

        try:
            self.client.call("PUT", self._path(folder, group), body=it.desired, headers=ctx.provenance_headers,
                             reconcile=reconcile)
        except GrafanaError as exc:
            # the toggle said yes, the instance still says no (newer Grafana
            # also reads grafana.ini's [recording_rules] enabled): as if the toggle were off
            if not (exc.status == 400 and RECORDING_REFUSED in exc.message and not self.require_recording
                    and _recording_only(it.desired.get("rules") or [])):
                raise
            it.outcome = "left out"
            it.detail = (f"Grafana refused its recording rules although {RECORDING_TOGGLE} is on (is [recording_rules] "
                         "enabled in grafana.ini?); the Prometheus rule files (alerts/prometheus/) carry them")
            return
        it.outcome = "created" if it.action == CREATE else "updated"

    def delete(self, it: Item, ctx: WriteContext) -> None:
        if it.kind != "rule":
            super().delete(it, ctx)
        self.client.call("DELETE", f"/api/v1/provisioning/alert-rules/{it.key}", ok=(200, 204),
                         headers=ctx.provenance_headers)
        it.outcome = "deleted"
