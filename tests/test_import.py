"""`dashgen import`: real dashboards written by others round-trip through a definition file.

The corpus is 23 dashboards of 7 projects, shipped in Debian packages and in Ray's wheel on PyPI
(pinned by version and sha256 in scripts/fetch-import-corpus, unpacked into .test-data/import-corpus/
or $DASHGEN_IMPORT_CORPUS; never committed here; docs/import.md says what each covers). Each one is
imported, built through ``--definitions`` and compared with what Grafana would draw from the
source: panels (type, title, grid position), queries, variables, links, thresholds and overrides.
The expected side is the source after Grafana's own migrations
(graph -> timeseries, singlestat -> stat...), which tests of their own pin to the source.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import sys
from pathlib import Path

import pytest

from conftest import REPO, run_dashgen
from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog
from dashgen.catalog.conventions import make_uid
from dashgen.importer import import_dashboard
from dashgen.importer.emit import slug
from dashgen.importer.migrate import compact, migrate
from dashgen.importer.source import read_file
from dashgen.lint.gate import refuse_lint_problems

sys.path.insert(0, str(Path(__file__).parent))
from dashgen.sandbox.emulator import GrafanaEmulator  # noqa: E402

CORPUS = Path(os.environ.get("DASHGEN_IMPORT_CORPUS") or REPO / ".test-data" / "import-corpus")
# file -> the project that wrote it (and the package that ships it: scripts/fetch-import-corpus).
CEPH = ["ceph-cluster.json", "cephfs-overview.json", "host-details.json", "hosts-overview.json",
        "osd-device-details.json", "osds-overview.json", "pool-detail.json", "pool-overview.json",
        "radosgw-detail.json", "radosgw-overview.json", "radosgw-sync-overview.json", "rbd-details.json",
        "rbd-overview.json"]  # ceph-grafana-dashboards 16.2.15
RAY = ["ray-default.json", "ray-data.json", "ray-train.json", "ray-serve-llm.json"]  # written by Ray 2.60.0's code
PROJECTS = {**{name: "Ceph" for name in CEPH},
            "elasticsearch-exporter.json": "prometheus-community/elasticsearch_exporter",
            "etcd.json": "etcd",
            "redis-exporter.json": "oliver006/redis_exporter",
            "redis-exporter-0.3x.json": "oliver006/redis_exporter",
            "smokeping-prober.json": "SuperQ/smokeping_prober",
            "squid-exporter.json": "boynux/squid-exporter",
            **{name: "ray-project/ray" for name in RAY}}
CORPUS_FILES = list(PROJECTS)
TYPED = {"timeseries": "TimeSeriesPanel", "stat": "StatPanel", "table": "TablePanel", "text": "TextPanel",
         "row": "Row"}
CATALOG = load_catalog(None)


def corpus_file(name: str) -> Path:
    path = CORPUS / name
    if not path.is_file():
        pytest.fail(f"import corpus missing: {path} (./scripts/test downloads it: scripts/fetch-import-corpus "
                    f"lists the packages; or set DASHGEN_IMPORT_CORPUS to a folder holding their JSON files)")
    return path


def import_and_build(source: dict, tmp_path: Path, name: str = "imported") -> tuple[str, dict, list]:
    """(the definition file's text, the dashboard JSON built from it, lint problems except the
    missing-description rule, which the lint rework makes a warning: the corpus has none)."""
    imported = import_dashboard(source, CATALOG, name)
    path = tmp_path / f"{name.replace('-', '_').replace('.json', '')}.dashboard.py"
    path.write_text(imported.source, encoding="utf-8")
    result = build_artifacts(CATALOG, 41, (str(path),))
    users = [d for d in result.dashboards if d.title == (source.get("title") or "")]
    assert len(users) == 1, [d.title for d in result.dashboards]
    built = json.loads(result.artifacts[f"dashboards/{users[0].folder_uid}/{users[0].uid}.json"])
    try:
        refuse_lint_problems(result.artifacts, result.dashboards, CATALOG)
        problems = []
    except Exception as exc:  # the gate's one refusal lists every problem, one a line
        problems = [line for line in str(exc).splitlines()[1:] if "has no description" not in line]
    return imported.source, built, problems


# --- what both sides are compared on --------------------------------------------------------------

def _ds(ref):
    """A datasource reference, with the catalog's datasources (by uid, or a source variable/input of
    their type) as the catalog's variables."""
    for kind, d in (("prometheus", CATALOG.prometheus), ("tempo", CATALOG.tempo)):
        if isinstance(ref, dict) and ref.get("type") == kind and (
                str(ref.get("uid", "")).startswith("$") or ref.get("uid") in (d.uid, d.name)):
            return {"type": kind, "uid": "${" + d.variable + "}"}
    return ref


def _steps(p: dict):
    th = ((p.get("fieldConfig") or {}).get("defaults") or {}).get("thresholds")
    return [(s.get("color"), s.get("value")) for s in (th or {}).get("steps", [])] or None


