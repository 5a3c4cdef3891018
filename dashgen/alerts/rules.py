"""Alert rules from the catalog, in three forms from one rule model.

``rules(catalog, dashboards)`` builds the model: per catalog threshold a quantile alert, per
stage an error-rate and a produced-nothing-rate alert, per stage SLO the bad-event-ratio
recording rules and two multiwindow multi-burn-rate alerts (page, ticket; Google SRE
workbook), and, when ``alerting.tempo_rules`` is on, TraceQL quantile alerts on Tempo.
``alert_artifacts`` writes them as

- ``alerts/grafana/<folder uid>/<group>.json``: Grafana-managed rules, each file the body of
  ``PUT /api/v1/provisioning/folder/:folderUid/rule-groups/:group``;
- ``alerts/provisioning/<group>.yaml``: the same groups in Grafana's file-provisioning form;
- ``alerts/prometheus/<group>.yaml``: Prometheus / Mimir ruler rule files (no TraceQL group).

Queries come from ``promql`` and ``traceql`` builders, texts from ``templates/alerts/``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import yaml

from ..catalog.conventions import UID_RE, format_number, format_percent, make_uid, quantile_label, seconds
from ..catalog.model import Alerting, Catalog, Measurement, Stage
from ..queries import promql
from ..artifacts import canonical_json, canonical_yaml
from ..templating import render
from ..queries.traceql import Cond, TraceQL, check_query

ORG_ID = 1
EXPR_UID = "__expr__"
NO_DATA_STATE = "NoData"
EXEC_ERR_STATE = "Error"
RECORD_PREFIX = "slo:bad_event_ratio:rate"
BURN_FOR = {"page": "2m", "ticket": "15m"}

# group key -> what it holds; output order
GROUPS = ("latency", "errors", "slo-recording", "slo-burn", "traces")


@dataclass(frozen=True)
class Query:
    ref: str
    datasource: str  # "prometheus" | "tempo"
    expr: str


@dataclass(frozen=True)
class Rule:
    """One alert or recording rule, independent of its output form."""

    uid: str
    title: str  # Grafana title
    group: str  # key in GROUPS
    kind: str  # quantile | ratio | burn | traceql | record
    stage: str
    labels: dict
    annotations: dict  # summary, description, runbook_url
    queries: tuple[Query, ...]
    # Grafana condition: ("threshold", op, value) on the reduced single query, or ("math", expression)
    condition: tuple
    for_: str = "0s"
    name: str = ""  # Prometheus alert name (CamelCase); empty for recording rules
    prom_expr: str | None = None  # Prometheus alert/record expression (None: Grafana only)
    record: str | None = None  # recorded metric name (recording rules)
    panel: tuple[str, int] | None = None
    receiver: str | None = None
    # facts the promtool unit tests are generated from
    test: dict = field(default_factory=dict, compare=False)

    @property
    def is_alert(self) -> bool:
        return self.record is None


@dataclass(frozen=True)
class RuleSet:
    catalog: Catalog
    rules: tuple[Rule, ...]
    wanted_tags: tuple[tuple[str, str], ...]  # (rule uid, panel tag that had no panel)

    def group_name(self, key: str) -> str:
        return f"{self.catalog.uid_prefix}-{key}"

    def groups(self) -> list[tuple[str, list[Rule]]]:
        out = []
        for key in GROUPS:
            rs = [r for r in self.rules if r.group == key]
            if rs:
                out.append((key, rs))
        return out


# --- naming -----------------------------------------------------------------------------------

def rule_uid(catalog: Catalog, *parts: str) -> str:
    """Stable uid: ``<prefix>-<parts>``; longer than 40 characters -> shortened with a hash."""
    return make_uid(catalog.uid_prefix, *parts)


def camel(*parts: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", " ".join(parts))
    return "".join(w[:1].upper() + w[1:] for w in words if w)


# --- panels -------------------------------------------------------------------------------------

def _find_panel(dashboards, tag: str):
    from ..dashboards.kit import find_panel

    return find_panel(list(dashboards or []), tag)


def _panel(dashboards, wanted: list[str], fallback: str, uid: str, missing: list) -> tuple[str, int] | None:
    for tag in wanted:
        found = _find_panel(dashboards, tag)
        if found:
            return found
        missing.append((uid, tag))
    return _find_panel(dashboards, fallback)


# --- the model ------------------------------------------------------------------------------------

def _labels(a: Alerting, stage: str, severity: str | None, **extra) -> dict:
    out = {"stage": stage, "team": a.team}
    if severity:
        out["severity"] = severity
    out.update(extra)
    return out


def _texts(a: Alerting, uid: str, **values) -> dict:
    return {
        "summary": render("alerts/summary.j2", **values),
        "description": render("alerts/description.j2", **values),
        "runbook_url": render("alerts/runbook_url.j2", base_url=a.runbook_url, uid=uid),
    }


def _quantile_rules(c: Catalog, dashboards, missing) -> list[Rule]:
    a = c.alerting
    out = []
    q = TraceQL(c)
    for s in c.stages:
        for m in s.measurements:
            for t in m.thresholds:
                ql = quantile_label(t.quantile)
                values = dict(stage=s.id, stage_title=s.title.split(" (")[0], measurement_title=m.title,
                              meaning=m.meaning, quantile_label=ql, threshold=format_number(t.value), unit=m.unit,
                              for_=t.for_, window=a.rate_window, metric=m.metric.name, attribute=m.attribute)
                uid = rule_uid(c, s.id, m.id, ql)
                panel = _panel(dashboards, [f"{s.id}.{m.id}:{ql}"], f"{s.id}.first_byte:{ql}", uid, missing)
                expr = promql.quantile(m.metric.name, m.metric.label, s.id, t.quantile, a.rate_window)
                out.append(Rule(
                    uid=uid, title=render("alerts/summary.j2", kind="quantile", **values), group="latency",
                    kind="quantile", stage=s.id, labels=_labels(a, s.id, t.severity),
                    annotations=_texts(a, uid, kind="quantile", **values),
                    queries=(Query("A", "prometheus", expr),), condition=("threshold", "gt", float(t.value)),
                    for_=t.for_, name=camel(c.uid_prefix, s.id, m.id, ql, "high"),
                    prom_expr=promql.compare(expr, ">", t.value), panel=panel, receiver=a.receiver,
                    test={"metric": m.metric, "quantile": t.quantile, "threshold": float(t.value), "measurement": m.id,
                          "series_labels": {m.metric.label: s.id}},
                ))
                if a.tempo_rules and m.quantiles_work:
                    tuid = rule_uid(c, s.id, m.id, ql, "traces")
                    conds = [_stage_cond(c, q, s)] + ([Cond(q.span(m.attribute), ">=", 0)]
                                                       if m.nothing_value is not None else [])
                    tq = q.quantile(conds, q.span(m.attribute), (t.quantile,))
                    out.append(Rule(
                        uid=tuid, title=render("alerts/summary.j2", kind="traceql", **values), group="traces",
                        kind="traceql", stage=s.id, labels=_labels(a, s.id, t.severity, source="traces"),
                        annotations=_texts(a, tuid, kind="traceql", **values),
                        queries=(Query("A", "tempo", tq),), condition=("threshold", "gt", float(t.value)),
                        for_=t.for_, panel=panel, receiver=a.receiver,
                    ))
    return out


def _stage_cond(c: Catalog, q: TraceQL, s: Stage) -> Cond:
    if c.stage_attribute:
        return Cond(q.span(c.stage_attribute), "=", s.id)
    return Cond(q.intrinsic("name"), "=", s.span)


def _ratio_rules(c: Catalog, dashboards, missing) -> list[Rule]:
    a = c.alerting
    out = []
    for s in c.stages:
        kinds = [("errors", "error rate", a.errors_metric, a.error_rate)]
        if any(m.nothing_value is not None for m in s.measurements):
            kinds.append(("nothing", "produced-nothing rate", a.nothing_metric, a.nothing_rate))
        for key, what, metric, ra in kinds:
            uid = rule_uid(c, s.id, key if key == "nothing" else "error", "rate")
            values = dict(stage=s.id, stage_title=s.title.split(" (")[0], what=what, percent=format_percent(ra.above),
                          for_=ra.for_, window=a.rate_window, numerator=metric, denominator=a.runs_metric)
            panel = _panel(dashboards, [f"{s.id}:{key}"], f"{s.id}.first_byte:p95", uid, missing)
            expr = promql.counter_ratio(metric, a.runs_metric, a.stage_label, s.id, a.rate_window)
            out.append(Rule(
                uid=uid, title=render("alerts/summary.j2", kind="ratio", **values), group="errors", kind="ratio",
                stage=s.id, labels=_labels(a, s.id, ra.severity), annotations=_texts(a, uid, kind="ratio", **values),
                queries=(Query("A", "prometheus", expr),), condition=("threshold", "gt", ra.above), for_=ra.for_,
                name=camel(c.uid_prefix, s.id, "nothing" if key == "nothing" else "error", "rate", "high"),
                prom_expr=promql.compare(expr, ">", ra.above), panel=panel, receiver=a.receiver,
                test={"numerator": metric, "denominator": a.runs_metric, "above": ra.above,
                      "series_labels": {a.stage_label: s.id}},
            ))
    return out


def _slo_rules(c: Catalog, dashboards, missing) -> list[Rule]:
    a = c.alerting
    out = []
    for s in c.stages:
        if not s.slo:
            continue
        slo = s.slo
        m: Measurement = s.measurement(slo.measurement)
        slo_id = rule_uid(c, s.id, m.id)
        budget = slo.budget
        base = dict(stage=s.id, stage_title=s.title.split(" (")[0], measurement_title=m.title, unit=m.unit,
                    threshold=format_number(slo.threshold), metric=m.metric.name, objective=format_percent(slo.objective),
                    slo_window=slo.window)
        pairs = slo.burn_rates()
        windows = sorted({w for _, long, short, _ in pairs for w in (long, short)}, key=seconds)
        record_names = {}
        for w in windows:
            uid = rule_uid(c, s.id, m.id, "ratio", w)
            record = f"{RECORD_PREFIX}{w}"
            record_names[w] = record
            expr = promql.bad_ratio(m.metric.name, m.metric.label, s.id, slo.threshold, w)
            values = dict(base, kind="record", window=w)
            out.append(Rule(
                uid=uid, title=render("alerts/summary.j2", **values), group="slo-recording", kind="record",
                stage=s.id, labels={"slo": slo_id, "team": a.team}, annotations={},
                queries=(Query("A", "prometheus", expr),), condition=("record", "A"), prom_expr=expr, record=record,
            ))
        panel_tags = [f"{s.id}.{m.id}:slo", f"{s.id}.{m.id}:{quantile_label(slo.objective)}"]
        for severity in ("page", "ticket"):
            sev_pairs = [(long, short, rate) for sev, long, short, rate in pairs if sev == severity]
            uid = rule_uid(c, s.id, m.id, "slo", severity)
            # Prometheus: on the recorded ratios (recording group) -- the workbook's form.
            prom_parts = []
            for long, short, rate in sev_pairs:
                limit = round(rate * budget, 10)
                prom_parts.append(promql.logical(
                    "and",
                    promql.compare(promql.selector(record_names[long], promql.matcher("slo", "=", slo_id)), ">", limit),
                    promql.compare(promql.selector(record_names[short], promql.matcher("slo", "=", slo_id)), ">", limit)))
            prom_expr = prom_parts[0]
            for part in prom_parts[1:]:
                prom_expr = promql.logical("or", prom_expr, part)
            # Grafana: self-contained (no dependency on where recorded series land): the ratios
            # inline, reduced, and the burn-rate limits in one math expression.
            queries, reduced, terms = [], [], []
            refs = iter("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            for long, short, rate in sev_pairs:
                pair = []
                for w in (long, short):
                    ref = next(refs)
                    queries.append(Query(ref, "prometheus",
                                         promql.bad_ratio(m.metric.name, m.metric.label, s.id, slo.threshold, w)))
                    pair.append(ref)
                reduced.append(pair)
                limit = promql.number(round(rate * budget, 10))
                terms.append(pair + [limit])
            values = dict(base, kind="burn", severity=severity,
                          rates=" / ".join(format_number(r) for _, _, r in sev_pairs),
                          windows=", or ".join(f"more than {format_number(r)}x the sustainable rate over both {lg} and {sh}"
                                               for lg, sh, r in sev_pairs))
            panel = _panel(dashboards, panel_tags, f"{s.id}.first_byte:p95", uid, missing)
            out.append(Rule(
                uid=uid, title=render("alerts/summary.j2", **values), group="slo-burn", kind="burn", stage=s.id,
                labels=_labels(a, s.id, severity, slo=slo_id), annotations=_texts(a, uid, **values),
                queries=tuple(queries), condition=("burn", terms), for_=BURN_FOR[severity],
                name=camel(c.uid_prefix, s.id, m.id, "slo", "burn", severity), prom_expr=prom_expr,
                panel=panel, receiver=a.receiver,
                test={"metric": m.metric, "threshold": float(slo.threshold), "budget": budget, "pairs": sev_pairs,
                      "series_labels": {m.metric.label: s.id, "slo": slo_id}, "severity": severity,
                      "all_pairs": pairs},
            ))
    return out


def rules(catalog: Catalog, dashboards=None) -> RuleSet:
    missing: list[tuple[str, str]] = []
    out = _quantile_rules(catalog, dashboards, missing) + _ratio_rules(catalog, dashboards, missing) \
        + _slo_rules(catalog, dashboards, missing)
    uids = [r.uid for r in out]
    dup = sorted({u for u in uids if uids.count(u) > 1})
    if dup:
        raise ValueError(f"duplicate alert rule uids: {', '.join(dup)}")
    titles = [r.title for r in out]
    dup = sorted({t for t in titles if titles.count(t) > 1})
    if dup:
        raise ValueError(f"duplicate alert rule titles in one folder: {', '.join(dup)}")
    order = {k: i for i, k in enumerate(GROUPS)}
    out.sort(key=lambda r: order[r.group])  # stable: catalog order within a group
    return RuleSet(catalog, tuple(out), tuple(missing))


# --- Grafana-managed form -----------------------------------------------------------------------

def _expr_model(ref: str, **fields) -> dict:
    return {"refId": ref, "datasource": {"type": EXPR_UID, "uid": EXPR_UID}, **fields}


def _relative_from(rule: Rule, catalog: Catalog) -> int:
    return max(600, 2 * catalog.alerting.interval_seconds)


def grafana_data(rule: Rule, catalog: Catalog) -> tuple[list[dict], str]:
    """``(data, condition ref)`` of a Grafana-managed rule."""
    data = []
    for q in rule.queries:
        if q.datasource == "prometheus":
            uid = catalog.prometheus.uid
            model = {"refId": q.ref, "datasource": {"type": "prometheus", "uid": uid}, "editorMode": "code",
                     "expr": q.expr, "instant": True, "range": False}
        else:
            uid = catalog.tempo.uid
            model = {"refId": q.ref, "datasource": {"type": "tempo", "uid": uid}, "queryType": "traceql",
                     "query": q.expr, "metricsQueryType": "range", "step": "1m", "filters": []}
        data.append({"refId": q.ref, "datasourceUid": uid, "queryType": "",
                     "relativeTimeRange": {"from": _relative_from(rule, catalog), "to": 0}, "model": model})

    def expr(ref: str, model: dict) -> None:
        data.append({"refId": ref, "datasourceUid": EXPR_UID, "queryType": "",
                     "relativeTimeRange": {"from": 0, "to": 0}, "model": _expr_model(ref, **model)})

    kind = rule.condition[0]
    if kind == "record":
        return data, rule.condition[1]
    if kind == "threshold":
        _, op, value = rule.condition
        # Tempo returns one point per step: average the range; Prometheus instant: the last value.
        reducer = "mean" if rule.kind == "traceql" else "last"
        expr("B", {"type": "reduce", "expression": "A", "reducer": reducer, "settings": {"mode": "dropNN"}})
        expr("C", {"type": "threshold", "expression": "B",
                   "conditions": [{"evaluator": {"type": op, "params": [value]}}]})
        return data, "C"
    if kind == "burn":
        refs = iter("ABCDEFGHIJKLMNOPQRSTUVWXYZ"[len(rule.queries):])
        terms = []
        for long_ref, short_ref, limit in rule.condition[1]:
            rl, rs = next(refs), next(refs)
            expr(rl, {"type": "reduce", "expression": long_ref, "reducer": "last", "settings": {"mode": "dropNN"}})
            expr(rs, {"type": "reduce", "expression": short_ref, "reducer": "last", "settings": {"mode": "dropNN"}})
            terms.append(f"(${rl} > {limit} && ${rs} > {limit})")
        cond = next(refs)
        expr(cond, {"type": "math", "expression": " || ".join(terms)})
        return data, cond
    raise ValueError(f"unknown condition {kind!r}")


def grafana_rule(rule: Rule, rs: RuleSet) -> dict:
    c = rs.catalog
    data, condition = grafana_data(rule, c)
    annotations = dict(rule.annotations)
    if rule.panel:
        annotations["__dashboardUid__"] = rule.panel[0]
        annotations["__panelId__"] = str(rule.panel[1])
    out = {
        "uid": rule.uid, "orgID": ORG_ID, "folderUID": c.folder_uid, "ruleGroup": rs.group_name(rule.group),
        "title": rule.title, "condition": condition, "data": data, "for": rule.for_,
        "noDataState": NO_DATA_STATE, "execErrState": EXEC_ERR_STATE, "isPaused": False,
        "labels": dict(rule.labels), "annotations": annotations,
    }
    if rule.record:
        out["record"] = {"from": condition, "metric": rule.record}
        del out["annotations"]
    elif rule.receiver:
        out["notification_settings"] = {"receiver": rule.receiver}
    return out


def grafana_group(key: str, group_rules: list[Rule], rs: RuleSet) -> dict:
    c = rs.catalog
    return {"title": rs.group_name(key), "folderUid": c.folder_uid, "interval": c.alerting.interval_seconds,
            "rules": [grafana_rule(r, rs) for r in group_rules]}


def provisioning_group(key: str, group_rules: list[Rule], rs: RuleSet) -> dict:
    """Grafana's file-provisioning form (what ``/alert-rules/export`` writes)."""
    c = rs.catalog
    out_rules = []
    for r in group_rules:
        g = grafana_rule(r, rs)
        p = {k: g[k] for k in ("uid", "title", "condition", "data", "noDataState", "execErrState", "for",
                               "labels", "isPaused") if k in g}
        if "annotations" in g:
            p["annotations"] = {k: v for k, v in g["annotations"].items() if not k.startswith("__")}
        if r.panel:
            p["dashboardUid"] = r.panel[0]
            p["panelId"] = r.panel[1]
        for k in ("record", "notification_settings"):
            if k in g:
                p[k] = g[k]
        out_rules.append(p)
    return {"apiVersion": 1, "groups": [{"orgId": ORG_ID, "name": rs.group_name(key), "folder": c.folder_title,
                                         "interval": c.alerting.interval, "rules": out_rules}]}


