"""Large catalogs stay usable (issue 12, point 4; issue 22): 200 stages build, within budget everywhere.

The catalog is bench/build.py's synthetic one (the default's five stages copied 40 times).
Before, its overview had 410 panels and 204 TraceQL metrics queries; now the overview gives
per-stage panels to the stages that fit the budget and links to the rest. Before issue 22 the
alert rules dashboard had 1,122 panels and the SLO dashboard 642, all drawn on load: now both
are split into pages within the panel budget, and every alert still opens its own panel.
"""

from __future__ import annotations

import importlib.util
import json
import re
import time

import pytest

from conftest import REPO, run_dashgen
from dashgen.dashboards.budget import (HEADLINE_STAGES, MAX_METRICS_QUERIES, MAX_PANELS_ON_LOAD, headline,
                                      metrics_queries, paginate)
from dashgen.dashboards.model import Row
from dashgen.dashboards.model import TempoTarget, TimeSeriesPanel
from dashgen.artifacts import read_output
from dashgen.lint.dashboards import lint_dashboard

STAGES = 200
MAX_OVERVIEW_PANELS = 40
MAX_SECONDS = 120  # a generous bound on a shared CI machine; bench/build.py measures for real


def synthetic_catalog(factor: int) -> str:
    spec = importlib.util.spec_from_file_location("bench_build", REPO / "bench" / "build.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench.synthetic_catalog(factor)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("large")
    (work / "big.yaml").write_text(synthetic_catalog(STAGES // 5), encoding="utf-8")
    start = time.perf_counter()
    proc = run_dashgen("build", "-c", "big.yaml", "-o", "out", cwd=work)
    return proc, time.perf_counter() - start, read_output(work / "out")


def test_200_stages_build_in_reasonable_time(built):
    proc, seconds, files = built
    # exit 0 also means build's own lint gate found nothing (test_build_gate.py)
    assert proc.returncode == 0, proc.stderr
    dashboards = [rel for rel in files if rel.startswith("dashboards/") and rel.endswith(".json")]
    # stages + overview + drilldown + the pages of the alert rules and of the SLOs
    pages = [rel for rel in dashboards if "-alerts" in rel or "-slo" in rel]
    assert len(dashboards) == STAGES + 2 + len(pages) and len(pages) > 2, pages
    assert f"wrote {len(dashboards)} dashboards" in proc.stdout
    assert seconds < MAX_SECONDS


def test_every_dashboard_stays_within_the_traceql_budget(built):
    _, _, files = built
    dashboards = {rel: json.loads(text) for rel, text in files.items() if rel.endswith(".json")
                  and rel.startswith("dashboards/")}
    assert any(rel.endswith("-slo.json") for rel in dashboards)
    for rel, d in dashboards.items():
        problems, stats = lint_dashboard(d, None, rel)
        assert problems == [] and stats.traceql_metrics <= MAX_METRICS_QUERIES, (rel, problems, stats)
        # what Grafana builds on load: every top-level panel (a collapsed row's children wait)
        assert len(d["panels"]) <= MAX_PANELS_ON_LOAD, (rel, len(d["panels"]))


def test_every_alert_opens_its_panel_on_a_page_of_its_stage(built):
    _, _, files = built
    dashboards = {json.loads(t)["uid"]: json.loads(t) for rel, t in files.items()
                  if rel.startswith("dashboards/") and rel.endswith(".json")}
    rules = [r for rel, t in files.items() if rel.startswith("alerts/grafana/") for r in json.loads(t)["rules"]
             if "record" not in r]
    assert len(rules) > 800
    pages = set()
    for r in rules:
        uid, pid = r["annotations"]["__dashboardUid__"], int(r["annotations"]["__panelId__"])
        page = dashboards[uid]
        pages.add(uid)
        # top level, so viewPanel opens it: no collapsed row holds it
        panel = next(p for p in page["panels"] if p["id"] == pid)
        assert panel["title"] == r["title"] and panel["type"] == "timeseries"
        assert not any(p.get("collapsed") for p in page["panels"] if p["type"] == "row")
    assert len(pages) > 1
    titles = [dashboards[uid]["title"] for uid in sorted(pages)]
    assert len(set(titles)) == len(titles) and all(t.startswith("Alert rules ") for t in titles), titles


def test_the_overview_summarises(built):
    _, _, files = built
    rel = next(r for r in files if r.endswith("-overview.json"))
    overview = json.loads(files[rel])
    panels = overview["panels"]
    # Bounded panels; the size still grows with the stages, by the names of their by-stage series
    # (one rename override per stage on each by-stage panel, about 1.5 KB a stage), not by panels.
    assert len(panels) <= MAX_OVERVIEW_PANELS and len(files[rel]) < 100_000 + 2_000 * STAGES, \
        (len(panels), len(files[rel]))
    _, stats = lint_dashboard(overview, None, rel)
    assert stats.traceql_metrics == MAX_METRICS_QUERIES  # the budget is used, not wasted
    # the first stages headline it; every stage is still named and one click away
    stats = [p["title"] for p in panels if p["type"] == "stat"]
    assert stats[0] == "Good turns (last 1h)"  # the turn as a whole first (PromQL: no Tempo query)
    stats = stats[1:]
    assert stats[0].startswith("ASR ") and len(stats) <= HEADLINE_STAGES, stats
    assert not any(title.startswith(("ASR 39 ", "TTS 39 ")) for title in stats), stats
    # each headline panel says which stage it is about (copies of one stage share measurement titles)
    row = next(i for i, p in enumerate(panels) if p["type"] == "row" and p["title"].startswith("Headline"))
    heads = [p["title"] for p in panels[row + 1:] if p["type"] != "row"][:HEADLINE_STAGES]
    heads = heads[:next((i for i, p in enumerate(panels[row + 1:]) if p["type"] == "row"), len(heads))]
    assert len(heads) > 2 and len(set(heads)) == len(heads), heads
    assert heads[0].startswith("ASR: ") and heads[1].startswith("LLM: "), heads
    text = next(p for p in panels if p["type"] == "text" and p["title"] == "What each dashboard shows")
    links = text["options"]["content"]
    assert any(p["type"] == "dashlist" for p in panels)  # Grafana's links to all
    assert "have no panels of their own above" in links
    # every stage is named, the last ones too, and the panel is tall enough for the text
    # (22 px lines of about 95 characters at half width, in 38 px grid rows)
    for name in ("ASR", "ASR 39", "Client 39", "Barge-in 39"):
        assert re.search(rf"(\*\*|, ){re.escape(name)}(,|\*\*)", links), name
    wrapped = sum(-(-len(line) // 95) or 1 for line in links.splitlines())
    assert text["gridPos"]["h"] * 38 >= wrapped * 22 + 2 * 38, (text["gridPos"], wrapped)


def panel(n_metrics: int, key: str) -> TimeSeriesPanel:
    targets = [TempoTarget(query="{ } | rate()", datasource={"type": "tempo", "uid": "t"}, refId=chr(65 + i))
               for i in range(n_metrics)]
    targets.append(TempoTarget(query="{ }", datasource={"type": "tempo", "uid": "t"}, refId="Z", kind="search"))
    return TimeSeriesPanel(key=key, title=key, description=key, targets=targets)


def test_headline_takes_stages_in_order_while_the_budget_lasts():
    cost = {"a": 2, "b": 3, "c": 5, "d": 1}
    shown, left = headline("abcd", lambda s: [panel(cost[s], s)], spent=4, budget=12)
    assert [s for s, _ in shown] == ["a", "b"] and left == ["c", "d"]  # c does not fit; d does not jump it
    assert metrics_queries(p for _, ps in shown for p in ps) == 5  # searches are not metrics queries
    shown, left = headline("abcd", lambda s: [panel(0, s)], spent=0, budget=12, limit=3)
    assert [s for s, _ in shown] == ["a", "b", "c"] and left == ["d"]
    assert HEADLINE_STAGES >= 5  # the bundled catalogs' stages all headline their overview


def _panels(n: int, queries: int = 0, key: str = "p") -> list:
    return [panel(queries, f"{key}-{i}") for i in range(n)]


def test_paginate_keeps_both_budgets_and_stage_sections_together():
    sections = [(Row(key=f"row-{s}", title=f"stage {s}"), _panels(5, 1, f"s{s}")) for s in range(40)]
    pages = paginate(sections, _panels(1, 0, "head"), panel_budget=30, query_budget=12)
    assert sum(1 for page in pages for p in page if not isinstance(p, Row)) == 200
    for page in pages:
        assert len(page) + 1 <= 30 and metrics_queries(page) <= 12
        # sections stay whole: each row is followed by its five panels
        rows = [i for i, p in enumerate(page) if isinstance(p, Row)]
        assert all(len([p for p in page[i + 1:i + 6] if not isinstance(p, Row)]) == 5 for i in rows)
    # a section larger than a page continues on the next, under its row title
    big = paginate([(Row(key="row-x", title="x"), _panels(50, 0, "x"))], [], panel_budget=20)
    assert [p.title for page in big for p in page if isinstance(p, Row)] == ["x", "x (continued)", "x (continued)"]
    assert all(len(page) <= 20 for page in big)


def test_lint_counts_the_panels_drawn_on_load():
    def dashboard(panels):
        for i, p in enumerate(panels, 1):
            p.setdefault("id", i)
            p.setdefault("gridPos", {"x": 0, "y": i, "w": 24, "h": 1})
        return {"uid": "big", "title": "Big", "panels": panels}

    text = [{"type": "text", "title": f"t{i}", "description": "d"} for i in range(MAX_PANELS_ON_LOAD + 1)]
    problems, _ = lint_dashboard(dashboard(text), None, "big.json")
    assert [p for p in problems if p.rule == "panel-budget" and f"{MAX_PANELS_ON_LOAD + 1} panels drawn on load" in str(p)], problems
    problems, _ = lint_dashboard(dashboard(text[:MAX_PANELS_ON_LOAD]), None, "big.json")
    assert not [p for p in problems if p.rule == "panel-budget"], problems
    # the children of a collapsed row are not drawn until it opens
    row = {"type": "row", "title": "r", "collapsed": True, "panels": text}
    problems, _ = lint_dashboard(dashboard([row]), None, "big.json")
    assert not [p for p in problems if p.rule == "panel-budget"], problems
