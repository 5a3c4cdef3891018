"""Every lint rule (dashgen/lint/rules.py) fires on output broken the way it guards against, with
its own id, its severity and a location, and stays silent on the built output of every preset.

One case per rule, in the manner of grafana/dashboard-linter's ``lint/rule_*_test.go``: the case
breaks a fresh build of the default catalog the smallest way that rule exists to catch. A rule
without a case fails ``test_every_rule_has_a_case``.
"""

from __future__ import annotations

import re

import json

import pytest
import yaml

from dashgen.build import build_artifacts
from dashgen.catalog import PRESETS, load_catalog
from dashgen.dashboards.budget import MAX_METRICS_QUERIES
from dashgen.lint import lint_artifacts
from dashgen.lint.rules import ERROR, RULES, SEVERITIES, WARNING

OVERVIEW, TTS, ASR, SESSION = "voice-overview", "voice-tts", "voice-asr", "voice-session"


@pytest.fixture(scope="module")
def base() -> dict[str, str]:
    return dict(build_artifacts(load_catalog()).artifacts)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def clean(base, catalog):
    return lint_artifacts(base, catalog).problems


def _path(arts: dict, uid: str) -> str:
    return next(p for p in arts if p.startswith("dashboards/") and p.endswith(f"/{uid}.json"))


def dash(uid: str):
    """A case that changes dashboard ``uid`` in place: ``change(d)``."""
    def wrap(change):
        def case(arts):
            path = _path(arts, uid)
            d = json.loads(arts[path])
            change(d)
            arts[path] = json.dumps(d)
        return case
    return wrap


def group(change):
    """A case that changes the first Grafana-managed rule group with a rule linked to a panel."""
    def case(arts):
        path = next(p for p in sorted(arts) if p.startswith("alerts/grafana/") and '"__panelId__"' in arts[p])
        g = json.loads(arts[path])
        change(g)
        arts[path] = json.dumps(g)
    return case


def first(d: dict, pick):
    return next(p for p in d["panels"] if pick(p))


def tempo_q(p: dict) -> str:
    return " ".join(t.get("query", "") for t in p.get("targets", []) if (t.get("datasource") or {}).get("type") == "tempo")


def is_metrics(p: dict) -> bool:
    return "quantile_over_time" in tempo_q(p) or "| rate()" in tempo_q(p)


def _linked_rule(g: dict) -> dict:
    return next(r for r in g["rules"] if "__panelId__" in r.get("annotations", {})
                and any("expr" in q["model"] for q in r["data"]))


def _budget(d):
    p = first(d, is_metrics)
    t = next(t for t in p["targets"] if (t.get("datasource") or {}).get("type") == "tempo")
    p["targets"] += [{**t, "refId": f"X{i}"} for i in range(MAX_METRICS_QUERIES + 1)]


def _many_panels(d):
    """More top-level text panels than the budget, stacked below the rest (a collapsed row's would not count)."""
    from dashgen.dashboards.budget import MAX_PANELS_ON_LOAD

    top = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in d["panels"])
    d["panels"] += [{"id": 900000 + i, "type": "text", "title": f"filler {i}", "description": "x",
                     "gridPos": {"x": 0, "y": top + i, "w": 24, "h": 1}, "options": {"content": "x"}}
                    for i in range(MAX_PANELS_ON_LOAD)]


def _prometheus(arts):
    path = next(p for p in sorted(arts) if p.startswith("alerts/prometheus/"))
    doc = yaml.safe_load(arts[path])
    doc["groups"][0]["rules"][0]["expr"] = ""
    arts[path] = yaml.safe_dump(doc)


def _provisioning(arts):
    path = next(p for p in sorted(arts) if p.startswith("alerts/provisioning/"))
    arts[path] = "apiVersion: 2\n"


def _not_json(arts):
    arts[_path(arts, OVERVIEW)] = '{"uid": '


def _set(path: str, value):
    def change(p):
        *keys, last = path.split(".")
        node = p
        for k in keys:
            node = node.setdefault(k, {})
        node[last] = value
    return change


def _below_two(d):
    p = first(d, lambda p: "revision_pct, 0.5" in tempo_q(p))
    p["description"] = p["description"].replace("below 2", "under two")


def _no_renames(d):
    first(d, lambda p: p["title"] == "First byte p95 by stage")["fieldConfig"]["overrides"] = []


def _untyped_table(d):
    first(d, lambda p: p["type"] == "table")["transformations"] = []


def _no_exemplars(d):
    p = first(d, lambda p: "quantile_over_time" in tempo_q(p))
    for t in p["targets"]:
        t["exemplars"] = False