def _no_nulls(value):
    """JSON nulls inside objects left out, as the kit writes them (Grafana reads a missing key as null)."""
    if isinstance(value, dict):
        return {k: _no_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_no_nulls(v) for v in value]
    return value


def _set(value):
    """Options as Grafana applies them: a null or an empty object sets nothing (the panel's defaults
    are merged under them), so the kit may leave either out (Ray's stat panels say ``"text": {}``)."""
    if isinstance(value, dict):
        return {k: _set(v) for k, v in value.items() if v is not None and v != {}}
    if isinstance(value, list):
        return [_set(v) for v in value]
    return value


def _target(t: dict) -> dict:
    """A query as Grafana runs it: no ``instant`` is false, an empty interval or legend is none."""
    if not isinstance(t, dict):
        return {"verbatim": t}
    return {"refId": t.get("refId"), "expr": t.get("expr"), "query": t.get("query"),
            "legendFormat": t.get("legendFormat") or None, "format": t.get("format") or None,
            "instant": bool(t.get("instant")), "interval": t.get("interval") or None,
            "hide": bool(t.get("hide")), "datasource": _ds(t.get("datasource"))}


def _panel(p: dict) -> dict:
    out = {"type": p.get("type"), "title": p.get("title"), "gridPos": p.get("gridPos"),
           "targets": [_target(t) for t in p.get("targets") or []],
           "overrides": _no_nulls((p.get("fieldConfig") or {}).get("overrides") or []),
           "links": p.get("links") or [], "transformations": p.get("transformations") or [],
           "repeat": p.get("repeat")}
    steps = _steps(p)
    if steps is not None and len(steps) > 1:  # one base step is the default either side writes
        out["thresholds"] = steps
    if p.get("type") == "row":
        out["collapsed"] = bool(p.get("collapsed"))
        out["panels"] = [_panel(c) for c in p.get("panels") or []]
    return out


def _variables(d: dict, drop: set[str]) -> list[dict]:
    return [_no_nulls({k: (_ds(v) if k == "datasource" else v) for k, v in var.items()})
            for var in (d.get("templating") or {}).get("list", [])
            if not (var.get("type") == "datasource" and var.get("name") in drop)]


def expected_of(source: dict) -> dict:
    current, _done, _warnings = migrate(source)
    return current


def _said(built, expected):
    """``built`` narrowed to what ``expected`` says: the kit writes Grafana's defaults besides."""
    if isinstance(built, dict) and isinstance(expected, dict):
        return {k: _said(built[k], v) for k, v in expected.items() if k in built}
    if isinstance(built, list) and isinstance(expected, list) and len(built) == len(expected):
        return [_said(b, e) for b, e in zip(built, expected)]
    return built


def _flat(panels: list) -> list:
    return [q for p in panels for q in [p, *p.get("panels", [])]]


def assert_same_dashboard(expected: dict, built: dict) -> None:
    assert [_panel(p) for p in built["panels"]] == [_panel(p) for p in expected["panels"]]
    for b, e in zip(_flat(built["panels"]), _flat(expected["panels"])):  # options and field defaults too
        for key in ("options", "fieldConfig"):
            if isinstance(e.get(key), dict):
                said = _set(e[key])
                assert _said(b.get(key), said) == said, (e.get("title"), key)
    mapped = {v["name"] for v in (expected.get("templating") or {}).get("list", [])
              if v.get("type") == "datasource" and v.get("query") in ("prometheus", "tempo")}
    catalog_ds = {CATALOG.prometheus.variable, CATALOG.tempo.variable}
    assert _variables(built, catalog_ds) == _variables(expected, mapped)
    assert built["links"] == (expected.get("links") or [])
    assert built["annotations"]["list"][1:] == [
        {**a, **({"datasource": _ds(a["datasource"])} if "datasource" in a else {})}
        for a in (expected.get("annotations") or {}).get("list", []) if not a.get("builtIn")]
    assert built["uid"] == (expected.get("uid") or make_uid(CATALOG.uid_prefix, slug(expected["title"])))
    assert built["title"] == expected["title"]
    assert built["time"] == expected.get("time", built["time"])
    assert built["refresh"] == (expected.get("refresh") or "")


# --- the corpus -------------------------------------------------------------------------------------

