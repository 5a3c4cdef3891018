"""The voice-agent dashboards (issue 3): every panel the practice needs, found by panel type
and query content (not by title alone), for the default catalog and the presets."""

from __future__ import annotations

import json
import re

import pytest

from dashgen.build import build_artifacts
from dashgen.catalog import PRESETS, load_catalog
from dashgen.voice.burn_rates import burn_rates
from dashgen.lint import lint_artifacts
from dashgen.lint.dashboards import MAX_METRICS_QUERIES, is_metrics_query
from traceql_grammar import assert_traceql_parses


def build(preset: str = "default") -> dict[str, dict]:
    res = build_artifacts(load_catalog(preset))
    return {json.loads(c)["uid"]: json.loads(c) for p, c in res.artifacts.items()
            if p.startswith("dashboards/") and p.endswith(".json")}


@pytest.fixture(scope="module")
def dashboards():
    return build()


def tempo_queries(panel):
    """TraceQL of a panel (a trace panel's query is a trace id, not TraceQL)."""
    if panel.get("type") == "traces":
        return []
    return [t["query"] for t in panel.get("targets", []) if (t.get("datasource") or {}).get("type") == "tempo"]


def find(dash, ptype, *patterns):
    """Panels of type ``ptype`` having a query that matches every regex in ``patterns``."""
    out = []
    for p in dash["panels"]:
        if p["type"] != ptype:
            continue
        for q in tempo_queries(p):
            if all(re.search(pat, q) for pat in patterns):
                out.append(p)
                break
    return out


def one(dash, ptype, *patterns):
    found = find(dash, ptype, *patterns)
    assert found, f"{dash['uid']}: no {ptype} panel with a query matching {patterns}"
    return found[0]


def steps(panel):
    return [s["value"] for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]


def test_nine_dashboards_in_the_catalog_folder():
    res = build_artifacts(load_catalog())
    paths = sorted(p for p in res.artifacts if p.endswith(".json") and p.startswith("dashboards/"))
    # overview, 5 stages, session drilldown, alert rules, SLOs
    assert len(paths) == 9 and "dashboards/voice-agent/voice-slo.json" in paths
    assert all(p.startswith("dashboards/voice-agent/") for p in paths)


def test_every_dashboard_has_variables_range_refresh_and_links(dashboards):
    for d in dashboards.values():
        names = {v["name"]: v for v in d["templating"]["list"]}
        assert names["prometheus"]["type"] == "datasource" and names["prometheus"]["query"] == "prometheus"
        if d["uid"] == "voice-slo":  # Prometheus only: no Tempo query, no service filter to offer
            assert set(names) == {"prometheus"}
        else:
            assert names["tempo"]["type"] == "datasource" and names["tempo"]["query"] == "tempo"
            # services from Tempo's tag values: one or All; a hidden variable holds the whole condition
            # (the equality, or true with All: no service condition; docs/dashboards.md)
            # (the alert-rules dashboard is PromQL only: no service variable)
            assert d["uid"] == "voice-alerts" or (names["service"]["type"] == "query"
                                                  and names["service"]["includeAll"]
                                                  and names["service"]["multi"] is False
                                                  and names["service"]["allValue"] == "All : true"
                                                  and names["service_filter"]["type"] == "custom"
                                                  and names["service_filter"]["hide"] == 2)
        # the catalog's tempo.metrics_max_range (Tempo 2.x rejects longer TraceQL metrics ranges); the
        # drilldown opened on its own searches for an empty session: over the last hour only
        assert d["time"] == {"from": "now-1h" if d["uid"] == "voice-session" else "now-3h", "to": "now"}
        # the drilldown looks at past calls: no auto-refresh re-running its searches
        assert d["refresh"] == ("" if d["uid"] == "voice-session" else "1m")
        assert any(link["type"] == "dashboards" and "dashgen-audio" in link["tags"] for link in d["links"])
        assert "dashgen-audio" in d["tags"]


