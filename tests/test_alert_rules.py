"""Alert rules: Grafana's schemas (12 and 11.6), panel links, uids, determinism, catalog checks,
the PromQL builder, the opt-in TraceQL rules and the offline lint."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
import yaml

from dashgen.queries import promql
from dashgen.alerts.generate import alert_artifacts, rule_set
from dashgen.alerts.model import GROUPS, HistogramQuantile, rule_uid
from dashgen.alerts.prometheus import expression
from dashgen.lint.alerts import lint_alert_artifacts
from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog, preset_path
from dashgen.catalog.conventions import prometheus_name
from dashgen.errors import CatalogError
from dashgen.voice.checks import parse_catalog  # the catalog's form and its meaning (SLO windows, pages)

SCHEMA_VERSIONS = ("grafana-13", "grafana-12", "grafana-11.6")
QUERY_DEFS = {"grafana-13": {"prometheus": "Dataquery", "tempo": "Dataquery"},
              "grafana-12": {"prometheus": "Dataquery", "tempo": "Dataquery"},
              "grafana-11.6": {"prometheus": "dataquery", "tempo": "TempoQuery"}}


def default_text() -> str:
    return preset_path("default").read_text(encoding="utf-8")


def catalog_with(*edits: tuple[str, str]):
    text = default_text()
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return parse_catalog(text, "edited.yaml")


def tempo_catalog():
    return catalog_with(("  tempo_rules: false\n", "  tempo_rules: true\n  receiver: voice-oncall\n"))


@pytest.fixture(scope="module")
def built():
    return build_artifacts(load_catalog())


@pytest.fixture(scope="module")
def built_tempo():
    return build_artifacts(tempo_catalog())


def validator(folder, doc: str, definition: str):
    schema = json.loads((folder / f"{doc}.jsonschema.json").read_text())
    assert definition in schema["definitions"], f"{doc}: no {definition}"
    return jsonschema.Draft7Validator({"$ref": f"#/definitions/{definition}", "definitions": schema["definitions"]})


def errors(v, instance) -> list[str]:
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(instance)]


def grafana_groups(artifacts: dict[str, str]) -> dict[str, dict]:
    return {rel: json.loads(c) for rel, c in artifacts.items() if rel.startswith("alerts/grafana/")}


# --- schemas -------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
@pytest.mark.parametrize("which", ["default", "tempo"])
def test_grafana_rule_groups_validate_against_grafana_schemas(version, which, built, built_tempo, grafana_schemas):
    folder = grafana_schemas / version
    group_v = validator(folder, "alerting", "RuleGroup")
    expr_v = jsonschema.Draft7Validator(json.loads((folder / "expr.jsonschema.json").read_text()))
    query_v = {ds: validator(folder, ds, name) for ds, name in QUERY_DEFS[version].items()}
    groups = grafana_groups((built if which == "default" else built_tempo).artifacts)
    assert groups
    n_expr = n_query = 0
    for rel, group in groups.items():
        assert errors(group_v, group) == [], rel
        # Rule's required fields are checked through RuleGroup.rules; make sure rules are there
        assert group["rules"] and all("orgID" in r and "for" in r for r in group["rules"])
        for rule in group["rules"]:
            for q in rule["data"]:
                where = f"{rel} {rule['uid']} {q['refId']}"
                if q["datasourceUid"] == "__expr__":
                    assert errors(expr_v, q["model"]) == [], where
                    n_expr += 1
                else:
                    ds = q["model"]["datasource"]["type"]
                    assert errors(query_v[ds], q["model"]) == [], where
                    n_query += 1
    assert n_expr > 0 and n_query > 0


def test_schema_check_catches_a_broken_rule(built, grafana_schemas):
    """The validators above are not vacuous: a rule without a title or a math expression without its
    expression fails."""
    group = json.loads(next(c for rel, c in built.artifacts.items() if rel.endswith("voice-latency.json")))
    folder = grafana_schemas / "grafana-12"
    del group["rules"][0]["title"]
    assert any("title" in e for e in errors(validator(folder, "alerting", "RuleGroup"), group))
    expr_v = jsonschema.Draft7Validator(json.loads((folder / "expr.jsonschema.json").read_text()))
    math = dict(next(q for q in group["rules"][0]["data"] if q["model"].get("type") == "math")["model"])
    assert not errors(expr_v, math)
    del math["expression"]
    assert errors(expr_v, math)


# --- structure -----------------------------------------------------------------------------------

def test_rule_counts_per_form(built, built_tempo):
    def count(artifacts, prefix):
        n = 0
        for rel, content in artifacts.items():
            if not rel.startswith(prefix):
                continue
            doc = json.loads(content) if rel.endswith(".json") else yaml.safe_load(content)
            n += sum(len(g["rules"]) for g in doc.get("groups", [doc]))
        return n

    # 4 p95 + 5 error + 5 nothing + 6 absence (5 telemetry missing, turns stopped) + 4 SLOs (3 stages', the
    # good-turn SLO) x 2 burn = 28 alerts; every form adds per SLO 7 SLI recordings and 8 Sloth meta
    # recordings, its info series included
    # (the Grafana forms unless grafana_recording_rules: false; push sends them where the instance's toggle is on)
    assert count(built.artifacts, "alerts/grafana/") == 28 + 4 * 15
    assert count(built.artifacts, "alerts/provisioning/") == 28 + 4 * 15
    assert count(built.artifacts, "alerts/prometheus/") == 28 + 4 * 15
    # TraceQL opt-in: +4 Grafana-managed rules (every thresholded measurement is an integer), none for Prometheus
    assert count(built_tempo.artifacts, "alerts/grafana/") == 32 + 4 * 15
    assert count(built_tempo.artifacts, "alerts/provisioning/") == 32 + 4 * 15
    assert count(built_tempo.artifacts, "alerts/prometheus/") == 28 + 4 * 15


def test_group_files_are_put_bodies(built):
    c = load_catalog()
    for rel, group in grafana_groups(built.artifacts).items():
        assert rel == f"alerts/grafana/{c.folder_uid}/{group['title']}.json"
        assert group["folderUid"] == c.folder_uid
        assert group["interval"] > 0 and group["interval"] % 10 == 0
        for r in group["rules"]:
            assert r["ruleGroup"] == group["title"] and r["folderUID"] == c.folder_uid
            assert r["condition"] in [q["refId"] for q in r["data"]]
            if "record" not in r:
                assert set(r["labels"]) >= {"severity", "stage", "team"}
                assert set(r["annotations"]) >= {"summary", "description", "runbook_url"}
                assert r["annotations"]["runbook_url"].startswith("https://runbooks.example.com/voice-agent#")


def test_p95_rule_is_one_query_math_threshold(built):
    """Grafana's own shape for an imported Prometheus rule (pkg/services/ngalert/prom/query.go): the
    PromQL with its comparison, ``is_number`` math, threshold > 0."""
    group = json.loads(built.artifacts["alerts/grafana/voice-agent/voice-latency.json"])
    tts = next(r for r in group["rules"] if r["uid"] == "voice-tts-first-byte-p95")
    a, b, c = tts["data"]
    assert a["model"]["expr"] == ('((histogram_quantile(0.95, sum by (le, audio_stage) '
                                  '(rate(audio_first_byte_milliseconds_bucket{audio_stage="tts", audio_interrupted!="true"}'
                                  '[5m])))) and (sum by (audio_stage) (increase(audio_first_byte_milliseconds_count'
                                  '{audio_stage="tts", audio_interrupted!="true"}[5m])) >= 20)) > 350')
    # the p95's event guard: 1 / (1 - 0.95) events; interrupted turns left out of both (voice.interrupted)
    assert a["model"]["instant"] is True and a["model"]["range"] is False
    assert a["relativeTimeRange"]["from"] > a["relativeTimeRange"]["to"]
    assert b["model"]["type"] == "math" and b["model"]["expression"] == "is_number($A) || is_nan($A) || is_inf($A)"
    assert c["model"]["type"] == "threshold" and c["model"]["expression"] == "B"
    assert c["model"]["conditions"][0]["evaluator"] == {"type": "gt", "params": [0]}
    # the catalog's page (voice.paging), sustained 10m (twice the 5m window)
    assert tts["for"] == "10m" and tts["labels"] == {"quantile": "p95", "severity": "page", "stage": "tts",
                                                     "team": "voice"}
    assert "notification_settings" not in tts


def test_receiver_when_the_catalog_names_one(built_tempo):
    """The receiver is routed to by the notification policy (grouped by stage), never by a rule's
    simplified routing, which would group by alert name (voice.paging)."""
    for group in grafana_groups(built_tempo.artifacts).values():
        for r in group["rules"]:
            assert "notification_settings" not in r
    policy = yaml.safe_load(built_tempo.artifacts["alerts/routing/grafana-notification-policy.yaml"])
    pages = next(r for r in policy["policies"][0]["routes"] if ["severity", "=", "page"] in r["object_matchers"])
    assert pages["receiver"] == "voice-oncall" and pages["group_by"] == ["team", "stage"]


def test_metric_label_is_the_stage_never_a_session(built):
    c = load_catalog()
    for rel, content in built.artifacts.items():
        if rel.startswith("alerts/prometheus/"):
            assert c.session_attribute.replace(".", "_") not in content
            assert "session" not in content
    assert 'audio_stage="tts"' in built.artifacts["alerts/prometheus/voice-latency.yaml"]


def test_burn_rate_windows_and_factors(built):
    prom = yaml.safe_load(built.artifacts["alerts/prometheus/voice-slo-burn.yaml"])["groups"][0]["rules"]
    page = next(r for r in prom if r["alert"] == "VoiceTtsFirstByteSloBurnPage")
    ticket = next(r for r in prom if r["alert"] == "VoiceTtsFirstByteSloBurnTicket")
    # budget 5%: 14.4x -> 0.72, 6x -> 0.3, 3x -> 0.15, 1x -> 0.05; each window's guarded ratio inline
    # (the same expression the Grafana twin runs), compared with the pair's limit
    def ratio(w: str, limit: str) -> str:
        return (f'sum by (audio_stage) (rate(audio_first_byte_milliseconds_bucket{{audio_stage="tts", '
                f'le=~"350|350\\\\.0", audio_interrupted!="true"}}[{w}]))')  # interrupted turns left out
    for expr, pairs in ((page["expr"], (("1h", "0.72"), ("5m", "0.72"), ("6h", "0.3"), ("30m", "0.3"))),
                        (ticket["expr"], (("1d", "0.15"), ("2h", "0.15"), ("3d", "0.05"), ("6h", "0.05")))):
        for w, limit in pairs:
            assert ratio(w, limit) in expr
            assert (f'(sum by (audio_stage) (increase(audio_first_byte_milliseconds_count{{audio_stage="tts", audio_interrupted!="true"}}[{w}])) '
                    f'>= 10)) > {limit}') in expr
        assert "slo:sli_error" not in expr
    rec = yaml.safe_load(built.artifacts["alerts/prometheus/voice-slo-recording.yaml"])["groups"][0]["rules"]
    tts = [r for r in rec if r["labels"]["sloth_id"] == "voice-tts-first-byte"]
    assert all(r["labels"]["sloth_service"] == "voice" and r["labels"]["sloth_slo"] == "tts-first-byte" for r in tts)
    windows = ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")
    assert [r["record"] for r in tts] == [f"slo:sli_error:ratio_rate{w}" for w in windows] + [
        "slo:objective:ratio", "slo:error_budget:ratio", "slo:time_period:days", "slo:current_burn_rate:ratio",
        "slo:period_burn_rate:ratio", "slo:period_error_budget_remaining:ratio", "sloth_slo_info"]
    assert [r["labels"].get("sloth_window") for r in tts[:8]] == list(windows)
    assert {r["expr"] for r in tts[8:11]} == {"vector(0.95)", "vector(0.05)", "vector(30)"}
    r1h = next(r for r in tts if r["record"].endswith("rate1h"))
    assert 'le=~"350|350\\\\.0"' in r1h["expr"] and "audio_first_byte_milliseconds_count" in r1h["expr"]
    # Grafana-managed: the same expression as one query (tests/test_paging.py checks every twin)
    group = json.loads(built.artifacts["alerts/grafana/voice-agent/voice-slo-burn.json"])
    g = next(r for r in group["rules"] if r["uid"] == "voice-tts-first-byte-slo-page")
    assert g["data"][0]["model"]["expr"] == page["expr"]


@pytest.mark.parametrize("setting,required", [(None, False), ("auto", False), ("true", True)])
def test_grafana_recording_rules(setting, required):
    """auto (the default) and true both write them; only true tells push to require them."""
    text = preset_path("default").read_text(encoding="utf-8")
    if setting:
        text = text.replace("tempo_rules: false", f"tempo_rules: false\n  grafana_recording_rules: {setting}")
    built = build_artifacts(parse_catalog(text, "opted-in.yaml"))
    group = json.loads(built.artifacts["alerts/grafana/voice-agent/voice-slo-recording.json"])
    assert len(group["rules"]) == 60  # 4 SLOs (3 stages', the good-turn SLO) x 15
    for r in group["rules"]:
        assert r["record"]["from"] == r["condition"] == "A"
        assert r["record"]["metric"].startswith("slo:") or r["record"]["metric"] == "sloth_slo_info"
    manifest = yaml.safe_load(built.artifacts["dashboards/manifest.yaml"])
    assert manifest.get("recording_rules") == ("require" if required else None)


def test_grafana_recording_rules_setting_is_checked():
    text = preset_path("default").read_text(encoding="utf-8").replace(
        "tempo_rules: false", "tempo_rules: false\n  grafana_recording_rules: sometimes")
    with pytest.raises(CatalogError) as exc:
        parse_catalog(text, "my.yaml")
    assert "alerting.grafana_recording_rules 'sometimes' is not one of auto, True, False" in str(exc.value)


def test_provisioning_form(built):
    c = load_catalog()
    doc = yaml.safe_load(built.artifacts["alerts/provisioning/voice-latency.yaml"])
    assert doc["apiVersion"] == 1
    (g,) = doc["groups"]
    assert g["orgId"] == 1 and g["folder"] == c.folder_title and g["interval"] == "1m"
    grafana = json.loads(built.artifacts["alerts/grafana/voice-agent/voice-latency.json"])
    for p, r in zip(g["rules"], grafana["rules"]):
        assert p["uid"] == r["uid"] and p["data"] == r["data"]
        assert p["dashboardUid"] == r["annotations"]["__dashboardUid__"]
        assert str(p["panelId"]) == r["annotations"]["__panelId__"]
        assert not any(k.startswith("__") for k in p["annotations"])


# --- panels, uids, determinism -------------------------------------------------------------------

def test_every_dashboard_panel_pair_resolves(built, built_tempo):
    for b in (built, built_tempo):
        panels = {d.uid: {p.id for p in d.dashboard.panels} for d in b.dashboards}
        n = 0
        for group in grafana_groups(b.artifacts).values():
            for r in group["rules"]:
                ann = r.get("annotations", {})
                if "record" in r:
                    continue
                assert "__dashboardUid__" in ann and "__panelId__" in ann, r["uid"]
                assert int(ann["__panelId__"]) in panels[ann["__dashboardUid__"]], r["uid"]
                n += 1
        assert n >= 18


def test_panel_shows_the_rule_itself(built):
    """Every alert links to its own panel on the alert-rules dashboard (tests/test_alert_panels_tempo.py
    checks the panel's queries and thresholds)."""
    alerts = next(d for d in built.dashboards if d.key == "alerts")
    by_key = {p.key: p.id for p in alerts.dashboard.panels}
    rules = [r for r in built.rules.rules if r.is_alert]
    assert rules and all(r.panel == (alerts.uid, by_key[f"alert-{r.uid}"]) for r in rules)


def test_uids_are_stable_valid_and_unique(built, built_tempo):
    for b in (built, built_tempo):
        uids = [r["uid"] for g in grafana_groups(b.artifacts).values() for r in g["rules"]]
        assert len(uids) == len(set(uids))
        assert all(re.fullmatch(r"[a-zA-Z0-9_-]{1,40}", u) for u in uids)
    assert "voice-tts-first-byte-p95" in uids and "voice-barge-in-silence-slo-page" in uids


def test_long_uids_are_shortened_stably():
    c = load_catalog()
    u1 = rule_uid(c, "a_very_long_stage_name_here", "and_a_long_measurement", "p99.9")
    assert len(u1) <= 40 and u1 == rule_uid(c, "a_very_long_stage_name_here", "and_a_long_measurement", "p99.9")
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,40}", u1)
    assert u1 != rule_uid(c, "a_very_long_stage_name_here", "and_a_long_measurement", "p99.5")


