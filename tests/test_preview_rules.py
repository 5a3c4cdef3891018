"""The preview follows Grafana's rules (issue 15, "Previews must show what Grafana will show"):
series names exactly as Grafana displays them (with @grafana/data as the oracle), colour modes,
table column types; and its synthetic data is internally consistent."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from dashgen.build import build_artifacts
from dashgen.catalog import PRESETS, load_catalog
from dashgen.review.preview import Hints, synthetic_series
from dashgen.review.preview.data import resolve_sources, table_model
from dashgen.review.preview.grafana import (
    cell_text, display_names, drawn_thresholds, tempo_frame, value_color,
)
from dashgen.review.preview.theme import PALETTE, color_of

from test_series_names import grafana_data, grafana_names, panels_and_series


def built(preset: str = "default") -> dict[str, dict]:
    arts = build_artifacts(load_catalog(preset)).artifacts
    return {json.loads(c)["uid"]: json.loads(c) for p, c in arts.items()
            if p.startswith("dashboards/") and p.endswith(".json")}


@pytest.fixture(scope="module")
def dashboards():
    return built()


@pytest.fixture(scope="module")
def hints():
    return Hints.from_catalog(load_catalog())


def panel(d: dict, title: str) -> dict:
    return next(p for p in d["panels"] if p.get("title") == title)


# ---------------------------------------------------------------------------------------------
# Series names: the preview's Python rule gives the names @grafana/data gives


BROKEN_FIELD_CONFIGS = [
    {"defaults": {}, "overrides": []},  # no renames: Grafana shows 0.95 and {p=0.95, ...}
    {"defaults": {"displayName": "p95 by stage"}, "overrides": []},  # ignored: Tempo set displayName
    {"defaults": {}, "overrides": [{"matcher": {"id": "byFrameRefID", "options": "A"},  # the query's refId: no match
                                    "properties": [{"id": "displayName", "value": "renamed"}]}]},
    {"defaults": {}, "overrides": [{"matcher": {"id": "byName", "options": "0.95"},
                                    "properties": [{"id": "displayName", "value": "p95"}]}]},
    {"defaults": {}, "overrides": [{"matcher": {"id": "byRegexp", "options": "asr|.*tts.*"},  # anchored ^...$
                                    "properties": [{"id": "displayName", "value": "speech"}]}]},
]


@pytest.mark.parametrize("preset", PRESETS)
def test_series_names_are_grafanas(preset):
    found = list(panels_and_series(preset))
    cases = []
    for _, p, series in found:
        for labels in (series, [list(reversed(s)) for s in series]):
            cases.append({"fieldConfig": p["fieldConfig"], "series": labels})
    for fc in BROKEN_FIELD_CONFIGS:
        series = [[["p", 0.5]], [["p", 0.95]], [["p", 0.95], ["span.audio.stage", "asr"]],
                  [["span.audio.stage", "tts"], ["p", 0.95]], [["span.audio.stage", "asr"]], [["__name__", "rate"]]]
        cases.append({"fieldConfig": fc, "series": series})
    oracle = grafana_names(cases)
    ours = [display_names({"fieldConfig": c["fieldConfig"]}, [tempo_frame([tuple(kv) for kv in s]) for s in c["series"]])
            for c in cases]
    assert ours == oracle


def test_a_panel_without_renames_shows_grafanas_label_names_in_the_preview(dashboards, hints):
    p = copy.deepcopy(panel(dashboards["voice-overview"], "First byte p95 by stage"))
    assert [s.name for s in synthetic_series(p, hints)] == ["ASR p95", "LLM p95", "TTS p95", "Client p95", "Barge-in p95"]
    p["fieldConfig"]["overrides"] = []
    p["fieldConfig"]["defaults"]["displayName"] = "${__field.labels.stage}"  # ignored for Tempo frames
    assert [s.name for s in synthetic_series(p, hints)] == [
        f'{{p=0.95, span.audio.stage="{s}"}}' for s in ("asr", "llm", "tts", "client", "barge_in")]
    q = copy.deepcopy(panel(dashboards["voice-tts"], "Time to first audio p50/p95/p99"))
    q["fieldConfig"]["overrides"] = []
    assert [s.name for s in synthetic_series(q, hints)] == ["0.5", "0.95", "0.99"]


# ---------------------------------------------------------------------------------------------
# Colours


def test_stat_is_coloured_by_thresholds_only_in_thresholds_mode(dashboards):
    p = copy.deepcopy(panel(dashboards["voice-overview"], "TTS time to first audio p95 now"))
    assert value_color(p, 0, 400) == color_of("red") and value_color(p, 0, 200) == color_of("green")
    p["fieldConfig"]["defaults"]["color"] = {"mode": "palette-classic"}  # the old tiles: never red
    assert value_color(p, 0, 400) == value_color(p, 0, 200) == PALETTE[0]
    del p["fieldConfig"]["defaults"]["color"]  # absent: Grafana's default is thresholds
    assert value_color(p, 0, 400) == color_of("red")


def test_time_series_draws_thresholds_only_with_a_visible_style(dashboards):
    p = copy.deepcopy(panel(dashboards["voice-tts"], "Time to first audio p50/p95/p99"))
    assert drawn_thresholds(p) == [(350.0, "red")]
    p["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] = {"mode": "off"}
    assert drawn_thresholds(p) == []


# ---------------------------------------------------------------------------------------------
# Table column types


def test_span_table_columns_are_strings_unless_converted(dashboards, hints):
    p = copy.deepcopy(panel(dashboards["voice-tts"],
                            "TTS spans with time to first audio above 350 ms (up to 50, sorted by it)"))
    cols, kinds, rows = table_model(p, hints, 12)
    assert cols[:2] == ["Trace ID", "Start time"] and "time" not in cols
    fb = cols.index("audio.first_byte_ms")
    assert kinds[fb] == "number" and kinds[cols.index("audio.turn_id")] == "string"
    firsts = [float(r[fb]) for r in rows]
    assert firsts == sorted(firsts, reverse=True) and min(firsts) > 350  # typed: sorted by value
    p["transformations"] = []  # Grafana's strings: sorted as text ("95" after "350"), no unit
    cols, kinds, rows = table_model(p, hints, 12)
    assert kinds[fb] == "string"
    texts = [r[fb] for r in rows]
    assert texts == sorted(texts, reverse=True) and all(t.isdigit() for t in texts)


def test_cells_are_formatted_as_grafana_formats_them():
    """getDisplayProcessor as the oracle: a string is shown raw only when its field has no unit;
    under a unit a numeric string is formatted like a number (the turn-id column of a table with a
    panel-wide "ms" shows "1 ms"); a number with no unit is shown without decimals from 100 up."""
    cases = [("string", "ms", "1"), ("string", None, "412"), ("string", "ms", "asr"), ("number", "ms", 412),
             ("number", None, 412.37), ("number", None, 7), ("number", "percent", 12.5), ("string", None, "0.412")]
    texts = grafana_data("display.cjs", [{"type": t, "unit": u, "value": v} for t, u, v in cases])
    assert [cell_text(v, t, u) for t, u, v in cases] == texts


def test_a_unit_formats_only_numbers_and_time_is_start_time(dashboards, hints):
    p = copy.deepcopy(panel(dashboards["voice-tts"],
                            "TTS spans with time to first audio above 350 ms (up to 50, sorted by it)"))
    p["fieldConfig"]["overrides"] = [{"matcher": {"id": "byName", "options": "audio.first_byte_ms"},
                                      "properties": [{"id": "unit", "value": "ms"}]}]
    cols, kinds, rows = table_model(p, hints, 5)
    assert all(r[cols.index("audio.first_byte_ms")].endswith(" ms") for r in rows)
    assert all(not r[cols.index("audio.total_ms")].endswith("ms") for r in rows)
    p["options"]["sortBy"] = [{"displayName": "time", "desc": True}]  # not a displayed name: no sort
    cols, _, rows = table_model(p, hints, 12)
    firsts = [float(r[cols.index("audio.first_byte_ms")].split()[0]) for r in rows]
    assert firsts != sorted(firsts, reverse=True)


# ---------------------------------------------------------------------------------------------
# Synthetic data that could be real


def _series(d, title, hints) -> dict[str, np.ndarray]:
    return {s.name: s.values for s in synthetic_series(resolve_sources(panel(d, title), d), hints)}


def test_quantiles_are_ordered_everywhere(dashboards, hints):
    checked = 0
    for d in dashboards.values():
        for p in d["panels"]:
            names = {s.name: s.values for s in synthetic_series(resolve_sources(p, d), hints)} \
                if p["type"] == "timeseries" else {}
            for stem in {n.rsplit(" ", 1)[0] for n in names if n.endswith(("p50", "p95", "p99"))}:
                got = [names[f"{stem} {q}"] for q in ("p50", "p95", "p99") if f"{stem} {q}" in names]
                for lo, hi in zip(got, got[1:]):
                    assert (lo <= hi + 1e-9).all(), (d["uid"], p["title"], stem)
                    checked += 1
    assert checked > 20


def test_totals_cover_first_bytes_and_rates_nest(dashboards, hints):
    tts = dashboards["voice-tts"]
    fb = _series(tts, "Time to first audio p50/p95/p99", hints)
    total = _series(tts, "TTS total p50/p95/p99", hints)
    for q in ("p50", "p95", "p99"):
        assert (total[f"TTS total {q}"] >= fb[f"Time to first audio {q}"]).all()
    ov = dashboards["voice-overview"]
    turns = _series(ov, "Turns per second", hints)["turns/s"]
    nothing = _series(ov, "Produced nothing, per second by stage", hints)
    errors = _series(ov, "Errors per second by stage", hints)
    spans = _series(tts, "TTS (text to speech): spans per second", hints)["TTS spans/s"]
    assert (spans <= turns + 1e-9).all() and (nothing["TTS"] <= spans).all() and (errors["TTS"] <= spans).all()
    stutters = _series(tts, "Stutters per second", hints)["stutters/s"]
    assert (stutters <= spans).all()
    for title in ("Error ratio by stage", "Produced-nothing ratio by stage"):
        for values in _series(ov, title, hints).values():
            assert ((0 <= values) & (values <= 1)).all(), title
    # The same measurement is the same curve on every dashboard (the overview tile's source too).
    assert (_series(ov, "TTS: Time to first audio p50/p95/p99", hints)["Time to first audio p95"]
            == fb["Time to first audio p95"]).all()


def test_table_rows_are_consistent(dashboards, hints):
    for d in dashboards.values():
        for p in d["panels"]:
            if p["type"] != "table":
                continue
            cols, kinds, rows = table_model(resolve_sources(p, d), hints, 14)
            if "audio.first_byte_ms" in cols and "audio.total_ms" in cols:
                for r in rows:
                    fb, total = float(r[cols.index("audio.first_byte_ms")]), float(r[cols.index("audio.total_ms")])
                    assert total >= fb, (d["uid"], p["title"], r)


def test_stacked_bars_add_up(dashboards, hints):
    from dashgen.review.preview.data import bar_segments

    p = next(p for p in dashboards["voice-session"]["panels"] if p["type"] == "barchart")
    groups, segments = bar_segments(resolve_sources(p, dashboards["voice-session"]), hints)
    # the parts in pipeline order, then the turn's remainder (the caller-felt whole, client's first byte,
    # minus the parts: calculateField as Grafana computes it; the whole itself is organized away)
    assert [name for name, _ in segments] == ["asr", "llm", "tts", "Unexplained"] and len(groups) >= 6
    parts = [values for name, values in segments if name != "Unexplained"]
    for values in parts:
        assert (values > 0).all()
    tops = np.sum(parts, axis=0)
    assert (tops >= np.max(parts, axis=0)).all()
    cols, _, rows = table_model(resolve_sources(p, dashboards["voice-session"]), hints, 12)
    assert "client" not in cols and "Unexplained" in cols


def test_a_panel_wide_unit_shows_on_the_turn_column_of_the_matrix(dashboards, hints):
    """The session matrix puts its unit on number columns only; with a panel-wide unit Grafana would
    print the (string) turn ids as "1 ms", and so does the preview."""
    d = dashboards["voice-session"]
    p = resolve_sources(panel(d, "First byte of every stage, per turn"), d)
    cols, kinds, rows = table_model(p, hints, 4)
    assert cols[0] == "audio.turn_id\\audio.stage" and [r[0] for r in rows] == ["1", "2", "3", "4"]
    assert kinds[1:] == ["number"] * (len(cols) - 1) and all(r[1].endswith(" ms") for r in rows)
    broken = copy.deepcopy(p)
    broken["fieldConfig"] = {"defaults": {"unit": "ms"}, "overrides": []}
    assert [r[0] for r in table_model(broken, hints, 4)[2]] == ["1 ms", "2 ms", "3 ms", "4 ms"]