def test_every_panel_has_a_description_unit_and_catalog_thresholds(dashboards):
    catalog = load_catalog()
    limits = {t.value for s in catalog.stages for m in s.measurements for t in m.thresholds}
    limits |= {rate for s in catalog.stages if s.slo for _, _, _, rate in burn_rates(s.slo)}
    limits |= {catalog.alerting.error_rate.above, catalog.alerting.nothing_rate.above}
    limits |= {catalog.good_turn.objective}  # the good-turn tile and session score
    # the SLO dashboard: objectives, and the budget's own lines (0 = spent, the warning share, days left)
    from dashgen.dashboards.slo import BUDGET_WARN, EXHAUSTION_STEPS
    slo_limits = {s.slo.objective for s in catalog.stages if s.slo} | {0, BUDGET_WARN, 1} | {v for v, _ in EXHAUSTION_STEPS}
    for d in dashboards.values():
        for p in d["panels"]:
            if p["type"] == "row":
                continue
            assert len(p.get("description", "")) > 40, (d["uid"], p["title"])
            if d["uid"] == "voice-alerts":  # each alert's own thresholds: tests/test_alert_panels_tempo.py
                continue
            if p["type"] in ("timeseries", "heatmap", "stat") and tempo_queries(p):
                unit = p["fieldConfig"]["defaults"].get("unit") or p["options"].get("yAxis", {}).get("unit")
                assert unit, (d["uid"], p["title"])
            for v in steps(p)[1:] if "fieldConfig" in p else []:
                assert v in limits | (slo_limits if d["uid"] == "voice-slo" else set()), (d["uid"], p["title"], v)


