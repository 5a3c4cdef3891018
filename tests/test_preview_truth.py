"""Previews that do not mislead (issue 23 section 6): every synthetic value obeys its query's
units and labels and the catalog's invariants, and the x-axis spans the dashboard's time range."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from conftest import REPO  # noqa: E402

from dashgen.catalog.load import load_catalog  # noqa: E402
from dashgen.voice.barge_in import milestones  # noqa: E402
from dashgen.review.preview import world  # noqa: E402
from dashgen.review.preview.data import Hints, synthetic_series, time_ticks  # noqa: E402
from dashgen.review.preview.draw import draw_dashboard  # noqa: E402
from dashgen.review.preview.panels import stat_value  # noqa: E402
from dashgen.review.preview.theme import fmt_value, unit_of  # noqa: E402

PRESETS = ("default", "pipecat", "livekit")


def dashboard(name: str) -> dict:
    return json.loads((REPO / "dashboards" / "voice-agent" / f"{name}.json").read_text())


def hints_for(d: dict, preset: str = "default") -> Hints:
    return Hints.from_catalog(load_catalog(preset)).for_range(d["time"]["from"])


def panels(d: dict):
    for p in d["panels"]:
        yield p
        yield from p.get("panels") or []


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every preset's dashboards, built once."""

    from conftest import run_dashgen

    out = {}
    for preset in PRESETS:
        target = tmp_path_factory.mktemp(preset)
        res = run_dashgen("build", "-c", preset, "-o", str(target))
        assert res.returncode == 0, res.stderr
        out[preset] = [json.loads(p.read_text()) for p in sorted((target / "dashboards").rglob("*.json"))]
    return out


# ------------------------------------------------------------------ SLOs
def test_slo_stats_are_possible_numbers():
    d = dashboard("voice-slo")
    h = hints_for(d)
    shown = {p["title"]: (stat_value(p, h)[0], unit_of(p)) for p in panels(d) if p["type"] == "stat"}
    assert shown, "the SLO dashboard has stats"
    for title, (value, unit) in shown.items():
        if "SLI over" in title:
            assert 0.9 <= value <= 1, (title, value)  # the default SLOs' objective is 95%
        elif "error budget remaining" in title:
            assert 0 < value <= 1, (title, value)
        elif "burn rate" in title:
            assert 0 <= value < 14.4, (title, value)  # below the page line when nothing pages
        elif "runs out in" in title:
            assert value > 7 * 86400, (title, fmt_value(value, unit))  # a healthy stage: weeks
            assert "week" in fmt_value(value, unit) or "year" in fmt_value(value, unit)


def test_slo_series_agree_with_each_other_and_the_objective():
    """remaining = 1 - (1 - SLI over the period) / budget, at every point; SLIs within [0, 1]."""
    d = dashboard("voice-slo")
    h = hints_for(d)
    cat = load_catalog("default")
    by_stage = {s.title.split()[0]: s for s in cat.stages if s.slo}
    for p in panels(d):
        if unit_of(p) == "percentunit":
            for s in synthetic_series(p, h):
                assert np.all((s.values >= 0) & (s.values <= 1)), (p["title"], s.name)
    for prefix, stage in by_stage.items():
        sli = next(p for p in panels(d) if p["title"].endswith("SLI over 30d") and p["title"].startswith(prefix))
        remaining = next(p for p in panels(d) if p["title"].endswith("error budget remaining")
                         and p["title"].startswith(prefix))
        sli_v = synthetic_series(sli, h)[0].values
        rem_v = synthetic_series(remaining, h)[0].values
        assert np.allclose(rem_v, 1 - (1 - sli_v) / stage.slo.budget)


def test_an_incident_burns_the_budget_faster_than_healthy_time():
    d = dashboard("voice-slo")
    h = hints_for(d)
    # the synthetic service's incident is TTS's (world.py): its burn rises, a healthy SLO's stays flat
    burn = next(p for p in panels(d) if p["title"].endswith("burn rate per alert window") and p["title"].startswith("TTS"))
    one_hour = next(s for s in synthetic_series(burn, h) if s.name.startswith("1h"))
    assert one_hour.values.max() > 3 * np.median(one_hour.values)


# ------------------------------------------------------------------ the x-axis
@pytest.mark.parametrize("time_from,first", [(None, "11:00"), ("now-1h", "13:00"), ("now-6h", "08:00")])
def test_the_x_axis_spans_the_dashboards_time_range(time_from, first):
    d = dashboard("voice-tts")  # time series and a heatmap, over the last 3 hours
    assert d["time"]["from"] == "now-3h"
    if time_from:
        d["time"]["from"] = time_from
    fig, _ = draw_dashboard(d, Hints.from_catalog(load_catalog("default")))
    axes = [ax for ax in fig.axes if [t.get_text() for t in ax.get_xticklabels()][-1:] == ["14:00"]]
    assert axes, "no panel drew a time axis"
    for ax in axes:
        assert [t.get_text() for t in ax.get_xticklabels()][0] == first


