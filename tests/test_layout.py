"""Automatic layout on Grafana's 24-column grid.

Acceptance (issue 2): "Automatic gridPos layout on Grafana's 24-column grid with rows; no
overlaps (test on every generated dashboard of every bundled preset, and on random
panel-size sequences with hypothesis)."
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO
from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog
from dashgen.dashboards.model import Row, TextPanel
from dashgen.dashboards.layout import GRID_COLUMNS, assign_ids, flow, overlaps

PRESET_FILES = sorted((REPO / "dashgen" / "catalog" / "presets").glob("*.yaml"))


def cells(panels: list[dict]) -> dict[tuple[int, int], object]:
    """Occupied grid cells, computed independently of layout.overlaps."""
    taken: dict[tuple[int, int], object] = {}
    for p in panels:
        g = p["gridPos"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in taken, f"{p.get('title')!r} overlaps {taken[(x, y)]!r} at {(x, y)}"
                taken[(x, y)] = p.get("title")
    return taken


def check_grid(panels: list[dict]) -> None:
    for p in panels:
        g = p["gridPos"]
        assert set(g) == {"x", "y", "w", "h"} and all(isinstance(v, int) for v in g.values()), g
        assert g["x"] >= 0 and g["y"] >= 0 and g["w"] >= 1 and g["h"] >= 1, g
        assert g["x"] + g["w"] <= GRID_COLUMNS, g
        if p.get("type") == "row":
            assert (g["x"], g["w"], g["h"]) == (0, GRID_COLUMNS, 1), g
    cells(panels)
    assert overlaps(panels) == []
    # reading order: panels appear top-to-bottom, left-to-right
    order = [(p["gridPos"]["y"], p["gridPos"]["x"]) for p in panels]
    assert order == sorted(order)
    # a row is alone on its line and everything after it is below it
    for i, p in enumerate(panels):
        if p.get("type") == "row":
            y = p["gridPos"]["y"]
            assert all(q["gridPos"]["y"] + q["gridPos"]["h"] <= y for q in panels[:i])
            assert all(q["gridPos"]["y"] > y for q in panels[i + 1:])


@pytest.mark.parametrize("path", PRESET_FILES, ids=[p.stem for p in PRESET_FILES])
def test_every_generated_dashboard_is_laid_out_without_overlaps(path):
    arts = build_artifacts(load_catalog(str(path))).artifacts
    dashboards = [json.loads(c) for rel, c in arts.items() if rel.startswith("dashboards/") and rel.endswith(".json")]
    assert dashboards
    for d in dashboards:
        assert d["panels"], d["uid"]
        check_grid(d["panels"])


SIZES = st.lists(
    st.one_of(st.just("row"), st.tuples(st.integers(-3, 40), st.integers(1, 20))),
    min_size=1, max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(SIZES)
def test_random_panel_sequences_never_overlap(sizes):
    panels = []
    for i, s in enumerate(sizes):
        if s == "row":
            panels.append(Row(key=f"row-{i}", title=f"Row {i}"))
        else:
            w, h = s
            panels.append(TextPanel(key=f"p-{i}", title=f"P{i}", description="d", content="c", w=w, h=h))
    placed = flow(assign_ids("uid", panels))
    plain = [{"title": p.title, "type": "row" if isinstance(p, Row) else "text", "gridPos": p.gridPos, "id": p.id}
             for p in placed]
    check_grid(plain)
    # widths are kept when they fit the grid, clamped into 1..24 otherwise
    for s, p in zip(sizes, plain):
        if s != "row":
            assert p["gridPos"]["w"] == max(1, min(s[0], GRID_COLUMNS)) and p["gridPos"]["h"] == s[1]
    # no gratuitous gaps: a panel wraps only when it would not fit on the current line
    for prev, cur, s in zip(plain, plain[1:], sizes[1:]):
        if "row" in (prev["type"], cur["type"]):
            continue
        if cur["gridPos"]["y"] == prev["gridPos"]["y"]:
            assert cur["gridPos"]["x"] == prev["gridPos"]["x"] + prev["gridPos"]["w"]
        else:
            assert prev["gridPos"]["x"] + prev["gridPos"]["w"] + cur["gridPos"]["w"] > GRID_COLUMNS


def test_overlap_detector_detects():
    a = {"id": 1, "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8}}
    b = {"id": 2, "gridPos": {"x": 11, "y": 7, "w": 4, "h": 4}}
    c = {"id": 3, "gridPos": {"x": 12, "y": 0, "w": 12, "h": 8}}
    assert overlaps([a, b, c]) == [(1, 2), (2, 3)]


def test_placing_copies_a_panel_and_leaves_the_callers_untouched():
    """Layout sets ids and positions on copies (what attr.evolve would give): the same class and
    every other attribute, the panels it was given unchanged."""
    import attr

    inner = TextPanel(key="inner", title="Inner", content="x")
    given_panels = [Row(key="row", title="Row", collapsed=True, panels=[inner]),
                    TextPanel(key="t", title="T", content="y", w=6)]
    placed = flow(assign_ids("uid", given_panels))
    for before, after in zip(given_panels, placed):
        assert type(after) is type(before) and after is not before
        assert before.id is None and before.gridPos is None
        assert isinstance(after.id, int) and after.gridPos
        changed = {"id", "gridPos", "panels"}
        assert {a.name: getattr(after, a.name) for a in attr.fields(type(before)) if a.name not in changed} == {
            a.name: getattr(before, a.name) for a in attr.fields(type(before)) if a.name not in changed}
    assert given_panels[0].panels == [inner] and inner.id is None
    assert placed[0].panels[0].id not in (None, placed[0].id)


def test_a_collapsed_rows_panels_are_placed_below_it_and_the_grid_goes_on_after_it():
    """Grafana's saved form of a collapsed row: the row takes one line, its panels keep the places
    they take when it opens (directly below it), and the panels after the row follow its line."""
    inner = [TextPanel(key=f"in-{i}", title=f"In {i}", content="x", w=12, h=4) for i in range(3)]
    panels = [TextPanel(key="top", title="Top", content="x", w=24, h=5),
              Row(key="folded", title="Folded", collapsed=True, panels=inner),
              Row(key="open", title="Open"),
              TextPanel(key="after", title="After", content="x", w=12, h=4)]
    placed = flow(assign_ids("uid", panels))
    top, folded, open_, after = placed
    assert folded.gridPos == {"x": 0, "y": 5, "w": 24, "h": 1}
    assert [p.gridPos for p in folded.panels] == [{"x": 0, "y": 6, "w": 12, "h": 4}, {"x": 12, "y": 6, "w": 12, "h": 4},
                                                  {"x": 0, "y": 10, "w": 12, "h": 4}]
    assert open_.gridPos["y"] == 6 and after.gridPos == {"x": 0, "y": 7, "w": 12, "h": 4}
    # opened, the row's panels would sit on the grid without overlapping what is above it
    check_grid([p.to_json_data() for p in (top, folded, *folded.panels)])