def test_the_corpus_has_at_least_ten_dashboards_by_others():
    found = sorted(p.name for p in CORPUS.glob("*.json")) if CORPUS.is_dir() else []
    assert len(found) >= 10 and set(CORPUS_FILES) <= set(found), (CORPUS, found)


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_a_corpus_dashboard_round_trips(name, tmp_path):
    source = json.loads(corpus_file(name).read_text(encoding="utf-8"))
    text, built, problems = import_and_build(source, tmp_path, name)
    assert problems == []
    assert_same_dashboard(expected_of(source), built)
    # the file reads like code a person wrote: short functions, typed panels, literal queries
    tree = ast.parse(text)
    for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        assert fn.end_lineno - fn.lineno + 1 <= 80, (fn.name, fn.end_lineno - fn.lineno + 1)
    calls = [n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    flat = [p for p in built["panels"]] + [c for p in built["panels"] for c in p.get("panels", [])]
    for kind, cls in TYPED.items():
        assert calls.count(cls) == sum(1 for p in flat if p["type"] == kind), (kind, cls)
    exprs = [t["expr"] for p in flat for t in p.get("targets", []) if "expr" in t]
    for expr in exprs:  # each query a literal in the file (one per line when written over several lines)
        assert all(json.dumps(line, ensure_ascii=False) in text for line in expr.splitlines(keepends=True))


def _all_panels(d: dict):
    """Every panel of ``d``: on the grid, inside collapsed rows and inside pre-5.0 ``rows``."""
    for p in d.get("panels") or []:
        yield p
        yield from p.get("panels") or []
    for r in d.get("rows") or []:
        yield from r.get("panels") or []


def test_the_corpus_covers_several_projects_legacy_panels_layouts_exports_and_kinds_of_variables():
    kinds, panel_types, exports, old_rows, exprs = set(), set(), 0, [], []
    for name in CORPUS_FILES:
        d = json.loads(corpus_file(name).read_text(encoding="utf-8"))
        kinds |= {v.get("type") for v in d.get("templating", {}).get("list", [])}
        panel_types |= {p.get("type") for p in _all_panels(d)}
        exports += "__inputs" in d
        old_rows += [name] * bool(d.get("rows") and not d.get("panels"))  # before schemaVersion 16
        exprs += [t.get("expr", "") for p in _all_panels(d) for t in p.get("targets") or []]
    assert len(set(PROJECTS.values())) >= 6
    assert {"graph", "singlestat", "row", "text"} <= panel_types  # legacy panels, rows, markdown
    assert {"heatmap", "grafana-piechart-panel"} <= panel_types  # no class in dashgen: kept verbatim
    assert {"query", "custom", "interval", "datasource"} <= kinds
    assert exports >= 10
    assert old_rows  # etcd's: the pre-5.0 layout Grafana's upgradeToGridLayout turns into a grid
    assert saved_collapsed_rows(CORPUS_FILES)  # Ray's: rows saved collapsed, their panels inside them
    assert any("node_cpu_seconds_total" in e for e in exprs)  # node_exporter's host metrics (Ceph's hosts)


@pytest.mark.parametrize("name, kind", [("smokeping-prober.json", "heatmap"), ("redis-exporter.json", "gauge")])
def test_panels_dashgen_cannot_type_are_kept_verbatim_with_a_warning(name, kind, tmp_path):
    source = json.loads(corpus_file(name).read_text(encoding="utf-8"))
    imported = import_dashboard(source, CATALOG, name)
    assert any(f"no class for {kind!r} panels" in w for w in imported.warnings), imported.warnings
    _text, built, problems = import_and_build(source, tmp_path, name)
    assert problems == []
    old = [p for p in _all_panels(expected_of(source)) if p.get("type") == kind]
    new = [p for p in _all_panels(built) if p.get("type") == kind]
    assert old and len(new) == len(old)
    for o, n in zip(old, new):  # every key the source gives, as given (the datasource: the catalog's;
        for key, value in _no_nulls(o).items():  # empty, as null, is the default)
            if key not in ("id", "datasource", "targets", "pluginVersion") and value not in ({}, []):
                assert _said(n.get(key), value) == value, (o["title"], key)
        assert [_target(t) for t in n["targets"]] == [_target(t) for t in o["targets"]]


# No dashboard of the corpus has a constant, textbox or ad hoc filter variable: they are added here to
# a real one (as Grafana 11 saves each kind) to show the other kinds round-trip too.
MORE_VARIABLES = [
    {"type": "constant", "name": "cluster", "query": "redis-prod", "hide": 2, "skipUrlSync": False},
    {"type": "textbox", "name": "key_pattern", "label": "Key pattern", "query": "session:*",
     "current": {"text": "session:*", "value": "session:*"}, "hide": 0},
    {"type": "adhoc", "name": "filters", "datasource": {"type": "prometheus", "uid": "${DS_PROM}"},
     "filters": [], "hide": 0},
]


def test_constant_textbox_and_adhoc_variables_round_trip_on_a_corpus_dashboard(tmp_path):
    source = json.loads(corpus_file("redis-exporter.json").read_text(encoding="utf-8"))
    source["templating"]["list"] += copy.deepcopy(MORE_VARIABLES)
    _text, built, problems = import_and_build(source, tmp_path, "redis-exporter.json")
    assert problems == []
    assert_same_dashboard(expected_of(source), built)
    assert [v["type"] for v in built["templating"]["list"]][-3:] == ["constant", "textbox", "adhoc"]


def collapsed(source: dict) -> dict:
    """``source`` with every row collapsed, as Grafana saves it: a row's panels move into it."""
    d = copy.deepcopy(source)
    out: list = []
    for p in d["panels"]:
        if p.get("type") == "row":
            p["collapsed"], p["panels"] = True, []
            out.append(p)
        elif out and out[-1].get("type") == "row":
            out[-1]["panels"].append(p)
        else:
            out.append(p)
    d["panels"] = out
    return d


def saved_collapsed_rows(names) -> list[tuple[str, str, int]]:
    """(file, row title, panels inside) of every row a corpus dashboard saves collapsed."""
    return [(name, p.get("title"), len(p["panels"]))
            for name in names for p in json.loads(corpus_file(name).read_text(encoding="utf-8")).get("panels") or []
            if p.get("type") == "row" and p.get("collapsed") and p.get("panels")]


@pytest.mark.parametrize("name", RAY)
def test_rows_saved_collapsed_round_trip_with_the_panels_inside_them(name, tmp_path):
    """Rows as their authors saved them collapsed (Ray's: a panel of a collapsed row sits in the
    row's ``panels``, off the grid, until the row opens), not collapsed by the test."""
    source = json.loads(corpus_file(name).read_text(encoding="utf-8"))
    saved = {title: n for _file, title, n in saved_collapsed_rows([name])}
    assert saved
    text, built, problems = import_and_build(source, tmp_path, name)
    assert problems == []
    expected = {p["title"]: p for p in expected_of(source)["panels"] if p.get("type") == "row"}
    rows = {p["title"]: p for p in built["panels"] if p["type"] == "row"}
    assert {t for t, r in rows.items() if r["collapsed"]} == set(saved)
    for title, n in saved.items():
        assert len(rows[title]["panels"]) == n
        assert [_panel(c) for c in rows[title]["panels"]] == [_panel(c) for c in expected[title]["panels"]]
    # none of them leaks onto the grid: the grid holds the same panels as the source's
    assert len(built["panels"]) == len(source["panels"])
    assert "_panels(kit)" in text  # each collapsed row's panels come from a function of their own


# Ceph's dashboards save their rows open: collapsing them as Grafana would shows more of them.
@pytest.mark.parametrize("name", ["host-details.json", "radosgw-overview.json"])
def test_collapsed_rows_keep_their_panels(name, tmp_path):
    source = collapsed(json.loads(corpus_file(name).read_text(encoding="utf-8")))
    assert any(p.get("collapsed") and p["panels"] for p in source["panels"])
    text, built, problems = import_and_build(source, tmp_path, name)
    assert problems == []
    assert_same_dashboard(expected_of(source), built)
    rows = [p for p in built["panels"] if p["type"] == "row"]
    assert rows and all(r["collapsed"] and r["panels"] for r in rows)
    assert "_panels(kit)" in text  # each collapsed row's panels come from a function of their own


# --- Grafana's migrations, pinned to the source -----------------------------------------------------

def test_graph_and_singlestat_become_timeseries_and_stat_as_grafana_migrates_them():
    source = json.loads(corpus_file("ceph-cluster.json").read_text(encoding="utf-8"))
    current, done, _ = migrate(source)
    assert done == ["graph", "singlestat"]
    by_title = {p["title"]: (s, p) for s, p in zip(source["panels"], current["panels"])}
    old, new = by_title["Cluster I/O"]
    assert (old["type"], new["type"]) == ("graph", "timeseries")
    assert new["fieldConfig"]["defaults"]["unit"] == old["yaxes"][0]["format"]
    assert new["fieldConfig"]["defaults"]["custom"]["fillOpacity"] == old["fill"] * 10
    assert new["fieldConfig"]["defaults"]["custom"]["lineWidth"] == old["linewidth"]
    assert [t["expr"] for t in new["targets"]] == [t["expr"] for t in old["targets"]]
    old, new = by_title["Health Status"]
    assert (old["type"], new["type"]) == ("singlestat", "stat")
    assert new["options"]["colorMode"] == ("background" if old.get("colorBackground") else
                                           "value" if old.get("colorValue") else "none")
    steps = new["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [s["color"] for s in steps] == old["colors"][:len(steps)]
    assert [s["value"] for s in steps[1:]] == [float(x) for x in old["thresholds"].split(",")][:len(steps) - 1]


def test_legend_thresholds_and_aliases_of_a_graph_follow_graph_to_timeseries():
    graph = {"type": "graph", "title": "g", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
             "aliasColors": {"errors": "#E24D42"}, "bars": False, "lines": True, "fill": 1, "linewidth": 2,
             "legend": {"show": True, "alignAsTable": True, "rightSide": True, "values": True, "avg": True,
                        "max": True, "current": False},
             "seriesOverrides": [{"alias": "/p9.*/", "linewidth": 3, "fill": 0}],
             "thresholds": [{"op": "gt", "value": 80, "colorMode": "critical", "fill": True, "line": True}],
             "yaxes": [{"format": "ms", "logBase": 2, "min": "0", "show": True}, {"format": "short"}],
             "stack": True, "nullPointMode": "null", "targets": [{"expr": "up", "refId": "A"}]}
    current, _, _ = migrate({"title": "t", "schemaVersion": 27, "panels": [graph]})
    p = current["panels"][0]
    d = p["fieldConfig"]["defaults"]
    assert (d["unit"], d["min"], d["custom"]["scaleDistribution"]) == ("ms", 0, {"type": "log", "log": 2})
    assert d["custom"]["stacking"] == {"mode": "normal", "group": "A"} and d["custom"]["spanNulls"] is True
    assert d["thresholds"]["steps"] == [{"value": None, "color": "transparent"}, {"value": 80, "color": "red"}]
    assert d["custom"]["thresholdsStyle"] == {"mode": "line+area"}
    assert p["options"]["legend"] == {"displayMode": "table", "placement": "right", "showLegend": True,
                                      "calcs": ["mean", "max"]}
    assert p["fieldConfig"]["overrides"] == [
        {"matcher": {"id": "byName", "options": "errors"},
         "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": "#E24D42"}}]},
        {"matcher": {"id": "byRegexp", "options": "/p9.*/"},
         "properties": [{"id": "custom.lineWidth", "value": 3}, {"id": "custom.fillOpacity", "value": 0}]}]


