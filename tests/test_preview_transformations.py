"""The preview draws what Grafana draws after a panel's transformations, for every panel kind.

The overview's turn breakdown is a time series whose remainder comes from transformations
(joinByField, calculateField, organize): the preview must stack the critical-path parts in
pipeline order, draw the caller-felt whole as its own line and the remainder as its own band,
never the raw whole (or a stage off the critical path) as a part. @grafana/data's own
transformDataFrame (tests/grafana-data/transform.cjs) is the oracle for the values."""
from __future__ import annotations

import json

import numpy as np
import pytest

from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog
from dashgen.review.preview.data import (Hints, _tempo_series, apply_transformations, synthetic_series,
                                         table_model)
from dashgen.review.preview.panels import series_style, stack_key
from dashgen.voice.roles import caller_felt, response_chain
from test_series_names import grafana_data


@pytest.fixture(scope="module")
def catalog():
    return load_catalog("default")


@pytest.fixture(scope="module")
def hints(catalog):
    return Hints.from_catalog(catalog)


@pytest.fixture(scope="module")
def breakdown(catalog):
    arts = build_artifacts(catalog).artifacts
    d = json.loads(next(b for p, b in arts.items() if p.endswith("-overview.json")))
    (p,) = [p for p in d["panels"] if p.get("title", "").startswith("Where a turn's time goes")]
    return p


def drawn(panel, hints):
    """(name, values, stacking group) of each series the preview draws, in drawing order."""
    return [(s.name, s.values, stack_key(series_style(panel, s.name))) for s in synthetic_series(panel, hints)]


def test_only_the_critical_path_is_stacked_in_pipeline_order_with_the_remainder_on_top(breakdown, hints, catalog):
    chain = response_chain(catalog)
    series = drawn(breakdown, hints)
    names = [n for n, _, _ in series]
    parts = [n for n, _, g in series if g == "A" and n != "Unexplained"]
    assert [n.split(". ", 1)[0] for n in parts] == [str(i + 1) for i in range(len(chain))]
    assert [n.split(" ")[1] for n in parts] == [s.id.upper() for s in chain]
    # the remainder is its own band, stacked on the parts; the whole a line of its own, not a part
    assert names == [*parts, "Caller-felt p95 (the whole)", "Unexplained"]
    groups = {n: g for n, _, g in series}
    assert groups["Unexplained"] == "A" and groups["Caller-felt p95 (the whole)"] is None
    # no stage off the critical path (the client's raw first byte, barge-in) is drawn
    assert not [n for n in names if "client" in n.lower() or "barge" in n.lower() or n.startswith("{")]


def test_the_stack_reaches_the_whole_and_the_whole_is_not_counted_twice(breakdown, hints):
    series = drawn(breakdown, hints)
    parts = np.sum([v for n, v, g in series if g == "A" and n != "Unexplained"], axis=0)
    whole = next(v for n, v, _ in series if n.startswith("Caller-felt"))
    rest = next(v for n, v, _ in series if n == "Unexplained")
    assert np.allclose(rest, whole - parts)
    stacked_top = np.sum([v for _, v, g in series if g == "A"], axis=0)
    assert np.allclose(stacked_top, whole)  # the stack ends at the whole: nothing twice, nothing missing
    # the synthetic service explains the whole honestly: transport and playout on top of the parts
    assert (whole >= parts).all() and (rest > 0).all()


def test_the_preview_computes_what_grafana_data_computes(breakdown, hints):
    """The same raw series (labels as Tempo sends them, values of the synthetic service) through
    @grafana/data's transformDataFrame and through the preview: the same fields, the same values."""
    query = breakdown["targets"][0]["query"]
    raw = _tempo_series(query, hints, "ms")
    series = [[[[k, v] for k, v in labels], [float(x) for x in values]] for labels, values in raw]
    (fields,) = grafana_data("transform.cjs", [{"transformations": breakdown["transformations"], "series": series}])
    expected = {f["name"]: f["values"] for f in fields}
    ours = {s.name: s.values for s in synthetic_series({**breakdown, "fieldConfig": {"defaults": {}, "overrides": []}},
                                                       hints)}
    assert list(ours) == list(expected)
    for name, values in expected.items():
        assert np.allclose(ours[name], np.array(values, dtype=float)), name