# --- Prometheus form ----------------------------------------------------------------------------

def prometheus_rule(rule: Rule) -> dict:
    if rule.record:
        return {"record": rule.record, "expr": rule.prom_expr, "labels": dict(rule.labels)}
    out = {"alert": rule.name, "expr": rule.prom_expr, "labels": dict(rule.labels),
           "annotations": dict(rule.annotations)}
    if seconds(rule.for_) > 0:
        out["for"] = rule.for_
    return out


def prometheus_group(key: str, group_rules: list[Rule], rs: RuleSet) -> dict | None:
    prom = [r for r in group_rules if r.prom_expr is not None]
    if not prom:
        return None
    return {"groups": [{"name": rs.group_name(key), "interval": rs.catalog.alerting.interval,
                        "rules": [prometheus_rule(r) for r in prom]}]}


# --- artifacts and lint -------------------------------------------------------------------------

def artifacts_from(rs: RuleSet) -> dict[str, str]:
    c = rs.catalog
    out: dict[str, str] = {}
    for key, group_rules in rs.groups():
        name = rs.group_name(key)
        out[f"alerts/grafana/{c.folder_uid}/{name}.json"] = canonical_json(grafana_group(key, group_rules, rs))
        out[f"alerts/provisioning/{name}.yaml"] = canonical_yaml(provisioning_group(key, group_rules, rs))
        prom = prometheus_group(key, group_rules, rs)
        if prom is not None:
            out[f"alerts/prometheus/{name}.yaml"] = canonical_yaml(prom)
    return out


