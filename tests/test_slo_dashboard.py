"""The SLO dashboard shows every SLO of the catalog with the same panels: each stage SLO's and the
good-turn SLO's (``voice.good_turn``), from the series their recording groups record."""

from __future__ import annotations

import json
import re

import pytest

from dashgen.alerts.slo import good_turn_ids, slo_ids
from dashgen.build import build_artifacts
from dashgen.catalog import preset_path
from dashgen.dashboards.budget import MAX_PANELS_ON_LOAD
from dashgen.lint import lint_artifacts
from dashgen.voice.burn_rates import burn_rates
from dashgen.voice.checks import load_catalog, parse_catalog
from dashgen.voice.good_turn import sli

PRESETS = ["default", "livekit", "pipecat"]
GOOD_TURN_BLOCK = "good_turn:\n  latency_ms: 1500\n  barge_in_silence_ms: 200\n  objective: 0.95\n"


def slo_dashboards(built) -> list[dict]:
    """The SLO dashboard's pages, in page order."""
    pages = [json.loads(c) for p, c in built.artifacts.items() if p.startswith("dashboards/") and p.endswith(".json")
             and json.loads(c)["title"].startswith("SLOs and error budgets")]

    def number(d: dict) -> int:
        m = re.search(r" (\d+)/\d+", d["title"])
        return int(m.group(1)) if m else 1

    return sorted(pages, key=number)


def flat(d: dict) -> list[dict]:
    return [q for p in d["panels"] for q in [p, *p.get("panels", [])]]


def exprs(p: dict) -> list[str]:
    return [t["expr"] for t in p.get("targets", []) if "expr" in t]


def steps(p: dict) -> list[tuple]:
    return [(s["color"], s["value"]) for s in p["fieldConfig"]["defaults"]["thresholds"]["steps"]]


def section(d: dict, title: str) -> list[dict]:
    """The panels under the row whose title starts with ``title`` (rows are expanded on this dashboard)."""
    out, inside = [], False
    for p in d["panels"]:
        if p["type"] == "row":
            inside = p["title"].startswith(title)
            continue
        if inside:
            out.append(p)
    return out


def shape(panels: list[dict]) -> list[tuple]:
    """What an SLO's panels are, without whose they are: type, title after the SLO's name, unit, size."""
    return [(p["type"], p["title"].split(": ", 1)[1], p["fieldConfig"]["defaults"].get("unit"),
             p["gridPos"]["w"], p["gridPos"]["h"], len(p.get("targets", []))) for p in panels]


@pytest.mark.parametrize("preset", PRESETS)
def test_the_good_turn_slo_has_the_panels_of_a_stage_slo(preset):
    c = load_catalog(preset)
    (d,) = slo_dashboards(build_artifacts(c))
    good = section(d, "Good turns:")
    assert [p["title"] for p in good] == [
        "Good turns: SLI over 30d", "Good turns: error budget remaining", "Good turns: burn rate now (5m)",
        "Good turns: budget runs out in", "Good turns: SLI against the objective (30d)",
        "Good turns: burn rate per alert window", "Good turns: good and bad events per second"]
    stage = next(s for s in c.stages if s.slo)
    assert shape(good) == shape(section(d, stage.title.split(" (")[0] + ":"))
    assert all(len(p["description"]) > 40 for p in good)


@pytest.mark.parametrize("preset", PRESETS)
def test_each_slo_section_reads_its_own_sloth_id(preset):
    c = load_catalog(preset)
    (d,) = slo_dashboards(build_artifacts(c))
    g = sli(c)
    sections = {s.title.split(" (")[0] + ":": slo_ids(c, s).id for s in c.stages if s.slo}
    sections["Good turns:"] = good_turn_ids(c).id
    assert good_turn_ids(c).id == f"{c.uid_prefix}-good-turn"
    for title, sloth_id in sections.items():
        panels = section(d, title)
        recorded = [e for p in panels for e in exprs(p) if "slo:" in e]
        assert len(recorded) >= 9, title
        for e in recorded:
            assert set(re.findall(r'sloth_id="([^"]+)"', e)) == {sloth_id}, (title, e)
    # the event rates read what the good-turn SLI divides: its two counters, not a histogram
    events = section(d, "Good turns:")[-1]
    good, bad = exprs(events)
    assert f"{g.spec.good_metric}[" in good and f"{g.spec.turns_metric}[" in bad and "_bucket" not in good + bad
    # the alerts header lists the good-turn SLO's burn alerts with the stages'
    (firing,) = [p for p in d["panels"] if p["type"] == "alertlist"]
    assert set(re.search(r'slo=~"([^"]+)"', firing["options"]["alertInstanceLabelFilter"]).group(1).split("|")) \
        == set(sections.values())


