"""docs/dashboards.md states panel and query counts per dashboard and preset: keep them true."""

from __future__ import annotations

import re
from pathlib import Path

from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog
from dashgen.lint import lint_artifacts

DOC = Path(__file__).resolve().parent.parent / "docs" / "dashboards.md"


def test_readme_dashboard_counts_match_the_build():
    catalog = load_catalog()
    stats = {s.title: s for s in lint_artifacts(build_artifacts(catalog).artifacts, catalog).stats}
    section = DOC.read_text(encoding="utf-8").split("# The dashboards", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([^|]+?) \| (\d+) \| (\d+) / (\d+) \|", section, re.M)
    assert {title for title, *_ in rows} == set(stats)
    for title, panels, metrics, searches in rows:
        s = stats[title]
        assert (int(panels), int(metrics), int(searches)) == (s.panels, s.traceql_metrics, s.traceql_search), title


def test_readme_preset_counts_match_the_build():
    section = DOC.read_text(encoding="utf-8").split("## Convention presets", 1)[1].split("\n## ", 1)[0]
    for preset in ("pipecat", "livekit"):
        row = re.search(rf"^\| {preset} \| (.+) \|$", section, re.M).group(1)
        stated = [tuple(map(int, m)) for m in re.findall(r"\((\d+), (\d+)/(\d+)\)", row)]
        catalog = load_catalog(preset)
        stats = lint_artifacts(build_artifacts(catalog).artifacts, catalog).stats
        order = {s.uid: s for s in stats}
        built = [order[f"{preset}-overview"]] + [order[f"{preset}-{s.id.replace('_', '-')}"] for s in catalog.stages] \
            + [order[f"{preset}-session"]]
        assert stated == [(s.panels, s.traceql_metrics, s.traceql_search) for s in built], preset