def test_legacy_rows_become_row_panels_on_the_grid(tmp_path):
    source = {"title": "Old rows", "uid": "old-rows", "schemaVersion": 14, "rows": [
        {"title": "A", "showTitle": True, "height": "250px", "panels": [
            {"type": "text", "title": "one", "span": 6, "content": "x", "mode": "markdown"},
            {"type": "text", "title": "two", "span": 6, "content": "y", "mode": "markdown"}]},
        {"title": "B", "collapse": True, "height": 300, "panels": [
            {"type": "text", "title": "three", "span": 12, "content": "z", "mode": "markdown"}]}]}
    current, done, _ = migrate(source)
    assert done == ["rows"]
    assert [(p["type"], p.get("title"), p["gridPos"]) for p in current["panels"]] == [
        ("row", "A", {"x": 0, "y": 0, "w": 24, "h": 1}),
        ("text", "one", {"x": 0, "y": 1, "w": 12, "h": 7}),
        ("text", "two", {"x": 12, "y": 1, "w": 12, "h": 7}),
        ("row", "B", {"x": 0, "y": 8, "w": 24, "h": 1})]
    assert current["panels"][3]["collapsed"] and current["panels"][3]["panels"][0]["gridPos"] == \
        {"x": 0, "y": 9, "w": 24, "h": 8}
    _text, built, _problems = import_and_build(source, tmp_path, "old-rows")
    assert [p["title"] for p in built["panels"]] == ["A", "one", "two", "B"]
    assert built["panels"][3]["panels"][0]["title"] == "three"


