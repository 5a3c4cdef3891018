"""Large catalogs stay usable (issue 12, point 4): 200 stages build, within budget everywhere.

The catalog is bench/build.py's synthetic one (the default's five stages copied 40 times).
Before, its overview had 410 panels and 204 TraceQL metrics queries; now the overview gives
per-stage panels to the stages that fit the budget and links to the rest.
"""

from __future__ import annotations

import importlib.util
import json
import time

import pytest

from conftest import REPO, run_dashgen
from dashgen.dashboards.budget import HEADLINE_STAGES, MAX_METRICS_QUERIES, headline, metrics_queries
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
    assert f"wrote {STAGES + 4} dashboards" in proc.stdout  # stages + overview, drilldown, alert rules, SLOs
    assert seconds < MAX_SECONDS


def test_every_dashboard_stays_within_the_traceql_budget(built):
    _, _, files = built
    dashboards = {rel: json.loads(text) for rel, text in files.items() if rel.endswith(".json")
                  and rel.startswith("dashboards/")}
    assert len(dashboards) == STAGES + 4 and any(rel.endswith("-slo.json") for rel in dashboards)
    for rel, d in dashboards.items():
        problems, stats = lint_dashboard(d, None, rel)
        assert problems == [] and stats.traceql_metrics <= MAX_METRICS_QUERIES, (rel, problems, stats)


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
    assert stats[0].startswith("ASR ") and len(stats) <= HEADLINE_STAGES, stats
    assert not any(title.startswith(("ASR 39 ", "TTS 39 ")) for title in stats), stats
    text = next(p for p in panels if p["type"] == "text" and p["title"] == "What each dashboard shows")
    links = text["options"]["content"]
    assert text["gridPos"]["h"] <= 20 and any(p["type"] == "dashlist" for p in panels)  # Grafana's links to all
    assert "**ASR 39 (speech to text)**" in links and "have no panels of their own above" in links


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
