"""Issue 15's alert and Tempo points on real build output: each alert links to a panel plotting
exactly what it evaluates (10), dashboards fit Tempo's metrics range and version (1), extra
PromQL matchers everywhere (11), no page from missing data (7), Grafana-managed recording rules
only on request (15). Lint must catch each class on hand-broken output."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
import yaml

from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog, parse_catalog, preset_path
from dashgen.catalog.model import TempoServer
from dashgen.errors import CatalogError
from dashgen.lint import lint_artifacts


# Read here from the JSON as Grafana stores it, not with lint's own readers (lint.alerts), so a
# reader that misses a query or a step cannot hide a mismatch between a rule and its panel.
def rule_queries(rule: dict) -> list[str]:
    """The datasource queries of a Grafana-managed rule, in order (``__expr__`` steps are not queries)."""
    return [q["model"].get("expr", q["model"].get("query")) for q in rule["data"] if q["datasourceUid"] != "__expr__"]


def rule_thresholds(rule: dict) -> set[float]:
    """The numbers the rule compares with: a threshold's params, or a math step's ``$X > n`` constants;
    in the shape Grafana gives an imported Prometheus rule (one PromQL query, then "it returned a
    number", then ``> 0``), the constants the PromQL itself compares with."""
    data = [q for q in rule["data"] if q.get("datasourceUid") != "__expr__"]
    maths = [q["model"] for q in rule["data"] if q["model"].get("type") == "math"]
    if len(data) == 1 and maths and "is_number" in maths[0].get("expression", ""):
        expr = data[0]["model"].get("expr", "")
        return {float(v) for v in re.findall(r"(?:[<>]=?|[=!]=)\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)(?![\w.])", expr)}
    (cond,) = [q["model"] for q in rule["data"] if q["refId"] == rule["condition"]]
    if cond["type"] == "threshold":
        return {float(v) for c in cond["conditions"] for v in c["evaluator"]["params"]}
    assert cond["type"] == "math", cond
    return {float(v) for v in re.findall(r"\$\w+\s*[<>=!]=?\s*(-?[\d.]+(?:e[-+]?\d+)?)", cond["expression"])}


def panel_queries(panel: dict) -> list[str]:
    return [t.get("expr", t.get("query")) for t in panel["targets"]]


def panel_thresholds(panel: dict) -> set[float]:
    """The drawn threshold steps (the base step, null, is -Infinity: no line)."""
    return {float(s["value"]) for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"] if s["value"] is not None}


def catalog(*edits: tuple[str, str], append: str = ""):
    text = preset_path("default").read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return parse_catalog(text + append, "edited.yaml")


SCOPED = "\nprometheus:\n  matchers:\n    - {label: env, value: prod}\n    - {label: cluster, value: eu-1}\n"


@pytest.fixture(scope="module")
def built():
    return build_artifacts(load_catalog())


@pytest.fixture(scope="module")
def built_tempo():
    return build_artifacts(catalog(("tempo_rules: false", "tempo_rules: true")))


@pytest.fixture(scope="module")
def built_scoped():
    return build_artifacts(catalog(append=SCOPED))


def dashboards_of(b) -> dict[str, dict]:
    return {json.loads(c)["uid"]: json.loads(c) for p, c in b.artifacts.items()
            if p.startswith("dashboards/") and p.endswith(".json")}


def grafana_rules(b) -> list[dict]:
    return [r for p, c in sorted(b.artifacts.items()) if p.startswith("alerts/grafana/")
            for r in json.loads(c)["rules"]]


def problems_of(b, artifacts: dict | None = None, cat=None) -> list[str]:
    return [str(p) for p in lint_artifacts(artifacts or b.artifacts, cat or b.rules.catalog).problems]


# --- point 10: the alert's panel is the alert's expression -------------------------------------------

@pytest.mark.parametrize("which", ["built", "built_tempo", "built_scoped"])
def test_every_alert_links_to_a_panel_plotting_its_expression_and_threshold(which, request):
    b = request.getfixturevalue(which)
    dashboards = dashboards_of(b)
    alerts = [r for r in grafana_rules(b) if "record" not in r]
    assert len(alerts) >= 24
    for r in alerts:
        ann = r["annotations"]
        panel = next(p for p in dashboards[ann["__dashboardUid__"]]["panels"] if p["id"] == int(ann["__panelId__"]))
        # the panel plots the rule's own data query first (its one PromQL expression, or its TraceQL), then
        # the signals inside it; it draws the limits the rule compares with (a guard's event count is not one)
        assert rule_queries(r) and panel_queries(panel)[:len(rule_queries(r))] == rule_queries(r), r["title"]
        assert panel_thresholds(panel) and set(panel_thresholds(panel)) <= set(rule_thresholds(r)), r["title"]
        assert panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] == "dashed"
    # the Prometheus form links to the same panels (provisioning: dashboardUid/panelId)
    assert {r["annotations"]["__panelId__"] for r in alerts} == {
        str(r.panel[1]) for r in b.rules.rules if r.is_alert and (r.prometheus or which == "built_tempo")}


def test_lint_catches_an_alert_linked_to_other_numbers(built):
    rules_path = next(p for p in built.artifacts if p.endswith("voice-errors.json") and "grafana" in p)
    group = json.loads(built.artifacts[rules_path])
    overview = dashboards_of(built)["voice-overview"]
    tempo_panel = next(p for p in overview["panels"] if any("tempo" == (t.get("datasource") or {}).get("type")
                                                             for t in p.get("targets", [])))
    group["rules"][0]["annotations"].update(__dashboardUid__="voice-overview", __panelId__=str(tempo_panel["id"]))
    broken = dict(built.artifacts, **{rules_path: json.dumps(group)})
    found = [p for p in problems_of(built, broken) if "plots other queries" in p]
    assert len(found) == 1 and group["rules"][0]["uid"] in found[0]
    # a panel with the right query and a moved threshold line
    alerts_path = next(p for p in built.artifacts if p.endswith("voice-alerts.json"))
    dash = json.loads(built.artifacts[alerts_path])
    panel = next(p for p in dash["panels"] if p.get("title", "").startswith("TTS: error rate"))
    panel["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"] = 0.1
    broken = dict(built.artifacts, **{alerts_path: json.dumps(dash)})
    assert [p for p in problems_of(built, broken) if "draws thresholds [0.1]" in p]


# --- point 1: Tempo's range limit and version ---------------------------------------------------------

def test_tempo_block_defaults_and_dashboard_ranges(built):
    c = built.rules.catalog
    assert (c.tempo_server.version, c.tempo_server.metrics_max_range) == ("2.7", "3h")  # the preset's block
    bare = catalog(('tempo:\n  version: "2.7"\n  metrics_max_range: 3h\n', ""),
                   ("panels: [quantiles, average]", "panels: [quantiles]"))  # an average needs Tempo 2.7
    assert (bare.tempo_server.version, bare.tempo_server.metrics_max_range) == ("2.6", "3h")  # spec defaults
    # every dashboard opens on the limit, but the drilldown: its searches on an empty session look at 1h
    ranges = {d["uid"]: d["time"]["from"] for d in dashboards_of(built).values()}
    assert ranges.pop("voice-session") == "now-1h" and set(ranges.values()) == {"now-3h"}
    short = build_artifacts(catalog(("metrics_max_range: 3h", "metrics_max_range: 1h")))
    assert {d["time"]["from"] for d in dashboards_of(short).values()} == {"now-1h"}


def test_lint_flags_a_default_range_beyond_tempos_limit(built):
    path = "dashboards/voice-agent/voice-tts.json"
    d = json.loads(built.artifacts[path])
    d["time"]["from"] = "now-6h"
    problems = problems_of(built, dict(built.artifacts, **{path: json.dumps(d)}))
    assert [p for p in problems if p.startswith(path) and "now-6h is longer than Tempo's TraceQL metrics limit 3h" in p]
    # a PromQL-only dashboard may look further back: only TraceQL metrics are limited
    path = "dashboards/voice-agent/voice-alerts.json"
    d = json.loads(built.artifacts[path])
    d["time"]["from"] = "now-6h"
    assert not problems_of(built, dict(built.artifacts, **{path: json.dumps(d)}))


def test_lint_flags_traceql_features_newer_than_the_oldest_tempo(built):
    # the catalog refuses a Tempo too old for its panels (test_catalog_variants.py); lint still
    # checks the files it is given against the catalog's version
    built = build_artifacts(load_catalog())
    old = dataclasses.replace(built.rules.catalog, tempo_server=TempoServer("2.6", "3h"))
    problems = problems_of(built, cat=old)
    assert problems and all("newer than tempo.version 2.6" in p for p in problems)
    assert any("min/max/avg_over_time, which needs Tempo 2.7" in p and "Jitter buffer depth" in p for p in problems)
    path = "dashboards/voice-agent/voice-session.json"
    d = json.loads(built.artifacts[path])
    target = next(t for p in d["panels"] for t in p.get("targets", []) if t.get("query"))
    target["query"] += " with(most_recent=true)"
    problems = problems_of(built, dict(built.artifacts, **{path: json.dumps(d)}))
    assert any("with(most_recent=true), which needs Tempo 2.8" in p for p in problems)


def test_tempo_version_must_be_quoted_major_minor():
    with pytest.raises(CatalogError) as exc:
        catalog(('version: "2.7"', "version: 2.7"))
    assert re.match(r"edited\.yaml:\d+:\d+: tempo\.version must be a string", str(exc.value))


# --- point 11: extra matchers on every PromQL ------------------------------------------------------------

def _selectors(expr: str) -> list[str]:
    """The series selectors of a PromQL expression (a ``${var}`` inside one included)."""
    return [s for s in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*\{(?:[^{}]|\$\{[a-z_]+\})*\}", expr)
            if not s.startswith("slo:")]  # a recorded SLO ratio: its recording rule was scoped


def all_promql(b) -> list[tuple[str, str]]:
    """(path, expression) of every PromQL query in every output form."""
    out = []
    for path, content in b.artifacts.items():
        if path.startswith("dashboards/") and path.endswith(".json"):
            out += [(path, t["expr"]) for p in json.loads(content)["panels"] for t in p.get("targets", []) if "expr" in t]
        elif path.startswith("alerts/grafana/"):
            out += [(path, q["model"]["expr"]) for r in json.loads(content)["rules"] for q in r["data"]
                    if "expr" in q["model"]]
        elif path.startswith("alerts/") and not path.startswith("alerts/routing/"):  # routing: no queries
            for g in yaml.safe_load(content)["groups"]:
                for r in g["rules"]:
                    out += [(path, r["expr"])] if "expr" in r else [
                        (path, q["model"]["expr"]) for q in r["data"] if "expr" in q["model"]]
    return out


def test_every_promql_carries_the_catalogs_matchers(built_scoped):
    b = built_scoped
    exprs = all_promql(b)
    assert len(exprs) > 100
    for path, expr in exprs:
        for sel in _selectors(expr):
            if path.endswith("voice-alerts.json") or path.startswith("alerts/"):  # what pages: literal
                assert 'env="prod"' in sel and 'cluster="eu-1"' in sel, (path, sel)
            else:  # a dashboard panel: through the dashboard variables
                assert 'env=~"${env}"' in sel and 'cluster=~"${cluster}"' in sel, (path, sel)
    variables = {v["name"]: v for d in dashboards_of(b).values() if d["uid"] != "voice-alerts"
                 for v in d["templating"]["list"]}
    assert variables["env"]["query"] == "prod" and variables["cluster"]["query"] == "eu-1"
    assert not problems_of(b)


def test_a_matcher_on_the_stage_label_is_refused():
    with pytest.raises(CatalogError) as exc:
        catalog(append="\nprometheus:\n  matchers:\n    - {label: audio_stage, value: tts}\n")
    assert "is the stage label" in str(exc.value) and re.match(r"edited\.yaml:\d+:\d+:", str(exc.value))


# --- points 7 and 15 -------------------------------------------------------------------------------------------

def test_no_grafana_rule_pages_on_missing_data(built):
    rules = grafana_rules(built)
    assert rules and {r["noDataState"] for r in rules} == {"OK"}
    names = {r["title"] for r in rules}
    assert "TTS: no telemetry for 15m" in names
    assert any(n.startswith("Turns per second dropped to zero") for n in names)


def test_grafana_recording_rules_unless_turned_off(built):
    every_form = {"alerts/prometheus/voice-slo-recording.yaml", "alerts/provisioning/voice-slo-recording.yaml",
                  "alerts/grafana/voice-agent/voice-slo-recording.json"}
    assert {p for p in built.artifacts if "slo-recording" in p} == every_form  # auto, the default
    off = build_artifacts(catalog(("tempo_rules: false", "tempo_rules: false\n  grafana_recording_rules: false")))
    assert {p for p in off.artifacts if "slo-recording" in p} == {"alerts/prometheus/voice-slo-recording.yaml"}