def test_legacy_rows_are_placed_as_grafanas_v16_migration_places_them():
    """upgradeToGridLayout (apps/dashboard/pkg/migration/schemaversion/v16.go in grafana/grafana): no
    row panels when no row shows its title, is collapsed or repeats; span 4 by default; a panel goes
    into the first gap of its row that fits (under a shorter one), not only to the right."""
    source = {"title": "Gaps", "uid": "gaps", "schemaVersion": 14, "rows": [
        {"title": "Row", "showTitle": False, "height": "500px", "panels": [
            {"type": "text", "title": "tall", "span": 6, "height": "500px", "content": "a"},
            {"type": "text", "title": "short", "span": 6, "height": "250px", "content": "b"},
            {"type": "text", "title": "under", "span": 6, "height": "250px", "content": "c"}]},
        {"title": "Row", "panels": [{"type": "text", "title": "no span", "content": "d"}]}]}
    current, done, _ = migrate(source)
    assert done == ["rows"]
    assert [(p["title"], p["gridPos"]) for p in current["panels"]] == [
        ("tall", {"x": 0, "y": 0, "w": 12, "h": 14}),
        ("short", {"x": 12, "y": 0, "w": 12, "h": 7}),
        ("under", {"x": 12, "y": 7, "w": 12, "h": 7}),
        ("no span", {"x": 0, "y": 14, "w": 8, "h": 7})]


def test_etcds_untitled_legacy_rows_draw_no_row_panels():
    source = json.loads(corpus_file("etcd.json").read_text(encoding="utf-8"))
    assert source["schemaVersion"] < 16 and len(source["rows"]) == 4
    assert not any(r.get("showTitle") or r.get("collapse") or r.get("repeat") for r in source["rows"])
    current, _done, _ = migrate(source)
    assert [p["type"] for p in current["panels"]].count("row") == 0
    assert len(current["panels"]) == sum(len(r["panels"]) for r in source["rows"])
    ys = sorted({p["gridPos"]["y"] for p in current["panels"]})
    assert ys == [0, 7, 14, 21]  # one line per legacy row of 250px (7 grid units)