def test_time_ticks_follow_the_range():
    h = Hints()
    assert time_ticks(h.for_range("now-3h"))[1] == ["11:00", "11:30", "12:00", "12:30", "13:00", "13:30", "14:00"]
    assert time_ticks(h.for_range("now-1h"))[1][:2] == ["13:00", "13:10"]
    assert time_ticks(h)[1][0] == "08:00"  # Grafana's default, 6 h
    assert time_ticks(h.for_range("now-7d"))[1][0] == "05/26 14:00"


# ------------------------------------------------------------------ labels and units
def test_sum_by_model_has_a_legend_of_model_values_not_stages():
    h = Hints.from_catalog(load_catalog("default"))
    stages = set(h.stage_values)
    for target in ({"expr": "sum by (model) (rate(llm_tokens_total[5m]))", "legendFormat": "{{model}}", "refId": "A"},
                   {"query": "{ span.audio.stage = \"llm\" } | rate() by (span.llm.model)", "refId": "A"}):
        panel = {"id": 7, "type": "timeseries", "title": "tokens by model", "targets": [target]}
        names = [s.name for s in synthetic_series(panel, h)]
        assert len(names) >= 2 and not stages & set(names), names
        assert all("model" in n for n in names), names


def test_a_sum_by_stage_label_still_has_the_stages():
    h = Hints.from_catalog(load_catalog("default"))
    panel = {"id": 8, "type": "timeseries", "title": "spans by stage",
             "targets": [{"expr": "sum by (audio_stage) (rate(audio_first_byte_milliseconds_count[5m]))",
                          "legendFormat": "{{audio_stage}}", "refId": "A"}]}
    assert [s.name for s in synthetic_series(panel, h)] == h.stage_values


@pytest.mark.parametrize("unit,prefix,suffix", [("currencyUSD", "$", ""), ("currencyEUR", "€", ""),
                                                ("currencySEK", "", " kr")])
def test_a_currency_stat_shows_a_currency(unit, prefix, suffix):
    h = Hints.from_catalog(load_catalog("default"))
    panel = {"id": 9, "type": "stat", "title": "LLM spend today", "fieldConfig": {"defaults": {"unit": unit}},
             "targets": [{"expr": "sum(increase(llm_cost_usd_total[1d]))", "refId": "A"}]}
    text = fmt_value(stat_value(panel, h)[0], unit)
    assert text.startswith(prefix) and text.endswith(suffix) and unit not in text, text
    assert fmt_value(1234.5, "currencyUSD") == "$1.23K"


def test_seconds_scale_as_grafana_scales_them():
    assert fmt_value(30, "s") == "30 s"
    assert fmt_value(5400, "s") == "1.5 hour"
    assert fmt_value(3 * 86400, "s") == "3 day"


# ------------------------------------------------------------------ the catalog's invariants
def test_barge_in_milestone_quantiles_are_ordered_at_every_moment():
    cat = load_catalog("default")
    h = Hints.from_catalog(cat)
    stage = next(s for s in cat.stages if milestones(s) and (s.id, milestones(s)[-1].attribute) in h.milestones)
    attrs = [m.attribute for m in milestones(stage)]
    assert len(attrs) >= 3  # vad_detect, cancel, silence
    for q in (0.5, 0.95, 0.99):
        curves = [world.quantile(h, stage.id, a, q) for a in attrs]
        for earlier, later in zip(curves, curves[1:]):
            assert np.all(earlier <= later), (q, attrs)


def test_the_barge_in_dashboards_milestone_panels_draw_them_in_order():
    d = dashboard("voice-barge-in")
    h = hints_for(d)
    stage = next(s for s in load_catalog("default").stages if s.id == "barge_in")
    p95 = []
    for m in milestones(stage):
        panel = next(p for p in panels(d) if p["type"] == "timeseries"
                     and f"quantile_over_time(span.{m.attribute}, 0.5, 0.95)" in json.dumps(p.get("targets")))
        series = synthetic_series(panel, h)
        p95.append(next(s.values for s in series if "95" in s.name))
    for earlier, later in zip(p95, p95[1:]):
        assert np.all(earlier <= later)