def test_output_is_deterministic():
    a = alert_artifacts(build_artifacts(load_catalog()).rules)
    b = alert_artifacts(build_artifacts(load_catalog()).rules)
    # 5 groups in each form (Prometheus, Grafana-managed, provisioning) and the 2 routing files
    assert a == b and len(a) == 17
    for rel, content in a.items():
        assert content.endswith("\n")
        if rel.endswith(".json"):
            assert content == json.dumps(json.loads(content), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def test_groups_in_order(built):
    names = sorted(rel.rsplit("/", 1)[1] for rel in built.artifacts if rel.startswith("alerts/grafana/"))
    assert names == sorted(f"voice-{g}.json" for g in GROUPS if g != "traces")


# --- catalog checks ------------------------------------------------------------------------------

def test_slo_threshold_not_a_bucket_boundary_is_rejected_with_the_fix():
    text = default_text().replace("objective: 0.95, threshold: 350, window: 30d", "objective: 0.95, threshold: 340, window: 30d")
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "threshold: 340" in l)
    col = text.splitlines()[line - 1].index("340") + 1
    with pytest.raises(CatalogError) as exc:
        parse_catalog(text, "my.yaml")
    msg = str(exc.value)
    assert msg.startswith(f"my.yaml:{line}:{col}: stages[2].slo.threshold 340 is not a bucket boundary of "
                          f"audio_first_byte_milliseconds"), msg
    assert "add 340 to metric.buckets" in msg and "300 or 350" in msg