def alert_artifacts(catalog: Catalog, dashboards) -> dict[str, str]:
    """``{relative path: content}`` of every alert rule file (``dashgen build`` calls this)."""
    return artifacts_from(rules(catalog, dashboards))


def lint_alert_artifacts(artifacts: dict[str, str], dashboards: dict[str, dict]) -> list[str]:
    """Offline checks of built alert files; ``dashboards`` maps relpath -> dashboard JSON."""
    problems: list[str] = []
    panels: dict[str, set] = {}
    for d in dashboards.values():
        panels[d.get("uid", "")] = {p.get("id") for p in d.get("panels", [])} | {
            c.get("id") for p in d.get("panels", []) for c in p.get("panels", [])}
    uids: dict[str, str] = {}
    for rel, content in sorted(artifacts.items()):
        if rel.startswith("alerts/grafana/") and rel.endswith(".json"):
            problems += _lint_grafana(rel, content, panels, uids)
        elif rel.startswith("alerts/prometheus/"):
            problems += _lint_prometheus(rel, content)
        elif rel.startswith("alerts/provisioning/"):
            try:
                doc = yaml.safe_load(content)
            except yaml.YAMLError as exc:
                problems.append(f"{rel}: not valid YAML: {exc}")
                continue
            if not isinstance(doc, dict) or doc.get("apiVersion") != 1 or not doc.get("groups"):
                problems.append(f"{rel}: not a Grafana alerting provisioning file (apiVersion: 1, groups: [...])")
    return problems