def test_every_preset_keeps_ratios_and_percentages_in_range(built):
    for preset, dashboards in built.items():
        cat = load_catalog(preset)
        for d in dashboards:
            h = Hints.from_catalog(cat).for_range(d["time"]["from"])
            for p in panels(d):
                unit = unit_of(p)
                if p["type"] not in ("timeseries", "stat") or unit not in ("percentunit", "percent"):
                    continue
                top = 1 if unit == "percentunit" else 100
                for s in synthetic_series(p, h):
                    assert np.all((s.values >= 0) & (s.values <= top)), (preset, d["uid"], p["title"], s.name)


def test_the_stage_dashboards_burn_rate_is_the_slo_dashboards():
    """One service: the barge-in dashboard's burn rate (from the histogram) and the SLO dashboard's
    (from Sloth's recorded series) are the same curve over the same window."""
    slo_d, stage_d = dashboard("voice-slo"), dashboard("voice-barge-in")
    h = hints_for(slo_d)
    from_slo = next(s for p in panels(slo_d) if p["title"] == "Barge-in: burn rate per alert window"
                    for s in synthetic_series(p, h) if s.name.startswith("1h"))
    from_histogram = next(s for p in panels(stage_d) if p["title"].startswith("SLO burn rate")
                          for s in synthetic_series(p, h) if s.name == "burn rate over 1h")
    assert np.allclose(from_slo.values, from_histogram.values)


def test_barge_in_table_rows_keep_their_milestones_in_order():
    from dashgen.review.preview.data import table_model

    d = dashboard("voice-barge-in")
    h = hints_for(d)
    table = next(p for p in panels(d) if p["type"] == "table" and "audio.vad_detect_ms" in json.dumps(p))
    cols, _, rows = table_model(table, h, 30)
    order = [cols.index(c) for c in ("audio.vad_detect_ms", "audio.cancel_ms", "audio.silence_ms")]
    assert rows
    for row in rows:
        values = [float(row[i].split()[0]) for i in order]
        assert values == sorted(values), row


# ------------------------------------------------------------------ what Tempo and Prometheus return
def _panel_of(built, preset: str, uid_end: str, title: str) -> dict:
    d = next(d for d in built[preset] if d["uid"].endswith(uid_end))
    return next(p for p in panels(d) if p["title"] == title)


def test_errors_come_only_from_stages_whose_spans_fail(built):
    """Pipecat's spans mark failures on the LLM stage only (records_errors): Prometheus' error ratio is
    pinned to it (stage=~"llm") and Tempo's `status = error` rate finds no failed span elsewhere, so
    Grafana draws one series in each. Errors are a small share of the spans, not all of them: the
    regex `name =~ "stt|llm|..."` has pipes inside its quotes, which are not the query's pipeline."""
    h = Hints.from_catalog(load_catalog("pipecat"))
    ratio = synthetic_series(_panel_of(built, "pipecat", "overview", "Error ratio by stage"), h)
    assert [s.name for s in ratio] == ["llm"], [s.name for s in ratio]
    per_second = synthetic_series(_panel_of(built, "pipecat", "overview", "Errors per second by stage"), h)
    assert [s.name for s in per_second] == ["LLM"], [s.name for s in per_second]
    turns = synthetic_series(_panel_of(built, "pipecat", "overview", "Turns per second"), h)[0].values
    assert float(np.max(per_second[0].values)) < 0.1 * float(np.min(turns))


def test_a_flags_panel_draws_its_true_and_false_series_by_their_names(built):
    """Tempo groups a boolean attribute by true and false; the overrides name them (LiveKit's
    lk.interrupted on agent_turn): the legend is those two names, not made-up groups."""
    h = Hints.from_catalog(load_catalog("livekit"))
    p = _panel_of(built, "livekit", "-turn", "Interrupted turns per second")
    series = {s.name: s.values for s in synthetic_series(p, h)}
    assert set(series) == {"Interrupted turns", "other agent_turn spans"}, set(series)
    assert np.all(series["Interrupted turns"] < series["other agent_turn spans"])


def test_span_durations_are_seconds_whatever_the_panel_says(built):
    """Tempo returns a duration metric in seconds (pkg/traceql/ast_metrics.go bucketizeDuration): the
    preview draws seconds whatever the unit, so a panel labelled in ns shows its mistake (0.3 ns)."""
    h = Hints.from_catalog(load_catalog("livekit"))
    p = _panel_of(built, "livekit", "-turn", "Agent turn (end to end, interruptions) span duration p50/p95/p99")
    assert unit_of(p) == "s"
    seconds = [s.values for s in synthetic_series(p, h)]
    wrong = json.loads(json.dumps(p))
    wrong["fieldConfig"]["defaults"]["unit"] = "ns"
    assert all(np.array_equal(a, b.values) for a, b in zip(seconds, synthetic_series(wrong, h)))
    assert 0.05 < float(np.median(seconds[0])) < 30  # a turn's span lasts seconds
