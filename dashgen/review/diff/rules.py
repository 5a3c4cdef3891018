"""Alert rule sections, in both forms dashgen writes.

Grafana-managed rules by ``uid`` across every group file (``alerts/grafana/<folder>/<group>.json``
rule-group bodies and ``alerts/provisioning/<group>.yaml``); Prometheus rules by alert or record
name. The ``for``, severity, label and annotation wording is shared by both forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import yaml

from ...artifacts import GRAFANA_RULES, PROMETHEUS_RULES, PROVISIONING, folder_of, kind_of, parse
from .dashboards import panels_of
from .leaves import ARROW, MAX_VALUE_CHARS, MISSING, get_path, leaf_changes, num, short, was, with_unit, without
from .model import Change, Section


@dataclass
class _Rule:
    uid: str
    group: str  # "folder/group"
    path: str
    rule: dict


def _load(path: str, text: str, members: str) -> dict | None:
    """A rule file's document when it is a mapping whose ``members`` is a list; else None, and
    the file is left to the file section, which says what is wrong with it."""
    try:
        doc = parse(path, text)
    except (ValueError, yaml.YAMLError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get(members), list) else None


def _grafana_groups(path: str, text: str) -> list[tuple[str, Any, list]] | None:
    """``(group key "folder/group", interval, rules)`` of each group in a Grafana rule file: a
    rule-group body (JSON, what the API takes: one group) or a provisioning file (YAML: a list)."""
    if kind_of(path) == GRAFANA_RULES:
        body = _load(path, text, "rules")
        if body is None:
            return None
        folder = body.get("folderUid") or folder_of(path)
        return [(f"{folder}/{body.get('title') or PurePosixPath(path).stem}", body.get("interval"), body["rules"])]
    doc = _load(path, text, "groups")
    if doc is None:
        return None
    return [(f"{g.get('folder')}/{g.get('name')}", g.get("interval"), g.get("rules") or [])
            for g in doc["groups"] if isinstance(g, dict)]


def _grafana_rules(files: dict[str, str], covered: set[str]) -> tuple[dict[str, _Rule], dict[str, dict]]:
    """Rules by uid, and group-level settings by group key, from rule-group JSON and provisioning YAML.

    The JSON bodies are read first and win: they are what ``push`` sends, the provisioning
    files the same groups again. A group is known by its body even when it has no rules.
    """
    rules: dict[str, _Rule] = {}
    groups: dict[str, dict] = {}
    paths = sorted((p for p in files if kind_of(p) in (GRAFANA_RULES, PROVISIONING)),
                   key=lambda p: (kind_of(p) != GRAFANA_RULES, p))
    for path in paths:
        found = _grafana_groups(path, files[path])
        if found is None:
            continue
        covered.add(path)
        for key, interval, group_rules in found:
            if kind_of(path) == GRAFANA_RULES:
                groups.setdefault(key, {"interval": interval, "path": path})
            for r in group_rules:
                uid = str(r.get("uid") or r.get("title")) if isinstance(r, dict) else None
                if uid is not None and uid not in rules:
                    groups.setdefault(key, {"interval": interval, "path": path})
                    rules[uid] = _Rule(uid, key, path, r)
    return rules, groups


def _threshold_model(rule: dict) -> tuple[str | None, dict | None]:
    """(refId, model) of the rule's threshold expression (or classic condition)."""
    data = [d for d in rule.get("data") or [] if isinstance(d, dict)]
    cands = [d for d in data if get_path(d, "model.type") in ("threshold", "classic_conditions")]
    if not cands:
        return None, None
    cond = rule.get("condition")
    chosen = next((d for d in cands if d.get("refId") == cond), cands[-1])
    return chosen.get("refId"), chosen.get("model")


_EVALUATORS = {"gt": "above", "lt": "below", "gte": "at or above", "lte": "at or below", "eq": "equal to",
               "ne": "not equal to", "within_range": "within", "outside_range": "outside",
               "within_range_included": "within", "outside_range_included": "outside"}


def _evaluator(model: dict | None) -> tuple[str | None, list]:
    if not model:
        return None, []
    ev = get_path((model.get("conditions") or [{}])[0], "evaluator") or {}
    return ev.get("type"), list(ev.get("params") or [])