def test_quantile_threshold_above_the_last_bucket_is_rejected():
    with pytest.raises(CatalogError, match=r"edited.yaml:\d+:\d+: .*thresholds\[0\]\.value 20000 is not below the "
                                           r"largest bucket boundary"):
        catalog_with(("{quantile: 0.95, value: 350, severity: page, for: 10m}",
                      "{quantile: 0.95, value: 20000, severity: page, for: 10m}"))


@pytest.mark.parametrize("edit, message", [
    (("  interval: 1m\n", "  interval: 45s\n"), r"alerting.interval 45s is not a multiple of 10 seconds"),
    (("slo: {measurement: silence,", "slo: {measurement: silense,"), r"did you mean 'silence'"),
    (("objective: 0.95, threshold: 350, window: 30d", "objective: 0.9, threshold: 350, window: 30d"),
     r"could never fire"),
    (("objective: 0.95, threshold: 350, window: 30d", "objective: 0.95, threshold: 350, window: 7d"),
     r"stages\[2\]\.slo\.window 7d has no burn-rate window set.* \(use window: 28d or 30d\)$"),
    (("        metric: *first_byte_metric\n", "        metric: {buckets: [0, 100, 350, 1000]}\n"),
     r"both record audio_first_byte_milliseconds but with different buckets"),
    (("    buckets: [0, 25, 50, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 2000, 5000]",
      "    buckets: [0, 25, 50, 100, 150, 250, 200, 300, 400, 500, 750, 1000, 2000, 5000]"),
     r"metric.buckets must increase: 200 follows 250"),
])
def test_catalog_alerting_errors(edit, message):
    text = default_text()
    old, new = edit
    assert old in text, old
    with pytest.raises(CatalogError, match=r"^x.yaml:\d+:\d+: .*" + message):
        parse_catalog(text.replace(old, new, 1), "x.yaml")


