"""dashgen/lint/semantics.py (issue 15): each class of defect a real Grafana or Tempo would show is
caught on a hand-broken copy of a built dashboard, and the built output has none of them."""

from __future__ import annotations

import copy
import json

import pytest

from dashgen.build import build_artifacts
from dashgen.catalog import PRESETS, load_catalog
from dashgen.lint import semantics
from dashgen.lint import lint_artifacts


def dashboards(preset: str = "default") -> dict[str, dict]:
    arts = build_artifacts(load_catalog(preset)).artifacts
    return {p: json.loads(c) for p, c in arts.items() if p.startswith("dashboards/") and p.endswith(".json")}


@pytest.fixture(scope="module")
def built() -> dict[str, dict]:
    return dashboards()


def broken(built, uid: str, pick, change, catalog=None) -> list[str]:
    """Problems of the built set after ``change(panel)`` on the first panel of ``uid`` that ``pick`` accepts."""
    ds = copy.deepcopy(built)
    path = next(p for p, d in ds.items() if d["uid"] == uid)
    panel = next(p for p in ds[path]["panels"] if pick(p))
    change(panel)
    return [str(p) for p in semantics.check(ds, catalog)]


def tempo_q(panel) -> str:
    return " ".join(t.get("query", "") for t in panel.get("targets", []))


@pytest.mark.parametrize("preset", PRESETS)
def test_built_output_has_no_semantic_problem(preset):
    assert semantics.check(dashboards(preset), load_catalog(preset)) == []


def test_stat_in_palette_colours_is_caught(built):
    def change(p):
        p["fieldConfig"]["defaults"]["color"] = {"mode": "palette-classic"}
    problems = broken(built, "voice-overview", lambda p: p["type"] == "stat", change)
    assert any("colour mode 'palette-classic' ignores its threshold steps" in p for p in problems), problems