def test_overlapping_panels_are_placed_where_grafanas_grid_draws_them():
    panels = [{"title": "a", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 6}},
              {"title": "b", "gridPos": {"x": 0, "y": 3, "w": 12, "h": 4}},  # overlaps a: pushed below it
              {"title": "c", "gridPos": {"x": 12, "y": 9, "w": 12, "h": 4}}]  # floats up to the top
    assert [p["gridPos"]["y"] for p in compact(panels)] == [0, 6, 0]


# --- datasources ------------------------------------------------------------------------------------

def test_catalog_datasources_become_its_variables_and_others_stay_with_a_comment(tmp_path):
    source = {"title": "Mixed sources", "uid": "mixed", "schemaVersion": 39, "panels": [
        {"type": "timeseries", "title": "ours", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
         "datasource": {"type": "prometheus", "uid": CATALOG.prometheus.uid},
         "targets": [{"expr": "rate(x[5m])", "refId": "A"}]},
        {"type": "timeseries", "title": "theirs", "gridPos": {"x": 12, "y": 0, "w": 12, "h": 8},
         "datasource": {"type": "loki", "uid": "logs-1"},
         "targets": [{"expr": "{app=\"a\"}", "refId": "A", "datasource": {"type": "loki", "uid": "logs-1"}}]}]}
    text, built, problems = import_and_build(source, tmp_path, "mixed")
    assert problems == []
    ours, theirs = built["panels"]
    assert ours["datasource"] == ours["targets"][0]["datasource"] == {"type": "prometheus", "uid": "${prometheus}"}
    assert theirs["targets"][0]["datasource"] == {"type": "loki", "uid": "logs-1"}
    assert "dataSource=kit.prometheus" in text
    assert "# datasource {\"type\": \"loki\", \"uid\": \"logs-1\"} is not one of the catalog's" in text


def test_untyped_panels_and_keys_are_kept_verbatim_with_a_warning(tmp_path):
    gauge = {"type": "bargauge", "title": "Queue", "gridPos": {"x": 0, "y": 0, "w": 8, "h": 6},
             "options": {"displayMode": "lcd", "orientation": "vertical"},
             "fieldConfig": {"defaults": {"unit": "short"}, "overrides": []}, "targets": []}
    ts = {"type": "timeseries", "title": "Latency", "gridPos": {"x": 8, "y": 0, "w": 16, "h": 6}, "maxDataPoints": 500,
          "fieldConfig": {"defaults": {"custom": {"axisSoftMax": 10}}, "overrides": []}, "targets": []}
    source = {"title": "Verbatim", "uid": "verbatim", "schemaVersion": 39, "panels": [gauge, ts]}
    imported = import_dashboard(source, CATALOG, "verbatim.json")
    assert any("'bargauge'" in w for w in imported.warnings)
    assert any("Latency" in w and "maxDataPoints" in w and "axisSoftMax" in w for w in imported.warnings)
    _text, built, _ = import_and_build(source, tmp_path, "verbatim")
    bar, line = built["panels"]
    assert bar["type"] == "bargauge" and bar["options"]["displayMode"] == "lcd"
    assert line["maxDataPoints"] == 500 and line["fieldConfig"]["defaults"]["custom"]["axisSoftMax"] == 10


# --- the command line -------------------------------------------------------------------------------