def _match_all(d):
    p = first(d, lambda p: "| rate()" in tempo_q(p))
    t = next(t for t in p["targets"] if (t.get("datasource") or {}).get("type") == "tempo")
    t["query"] = t["query"].replace("{", '{ resource.service.name =~ ".*" && ', 1)


def _service_regex(d):
    # the form every query had before: a multi-value $service in a regex (Grafana: a|b|c|... on All)
    p = first(d, lambda p: "${service_filter:raw}" in tempo_q(p))
    for t in p["targets"]:
        t["query"] = t.get("query", "").replace("${service_filter:raw}", 'resource.service.name =~ "$service"')


def _turned_back(d):
    first(d, lambda p: p["type"] == "stat")["fieldConfig"]["defaults"]["thresholds"]["steps"] = [
        {"color": "green", "value": None}, {"color": "red", "value": 100}, {"color": "orange", "value": 200}]


def _share_id(d):
    d["panels"][1]["id"] = d["panels"][0]["id"]


def _overlap(d):
    d["panels"][-1]["gridPos"] = dict(d["panels"][-2]["gridPos"])


def _reuse(d):
    d["panels"][-1]["targets"] = [{"refId": "A", "datasource": {"type": "datasource", "uid": "-- Dashboard --"},
                                   "panelId": 424242}]


def _variable(d):
    d["templating"]["list"].append({"type": "textbox", "name": "who", "query": ".*"})


def _newer_tempo(d):
    p = first(d, lambda p: "quantile_over_time" in tempo_q(p))
    p["targets"].append({"refId": "N", "datasource": p["targets"][0]["datasource"], "queryType": "traceql",
                         "query": "{ } | sum_over_time(span.audio.first_byte_ms)"})


def _duration_in_ms(d):
    """A quantile panel turned to the span duration, its unit left in ms: Tempo returns seconds."""
    p = first(d, lambda p: "quantile_over_time(span." in tempo_q(p))
    t = next(t for t in p["targets"] if "quantile_over_time(span." in t.get("query", ""))
    t["query"] = re.sub(r"quantile_over_time\(span\.[\w.]+", "quantile_over_time(duration", t["query"])
    assert p["fieldConfig"]["defaults"]["unit"] == "ms"


def _relative_zero(g):
    q = next(q for q in _linked_rule(g)["data"] if q["datasourceUid"] != "__expr__")
    q["relativeTimeRange"] = {"from": 0, "to": 0}


def _other_query(g):
    model = next(q["model"] for q in _linked_rule(g)["data"] if "expr" in q["model"])
    model["expr"] = f"({model['expr']}) * 1"


CASES = {
    "json": _not_json,
    "dashboard-uid": dash(OVERVIEW)(_set("uid", "not a uid!")),
    "dashboard-id": dash(OVERVIEW)(_set("id", 7)),
    "dashboard-title": dash(OVERVIEW)(_set("title", " ")),
    "panel-id": dash(OVERVIEW)(_share_id),
    "panel-legacy-keys": dash(OVERVIEW)(lambda d: d["panels"][-1].update(span=6)),
    "panel-grid": dash(OVERVIEW)(lambda d: d["panels"][-1]["gridPos"].update(x=20, w=10)),
    "panel-overlap": dash(OVERVIEW)(_overlap),
    "panel-reuse": dash(OVERVIEW)(_reuse),
    "panel-description": dash(OVERVIEW)(lambda d: d["panels"][-1].update(description="")),
    "traceql": dash(OVERVIEW)(lambda d: first(d, is_metrics)["targets"][0].update(
        query=first(d, is_metrics)["targets"][0]["query"] + " | select(span.audio.turn_id)")),
    "tempo-query-budget": dash(OVERVIEW)(_budget),
    "panel-budget": dash(OVERVIEW)(_many_panels),
    "tempo-range": dash(OVERVIEW)(lambda d: d["time"].update({"from": "now-30d"})),
    "tempo-version": dash(OVERVIEW)(_newer_tempo),
    "threshold-colour": dash(OVERVIEW)(lambda d: _set("fieldConfig.defaults.color", {"mode": "palette-classic"})(
        first(d, lambda p: p["type"] == "stat"))),
    "threshold-order": dash(OVERVIEW)(_turned_back),
    "series-names": dash(OVERVIEW)(_no_renames),
    "table-types": dash(TTS)(_untyped_table),
    "span-rate-unit": dash(OVERVIEW)(lambda d: _set("fieldConfig.defaults.unit", "reqps")(
        first(d, lambda p: "| rate()" in tempo_q(p)))),
    "duration-unit": dash(ASR)(_duration_in_ms),
    "links": dash(TTS)(lambda d: first(d, lambda p: p["type"] == "table")["fieldConfig"]["defaults"]["links"][0]
                       .update(url="https://example.com/d/x")),
    "exemplars": dash(OVERVIEW)(_no_exemplars),
    "service-regex": dash(ASR)(_match_all),
    "variable-regex": dash(ASR)(_service_regex),
    "below-two": dash(ASR)(_below_two),
    "empty-variable-search": dash(SESSION)(lambda d: d["time"].update({"from": "now-6h"})),
    "variable-match-all": dash(OVERVIEW)(_variable),
    "alert-group": group(lambda g: g.update(interval=15)),
    "alert-uid": group(lambda g: g["rules"][0].update(uid="not a uid!")),
    "alert-condition": group(lambda g: g["rules"][0].update(condition="ZZ")),
    "alert-time-range": group(_relative_zero),
    "alert-panel-link": group(lambda g: _linked_rule(g)["annotations"].update(__panelId__="999999")),
    "alert-panel-match": group(_other_query),
    "alert-runbook": group(lambda g: _linked_rule(g)["annotations"].pop("runbook_url")),
    "prometheus-rules": _prometheus,
    "alert-provisioning": _provisioning,
}
# Rules whose case needs more than the built files; each is made to fire and not fire where named.
ELSEWHERE = {
    "schema": "test_a_schema_problem_fires_with_schemas_only (below)",
    "definition": "tests/test_definitions.py::test_an_angular_graph_panel_is_a_located_lint_problem",
}