def test_the_stage_filter_decides_which_groups_tempo_returns(hints):
    query = ('{ (span.audio.stage = "asr" || span.audio.stage = "tts") && span.audio.first_byte_ms > -1 } '
             '| quantile_over_time(span.audio.first_byte_ms, 0.95) by (span.audio.stage)')
    stages = [dict(labels)["span.audio.stage"] for labels, _ in _tempo_series(query, hints, "ms")]
    assert stages == ["asr", "tts"]


def test_tables_and_time_series_share_the_transformations(hints):
    """One implementation: a table's calculateField and organize (exclude, rename) give what
    apply_transformations gives on the same frame, and a rename reaches the table's columns."""
    steps = [{"id": "calculateField", "options": {"mode": "reduceRow", "alias": "sum",
                                                  "reduce": {"reducer": "sum", "include": ["a", "b"]}}},
             {"id": "organize", "options": {"excludeByName": {"a": True}, "renameByName": {"sum": "a + b"}}}]
    cols, rows, kinds, renamed = apply_transformations(steps, ["a", "b"], [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": ""}],
                                                       {"a": "number", "b": "number"})
    assert cols == ["b", "a + b"] and [r["a + b"] for r in rows] == [3.0, 3.0] and renamed == {"a + b": "sum"}
    (fields,) = grafana_data("transform.cjs", [{"transformations": steps, "frames": [{"fields": [
        {"name": "a", "type": "number", "values": [1, 3]}, {"name": "b", "type": "number", "values": [2, None]}]}]}])
    assert [f["name"] for f in fields] == cols and fields[1]["values"] == [3, 3]
    panel = {"type": "table", "targets": [{"query": '{ span.audio.stage = "tts" } | select(span.audio.first_byte_ms)'}],
             "transformations": [{"id": "organize", "options": {"renameByName": {"audio.first_byte_ms": "first byte"}}}]}
    assert "first byte" in table_model(panel, hints, 3)[0]


def test_the_whole_is_the_sum_of_its_parts_plus_what_no_stage_measures(hints, catalog):
    from dashgen.review.preview import world

    stage, m = caller_felt(catalog)
    parts = sum(world.quantile(hints, s.id, s.measurement("first_byte").attribute, 0.95) for s in response_chain(catalog))
    whole = world.quantile(hints, stage.id, m.attribute, 0.95)
    assert np.allclose(whole, parts * world.WHOLE_OVER_PARTS) and (whole > parts).all()


def test_a_stage_named_inside_an_or_with_another_condition_does_not_narrow_the_stages():
    """``(span.audio.interrupted != true || span.audio.stage = "barge_in")`` keeps every stage (their
    uninterrupted spans) and barge-in's: only a clause made of stage equalities alone narrows them."""
    from dashgen.review.preview.data import _chosen, _conds

    q = ('{ span.audio.stage != "" && (span.audio.interrupted != true || span.audio.stage = "barge_in") '
         '&& (span.audio.stage = "asr" || span.audio.stage = "tts") && span.audio.first_byte_ms >= 0 } '
         '| quantile_over_time(span.audio.first_byte_ms, 0.95) by (span.audio.stage)')
    assert _chosen(q, "audio.stage") == {"asr", "tts"}
    assert _chosen(q.replace('&& (span.audio.stage = "asr" || span.audio.stage = "tts") ', ""), "audio.stage") == set()
    assert ("audio.first_byte_ms", ">=", "0") in _conds(q)
    assert not [c for c in _conds(q) if c[0] == "audio.interrupted"]


def test_the_good_turn_event_rates_are_turns_per_second_and_add_up_to_the_judged_turns(hints):
    """The SLO dashboard's good and bad turns per second (promql.turn_event_rates): rates, not the
    SLI's share; good + bad is every judged turn, and bad is the SLI's bad share of them."""
    import numpy as np

    from dashgen.queries import promql
    from dashgen.review.preview import world
    from dashgen.review.preview.data import _prometheus_series

    turns, good = "audio_turns_judged_total", hints.good_turns
    good_rate, judged = promql.turn_event_rates(turns, good, "5m")
    (_, g), = _prometheus_series(good_rate, hints)
    (_, b), = _prometheus_series(f"{judged} - {good_rate}", hints)
    (_, ratio), = _prometheus_series(promql.turn_good_ratio(turns, good, "5m"), hints)
    assert np.allclose(np.asarray(g) + np.asarray(b), np.asarray(world.turns()))
    assert np.allclose(np.asarray(g) / (np.asarray(g) + np.asarray(b)), np.asarray(ratio))
    assert np.all(np.asarray(b) < np.asarray(g))