def test_the_command_writes_a_file_that_builds(tmp_path):
    out = tmp_path / "rbd.dashboard.py"
    res = run_dashgen("import", str(corpus_file("rbd-overview.json")), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert f"wrote {out}" in res.stdout
    assert "def dashboards(kit: Kit) -> list:" in out.read_text(encoding="utf-8")
    lint = run_dashgen("lint", "--definitions", str(out))
    uid = json.loads(corpus_file("rbd-overview.json").read_text(encoding="utf-8"))["uid"]
    said = [line for line in (lint.stdout + lint.stderr).splitlines() if f"{uid}.json" in line]
    assert said, lint.stdout  # lint did read the imported dashboard...
    # ...and has nothing against it but the missing descriptions (a warning once lint has severities)
    assert [line for line in said if "has no description" not in line and not line.startswith("warning")] == []


@pytest.mark.parametrize("content, says", [
    ("{not json", "unreadable JSON"),
    ("[1, 2]", "not a Grafana dashboard"),
    ('{"title": "x", "spec": {}}', "not a Grafana dashboard"),
    ('{"title": "x", "panels": [], "schemaVersion": 99}', "unknown dashboard schemaVersion 99"),
    ('{"title": "x", "panels": [], "schemaVersion": "41"}', "unknown dashboard schemaVersion '41'"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, content, says):
    src = tmp_path / "in.json"
    src.write_text(content, encoding="utf-8")
    out = tmp_path / "out.dashboard.py"
    res = run_dashgen("import", str(src), "--out", str(out))
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and says in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["in.json"]


def test_a_v2_object_imports_and_builds_back_the_same_panels(tmp_path, dashgen_cli):
    """A Grafana 13 v2 dashboard (dashboard.grafana.app/v2) is read as the classic dashboard it stands
    for (dashgen/dashboards/v2.py, after Grafana's own converter), then imported like any other."""
    from dashgen.dashboards.v2 import to_v2

    classic = {"title": "From v2", "uid": "from-v2", "schemaVersion": 42, "panels": [
        {"id": 1, "type": "stat", "title": "Sessions now", "description": "Sessions open now.",
         "gridPos": {"x": 0, "y": 0, "w": 6, "h": 4},
         "targets": [{"refId": "A", "datasource": {"type": "prometheus", "uid": "prometheus"}, "expr": "sum(up)"}]}]}
    src = tmp_path / "v2.json"
    src.write_text(json.dumps(to_v2(classic)))
    out = tmp_path / "from_v2.dashboard.py"
    res = dashgen_cli("import", str(src), "--out", str(out), "-c", "default")
    assert res.returncode == 0, res.stderr
    built = tmp_path / "built"
    res = dashgen_cli("build", "-c", "default", "--definitions", str(out), "-o", str(built))
    assert res.returncode == 0, res.stderr
    d = json.loads(next(built.glob("dashboards/*/from-v2.json")).read_text())
    assert [(p["type"], p["title"], p["gridPos"]) for p in d["panels"]] == \
        [("stat", "Sessions now", {"x": 0, "y": 0, "w": 6, "h": 4})]
    assert d["panels"][0]["targets"][0]["expr"] == "sum(up)"


def test_uid_reads_the_dashboard_from_grafana_through_the_push_client(tmp_path):
    source = json.loads(corpus_file("pool-detail.json").read_text(encoding="utf-8"))
    source.pop("__inputs", None)
    source.pop("__requires", None)
    with GrafanaEmulator() as emu:
        emu.add_dashboard(source)
        out = tmp_path / "pool.dashboard.py"
        env = {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token}
        res = run_dashgen("import", "--uid", source["uid"], "--out", str(out), env=env)
        assert res.returncode == 0, res.stderr
        missing = run_dashgen("import", "--uid", "no-such-uid", "--out", str(tmp_path / "x.py"), env=env)
    assert missing.returncode == 2 and "no such dashboard" in missing.stderr
    assert not (tmp_path / "x.py").exists()
    assert "the Grafana dashboard" in out.read_text(encoding="utf-8")


# --- the example the docs show ----------------------------------------------------------------------

EXAMPLE = REPO / "examples" / "import" / "llm-cost.json"


def test_the_docs_show_what_import_writes_for_the_example():
    doc = (REPO / "docs" / "import.md").read_text(encoding="utf-8")
    shown = doc.split("```python\n", 1)[1].split("```", 1)[0]
    assert shown == import_dashboard(read_file(str(EXAMPLE)), CATALOG, "llm-cost.json").source


def test_the_docs_excerpt_of_a_corpus_dashboard_is_what_import_writes():
    doc = (REPO / "docs" / "import.md").read_text(encoding="utf-8")
    shown = doc.split("## The corpus", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    source = json.loads(corpus_file("etcd.json").read_text(encoding="utf-8"))
    written = import_dashboard(source, CATALOG, "etcd.json").source
    parts = [part.strip("\n") for part in shown.split("\n# ...\n")]
    assert len(parts) == 2 and all(part and part in written for part in parts), parts


def test_the_example_builds_back_through_the_command_line(tmp_path):
    out = tmp_path / "llm_cost.dashboard.py"
    assert run_dashgen("import", str(EXAMPLE), "--out", str(out)).returncode == 0
    res = run_dashgen("build", "--definitions", str(out), "-o", str(tmp_path / "build"))
    assert res.returncode == 0, res.stderr  # the example has descriptions: build's lint gate passes
    built = json.loads((tmp_path / "build" / "dashboards" / CATALOG.folder_uid / "llm-cost.json").read_text())
    assert_same_dashboard(expected_of(json.loads(EXAMPLE.read_text(encoding="utf-8"))), built)
    assert [p["type"] for p in built["panels"]] == ["stat", "timeseries", "row"]
    assert [p["type"] for p in built["panels"][2]["panels"]] == ["timeseries", "table"]
    assert [v["name"] for v in built["templating"]["list"]] == [
        CATALOG.tempo.variable, CATALOG.prometheus.variable, "provider", "kind", "window"]


def test_odd_panels_are_placed_migrated_or_kept_and_never_dropped_in_silence(tmp_path):
    source = {"title": "Odd", "uid": "odd", "schemaVersion": 30, "panels": [
        {"type": "timeseries", "title": "A", "targets": [{"expr": "up"}]},  # no gridPos, no refId
        {"type": "timeseries", "title": "A", "targets": [{"expr": "up2", "refId": "B"}]},  # the same title
        {"type": "text", "title": "", "content": "# hi", "mode": "markdown", "gridPos": {"x": 0, "y": 20, "w": 6, "h": 3}},
        {"libraryPanel": {"uid": "lib1", "name": "Shared"}, "title": "Lib", "gridPos": {"x": 6, "y": 20, "w": 6, "h": 3}},
        "not a panel"]}
    imported = import_dashboard(source, CATALOG, "odd.json")
    assert any("not a JSON object" in w for w in imported.warnings)
    assert any("library panel" in w for w in imported.warnings)
    _text, built, problems = import_and_build(source, tmp_path, "odd")
    assert problems == []
    assert_same_dashboard(expected_of(source), built)
    a1, a2, text, lib = built["panels"]
    # PanelModel's default place, then Grafana's grid compaction: stacked, no overlap
    assert [p["gridPos"] for p in (a1, a2, text)] == [
        {"x": 0, "y": 0, "w": 6, "h": 3}, {"x": 0, "y": 3, "w": 6, "h": 3}, {"x": 0, "y": 6, "w": 6, "h": 3}]
    assert a1["id"] != a2["id"]
    assert text["options"]["content"] == "# hi" and "content" not in text  # the text panel's own migration
    assert "type" not in lib and lib["libraryPanel"] == {"uid": "lib1", "name": "Shared"}


def test_malformed_parts_never_crash_the_import_and_the_file_still_builds(tmp_path):
    """Corpus dashboards with parts replaced by values of the wrong JSON type (seeded): the import
    reads a malformed part as absent or keeps it verbatim, and what it writes builds."""
    import random

    rng = random.Random(26)
    junk = [None, "x", 3, 2.5, True, [], {}, [1, "a"], {"a": 1}, "$datasource", -1]

    def paths(value, at=()):
        yield at
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for k, v in items:
            yield from paths(v, (*at, k))

    for n in range(40):
        d = json.loads(corpus_file(rng.choice(CORPUS_FILES)).read_text(encoding="utf-8"))
        for at in rng.sample(list(paths(d))[1:], 3):
            try:
                parent = d
                for k in at[:-1]:
                    parent = parent[k]
                parent[at[-1]] = copy.deepcopy(rng.choice(junk))
            except (KeyError, IndexError, TypeError):
                pass  # an earlier replacement took that part away
        imported = import_dashboard(d, CATALOG, f"case {n}")
        path = tmp_path / f"case_{n}.dashboard.py"
        path.write_text(imported.source, encoding="utf-8")
        build_artifacts(CATALOG, 41, (str(path),))


def test_traceql_targets_on_the_catalogs_tempo_become_tempo_targets(tmp_path):
    tempo = {"type": "tempo", "uid": CATALOG.tempo.uid}
    source = {"title": "Traces", "uid": "traces", "schemaVersion": 41, "time": {"from": "now-1h", "to": "now"},
              "panels": [
        {"type": "timeseries", "title": "p95", "description": "p95 of LLM spans.", "datasource": tempo,
         "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
         "fieldConfig": {"defaults": {}, "overrides": [{"matcher": {"id": "byName", "options": "0.95"},
                                                        "properties": [{"id": "displayName", "value": "p95"}]}]},
         "targets": [{"refId": "A", "datasource": tempo, "queryType": "traceql", "limit": 20, "filters": [],
                      "query": "{ name = \"audio.llm\" } | quantile_over_time(duration, 0.95)",
                      "metricsQueryType": "range", "step": "30s"}]},
        {"type": "table", "title": "Slow spans", "description": "The slowest LLM spans.", "datasource": tempo,
         "gridPos": {"x": 12, "y": 0, "w": 12, "h": 8},
         "transformations": [{"id": "convertFieldType", "options": {
             "conversions": [{"targetField": "duration", "destinationType": "number"}]}}],
         "targets": [{"refId": "A", "datasource": tempo, "queryType": "traceql", "limit": 50, "filters": [],
                      "query": "{ name = \"audio.llm\" && duration > 2s }", "tableType": "spans", "spss": 3}]}]}
    text, built, problems = import_and_build(source, tmp_path, "traces")
    assert problems == []
    assert_same_dashboard(expected_of(source), built)
    assert text.count("TempoTarget(") == 2 and "kind=\"search\"" in text and "datasource=kit.tempo" in text
    metrics, search = (p["targets"][0] for p in built["panels"])
    assert metrics["query"] == source["panels"][0]["targets"][0]["query"] and metrics["step"] == "30s"
    assert search["limit"] == 50 and search["tableType"] == "spans"
    assert metrics["datasource"] == search["datasource"] == {"type": "tempo", "uid": "${" + CATALOG.tempo.variable + "}"}