def _params(params: list, unit: str | None) -> str:
    """Evaluator parameters (one value, or a range for within/outside), the unit after the last."""
    if len(params) >= 2:
        return f"{num(params[0])}..{with_unit(params[1], unit)}"
    return with_unit(params[0], unit) if params else "(none)"


def _rule_unit(rule: dict, dashboards: dict[str, tuple]) -> str | None:
    """The unit of the panel the rule points at (``__dashboardUid__``/``__panelId__``), if any."""
    ann = rule.get("annotations") or {}
    d = dashboards.get(str(ann.get("__dashboardUid__")), (None, None))[1]
    if not d:
        return None
    for info in panels_of(d).values():
        if str(info.raw.get("id")) == str(ann.get("__panelId__")):
            return get_path(info.raw, "fieldConfig.defaults.unit")
    return None


def _rule_queries(rule: dict) -> dict[str, tuple[str, str]]:
    out = {}
    for d in rule.get("data") or []:
        if not isinstance(d, dict) or d.get("datasourceUid") == "__expr__":
            continue
        model = d.get("model") or {}
        if "expr" in model:
            out[str(d.get("refId"))] = (str(model["expr"]), "promql")
        elif "query" in model:
            out[str(d.get("refId"))] = (str(model["query"]), "traceql")
    return out


def annotation_changes(subject: str, ab: dict, aa: dict, skip: set[str] = frozenset()) -> list[Change]:
    """Short annotations inline (before -> after); long or multi-line ones as a before/after block."""
    out = []
    for k in sorted((set(ab) | set(aa)) - set(skip)):
        vb, va = ab.get(k), aa.get(k)
        if vb == va:
            continue
        if vb is None or va is None or len(str(vb)) > MAX_VALUE_CHARS or len(str(va)) > MAX_VALUE_CHARS or "\n" in str(vb) + str(va):
            word = "added" if vb is None else "removed" if va is None else "changed"
            out.append(Change("alert", "alert-annotation", subject, f"annotation {k} {word}",
                              None if vb is None else str(vb), None if va is None else str(va), "text"))
        else:
            out.append(Change("alert", "alert-annotation", subject, f"annotation {k} {was(vb, va)}"))
    return out


def _for_and_label_changes(subject: str, b: dict, a: dict) -> list[Change]:
    """``for``, severity and other label changes of one alert rule (Grafana or Prometheus form)."""
    out = []
    if b.get("for") != a.get("for"):
        out.append(Change("alert", "alert-for", subject, f"for {was(b.get('for'), a.get('for'))}"))
    lb, la = b.get("labels") or {}, a.get("labels") or {}
    if lb.get("severity") != la.get("severity"):
        out.append(Change("alert", "alert-severity", subject,
                          f"severity {was(lb.get('severity'), la.get('severity'))}"))
    for k in sorted((set(lb) | set(la)) - {"severity"}):
        if lb.get(k) != la.get(k):
            out.append(Change("alert", "alert-label", subject,
                              f"label {k} {was(lb.get(k, MISSING), la.get(k, MISSING))}"))
    return out


