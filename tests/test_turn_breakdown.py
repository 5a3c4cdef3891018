"""Issue 24 §1: the turn breakdown that adds up, on the overview (stacked p95 by stage over time)
and in the session drilldown (per turn), with the unexplained remainder as its own series.

The panels' transformations run through @grafana/data's own transformDataFrame
(tests/grafana-data/transform.cjs) on frames built the way Grafana's Tempo backend builds them,
with the label order of newer Grafana builds (sorted) and of older ones (either order)."""
from __future__ import annotations

import json

import pytest

from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog
from dashgen.voice.roles import caller_felt, response_chain
from test_series_names import grafana_data


def dashboard(key: str, preset: str = "default") -> dict:
    arts = build_artifacts(load_catalog(preset)).artifacts
    return json.loads(next(b for p, b in arts.items() if p.endswith(f"-{key}.json")))


@pytest.fixture(scope="module")
def overview():
    return dashboard("overview")


def breakdown(d: dict) -> dict:
    (p,) = [p for p in d["panels"] if p.get("title", "").startswith("Where a turn's time goes")]
    return p


def test_the_overview_stacks_at_least_three_critical_path_stages_in_pipeline_order(overview):
    catalog = load_catalog()
    chain = response_chain(catalog)
    p = breakdown(overview)
    assert p["type"] == "timeseries" and p["fieldConfig"]["defaults"]["custom"]["stacking"]["mode"] == "normal"
    (target,) = p["targets"]
    assert "quantile_over_time(span.audio.first_byte_ms, 0.95) by (span.audio.stage)" in target["query"]
    for s in chain:
        assert f'span.audio.stage = "{s.id}"' in target["query"]
    renamed = [o["properties"][0]["value"] for o in p["fieldConfig"]["overrides"]
               if o["properties"][0]["id"] == "displayName" and o["properties"][0]["value"][0].isdigit()]
    assert len(renamed) >= 3 and len(renamed) == len(chain)
    assert [n.split(". ", 1)[0] for n in renamed] == [str(i + 1) for i in range(len(chain))]  # pipeline order
    assert [n.split(" ", 2)[1] for n in renamed] == [s.id.upper() for s in chain]


@pytest.mark.parametrize("order", ["sorted", "reversed"])
def test_the_remainder_is_the_whole_minus_the_parts_as_grafana_computes_it(overview, order):
    catalog = load_catalog()
    chain = response_chain(catalog)
    whole_stage, _ = caller_felt(catalog)
    p = breakdown(overview)
    parts = {s.id: [100 + 10 * i, 200 + 10 * i, None] for i, s in enumerate(chain)}
    whole = [1000, 500, 700]

    def labels(stage):
        ls = [["p", 0.95], ["span.audio.stage", stage]]
        return ls if order == "sorted" else ls[::-1]

    series = [[labels(s), v] for s, v in parts.items()] + [[labels(whole_stage.id), whole]]
    (fields,) = grafana_data("transform.cjs", [{"transformations": p["transformations"], "series": series}])
    by_name = {f["name"]: f["values"] for f in fields}
    sums = [sum(v[i] for v in parts.values() if v[i] is not None) for i in range(3)]
    assert by_name["Unexplained"] == [w - s for w, s in zip(whole, sums)]
    assert by_name["Caller-felt p95 (the whole)"] == whole
    # the parts stay, one series each; the helper sum and the raw whole do not
    assert len([n for n in by_name if "span.audio.stage" in n]) == len(chain)
    assert not [n for n in by_name if n.startswith("dashgen ") or whole_stage.id in n]


def test_the_overview_stays_within_the_tempo_budget():
    from dashgen.lint.dashboards import MAX_METRICS_QUERIES, is_metrics_query

    for preset in ("default", "livekit", "pipecat"):
        d = dashboard("overview", preset)
        n = sum(1 for p in d["panels"] for t in p.get("targets") or [] if is_metrics_query(t.get("query", "")))
        assert n <= MAX_METRICS_QUERIES, (preset, n)


def test_the_drilldown_splits_each_turn_with_its_own_remainder():
    catalog = load_catalog()
    chain = [s.id for s in response_chain(catalog)]
    whole = caller_felt(catalog)[0].id
    d = dashboard("session")
    (bars,) = [p for p in d["panels"] if p.get("title", "").startswith("Per turn:")]
    assert bars["type"] == "barchart" and bars["options"]["stacking"] == "normal"
    rows = []  # (stage, turn, first byte): two turns, a stage off the critical path, one that produced nothing
    for turn, base in (("1", 100), ("2", 300)):
        rows += [(s, turn, base + 10 * i) for i, s in enumerate(chain)]
        rows += [(whole, turn, base * 10), ("barge_in", turn, 999)]
    rows.append((chain[0], "3", -1))
    frame = {"fields": [
        {"name": "audio.stage", "type": "string", "values": [r[0] for r in rows]},
        {"name": "audio.turn_id", "type": "string", "values": [r[1] for r in rows]},
        {"name": "audio.first_byte_ms", "type": "number", "values": [r[2] for r in rows]}]}
    (fields,) = grafana_data("transform.cjs", [{"transformations": bars["transformations"], "frames": [frame]}])
    by_name = {f["name"]: f["values"] for f in fields}
    assert [n for n in by_name if n in chain] == chain  # the parts, in pipeline order
    assert whole not in by_name and "barge_in" not in by_name and not [n for n in by_name if n.startswith("dashgen ")]
    turns = by_name[next(n for n in by_name if n.startswith("audio.turn_id"))]
    assert turns == ["1", "2"]
    expected = [base * 10 - sum(base + 10 * i for i in range(len(chain))) for base in (100, 300)]
    assert by_name["Unexplained"] == expected
