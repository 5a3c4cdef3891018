"""Every series of every TraceQL metrics panel has a readable, unique name as Grafana displays it
(issue 15 point 3), with Grafana's own code as the oracle: tests/grafana-data/names.cjs builds
the frames as Grafana's Tempo backend does, applies the panel's field config with @grafana/data's
applyFieldOverrides and reads getFieldDisplayName. Both label orders are tried: older Grafana
builds emit a series' labels in Go map order."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dashgen.build import build_artifacts
from dashgen.catalog import PRESETS, load_catalog

HELPER = Path(__file__).resolve().parent / "grafana-data"
FUNC = re.compile(r"\|\s*(quantile_over_time|rate|count_over_time|avg_over_time|max_over_time)\s*\(([^)]*)\)"
                  r"(?:\s*by\s*\(([^)]*)\))?")


def grafana_data(script: str, cases: list[dict]) -> list:
    """What @grafana/data answers for each case (tests/grafana-data/<script>, one answer per case)."""
    assert shutil.which("node"), "node missing: run ./scripts/test"
    assert (HELPER / "node_modules" / "@grafana" / "data").is_dir(), "run ./scripts/test (npm ci in tests/grafana-data)"
    res = subprocess.run(["node", str(HELPER / script)], input=json.dumps(cases), capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def grafana_names(cases: list[dict]) -> list[list[str]]:
    return grafana_data("names.cjs", cases)


def series_of(query: str, catalog) -> list[list[list]]:
    """The label sets Tempo returns for a metrics query (keys in one order)."""
    fn, args, by = FUNC.search(query).groups()
    if by:
        key = by.strip()
        values = [s.id for s in catalog.stages] if key.startswith("span.") else [s.span for s in catalog.stages]
        groups = [[[key, v]] for v in values]
    else:
        groups = [[]]
    if fn == "quantile_over_time":
        qs = [float(q) for q in args.split(",")[1:]]
        return [[["p", q], *g] for q in qs for g in groups]
    return [g or [["__name__", fn]] for g in groups]


def readable(name: str) -> bool:
    return not (name.startswith("{") or re.fullmatch(r"[0-9.]+", name) or name.endswith("_over_time")
                or name in ("rate", ""))


def panels_and_series(preset: str):
    catalog = load_catalog(preset)
    arts = build_artifacts(catalog).artifacts
    for path, text in sorted(arts.items()):
        if not (path.startswith("dashboards/") and path.endswith(".json")):
            continue
        d = json.loads(text)
        by_id = {p["id"]: p for p in d["panels"]}
        for p in d["panels"]:
            source = p
            if p["type"] == "stat" and p["targets"] and "panelId" in p["targets"][0]:
                source = by_id[p["targets"][0]["panelId"]]
            queries = [t["query"] for t in source.get("targets", []) if FUNC.search(t.get("query", ""))]
            if not queries or p["type"] == "heatmap":
                continue
            series = [s for q in queries for s in series_of(q, catalog)]
            yield f"{d['uid']}: {p['title']}", p, series


@pytest.mark.parametrize("preset", PRESETS)
def test_every_metrics_series_has_a_readable_unique_grafana_name(preset):
    found = list(panels_and_series(preset))
    assert found
    cases = []
    for _, p, series in found:
        cases.append({"fieldConfig": p["fieldConfig"], "series": series})
        cases.append({"fieldConfig": p["fieldConfig"], "series": [list(reversed(s)) for s in series]})
    results = grafana_names(cases)
    for i, (where, p, _) in enumerate(found):
        for names in results[2 * i: 2 * i + 2]:
            if p["type"] == "stat":  # the tile shows the one series its reduce regex picks, by display name
                pick = p["options"]["reduceOptions"]["fields"].strip("/")
                names = [n for n in names if re.search(pick, n)]
                assert len(names) == 1, (where, names)
            assert all(readable(n) for n in names), (where, names)
            assert len(set(names)) == len(names), (where, names)


def test_the_oracle_sees_the_defects_of_the_old_output():
    """Without overrides Grafana shows 0.95 and {p=0.95, span.audio.stage="asr"}: the check would fail."""
    names = grafana_names([{"fieldConfig": {"defaults": {}, "overrides": []},
                            "series": [[["p", 0.5]], [["p", 0.95]], [["p", 0.95], ["span.audio.stage", "asr"]]]}])[0]
    assert names == ["0.5", "0.95", '{p=0.95, span.audio.stage="asr"}']
    assert not any(readable(n) for n in names)