@pytest.mark.parametrize("attribute, unit, name", [
    ("audio.first_byte_ms", "ms", "audio_first_byte_milliseconds"),
    ("audio.silence_ms", "ms", "audio_silence_milliseconds"),
    ("audio.revision_pct", "percent", "audio_revision_percent"),
    ("metrics.ttfb", "s", "metrics_ttfb_seconds"),
    ("lk.response.ttfb_seconds", "s", "lk_response_ttfb_seconds"),
    ("audio.buffer_bytes", "bytes", "audio_buffer_bytes"),
    ("audio.turns", "count", "audio_turns"),
])
def test_metric_names_follow_otel_prometheus_naming(attribute, unit, name):
    assert prometheus_name(attribute, unit) == name


def test_metric_block_overrides():
    c = catalog_with(("        metric:\n          buckets: [0, 25, 50, 100, 150, 200,",
                      "        metric:\n          name: voice_bargein_silence_ms\n          label: stage\n"
                      "          buckets: [0, 25, 50, 100, 150, 200,"))
    m = c.stage("barge_in").measurement("silence").metric
    assert (m.name, m.label) == ("voice_bargein_silence_ms", "stage")
    rs = rule_set(c)
    r = next(r for r in rs.rules if r.uid == "voice-barge-in-silence-p95")
    (cond,), = r.when
    assert isinstance(cond.signal, HistogramQuantile) and (cond.op, cond.value, cond.unit) == (">", 200, "ms")
    assert 'voice_bargein_silence_ms_bucket{stage="barge_in"}' in expression(r)