def _lint_grafana(rel: str, content: str, panels: dict, uids: dict) -> list[str]:
    problems = []
    try:
        group = json.loads(content)
    except json.JSONDecodeError as exc:
        return [f"{rel}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"]
    interval = group.get("interval")
    if not isinstance(interval, int) or interval <= 0 or interval % 10:
        problems.append(f"{rel}: interval {interval!r} is not a positive multiple of 10 seconds")
    for r in group.get("rules", []):
        uid, title = r.get("uid", ""), r.get("title", "")
        where = f"{rel}: rule {uid or title!r}"
        if not UID_RE.fullmatch(uid):
            problems.append(f"{where}: uid is not 1-40 characters of [a-zA-Z0-9_-]")
        elif uid in uids:
            problems.append(f"{where}: uid also used in {uids[uid]}")
        uids[uid] = rel
        if r.get("ruleGroup") != group.get("title") or r.get("folderUID") != group.get("folderUid"):
            problems.append(f"{where}: ruleGroup/folderUID differ from the group's title/folderUid")
        refs = [q.get("refId") for q in r.get("data", [])]
        if r.get("condition") not in refs:
            problems.append(f"{where}: condition {r.get('condition')!r} is not one of its queries {refs}")
        for q in r.get("data", []):
            if q.get("datasourceUid") != EXPR_UID:
                rtr = q.get("relativeTimeRange", {})
                if not rtr.get("from", 0) > rtr.get("to", 0):
                    problems.append(f"{where}: query {q.get('refId')}: relativeTimeRange.from must exceed to")
                if (q.get("model", {}).get("datasource") or {}).get("type") == "tempo":
                    for p in check_query(q["model"].get("query", "")):
                        problems.append(f"{where}: query {q.get('refId')}: {p}")
        ann = r.get("annotations", {})
        duid, pid = ann.get("__dashboardUid__"), ann.get("__panelId__")
        if (duid is None) != (pid is None):
            problems.append(f"{where}: __dashboardUid__ and __panelId__ must come together")
        elif duid is not None:
            if duid not in panels:
                problems.append(f"{where}: __dashboardUid__ {duid!r} is not a generated dashboard")
            elif not str(pid).isdigit() or int(pid) not in panels[duid]:
                problems.append(f"{where}: __panelId__ {pid!r} is not a panel of dashboard {duid!r}")
        if r.get("record") is None and not str(ann.get("runbook_url", "")).startswith("http"):
            problems.append(f"{where}: no runbook_url annotation")
    return problems


def _lint_prometheus(rel: str, content: str) -> list[str]:
    problems = []
    try:
        doc = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        return [f"{rel}: not valid YAML: {exc}"]
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
        return [f"{rel}: not a Prometheus rule file (groups: [...])"]
    for g in doc["groups"]:
        for r in g.get("rules", []):
            if bool(r.get("alert")) == bool(r.get("record")):
                problems.append(f"{rel}: group {g.get('name')!r}: a rule must have exactly one of alert and record")
            if not str(r.get("expr", "")).strip():
                problems.append(f"{rel}: group {g.get('name')!r}: rule {r.get('alert') or r.get('record')!r} has no expr")
    return problems