def test_overview(dashboards):
    d = dashboards["voice-overview"]
    p = one(d, "timeseries", r"^\{ span\.audio\.stage != \"\" && span\.audio\.first_byte_ms >= 0",
            r"\| quantile_over_time\(span\.audio\.first_byte_ms, 0\.95\) by \(span\.audio\.stage\)$")
    assert p["fieldConfig"]["defaults"]["unit"] == "ms" and steps(p)[1:] == [150, 350]
    assert "select" not in tempo_queries(p)[0]
    # each stage's series is renamed after the stage (Tempo names it {p=0.95, span.audio.stage="asr"})
    names = [o["properties"][0]["value"] for o in p["fieldConfig"]["overrides"]]
    assert names == ["ASR p95", "LLM p95", "TTS p95", "Client p95", "Barge-in p95"]
    # each stage's headline: first byte p50/p95/p99, but barge-in is judged by silence
    for stage in ("asr", "llm", "tts"):
        one(d, "timeseries", rf'span\.audio\.stage = "{stage}"', r"quantile_over_time\(span\.audio\.first_byte_ms, 0\.5, 0\.95, 0\.99\)")
    one(d, "timeseries", r'span\.audio\.stage = "barge_in"', r"quantile_over_time\(span\.audio\.silence_ms, 0\.5, 0\.95, 0\.99\)")
    # what the caller feels: the client's first byte (end of speech to first agent audio)
    felt = one(d, "timeseries", r'span\.audio\.stage = "client"', r"quantile_over_time\(span\.audio\.first_byte_ms, 0\.5, 0\.95\)")
    assert "caller" in felt["title"] and "end of the user's speech" in felt["description"]
    # one stat per stage with a p95 limit, coloured by it, reusing that stage's panel
    stats = [p for p in d["panels"] if p["type"] == "stat"]
    # first the turn as a whole: the good-turn tile (tests/test_good_turn.py), from Prometheus
    good, stats = stats[0], stats[1:]
    assert good["title"] == "Good turns (last 1h)" and good["targets"][0]["datasource"]["type"] == "prometheus"
    ids = {p["id"] for p in d["panels"]}
    assert [s["title"] for s in stats] == ["ASR time to first partial p95 now", "LLM time to first token p95 now",
                                           "TTS time to first audio p95 now", "Barge-in outbound audio silent p95 now"]
    for s in stats:
        assert s["targets"][0]["datasource"]["uid"] == "-- Dashboard --" and s["targets"][0]["panelId"] in ids
        assert s["fieldConfig"]["defaults"]["color"] == {"mode": "thresholds"}
        name = s["fieldConfig"]["overrides"][0]["properties"][0]["value"]
        assert s["options"]["reduceOptions"]["fields"] == "/^" + re.escape(name) + "$/"
    tts_stat = next(s for s in stats if s["title"].startswith("TTS"))
    assert steps(tts_stat) == [None, 350] and tts_stat["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["color"] == "red"
    barge = next(s for s in stats if s["title"].startswith("Barge-in"))
    assert steps(barge) == [None, 200] and "silence" in tempo_queries(
        next(p for p in d["panels"] if p["id"] == barge["targets"][0]["panelId"]))[0]
    one(d, "timeseries", r"span\.audio\.first_byte_ms = -1", r"rate\(\) by \(span\.audio\.stage\)")
    one(d, "timeseries", r"span\.audio\.error = true", r"rate\(\) by \(span\.audio\.stage\)")
    one(d, "timeseries", r'name = "voice\.turn"', r"\| rate\(\)$")
    ratios = [p for p in d["panels"] if p["title"] in ("Error ratio by stage", "Produced-nothing ratio by stage")]
    assert [r["targets"][0]["expr"] for r in ratios] == [
        "sum by (audio_stage) (rate(audio_stage_errors_total[5m])) / sum by (audio_stage) (rate(audio_stage_runs_total[5m]))",
        "sum by (audio_stage) (rate(audio_stage_nothing_total[5m])) / sum by (audio_stage) (rate(audio_stage_runs_total[5m]))"]
    assert all(r["fieldConfig"]["defaults"]["unit"] == "percentunit" for r in ratios)
    (alerts,) = [p for p in d["panels"] if p["type"] == "alertlist"]
    assert alerts["options"]["alertInstanceLabelFilter"] == 'team="voice"'
    (dashes,) = [p for p in d["panels"] if p["type"] == "dashlist"]
    assert dashes["options"]["tags"] == ["dashgen-audio"] and dashes["options"]["keepTime"] and dashes["options"]["includeVars"]


def test_barge_in(dashboards):
    d = dashboards["voice-barge-in"]
    bd = [p for p in d["panels"] if p["type"] == "timeseries"
          and any(re.search(r"quantile_over_time\(span\.audio\.\w+, 0\.5, 0\.95\)$", q) for q in tempo_queries(p))]
    order = [re.search(r"quantile_over_time\(span\.audio\.(\w+), ", tempo_queries(p)[0]).group(1) for p in bd]
    assert order == ["vad_detect_ms", "cancel_ms", "silence_ms"]
    for p in bd:  # one milestone per panel, each on the 200 ms page line, series named p50/p95
        assert steps(p) == [None, 200] and p["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] == "dashed"
        assert "from the moment VAD fired" in p["description"]
        assert [o["properties"][0]["value"].rsplit(" ", 1)[1] for o in p["fieldConfig"]["overrides"]] == ["p50", "p95"]
    hm = one(d, "heatmap", r"\| histogram_over_time\(span\.audio\.silence_ms\)$")
    assert hm["options"]["calculate"] is False and hm["options"]["rowsFrame"]["layout"] == "le"
    assert hm["options"]["yAxis"]["unit"] == "ms"
    one(d, "timeseries", r'span\.audio\.stage = "barge_in"', r"\| rate\(\)$")
    one(d, "timeseries", r"span\.audio\.silence_ms > 200", r"\| rate\(\)$")
    table = one(d, "table", r"span\.audio\.silence_ms > 200",
                r"select\(span\.audio\.session_id, span\.audio\.turn_id, span\.audio\.vad_detect_ms, "
                r"span\.audio\.cancel_ms, span\.audio\.silence_ms")
    assert table["targets"][0]["tableType"] == "spans"
    link = table["fieldConfig"]["defaults"]["links"][0]["url"]
    assert link.startswith("/d/voice-session/") and 'var-session=${__data.fields["audio.session_id"]}' in link
    assert "var-tempo=${tempo}" in link and "${__url_time_range}" in link


def test_tables_type_their_numeric_columns_and_sort_by_a_displayed_name(dashboards):
    for d in dashboards.values():
        for p in d["panels"]:
            if p["type"] != "table" or p["targets"][0]["datasource"]["type"] != "tempo":
                continue  # a table of another panel's result (Dashboard datasource) has its columns typed
            conv = [t for t in p.get("transformations", []) if t["id"] == "convertFieldType"]
            assert conv, (d["uid"], p["title"])
            typed = {c["targetField"] for c in conv[0]["options"]["conversions"]}
            for sort in p["options"]["sortBy"]:
                assert sort["displayName"] == "Start time" or sort["displayName"] in typed, (d["uid"], p["title"])
            if "above" in p["title"]:
                assert "slowest" not in p["title"].lower() and "first ones Tempo finds" in p["description"]


def test_tts(dashboards):
    d = dashboards["voice-tts"]
    p = one(d, "timeseries", r"quantile_over_time\(span\.audio\.first_byte_ms, 0\.5, 0\.95, 0\.99\)")
    assert 350 in steps(p)
    one(d, "heatmap", r"\| histogram_over_time\(span\.audio\.tts_max_gap_ms\)$")
    one(d, "timeseries", r"span\.audio\.tts_max_gap_ms > 120", r"\| rate\(\)$")
    one(d, "table", r"span\.audio\.first_byte_ms > 350", r"select\(span\.audio\.session_id")


def test_asr(dashboards):
    d = dashboards["voice-asr"]
    p = one(d, "timeseries", r"quantile_over_time\(span\.audio\.first_byte_ms, [0-9., ]*0\.95")
    assert 150 in steps(p)
    one(d, "timeseries", r"quantile_over_time\(span\.audio\.time_to_final_ms, [0-9., ]*0\.95")
    one(d, "heatmap", r"histogram_over_time\(span\.audio\.revision_pct\)$")
    one(d, "timeseries", r"span\.audio\.revision_pct > 30", r"rate\(\)")
    one(d, "table", r"select\(span\.audio\.session_id")


def test_llm(dashboards):
    d = dashboards["voice-llm"]
    p = one(d, "timeseries", r"quantile_over_time\(span\.audio\.first_byte_ms, 0\.5, 0\.95, 0\.99\)")
    assert 600 in steps(p)
    one(d, "timeseries", r"quantile_over_time\(span\.audio\.total_ms")
    one(d, "table", r"span\.audio\.first_byte_ms > 600")


def test_client(dashboards):
    d = dashboards["voice-client"]
    one(d, "timeseries", r"quantile_over_time\(span\.audio\.jitter_ms, 0\.5, 0\.95\)$")
    one(d, "timeseries", r"avg_over_time\(span\.audio\.buffer_ms\)")
    one(d, "timeseries", r"quantile_over_time\(span\.audio\.buffer_ms, 0\.95\)")
    about = " ".join(p.get("options", {}).get("content", "") + p.get("description", "") for p in d["panels"]) + d["description"]
    assert "approximate" in about and "trust" in about
    one(d, "table", r"span\.audio\.jitter_ms > 60", r"select\(span\.audio\.session_id")


def test_slo_burn_panels_use_the_alerts_histograms_and_burn_rates(dashboards):
    catalog = load_catalog()
    for stage in (s for s in catalog.stages if s.slo):
        m = stage.measurement(stage.slo.measurement)
        uid = "voice-" + stage.id.replace("_", "-")
        # (the barge-in one-view panel reads the same histogram for its quantile, not a burn rate)
        panels = [p for p in dashboards[uid]["panels"]
                  if any(m.metric.name + "_bucket" in t.get("expr", "") for t in p.get("targets", []))
                  and not any("histogram_quantile" in t.get("expr", "") for t in p.get("targets", []))]
        assert len(panels) == 1, uid
        p = panels[0]
        assert all(t["datasource"] == {"type": "prometheus", "uid": "${prometheus}"} for t in p["targets"])
        assert [t["legendFormat"] for t in p["targets"]] == ["burn rate over 1h", "burn rate over 6h"]
        assert f'audio_stage="{stage.id}"' in p["targets"][0]["expr"] and "[1h]" in p["targets"][0]["expr"]
        assert sorted(steps(p)[1:]) == sorted({r for *_, r in burn_rates(stage.slo)})


def test_session_drilldown(dashboards):
    d = dashboards["voice-session"]
    variables = {v["name"]: v for v in d["templating"]["list"]}
    assert variables["session"]["type"] == "textbox" and variables["turn"]["type"] == "textbox"
    spans = one(d, "table", r'^\{ span\.audio\.session_id = "\$session"')
    q = tempo_queries(spans)[0]
    for attr in ("audio.stage", "audio.turn_id", "audio.first_byte_ms", "audio.total_ms", "audio.error",
                 "audio.tts_max_gap_ms", "audio.jitter_ms", "audio.silence_ms"):
        assert f"span.{attr}" in q
    assert spans["targets"][0]["tableType"] == "spans"
    assert spans["options"]["sortBy"] == [{"displayName": "Start time", "desc": False}]
    urls = [link["url"] for link in spans["fieldConfig"]["defaults"]["links"]]
    assert any("var-trace=${__data.fields.traceIdHidden}" in u and u.startswith("/d/voice-session/") for u in urls)
    explore = next(u for u in urls if u.startswith("/explore?"))
    assert "${__data.fields.traceIdHidden}" in explore and "${__from}" in explore and "now-6h" not in explore
    (trace,) = [p for p in d["panels"] if p["type"] == "traces"]
    assert trace["targets"][0]["query"] == "$trace" and variables["trace"]["query"] == ""
    # One search (the spans table's): the bars, the matrix and the turn table filter its typed result.
    reuse = {"datasource": {"type": "datasource", "uid": "-- Dashboard --"}, "panelId": spans["id"],
             "refId": "A", "withTransforms": True}
    (bars,) = [p for p in d["panels"] if p["type"] == "barchart"]
    assert bars["targets"] == [reuse]
    assert bars["transformations"][0]["options"]["filters"] == [
        # the critical path, and the caller-felt whole (client first byte) the remainder is taken from
        {"fieldName": "audio.stage", "config": {"id": "regex", "options": {"value": "^(asr|llm|tts|client)$"}}},
        {"fieldName": "audio.first_byte_ms", "config": {"id": "greaterOrEqual", "options": {"value": 0}}}]
    assert [t["id"] for t in bars["transformations"]] == ["filterByValue", "groupingToMatrix", "calculateField",
                                                          "calculateField", "organize"]
    (per_turn,) = [p for p in d["panels"] if p["title"] == "First byte of every stage, per turn"]
    assert per_turn["targets"] == [reuse]
    assert [t["id"] for t in per_turn["transformations"]] == ["filterByValue", "groupingToMatrix"]
    (turn,) = [p for p in d["panels"] if p["title"] == "Spans of turn $turn"]
    assert turn["targets"] == [reuse] and turn["transformations"][0]["options"]["filters"] == [
        {"fieldName": "audio.turn_id", "config": {"id": "equal", "options": {"value": "$turn"}}}]
    # every table of recent spans elsewhere links into this dashboard
    for uid, other in build().items():
        for p in other["panels"]:
            if p["type"] == "table" and uid != "voice-session":
                assert any("/d/voice-session/" in link["url"] for link in p["fieldConfig"]["defaults"]["links"])


def test_metrics_queries_ask_for_exemplars(dashboards):
    targets = [t for d in dashboards.values() for p in d["panels"] for t in p.get("targets", [])
               if "metricsQueryType" in t]
    assert targets and all(t["exemplars"] == 100 for t in targets)


@pytest.mark.parametrize("preset", PRESETS)
def test_every_query_parses_and_obeys_the_budget(preset):
    dashboards = build(preset)
    queries = []
    for d in dashboards.values():
        n_metrics = 0
        for p in d["panels"]:
            for q in tempo_queries(p):
                queries.append(q)
                if is_metrics_query(q):
                    n_metrics += 1
                    assert "select(" not in q
                    assert not re.search(r"[^0-9]\.\d", q.split("|", 1)[1])
                if "histogram_over_time" in q:
                    assert " by (" not in q
        assert n_metrics <= MAX_METRICS_QUERIES, (d["uid"], n_metrics)
    assert_traceql_parses(queries)
    report = lint_artifacts(build_artifacts(load_catalog(preset)).artifacts, load_catalog(preset))
    assert report.ok, report.problems


@pytest.mark.parametrize("preset", ["pipecat", "livekit"])
def test_float_presets_use_what_works_and_say_so(preset):
    dashboards = build(preset)
    all_queries = [q for d in dashboards.values() for p in d["panels"] for q in tempo_queries(p)]
    catalog = load_catalog(preset)
    floats = {m.attribute for s in catalog.stages for m in s.measurements if not m.integer}
    for q in all_queries:
        for attr in floats:
            assert f"quantile_over_time(span.{attr}" not in q and f"histogram_over_time(span.{attr}" not in q
    assert any("quantile_over_time(duration" in q for q in all_queries)
    assert any("avg_over_time(span." in q for q in all_queries)
    descriptions = " ".join(p.get("description", "") for d in dashboards.values() for p in d["panels"])
    assert "drop" in descriptions and "float" in descriptions
    # measurements the framework does not record are left out, not rendered empty
    assert not any(a in q for q in all_queries for a in ("jitter", "max_gap", "revision"))
    assert not any(p["type"] == "heatmap" for d in dashboards.values() for p in d["panels"])


@pytest.mark.parametrize("preset", PRESETS)
def test_every_promql_panel_query_passes_promtool(preset, tmp_path):
    """PromQL on dashboards is checked by the real Prometheus parser (as recording rules)."""
    import shutil
    import subprocess

    import yaml

    exprs = [t["expr"] for d in build(preset).values() for p in d["panels"] for t in p.get("targets", [])
             if (t.get("datasource") or {}).get("type") == "prometheus"]
    if preset == "default":
        # SLO burn panels (4 dashboards x 2), the alert-rules dashboard's queries (each Prometheus alert's
        # own expression and its signals: 8 burn (the good-turn SLO's 2 too) x 5, 4 p95 x 2, 10 ratios x 2,
        # 5 absent x 2, stopped 3), the SLO dashboard's 3 stage SLOs and the good-turn SLO x 12, the
        # barge-in milestones' p95 in one view (3) and the overview's good-turn tile (1)
        assert len(exprs) == 8 + 81 + 48 + 3 + 1
    rules = {"groups": [{"name": "dashboard-queries",
                         "rules": [{"record": f"dashgen:panel_query_{i}", "expr": e} for i, e in enumerate(exprs)]}]}
    path = tmp_path / "queries.yaml"
    path.write_text(yaml.safe_dump(rules))
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing: run ./scripts/test"
    res = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in res.stdout + res.stderr


def test_long_stage_ids_give_valid_stable_uids():
    """A valid catalog never produces a uid Grafana rejects: past 40 characters it is shortened with a hash."""
    from dashgen.catalog import parse_catalog, preset_path

    text = (preset_path("default").read_text(encoding="utf-8")
            .replace("  - id: tts\n", "  - id: tts_with_a_really_long_name_xy\n")
            .replace("uid_prefix: voice", "uid_prefix: abcdefghijklmnop"))
    builds = [build_artifacts(parse_catalog(text, "long.yaml")).artifacts for _ in range(2)]
    assert builds[0] == builds[1]
    uids = [json.loads(c)["uid"] for p, c in builds[0].items() if p.startswith("dashboards/") and p.endswith(".json")]
    assert all(re.fullmatch(r"[a-zA-Z0-9_-]{1,40}", u) for u in uids), uids
    assert any(u.startswith("abcdefghijklmnop-tts-with-a-rea-") and len(u) == 40 for u in uids)
    assert lint_artifacts(builds[0], parse_catalog(text, "long.yaml")).ok


def test_barge_in_in_one_view_names_every_milestone(dashboards):
    """Issue 24 §2: one panel with the p95 of every milestone together, each series named."""
    from dashgen.voice.barge_in import milestones

    catalog = load_catalog()
    stage = next(s for s in catalog.stages if s.id == "barge_in")
    ms = milestones(stage)
    d = next(d for d in dashboards.values() if d["uid"] == "voice-barge-in")
    views = [p for p in d["panels"] if len(p.get("targets") or []) == len(ms)
             and all("histogram_quantile(0.95," in t.get("expr", "") for t in p["targets"])]
    assert len(views) == 1
    (view,) = views
    names = [t["legendFormat"] for t in view["targets"]]
    assert len(set(names)) == len(ms) >= 3  # each series its own name
    assert [n.split(". ", 1)[1] for n in names] == [m.title for m in ms]  # in milestone order
    assert [m.attribute for m in ms] == ["audio.vad_detect_ms", "audio.cancel_ms", "audio.silence_ms"]
    for t, m in zip(view["targets"], ms):
        assert f"{m.metric.name}_bucket" in t["expr"]
    # the page line of the last milestone, as on the per-milestone panels
    steps = view["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert any(s["value"] == ms[-1].thresholds[0].value for s in steps if s["value"] is not None)


@pytest.mark.parametrize("preset", PRESETS)
def test_the_errors_panel_reads_only_stages_whose_spans_mark_a_failure(preset):
    """voice.errors: a stage with records_errors false never marks a failure (LiveKit's spans never do,
    Pipecat's only on the LLM). The overview's errors-per-second panel asks Tempo for the failed spans of
    the other stages, as the error-ratio panel and the error alerts do; with none, no panel that could
    only ever say "No data"."""
    from dashgen.voice.errors import counted

    catalog = load_catalog(preset)
    overview = next(d for d in build(preset).values() if d["uid"].endswith("-overview"))
    panels = [p for p in overview["panels"] if p.get("title") == "Errors per second by stage"]
    stages = counted(catalog)
    assert len(panels) == (1 if stages else 0), (preset, [s.id for s in catalog.stages])
    if stages:
        (query,) = tempo_queries(panels[0])
        if catalog.stage_attribute and len(stages) < len(catalog.stages):
            read = set(re.findall(rf'span\.{re.escape(catalog.stage_attribute)} = "([^"]+)"', query))
            assert read == {s.id for s in stages}, query
        elif not catalog.stage_attribute:
            spans = re.findall(r'name = "([^"]+)"', query) or re.findall(r'name =~ "([^"]+)"', query)[0].split("|")
            assert set(spans) == {s.span for s in stages}, query
        assert_traceql_parses([query])