# --- PromQL builder ------------------------------------------------------------------------------

def test_promql_label_values_are_escaped():
    sel = promql.selector("m", promql.matcher("audio_stage", "=", 'a"b\\c'))
    assert sel == 'm{audio_stage="a\\"b\\\\c"}'
    with pytest.raises(promql.PromQLError):
        promql.selector("bad-name")
    with pytest.raises(promql.PromQLError):
        promql.matcher("__name__", "=", "x")
    with pytest.raises(promql.PromQLError):
        promql.rate("m", "5 minutes")


def test_le_matcher_accepts_every_exporter_spelling():
    rx = re.compile(promql.le_regex(350))
    assert all(rx.fullmatch(s) for s in ("350", "350.0")) and not rx.fullmatch("3500")
    assert re.compile(promql.le_regex(1e6)).fullmatch("1e+06")
    assert re.compile(promql.le_regex(0.25)).fullmatch("0.25")


# --- TraceQL opt-in ------------------------------------------------------------------------------

def test_tempo_rules_are_off_by_default(built):
    assert not any("traces" in rel for rel in built.artifacts)
    assert '"tempo"' not in "".join(c for rel, c in built.artifacts.items() if rel.startswith("alerts/"))


def test_tempo_rules_on_the_switch(built_tempo):
    from traceql_grammar import assert_traceql_parses

    group = json.loads(built_tempo.artifacts["alerts/grafana/voice-agent/voice-traces.json"])
    queries = []
    for r in group["rules"]:
        a, b, c = r["data"]
        assert a["datasourceUid"] == "tempo" and a["model"]["metricsQueryType"] == "range"
        q = a["model"]["query"]
        assert "quantile_over_time(" in q and ">" not in q.split("|", 1)[1], q  # threshold never in TraceQL
        assert "select(" not in q
        assert b["model"]["type"] == "reduce" and c["model"]["type"] == "threshold"
        assert c["model"]["conditions"][0]["evaluator"]["params"][0] in (150, 350, 600, 200)
        queries.append(q)
    # interrupted turns left out, as in the Prometheus rules (voice.interrupted); the barge-in's silence keeps them
    assert ('{ span.audio.stage = "tts" && span.audio.first_byte_ms >= 0 && span.audio.interrupted != true } '
            '| quantile_over_time(span.audio.first_byte_ms, 0.95)') in queries
    assert '{ span.audio.stage = "barge_in" } | quantile_over_time(span.audio.silence_ms, 0.95)' in queries
    assert_traceql_parses(queries)
    assert "alerts/prometheus/voice-traces.yaml" not in built_tempo.artifacts