def test_every_rule_has_a_case_and_a_severity():
    assert set(CASES) | set(ELSEWHERE) == set(RULES)
    assert all(r.severity in SEVERITIES and r.summary for r in RULES.values())
    # house style never refuses; what Grafana or Tempo gets wrong does (a sample of each kind)
    assert RULES["panel-description"].severity == WARNING and RULES["alert-runbook"].severity == WARNING
    assert RULES["threshold-colour"].severity == ERROR and RULES["traceql"].severity == ERROR


@pytest.mark.parametrize("preset", PRESETS)
def test_no_rule_fires_on_the_built_output(preset):
    catalog = load_catalog(preset)
    report = lint_artifacts(build_artifacts(catalog).artifacts, catalog)
    assert report.problems == [] and report.ok


@pytest.mark.parametrize("rule", sorted(CASES))
def test_the_rule_fires_with_its_id_severity_and_location(base, catalog, clean, rule):
    assert not [p for p in clean if p.rule == rule]  # silent on the clean output
    arts = dict(base)
    CASES[rule](arts)
    report = lint_artifacts(arts, catalog)
    fired = [p for p in report.problems if p.rule == rule]
    assert fired, [str(p) for p in report.problems]
    for p in fired:
        assert p.severity == RULES[rule].severity
        assert p.location.file in arts and p.message
        assert str(p).startswith(p.location.file)
    # an error fails lint (and refuses a build); warnings alone never do
    assert report.ok == all(p.severity == WARNING for p in report.problems)


def test_a_schema_problem_fires_with_schemas_only(base, grafana_schemas):
    catalog = load_catalog()
    assert lint_artifacts(base, catalog, grafana_schemas / "grafana-12").problems == []
    arts = dict(base)
    dash(OVERVIEW)(lambda d: first(d, lambda p: p["type"] == "timeseries")["options"].update(bogusOption=True))(arts)
    assert lint_artifacts(arts, catalog).problems == []
    fired = lint_artifacts(arts, catalog, grafana_schemas / "grafana-12").problems
    assert [(p.rule, p.severity) for p in fired] == [("schema", ERROR)] and "bogusOption" in fired[0].message


def test_the_docs_list_every_rule_with_its_severity():
    from conftest import REPO

    text = (REPO / "docs" / "dashboards.md").read_text(encoding="utf-8")
    for r in RULES.values():
        assert f"| `{r.id}` | {r.severity} |" in text, r.id


def test_a_panels_own_relative_time_is_a_query_option_not_a_legacy_key(base, catalog):
    """Grafana's Panel model keeps timeFrom, timeShift and hideTimeOverride (query options): set, as
    dashboards exported from Grafana set them, they are not legacy; grafanalib's empty ones are."""
    def legacy(**keys):
        arts = dict(base)
        dash(OVERVIEW)(lambda d: d["panels"][-1].update(keys))(arts)
        return [p for p in lint_artifacts(arts, catalog).problems if p.rule == "panel-legacy-keys"]
    assert legacy(timeFrom="1m", timeShift="1h", hideTimeOverride=True) == []
    fired = legacy(timeFrom=None, hideTimeOverride=False)
    assert len(fired) == 1 and "hideTimeOverride" in fired[0].message and "timeFrom" in fired[0].message
