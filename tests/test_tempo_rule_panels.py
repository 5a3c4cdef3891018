"""``alerting.tempo_rules: true`` builds (issue 22): the Tempo rules' panels name their series as
Grafana names Tempo series, and the alert rules dashboard keeps the TraceQL query budget at any
number of stages. Before, every catalog with tempo_rules: true was refused by build's own gate."""

from __future__ import annotations

import json
import re

import pytest

import yaml

from conftest import DEFAULT_CATALOG, clone_stages
from dashgen.build import build_artifacts
from dashgen.catalog import parse_catalog
from dashgen.dashboards.budget import MAX_METRICS_QUERIES, MAX_PANELS_ON_LOAD
from dashgen.dashboards.series import tempo_series_name
from dashgen.errors import CatalogError
from dashgen.lint import lint_artifacts
from dashgen.lint.gate import refuse_lint_problems

BASE = DEFAULT_CATALOG.read_text(encoding="utf-8")
TEMPO = BASE.replace("tempo_rules: false", "tempo_rules: true")


def _cloned(text: str, copies: int) -> str:
    """``text`` with its stage list repeated ``copies`` times (ids, spans and titles made distinct)."""
    doc = yaml.safe_load(text)
    doc["stages"] = clone_stages(doc["stages"], copies * len(doc["stages"]))
    return yaml.safe_dump(doc, sort_keys=False)


def _dashboards(build) -> dict[str, dict]:
    return {json.loads(t)["uid"]: json.loads(t) for p, t in build.artifacts.items()
            if p.startswith("dashboards/") and p.endswith(".json")}


def _tempo_rules(build) -> list[dict]:
    return [r for p, t in build.artifacts.items() if p.startswith("alerts/grafana/") for r in json.loads(t)["rules"]
            if any(q.get("datasourceUid") and "quantile_over_time" in json.dumps(q["model"]) for q in r["data"])]


def _grafana_regex(pattern: str) -> re.Pattern:
    """A ``/.../`` byRegexp option as Grafana compiles it (stringToJsRegex); lookaheads read the same in Python."""
    assert pattern.startswith("/") and pattern.endswith("/")
    return re.compile(pattern[1:-1])


@pytest.fixture(scope="module")
def built():
    catalog = parse_catalog(TEMPO, "tempo.yaml")
    return catalog, build_artifacts(catalog)


def test_tempo_rules_build_and_pass_the_gate(built):
    catalog, build = built
    assert lint_artifacts(build.artifacts, catalog).ok
    refuse_lint_problems(build.artifacts, build.dashboards, catalog)  # raises when refused
    assert len(_tempo_rules(build)) == 4


def test_tempo_rule_panels_name_their_series_as_grafana_does(built):
    _, build = built
    dashboards = _dashboards(build)
    rules = _tempo_rules(build)
    for r in rules:
        panel = next(p for p in dashboards[r["annotations"]["__dashboardUid__"]]["panels"]
                     if p["id"] == int(r["annotations"]["__panelId__"]))
        q = float(re.search(r"quantile_over_time\([^,]+,\s*([0-9.]+)\)", panel["targets"][0]["query"]).group(1))
        # the names Grafana gives the one series: the bare value, or with the function's name (series.py)
        names = [tempo_series_name({"p": q}), tempo_series_name({"__name__": "quantile_over_time", "p": q})]
        for name in names:
            shown = [o["properties"][0]["value"] for o in panel["fieldConfig"]["overrides"]
                     if o["matcher"]["id"] == "byRegexp" and _grafana_regex(o["matcher"]["options"]).fullmatch(name)]
            assert len(shown) == 1, (panel["title"], name, panel["fieldConfig"]["overrides"])
            stage = r["labels"].get("stage") or panel["title"].split(":")[0].lower()
            assert shown[0].startswith(stage) and "p95" in shown[0] and "traces" in shown[0], shown


def test_tempo_rules_at_many_stages_keep_the_query_budget_on_every_page():
    catalog = parse_catalog(_cloned(TEMPO, 8), "tempo40.yaml")
    build = build_artifacts(catalog)
    refuse_lint_problems(build.artifacts, build.dashboards, catalog)
    pages = {uid: d for uid, d in _dashboards(build).items() if uid.startswith("voice-alerts")}
    assert len(pages) >= 3, sorted(pages)
    for uid, d in pages.items():
        metrics = sum(1 for p in d["panels"] for t in p.get("targets", []) if "quantile_over_time" in t.get("query", ""))
        assert metrics <= MAX_METRICS_QUERIES and len(d["panels"]) <= MAX_PANELS_ON_LOAD, (uid, metrics)
    # every Tempo rule still links to its own panel, on the page that holds it
    rules = _tempo_rules(build)
    assert len(rules) == 32
    for r in rules:
        page = pages[r["annotations"]["__dashboardUid__"]]
        assert any(p["id"] == int(r["annotations"]["__panelId__"]) and p["title"] == r["title"] for p in page["panels"])


@pytest.mark.parametrize("stage_id,taken", [("session", "the session drilldown"), ("overview", "the overview"),
                                            ("alerts", "the alert rules"), ("slo", "the SLO dashboard"),
                                            ("alerts_page_2", "a page of the alert rules"),
                                            ("slo_page_12", "a page of the SLO dashboard")])
def test_a_stage_id_taking_a_generated_dashboards_uid_is_refused_at_its_line(stage_id, taken):
    text = BASE.replace("  - id: llm\n", f"  - id: {stage_id}\n", 1)
    with pytest.raises(CatalogError) as exc:
        parse_catalog(text, "taken.yaml")
    line = text.splitlines().index(f"  - id: {stage_id}") + 1
    assert str(exc.value).startswith(f"taken.yaml:{line}:9: stage id {stage_id!r} would give its dashboard the uid "
                                     f"of {taken}"), str(exc.value)
    assert f"rename the stage, e.g. {stage_id}_stage" in str(exc.value)
    # not reserved: ids that merely start like one
    parse_catalog(BASE.replace("  - id: llm\n", f"  - id: {stage_id}x\n", 1), "fine.yaml")