@pytest.mark.parametrize("objective", [0.95, 0.99])
def test_the_good_turn_thresholds_follow_the_catalog_objective(objective):
    text = preset_path("default").read_text(encoding="utf-8")
    assert GOOD_TURN_BLOCK in text
    c = parse_catalog(text.replace(GOOD_TURN_BLOCK, GOOD_TURN_BLOCK.replace("0.95", f"{objective:g}")), "gt.yaml")
    assert c.good_turn.objective == objective
    built = build_artifacts(c)
    (d,) = slo_dashboards(built)
    p = {x["title"].split(": ", 1)[1]: x for x in section(d, "Good turns:")}
    assert steps(p["SLI over 30d"]) == [("red", None), ("green", objective)]
    assert steps(p["SLI against the objective (30d)"]) == [("red", None), ("green", objective)]
    rates = burn_rates(sli(c).slo)
    assert steps(p["burn rate now (5m)"])[-1] == ("red", max(r for *_, r in rates))
    assert sorted(v for _, v in steps(p["burn rate per alert window"])[1:]) == sorted({r for *_, r in rates})
    assert steps(p["error budget remaining"])[0] == ("red", None)
    assert f"{objective * 100:g}%" in d["panels"][[x["title"] for x in d["panels"]].index(
        next(x["title"] for x in d["panels"] if x["title"].startswith("Good turns:") and x["type"] == "row"))]["title"]
    report = lint_artifacts(built.artifacts, c)  # stats that can turn red, ids, layout
    assert report.ok, report.problems


def test_without_the_good_turn_block_the_dashboard_shows_only_the_stage_slos():
    text = preset_path("default").read_text(encoding="utf-8")
    c = parse_catalog(text[: text.index("\n# The good-turn SLI")] + "\n", "plain.yaml")
    (d,) = slo_dashboards(build_artifacts(c))
    assert not any("good-turn" in e or "Good turns" in p["title"] for p in flat(d) for e in exprs(p) + [""])
    (with_it,) = slo_dashboards(build_artifacts(load_catalog()))
    # the stage SLOs' panels are the same with or without it; the good-turn SLO only adds its own
    stage_panels = [p for p in with_it["panels"] if not p["title"].startswith("Good turns") and p["type"] != "alertlist"]
    assert stage_panels == [p for p in d["panels"] if p["type"] != "alertlist"]


def test_many_slos_paginate_with_the_good_turn_slo_on_the_last_page():
    """Enough stage SLOs to pass the panel budget: the good-turn SLO's section stays whole, on the last page,
    whose title and alerts header name it."""
    text = preset_path("default").read_text(encoding="utf-8")
    stage = "    slo: {measurement: first_byte, objective: 0.95, threshold: 150, window: 30d}\n"
    assert stage in text
    per_slo = 8  # its row and seven panels
    copies = MAX_PANELS_ON_LOAD // per_slo  # stage SLOs alone then fill more than one page
    # copy the ASR stage (and its SLO) under new ids
    start = text.index("  - id: asr\n")
    end = text.index("\n  - id: ", start) + 1
    block = text[start:end]
    extra = "".join(block.replace("id: asr\n", f"id: asr{i}\n", 1).replace("span: audio.asr\n", f"span: audio.asr{i}\n")
                    .replace("critical_path: true", "critical_path: false")
                    .replace("title: ASR (speech to text)", f"title: ASR {i} (speech to text)")
                    for i in range(copies))
    extra = re.sub(r"metric: &first_byte_metric\n +buckets: [^\n]*\n", "metric: *first_byte_metric\n", extra)
    try:
        c = parse_catalog(text[:end] + extra + text[end:], "many.yaml")
    except Exception as e:  # the copy must stay a valid catalog for this test to mean anything
        pytest.fail(f"copied stages do not load: {e}")
    built = build_artifacts(c)
    pages = slo_dashboards(built)
    assert len(pages) >= 2
    assert all(len(flat(p)) <= MAX_PANELS_ON_LOAD for p in pages)
    holding = [p for p in pages if any(x["title"].startswith("Good turns") for x in p["panels"])]
    assert len(holding) == 1 and holding[0] is pages[-1]
    assert len(section(holding[0], "Good turns:")) == 7 and holding[0]["title"].endswith("Good turns")
    (firing,) = [p for p in holding[0]["panels"] if p["type"] == "alertlist"]
    assert good_turn_ids(c).id in firing["options"]["alertInstanceLabelFilter"]
    assert lint_artifacts(built.artifacts, c).ok