def rule_changes(subject: str, b: dict, a: dict, unit: str | None) -> list[Change]:
    out: list[Change] = []
    if b.get("title") != a.get("title"):
        out.append(Change("alert", "alert-title", subject, f"title {b.get('title')} {ARROW} {a.get('title')}"))
    ref_b, model_b = _threshold_model(b)
    ref_a, model_a = _threshold_model(a)
    tb, pb = _evaluator(model_b)
    ta, pa = _evaluator(model_a)
    if (tb, pb) != (ta, pa):
        if tb == ta:
            out.append(Change("alert", "alert-threshold", subject, f"threshold {_params(pb, None)} {ARROW} {_params(pa, unit)}"))
        else:
            out.append(Change("alert", "alert-threshold", subject,
                              f"condition {_EVALUATORS.get(tb, tb)} {_params(pb, unit)} {ARROW} "
                              f"{_EVALUATORS.get(ta, ta)} {_params(pa, unit)}"))
    out += _for_and_label_changes(subject, b, a)
    qb, qa = _rule_queries(b), _rule_queries(a)
    for ref in sorted(set(qb) | set(qa)):
        if qb.get(ref, (None,))[0] != qa.get(ref, (None,))[0]:
            lang = (qa.get(ref) or qb.get(ref))[1]
            # a rule of Grafana's Prometheus-import shape keeps its comparison in the PromQL
            mb, ma = (_PROM_THRESHOLD.match(str(q.get(ref, ("",))[0] or "")) for q in (qb, qa))
            if lang == "promql" and mb and ma and mb["head"] == ma["head"] and mb["op"] == ma["op"]:
                out.append(Change("alert", "alert-threshold", subject,
                                  f"threshold {mb['value']} {ARROW} {with_unit(ma['value'], unit)}"))
                continue
            word = "added" if ref not in qb else "removed" if ref not in qa else "changed"
            out.append(Change("alert", "alert-query", subject, f"query {ref} {word}",
                              qb.get(ref, (None,))[0], qa.get(ref, (None,))[0], lang))
    ab, aa = b.get("annotations") or {}, a.get("annotations") or {}
    if (ab.get("__dashboardUid__"), ab.get("__panelId__")) != (aa.get("__dashboardUid__"), aa.get("__panelId__")):
        out.append(Change("alert", "alert-panel", subject,
                          f"linked panel {short(ab.get('__dashboardUid__'))}/{short(ab.get('__panelId__'))} {ARROW} "
                          f"{short(aa.get('__dashboardUid__'))}/{short(aa.get('__panelId__'))}"))
    out += annotation_changes(subject, ab, aa, skip={"__dashboardUid__", "__panelId__"})

    def rest(rule: dict, thr_ref: str | None) -> dict:
        r = without(rule, "title", "for", "labels", "annotations", "data", "uid", "ruleGroup", "folderUID")
        data = {}
        for d in rule.get("data") or []:
            if not isinstance(d, dict):
                continue
            d = without(d, "model.expr", "model.query")
            if d.get("refId") == thr_ref and isinstance(get_path(d, "model.conditions"), list) and d["model"]["conditions"]:
                d["model"]["conditions"][0] = without(d["model"]["conditions"][0], "evaluator")
            data[str(d.get("refId"))] = d
        r["data"] = data
        return r

    out += leaf_changes(rest(b, ref_b), rest(a, ref_a), "alert", "alert-setting", subject)
    return out


def grafana_rule_sections(base: dict[str, str], head: dict[str, str], dash_a: dict[str, tuple],
                          covered: set[str]) -> list[Section]:
    """One section per Grafana rule group with a change; a rule's unit is its linked panel's in ``dash_a``."""
    rb, gb = _grafana_rules(base, covered)
    ra, ga = _grafana_rules(head, covered)
    by_group: dict[str, Section] = {}

    def section(key: str, groups: dict, status: str = "changed") -> Section:
        if key not in by_group:
            by_group[key] = Section("grafana-rules", key, key, status, (groups.get(key) or {}).get("path", ""))
        return by_group[key]

    for key in ga:
        if key not in gb:
            section(key, ga, "added")
    for key in gb:
        if key not in ga:
            section(key, gb, "removed")
        elif gb[key].get("interval") != ga[key].get("interval"):
            section(key, ga).changes.append(Change("alert", "group-interval", f"group {key}",
                                                   f"evaluation interval {was(gb[key].get('interval'), ga[key].get('interval'))}"))
    for uid in sorted(set(rb) | set(ra)):
        subject = f"alert {uid}"
        if uid not in rb:
            r = ra[uid]
            _, model = _threshold_model(r.rule)
            ev, params = _evaluator(model)
            unit = _rule_unit(r.rule, dash_a)
            cond = f", {_EVALUATORS.get(ev, ev)} {_params(params, unit)}" if ev else ""
            sev = (r.rule.get("labels") or {}).get("severity")
            section(r.group, ga).changes.append(Change(
                "alert", "alert-added", subject,
                f"added: {r.rule.get('title', '')} ({sev or 'no severity'}{cond}, for {short(r.rule.get('for'))})"))
        elif uid not in ra:
            r = rb[uid]
            section(r.group, gb).changes.append(Change("alert", "alert-removed", subject,
                                                       f"removed: {r.rule.get('title', '')}"))
        else:
            changes = []
            if rb[uid].group != ra[uid].group:
                changes.append(Change("alert", "alert-moved", subject,
                                      f"moved from group {rb[uid].group} {ARROW} {ra[uid].group}"))
            changes += rule_changes(subject, rb[uid].rule, ra[uid].rule, _rule_unit(ra[uid].rule, dash_a))
            if changes:
                section(ra[uid].group, ga).changes += changes
    return [by_group[k] for k in sorted(by_group) if by_group[k].changes or by_group[k].status != "changed"]