def test_time_series_that_draws_no_threshold_is_caught(built):
    def change(p):
        p["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] = {"mode": "off"}
    problems = broken(built, "voice-tts", lambda p: p["type"] == "timeseries" and "350" in p.get("description", ""), change)
    assert any("draws none (thresholdsStyle off)" in p for p in problems), problems


def test_severity_that_falls_as_the_value_rises_is_caught(built):
    def change(p):
        p["fieldConfig"]["defaults"]["thresholds"]["steps"].append({"color": "orange", "value": 600})
    problems = broken(built, "voice-overview", lambda p: p["title"] == "First byte p95 by stage", change)
    assert any("from red to orange at 600" in p for p in problems), problems


def test_a_better_when_higher_scale_that_turns_back_is_caught(built):
    """The SLO dashboard's budget left is red below 0, orange below 25%, green above: falling severity is
    a scale; red again above green is not."""
    pick = lambda p: p["title"].endswith("error budget remaining")  # noqa: E731
    steps = next(p for d in built.values() if d["uid"] == "voice-slo" for p in d["panels"] if pick(p))
    assert [s["color"] for s in steps["fieldConfig"]["defaults"]["thresholds"]["steps"]] == ["red", "orange", "green"]

    def change(p):
        p["fieldConfig"]["defaults"]["thresholds"]["steps"].append({"color": "red", "value": 2})
    problems = broken(built, "voice-slo", pick, change)
    assert any("from green to red at 2" in p for p in problems), problems


def test_unnamed_tempo_series_and_shared_quantile_names_are_caught(built):
    def drop(p):
        p["fieldConfig"]["overrides"] = []
    problems = broken(built, "voice-overview", lambda p: p["title"] == "First byte p95 by stage", drop)
    assert any("keep Grafana's label-set names" in p for p in problems), problems

    def merge(p):  # the old barge-in breakdown: one panel, a quantile query per milestone
        p["targets"].append(dict(p["targets"][0], refId="B", query=p["targets"][0]["query"].replace("vad_detect", "cancel")))
    problems = broken(built, "voice-barge-in", lambda p: "vad_detect_ms, 0.5, 0.95" in tempo_q(p), merge)
    assert any("several quantile queries on one panel" in p for p in problems), problems


def test_tables_sorting_strings_or_a_hidden_name_are_caught(built):
    def untyped(p):
        p["transformations"] = []
    problems = broken(built, "voice-tts", lambda p: p["type"] == "table", untyped)
    assert any("a string column to Grafana" in p for p in problems), problems
    assert any("add a convertFieldType" in p for p in problems), problems

    def by_time(p):
        p["options"]["sortBy"] = [{"displayName": "time", "desc": False}]
    problems = broken(built, "voice-session", lambda p: p["type"] == "table", by_time)
    assert any("sorts by 'time', which the table shows as 'Start time'" in p for p in problems), problems


def test_span_rates_in_reqps_are_caught(built):
    def change(p):
        p["fieldConfig"]["defaults"]["unit"] = "reqps"
    problems = broken(built, "voice-overview", lambda p: p["title"] == "Turns per second", change)
    assert any("'reqps'" in p for p in problems), problems


def test_links_that_lose_context_or_the_sub_path_are_caught(built):
    def absolute(p):
        p["fieldConfig"]["defaults"]["links"][0]["url"] = "http://grafana.example.com/d/voice-session/?var-session=x"
    problems = broken(built, "voice-tts", lambda p: p["type"] == "table", absolute)
    assert any("does not start with '/'" in p for p in problems), problems

    def no_vars(p):
        p["fieldConfig"]["defaults"]["links"][0]["url"] = "/d/voice-session/?var-session=${__value.raw}"
    problems = broken(built, "voice-tts", lambda p: p["type"] == "table", no_vars)
    assert any("drops the time range or the datasource variables" in p for p in problems), problems


def test_metrics_queries_without_exemplars_are_caught(built):
    def change(p):
        p["targets"][0]["exemplars"] = 0
    problems = broken(built, "voice-llm", lambda p: "quantile_over_time" in tempo_q(p), change)
    assert any("without exemplars" in p for p in problems), problems


def test_match_everything_regex_is_caught(built):
    def change(p):
        p["targets"][0]["query"] = p["targets"][0]["query"].replace("{ ", '{ resource.service.name =~ ".*" && ', 1)
    problems = broken(built, "voice-asr", lambda p: "rate()" in tempo_q(p), change)
    assert any('=~ ".*"' in p for p in problems), problems


def test_lint_runs_the_semantic_checks(built):
    arts = build_artifacts(load_catalog()).artifacts
    path = next(p for p in arts if p.endswith("voice-overview.json"))
    d = json.loads(arts[path])
    next(p for p in d["panels"] if p["type"] == "stat")["fieldConfig"]["defaults"]["color"] = {"mode": "palette-classic"}
    arts[path] = json.dumps(d)
    report = lint_artifacts(arts, load_catalog())
    assert any("ignores its threshold steps" in str(p) for p in report.problems)


def _undocumented(p):
    p["description"] = p["description"].replace("below 2", "under two")


def test_quantiles_over_values_that_can_be_below_two_say_so():
    """Tempo drops values below 2 from quantile_over_time/histogram_over_time: a panel over a
    measurement whose real values can be 0 or 1 says so, or lint fails (with the catalog: a percent,
    a small time limit; without: the attribute's name)."""
    built, catalog = dashboards(), load_catalog()
    revision = lambda p: "revision_pct, 0.5" in tempo_q(p)  # noqa: E731 - a percent: 0 % is the good case
    problems = broken(built, "voice-asr", revision, _undocumented, catalog)
    assert problems == ["dashboards/voice-agent/voice-asr.json: panel 'Final revision of the last partial p50/p95/p99': "
                        "quantiles/histogram of span.audio.revision_pct and it is in percent, where 0 and 1 are real "
                        "values; Tempo drops values below 2, so the panel describes only the rest: record them as "
                        ">= 2 or say so in the description ('below 2')"]
    assert broken(built, "voice-asr", revision, _undocumented) != []  # without the catalog: by the name (_pct)
    heat = lambda p: p["type"] == "heatmap" and "jitter" in tempo_q(p)  # noqa: E731 - ms with a 60 ms limit
    assert any("its limit is 60 ms" in p for p in broken(built, "voice-client", heat, _undocumented, catalog))
    # First byte in ms with limits of 150 ms and more: 0 and 1 ms are not real values; no note needed.
    first = lambda p: "first_byte_ms, 0.5" in tempo_q(p)  # noqa: E731
    assert broken(built, "voice-tts", first, _undocumented, catalog) == []


def test_a_catalog_float_in_a_quantile_is_caught():
    built, catalog = dashboards(), load_catalog("pipecat")
    def quantile_of_float(p):
        p["targets"][0]["query"] = '{ name = "tts" } | quantile_over_time(span.metrics.ttfb, 0.95)'
        p["description"] = ""
    problems = broken(built, "voice-tts", lambda p: "quantile_over_time" in tempo_q(p), quantile_of_float, catalog)
    assert any("records it as a float (s): Tempo counts no float at all" in p for p in problems), problems


def test_searches_driven_by_an_empty_variable_are_one_and_bounded(built):
    """The session drilldown opened on its own has an empty $session: one search at most, over a
    default range of at most an hour (point 14)."""
    session = next(d for d in built.values() if d["uid"] == "voice-session")
    searches = [p for p in session["panels"] for t in p.get("targets", [])
                if (t.get("datasource") or {}).get("type") == "tempo" and '"$session"' in t.get("query", "")]
    assert [p["title"] for p in searches] == ["Every span of session $session, in time order"]
    assert session["time"]["from"] == "now-1h"
    spans = searches[0]

    def own_search(p):  # the old bars: a search of their own instead of the spans table's result
        p["datasource"] = spans["targets"][0]["datasource"]
        p["targets"] = copy.deepcopy(spans["targets"])
    problems = broken(built, "voice-session", lambda p: p["type"] == "barchart", own_search)
    assert problems == ["dashboards/voice-agent/voice-session.json: 2 panels search Tempo for an empty $session when "
                        "the dashboard opens ('Every span of session $session, in time order', 'Per turn: ASR time to "
                        "first partial + LLM time to first token + TTS time to first audio + unexplained'): let one search and the "
                        "others reuse its result (Dashboard datasource)"]
    ds = copy.deepcopy(built)
    next(d for d in ds.values() if d["uid"] == "voice-session")["time"]["from"] = "now-6h"
    assert list(map(str, semantics.check(ds))) == ["dashboards/voice-agent/voice-session.json: searches Tempo for an empty $session "
                                   "over the whole default range (now-6h) when the dashboard opens: keep the default "
                                   "range within 1h (links bring their own)"]


def test_a_stat_hidden_in_a_collapsed_row_is_caught(built):
    """Issue 20: a collapsed row keeps its panels in its own ``panels`` list (Grafana's
    ``DashboardModel.toggleRow``); a palette-classic stat with threshold steps in there is as wrong
    as one on the grid, and lint, which reads every panel through dashgen.drawn, says so."""
    ds = copy.deepcopy(built)
    path = next(p for p, d in ds.items() if d["uid"] == "voice-overview")
    d = ds[path]
    stat = next(p for p in d["panels"] if p["type"] == "stat")
    d["panels"].remove(stat)
    stat["fieldConfig"]["defaults"]["color"] = {"mode": "palette-classic"}
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in d["panels"])
    d["panels"].append({"type": "row", "id": 9999, "title": "Hidden", "collapsed": True,
                        "gridPos": {"x": 0, "y": bottom, "w": 24, "h": 1}, "panels": [stat]})
    found = [p for p in semantics.check(ds) if p.rule == "threshold-colour"]
    assert [(p.severity, p.location.dashboard, p.location.panel) for p in found] == [
        ("error", "voice-overview", stat["title"])], found
    assert "colour mode 'palette-classic' ignores its threshold steps" in found[0].message
    # the same stat open in its row (expanded) is fine once it is coloured by its thresholds again
    stat["fieldConfig"]["defaults"]["color"] = {"mode": "thresholds"}
    assert [p for p in semantics.check(ds) if p.rule == "threshold-colour"] == []
