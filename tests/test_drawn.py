"""dashgen/drawn/: a dashboard as Grafana reads it, checked against Grafana itself where Grafana's
code can run here (@grafana/data in tests/grafana-data) and against Grafana's layout rules."""

from __future__ import annotations

import copy
import json

import pytest

from dashgen import drawn
from dashgen.build import build_artifacts
from dashgen.catalog import PRESETS, load_catalog

from test_series_names import grafana_data


def grafana_colours(cases: list[dict]) -> list[dict]:
    return grafana_data("colors.cjs", cases)


def built_panels(preset: str) -> list[dict]:
    arts = build_artifacts(load_catalog(preset)).artifacts
    return [p.raw for path, text in sorted(arts.items()) if path.startswith("dashboards/") and path.endswith(".json")
            for p in drawn.read_dashboard(json.loads(text)).charts]


def variants(panel: dict) -> list[dict]:
    """The panel as built, and with each colour mode Grafana offers for it."""
    out = [panel]
    for color in ({"mode": "palette-classic"}, {"mode": "fixed", "fixedColor": "purple"}, None):
        p = copy.deepcopy(panel)
        defaults = p.setdefault("fieldConfig", {}).setdefault("defaults", {})
        if color is None:
            defaults.pop("color", None)
        else:
            defaults["color"] = color
        out.append(p)
    return out


@pytest.mark.parametrize("preset", PRESETS)
def test_colour_mode_and_active_step_are_grafanas(preset):
    """``color_mode`` and ``step_color`` give what @grafana/data's getFieldColorModeForField and
    getActiveThreshold give, for every panel of the build in every colour mode, at and around
    every step."""
    cases, expected = [], []
    for panel in built_panels(preset):
        if "thresholds" not in drawn.defaults(panel):
            continue  # the plugin's default steps are applied by the panel layer, not @grafana/data
        values = [0.0, 1e9] + [v + d for v, _ in drawn.steps(panel) if v is not None for d in (-0.001, 0, 0.001)]
        for p in variants(panel):
            for v in values:
                cases.append({"defaults": drawn.defaults(p), "value": v})
                colour = drawn.value_colour(p, 3, v)
                expected.append({"mode": drawn.color_mode(p), "byValue": drawn.color_mode(p) == "thresholds",
                                 "step": drawn.step_color(p, v), "decided": colour})
    assert len(cases) > 200
    got = grafana_colours(cases)
    for case, want, have in zip(cases, expected, got):
        assert (want["mode"], want["byValue"], want["step"]) == (have["mode"], have["byValue"], have["step"]), case
        if have["byValue"]:
            assert want["decided"] == have["step"], case  # by value: the active step's colour
        elif have["mode"] == "fixed":
            assert want["decided"] == case["defaults"]["color"]["fixedColor"]
        else:
            assert want["decided"] == 3  # by series: the palette entry of the series index


def test_a_panel_without_thresholds_gets_grafanas_default_steps():
    assert drawn.step_color({"type": "stat"}, 79.9) == "green" and drawn.step_color({"type": "stat"}, 80) == "red"
    assert drawn.steps({"type": "stat"}) == []  # what the author wrote: nothing, so lint has no steps to check
    assert drawn.step_color({"fieldConfig": {"defaults": {"thresholds": {"steps": []}}}}, 1) is None


def _row(pid, title, y, collapsed, panels=()):
    return {"type": "row", "id": pid, "title": title, "collapsed": collapsed,
            "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "panels": list(panels)}


def _panel(pid, title, y, x=0):
    return {"type": "stat", "id": pid, "title": title, "gridPos": {"x": x, "y": y, "w": 12, "h": 4}}


def test_every_panel_is_read_with_its_row_collapsed_rows_included():
    """Grafana sorts by grid position (DashboardModel.sortPanelsByGridPos); an open row owns the panels
    below it; a collapsed row keeps its panels in its own list (DashboardModel.toggleRow)."""
    d = {"uid": "u", "title": "T", "panels": [
        _row(10, "Open", 5, False),
        _panel(2, "right of top", 0, x=12), _panel(1, "top", 0),
        _panel(11, "under open", 6),
        _row(20, "Closed", 10, True, [_panel(21, "hidden a", 11), _panel(22, "hidden b", 11, x=12)]),
    ]}
    model = drawn.read_dashboard(d)
    assert [(p.title, p.row, p.folded) for p in model] == [
        ("top", None, False), ("right of top", None, False), ("Open", None, False), ("under open", "Open", False),
        ("Closed", None, False), ("hidden a", "Closed", True), ("hidden b", "Closed", True)]
    assert [p.title for p in model.charts] == ["top", "right of top", "under open", "hidden a", "hidden b"]
    assert [p.title for p in model.on_grid] == ["top", "right of top", "Open", "under open", "Closed"]
    assert [p.loads_on_open for p in model.charts] == [True, True, True, False, False]
    assert set(model.by_id()) == {1, 2, 10, 11, 20, 21, 22}


def test_drawn_thresholds_follow_the_style_and_names_follow_overrides():
    ts = {"type": "timeseries", "fieldConfig": {"defaults": {
        "thresholds": {"steps": [{"color": "green", "value": None}, {"color": "red", "value": 350}]},
        "custom": {"thresholdsStyle": {"mode": "off"}}}, "overrides": [
        {"matcher": {"id": "byName", "options": "0.95"}, "properties": [{"id": "displayName", "value": "p95"}]}]}}
    assert drawn.drawn_thresholds(ts) == [] and not drawn.uses_steps({**ts, "fieldConfig": {
        **ts["fieldConfig"], "defaults": {**ts["fieldConfig"]["defaults"], "color": {"mode": "palette-classic"}}}})
    ts["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] = "dashed"
    assert drawn.drawn_thresholds(ts) == [(350.0, "red")]
    frames = [drawn.tempo_frame([("p", 0.95)]), drawn.tempo_frame([("p", 0.5)])]
    assert drawn.display_names(ts, frames) == ["p95", "0.5"]