_PROM_THRESHOLD = re.compile(r"^(?P<head>.*?)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<value>-?[0-9][0-9.eE+-]*)\s*$", re.S)


def _prom_rules(doc: Any) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for g in (doc or {}).get("groups") or []:
        if not isinstance(g, dict):
            continue
        for r in g.get("rules") or []:
            if not isinstance(r, dict):
                continue
            base = f"alert {r['alert']}" if "alert" in r else f"recording rule {r.get('record')}"
            name, i = base, 2
            while name in out:  # the same alert name twice (different labels): number them
                name, i = f"{base} #{i}", i + 1
            out[name] = dict(r, __group=g.get("name"), __interval=g.get("interval"))
    return out


def prometheus_rule_changes(subject: str, b: dict, a: dict) -> list[Change]:
    out: list[Change] = []
    eb, ea = str(b.get("expr", "")), str(a.get("expr", ""))
    if eb != ea:
        mb, ma = _PROM_THRESHOLD.match(eb), _PROM_THRESHOLD.match(ea)
        if mb and ma and mb["head"] == ma["head"]:
            if mb["op"] == ma["op"]:
                out.append(Change("alert", "alert-threshold", subject, f"threshold {mb['value']} {ARROW} {ma['value']}"))
            else:
                out.append(Change("alert", "alert-threshold", subject,
                                  f"condition {mb['op']} {mb['value']} {ARROW} {ma['op']} {ma['value']}"))
        else:
            out.append(Change("alert", "alert-query", subject, "expr changed", eb, ea, "promql"))
    if b.get("__group") != a.get("__group"):
        out.append(Change("alert", "alert-moved", subject, f"moved from group {b.get('__group')} {ARROW} {a.get('__group')}"))
    out += _for_and_label_changes(subject, b, a)
    out += annotation_changes(subject, b.get("annotations") or {}, a.get("annotations") or {})
    rest_b = without(b, "expr", "for", "labels", "annotations", "__group", "alert", "record")
    rest_a = without(a, "expr", "for", "labels", "annotations", "__group", "alert", "record")
    out += leaf_changes(rest_b, rest_a, "alert", "alert-setting", subject)
    return out


def prometheus_sections(base: dict[str, str], head: dict[str, str], covered: set[str]) -> list[Section]:
    """One section per Prometheus rule file with a change, rules matched by alert or record name."""
    sections = []
    for path in sorted(p for p in set(base) | set(head) if kind_of(p) == PROMETHEUS_RULES):
        db = _load(path, base[path], "groups") if path in base else {}
        da = _load(path, head[path], "groups") if path in head else {}
        if db is None or da is None:
            continue
        covered.add(path)
        rb, ra = _prom_rules(db), _prom_rules(da)
        status = "added" if path not in base else "removed" if path not in head else "changed"
        s = Section("prometheus-rules", path, PurePosixPath(path).name, status, path)
        for name in ra:
            if name not in rb:
                r = ra[name]
                sev = (r.get("labels") or {}).get("severity")
                s.changes.append(Change("alert", "alert-added", name,
                                        f"added{' (' + sev + ', for ' + short(r.get('for')) + ')' if sev else ''}: "
                                        f"{short(r.get('expr'), 120)}"))
        for name in rb:
            if name not in ra:
                s.changes.append(Change("alert", "alert-removed", name, "removed"))
        for name in ra:
            if name in rb:
                s.changes += prometheus_rule_changes(name, rb[name], ra[name])
        if s.changes or status != "changed":
            sections.append(s)
    return sections