# --- lint ----------------------------------------------------------------------------------------

def _dashboards(artifacts):
    return {rel: json.loads(c) for rel, c in artifacts.items() if rel.startswith("dashboards/") and rel.endswith(".json")}


def test_lint_passes_on_the_build(built, built_tempo):
    for b in (built, built_tempo):
        assert lint_alert_artifacts(b.artifacts, _dashboards(b.artifacts)) == []


def test_lint_catches_broken_rules(built):
    arts = dict(built.artifacts)
    rel = "alerts/grafana/voice-agent/voice-latency.json"
    group = json.loads(arts[rel])
    group["interval"] = 45
    group["rules"][0]["annotations"]["__panelId__"] = "999999"
    group["rules"][1]["uid"] = "x" * 41
    group["rules"][2]["condition"] = "Z"
    arts[rel] = json.dumps(group)
    arts["alerts/prometheus/voice-latency.yaml"] = "groups:\n- name: g\n  rules:\n  - alert: A\n    record: b\n    expr: x\n"
    problems = "\n".join(map(str, lint_alert_artifacts(arts, _dashboards(arts))))
    for expected in ("interval 45", "__panelId__ '999999'", "uid is not 1-40", "condition 'Z'",
                     "exactly one of alert and record"):
        assert expected in problems, problems
