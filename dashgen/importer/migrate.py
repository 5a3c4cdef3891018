"""A classic dashboard of any schemaVersion -> the current classic model, as Grafana migrates it.

Pure functions on plain JSON data (a deep copy; the input is never changed). What each step
follows in grafana/grafana:

- legacy ``rows`` (before schemaVersion 16) -> row panels and ``gridPos``: ``upgradeToGridLayout``
  in ``apps/dashboard/pkg/migration/schemaversion/v16.go`` (the port of ``DashboardMigrator.ts``):
  ``span`` -> 2 columns each (4 when none), ``height`` px -> ``ceil(px / 38)`` grid units, each
  panel in the first gap of its row that fits, row panels only when a row of the dashboard shows its
  title, is collapsed or repeats;
- datasource names -> ``{uid, type}`` references (schemaVersion 33), targets without a datasource
  take their panel's (schemaVersion 36): ``apps/dashboard/pkg/migration/schemaversion/v33.go``, ``v36.go``;
- ``graph`` -> ``timeseries``: ``graphToTimeseriesOptions`` (``flotToGraphOptions`` in older
  releases) in ``public/app/plugins/panel/timeseries/migrations.ts``;
- ``singlestat`` -> ``stat``: ``migrateFromAngularSinglestat`` in
  ``packages/grafana-ui/src/components/SingleStatShared/SingleStatBaseOptions.ts`` and
  ``statPanelChangedHandler`` in ``public/app/plugins/panel/stat/StatMigrations.ts``;
- the Angular ``table`` (one with ``styles``) -> the current table: ``tablePanelChangedHandler``
  in ``public/app/plugins/panel/table/migrations.ts``.

Grafana 11 and later run these when an Angular panel is loaded (Angular is gone); the importer
runs them once, so the file it writes says what Grafana would draw. Angular panels without a
migrator in Grafana (plugins such as ``grafana-piechart-panel``) are kept verbatim, with a warning.
"""

from __future__ import annotations

import copy
import json
import math
import re

from ..definitions.from_grafanalib import EMPTY_DEFAULTS

GRID_UNIT_PX = 30 + 8  # GRID_CELL_HEIGHT + GRID_CELL_VMARGIN
# Keys of the pre-5.0 layout and editor that the grid layout replaced; Grafana ignores them.
LEGACY_LAYOUT_KEYS = ("span", "height", "minSpan", "editable", "error", "isNew")
SPECIAL_DATASOURCES = {"-- Grafana --": {"type": "grafana", "uid": "grafana"},
                       "-- Mixed --": {"type": "datasource", "uid": "-- Mixed --"},
                       "-- Dashboard --": {"type": "datasource", "uid": "-- Dashboard --"}}
# Angular keys of the graph and singlestat panels that their migration consumes.
GRAPH_KEYS = frozenset({
    "aliasColors", "bars", "dashLength", "dashes", "fill", "fillGradient", "hiddenSeries", "legend", "lines",
    "linewidth", "nullPointMode", "percentage", "pointradius", "points", "renderer", "seriesOverrides",
    "spaceLength", "stack", "steppedLine", "thresholds", "timeRegions", "tooltip", "xaxis", "yaxes", "yaxis",
    "options", "fieldConfig", "isNew"})
SINGLESTAT_KEYS = frozenset({
    "cacheTimeout", "colorBackground", "colorPostfix", "colorPrefix", "colorValue", "colors", "decimals",
    "format", "gauge", "mappingType", "mappingTypes", "maxValue", "minValue", "nullPointMode", "nullText",
    "postfix", "postfixFontSize", "prefix", "prefixFontSize", "rangeMaps", "sparkline", "tableColumn",
    "thresholds", "valueFontSize", "valueMaps", "valueName", "options", "fieldConfig", "isNew"})
TABLE_KEYS = frozenset({"styles", "columns", "transform", "sort", "fontSize", "pageSize", "scroll", "showHeader",
                        "options", "fieldConfig"})
# fieldReducers' ids for the Angular names (packages/grafana-data/src/transformations/fieldReducer.ts aliases)
REDUCERS = {"avg": "mean", "mean": "mean", "current": "lastNotNull", "total": "sum", "sum": "sum", "max": "max",
            "min": "min", "first": "first", "last": "last", "lastNotNull": "lastNotNull", "count": "count",
            "delta": "delta", "range": "range", "diff": "diff"}
LEGEND_CALCS = ("avg", "current", "max", "min", "total")


def migrate(dashboard: dict) -> tuple[dict, list[str], list[str]]:
    """``(current model, migrations applied, warnings)`` for a classic ``dashboard``."""
    d = _without_hash_keys(copy.deepcopy(dashboard))
    m = _Migration(d)
    if isinstance(d.get("rows"), list) and not d.get("panels"):
        d["panels"] = m.rows_to_panels(d.pop("rows"))
        m.done.add("rows")
    d.pop("rows", None)
    panels = d.get("panels") if isinstance(d.get("panels"), list) else []
    for p in panels:
        if not isinstance(p, dict):
            m.warnings.append(f"a panel that is not a JSON object ({json.dumps(p)[:60]}) was left out: "
                              f"Grafana cannot draw it either")
    d["panels"] = compact([m.panel(p) for p in panels if isinstance(p, dict)])
    for v in _l(_o(d.get("templating")).get("list")):
        if isinstance(v, dict) and "datasource" in v:
            v["datasource"] = m.ref(v["datasource"])
    for a in _l(_o(d.get("annotations")).get("list")):
        if isinstance(a, dict) and "datasource" in a:
            a["datasource"] = m.ref(a["datasource"])
    return d, sorted(m.done), m.warnings


def _without_hash_keys(value):
    """Angular's ``$$hashKey`` (editor state Grafana strips when it saves) dropped everywhere."""
    if isinstance(value, dict):
        return {k: _without_hash_keys(v) for k, v in value.items() if k != "$$hashKey"}
    if isinstance(value, list):
        return [_without_hash_keys(v) for v in value]
    return value


class _Migration:
    def __init__(self, d: dict):
        self.done: set[str] = set()
        self.warnings: list[str] = []
        # "${DS_PROMETHEUS}" of an export, "$datasource" of a datasource variable -> the plugin type
        self.kinds: dict[str, str] = {}
        for i in _l(d.get("__inputs")):
            if isinstance(i, dict) and i.get("type") == "datasource" and i.get("name"):
                self.kinds[i["name"]] = i.get("pluginId", "")
        for v in _l(_o(d.get("templating")).get("list")):
            if isinstance(v, dict) and v.get("type") == "datasource" and isinstance(v.get("query"), str):
                self.kinds[str(v.get("name", ""))] = v["query"]

    def kind_of(self, uid: str) -> str | None:
        name = re.fullmatch(r"\$\{?([A-Za-z0-9_]+)(?::[a-z]+)?\}?", uid or "")
        return self.kinds.get(name.group(1)) if name else None

    def ref(self, ds):
        """A datasource as a ``{type, uid}`` reference (schemaVersion 33); None stays None (the default)."""
        if isinstance(ds, str):
            if ds in SPECIAL_DATASOURCES:
                return dict(SPECIAL_DATASOURCES[ds])
            kind = self.kind_of(ds)
            return {"type": kind, "uid": ds} if kind else {"uid": ds}
        if isinstance(ds, dict) and "type" not in ds and self.kind_of(ds.get("uid", "")):
            return {"type": self.kind_of(ds["uid"]), **ds}
        return ds

    # --- legacy rows ---------------------------------------------------------------------------
    def rows_to_panels(self, rows: list) -> list:
        """Grafana's ``upgradeToGridLayout`` (``apps/dashboard/pkg/migration/schemaversion/v16.go``,
        the port of ``DashboardMigrator.ts``): row panels only when one row of the dashboard is
        collapsed, repeated or shows its title; a panel ``floor(span * 2)`` columns wide (span 4 when
        it has none), placed by ``rowArea`` in the first gap of its row that fits; a collapsed row
        holds its panels and takes no height. A row is drawn one unit high whatever its
        ``rowGridHeight`` (Grafana's grid forces ``h: 1`` on row panels)."""
        rows = [r for r in rows if isinstance(r, dict) and r.get("repeatIteration") is None]
        show = any(r.get("collapse") or r.get("showTitle") or r.get("repeat") for r in rows)
        out: list = []
        y = 0
        for row in rows:
            h_row = _grid_height(row.get("height"))
            header = None
            if show:
                header = {"type": "row", "title": row.get("title", ""), "collapsed": bool(row.get("collapse")),
                          "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "panels": []}
                if row.get("repeat"):
                    header["repeat"] = row["repeat"]
                out.append(header)
                y += 1
            area = _RowArea(h_row, y)
            for p in row.get("panels") or []:
                if not isinstance(p, dict):
                    continue
                span = _number(p.pop("span", None)) or 4
                w = max(1, min(24, math.floor(span * 2)))
                h = _grid_height(p.pop("height")) if p.get("height") else h_row
                x, dy = area.place(w)
                y = area.y
                p["gridPos"] = {"x": x, "y": y + dy, "w": w, "h": h}
                area.add(p["gridPos"])
                (header["panels"] if header is not None and header["collapsed"] else out).append(p)
            if not (header is not None and header["collapsed"]):
                y += h_row
        return out

    # --- panels ----------------------------------------------------------------------------------
    def panel(self, p: dict) -> dict:
        for k in LEGACY_LAYOUT_KEYS:
            p.pop(k, None)
        if not _box(p):  # PanelModel's default place (public/app/features/dashboard/state/PanelModel.ts)
            p["gridPos"] = {"x": 0, "y": 0, "w": 6, "h": 3}
        if p.get("type") == "text" and ("content" in p or "mode" in p):
            # textPanelMigrationHandler (public/app/plugins/panel/text/textPanelMigrationHandler.ts):
            # the Angular text panel's content and mode move into options
            options = p.get("options") if isinstance(p.get("options"), dict) else {}
            p["options"] = {"mode": p.pop("mode", "markdown"), "content": p.pop("content", ""), **options}
        for k, default in EMPTY_DEFAULTS.items():  # a key at Grafana's default says nothing
            if k in p and p[k] in (default, ""):
                del p[k]
        if "hideTimeOverride" in p and not (p.get("timeFrom") or p.get("timeShift")):
            del p["hideTimeOverride"]  # it hides the label of a time override the panel does not have
        if "datasource" in p:
            p["datasource"] = self.ref(p["datasource"])
        p["targets"] = _l(p.get("targets")) if "targets" in p else p.get("targets")
        for t in p.get("targets") or []:
            if isinstance(t, dict):
                t["datasource"] = self.ref(t["datasource"]) if "datasource" in t else p.get("datasource")
                if t["datasource"] is None:
                    del t["datasource"]
        if p.get("type") == "row":
            p["panels"] = [self.panel(c) for c in _l(p.get("panels")) if isinstance(c, dict)]
            return p
        kind = p.get("type")
        if kind == "graph":
            p = graph_to_timeseries(p)
            self.done.add("graph")
        elif kind in ("singlestat", "grafana-singlestat-panel"):
            p = singlestat_to_stat(p)
            self.done.add("singlestat")
        elif kind in ("table", "table-old") and "styles" in p:
            p = angular_table_to_table(p)
            self.done.add("table")
        return p


def compact(panels: list) -> list:
    """Grid positions as Grafana draws them: its dashboard grid is react-grid-layout with
    ``compactType: 'vertical'``, whose ``compact`` (``lib/utils.js`` in react-grid-layout) takes
    the items by row then column, floats each one up as far as it goes and moves it below any item
    it still collides with. So a panel that overlaps another, or floats above a gap, is drawn
    elsewhere than its ``gridPos`` says; the imported file says where it is drawn. Panels without
    a ``gridPos`` (and a collapsed row's own panels, laid out when it opens) are left alone."""
    items = [p for p in panels if _box(p)]
    placed: list[dict] = []
    for p in sorted(items, key=lambda q: (q["gridPos"]["y"], q["gridPos"]["x"])):
        g = dict(p["gridPos"])
        g["y"] = min(max((q["y"] + q["h"] for q in placed), default=0), g["y"])
        while g["y"] > 0 and not _collision(placed, {**g, "y": g["y"] - 1}):
            g["y"] -= 1
        hit = _collision(placed, g)
        while hit:
            g["y"] = hit["y"] + hit["h"]
            hit = _collision(placed, g)
        placed.append(g)
        p["gridPos"] = {**p["gridPos"], "x": g["x"], "y": g["y"]}
    return panels


def _box(p: dict) -> bool:
    g = p.get("gridPos")
    return isinstance(g, dict) and all(isinstance(g.get(k), int) and not isinstance(g.get(k), bool)
                                       for k in ("x", "y", "w", "h"))


def _collision(placed: list[dict], g: dict) -> dict | None:
    for q in placed:
        if g["x"] < q["x"] + q["w"] and q["x"] < g["x"] + g["w"] and g["y"] < q["y"] + q["h"] and q["y"] < g["y"] + g["h"]:
            return q
    return None


class _RowArea:
    """``rowArea`` of Grafana's v16 migration: how high each of the 24 columns of a legacy row is
    filled (relative to the row's top, ``y``), to place the next panel in the first gap that fits."""

    def __init__(self, height: int, y: int):
        self.height, self.y, self.area = height, y, [0] * 24

    def add(self, gp: dict) -> None:
        for i in range(gp["x"], min(gp["x"] + gp["w"], 24)):
            self.area[i] = max(self.area[i], gp["y"] + gp["h"] - self.y)

    def place(self, width: int, wrapped: bool = False) -> tuple[int, int]:
        """(x, y within the row) of a panel ``width`` columns wide: the free columns at the right
        end of the row, from the last one whose fill does not rise; else a new line of the row."""
        start, end = 0, None
        for i in range(23, -1, -1):
            if self.height - self.area[i] <= 0:
                break
            if end is None:
                end = i
            elif self.area[i] <= self.area[i + 1]:
                start = i
            else:
                break
        if end is not None and end - start >= width - 1:
            return start, max(self.area[start:end + 1])
        if wrapped:  # wider than a whole line (Grafana would loop): the line's start
            return 0, 0
        self.y += self.height
        self.area = [0] * 24
        return self.place(width, True)


def _grid_height(height) -> int:
    px = int(re.sub(r"[^0-9]", "", str(height)) or 250) if height is not None else 250
    return math.ceil(max(px, 90) / GRID_UNIT_PX)


def _number(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        try:
            f = float(v)
        except ValueError:
            return None
        return int(f) if f.is_integer() else f
    return None


def _o(value) -> dict:
    """``value`` when it is a JSON object, else an empty one: a malformed part reads as absent."""
    return value if isinstance(value, dict) else {}


def _l(value) -> list:
    return value if isinstance(value, list) else []


def _drop_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


def _kept(p: dict, consumed: frozenset, kind: str) -> dict:
    """The panel's own keys that are not the old plugin's options (PanelModel keeps those)."""
    return {k: v for k, v in p.items() if k not in consumed and k != "type"} | {"type": kind}


# --- graph -> timeseries ----------------------------------------------------------------------------

def _axis(axis) -> dict:
    """A flot y axis -> field config (``getFieldConfigFromOldAxis``)."""
    if not isinstance(axis, dict):
        return {}
    custom: dict = {"axisPlacement": "auto" if axis.get("show", True) else "hidden"}
    if axis.get("label"):
        custom["axisLabel"] = axis["label"]
    if axis.get("logBase") in (2, 10):
        custom["scaleDistribution"] = {"type": "log", "log": axis["logBase"]}
    return _drop_none({"unit": axis.get("format"), "decimals": _number(axis.get("decimals")),
                       "min": _number(axis.get("min")), "max": _number(axis.get("max")), "custom": custom})


def graph_to_timeseries(p: dict) -> dict:
    yaxes = _l(p.get("yaxes"))
    y1 = _axis(yaxes[0] if yaxes else None)
    old_defaults = _o(_o(p.get("fieldConfig")).get("defaults"))
    y1 = {**old_defaults, **y1}
    overrides = list(_l(_o(p.get("fieldConfig")).get("overrides")))
    for alias, color in _o(p.get("aliasColors")).items():
        if color:
            overrides.append({"matcher": {"id": "byName", "options": alias},
                              "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": color}}]})
    fill_below = False
    for so in _l(p.get("seriesOverrides")):
        rule, below = _series_override(so, yaxes, y1)
        fill_below = fill_below or below
        if rule:
            overrides.append(rule)
    graph = dict(_o(y1.get("custom")))
    graph["drawStyle"] = "bars" if p.get("bars") else "line" if p.get("lines", True) else "points"
    if p.get("points"):
        graph["showPoints"] = "always"
        if _number(p.get("pointradius")) is not None:
            graph["pointSize"] = 2 + _number(p["pointradius"]) * 2
    elif graph["drawStyle"] != "points":
        graph["showPoints"] = "never"
    if p.get("linewidth") is not None:
        graph["lineWidth"] = p["linewidth"]
    if p.get("dashes"):
        graph["lineStyle"] = {"fill": "dash", "dash": [p.get("dashLength", 10), p.get("spaceLength", 10)]}
    if fill_below:
        graph["fillOpacity"] = 35
    elif _number(p.get("fill")) is not None:
        graph["fillOpacity"] = _number(p["fill"]) * 10
    if (_number(p.get("fillGradient")) or 0) > 0:
        graph["gradientMode"] = "opacity"
        graph["fillOpacity"] = _number(p["fillGradient"]) * 10
    graph["spanNulls"] = p.get("nullPointMode") == "null"
    if p.get("steppedLine"):
        graph["lineInterpolation"] = "stepAfter"
    if graph["drawStyle"] == "bars":
        graph["fillOpacity"] = 100
    if p.get("stack"):
        graph["stacking"] = {"mode": "normal", "group": "A"}
    y1["custom"] = graph
    options = {"legend": _legend(p.get("legend")), "tooltip": _tooltip(p.get("tooltip"))}
    _graph_thresholds(p.get("thresholds"), y1)
    out = _kept(p, GRAPH_KEYS, "timeseries")
    out["fieldConfig"] = {"defaults": y1, "overrides": overrides}
    out["options"] = options
    return out


def _series_override(so: dict, yaxes: list, y1: dict) -> tuple[dict | None, bool]:
    alias = so.get("alias") if isinstance(so, dict) else None
    if not isinstance(alias, str) or not alias:
        return None, False
    regex = alias.startswith("/") and alias.endswith("/")
    props: list = []
    below = False
    for k, v in so.items():
        if k == "yaxis" and v == 2:
            y2 = _axis(yaxes[1] if len(yaxes) > 1 else None)
            props += [{"id": key, "value": val} for key, val in y2.items() if key != "custom" and val != y1.get(key)]
            props += [{"id": f"custom.{key}", "value": val} for key, val in (y2.get("custom") or {}).items()
                      if val != (y1.get("custom") or {}).get(key)]
        elif k == "fill" and _number(v) is not None:
            props.append({"id": "custom.fillOpacity", "value": _number(v) * 10})
        elif k == "fillBelowTo":
            below = True
            props.append({"id": "custom.fillBelowTo", "value": v})
        elif k == "points":
            props.append({"id": "custom.showPoints", "value": "always" if v else "never"})
        elif k == "bars":
            props += ([{"id": "custom.drawStyle", "value": "bars"}, {"id": "custom.fillOpacity", "value": 100}]
                      if v else [{"id": "custom.drawStyle", "value": "line"}])
        elif k == "lines" and not v:
            props.append({"id": "custom.lineWidth", "value": 0})
        elif k == "linewidth":
            props.append({"id": "custom.lineWidth", "value": v})
        elif k == "stack":
            props.append({"id": "custom.stacking", "value": {"mode": "normal", "group": v}})
        elif k == "color":
            props.append({"id": "color", "value": {"fixedColor": v, "mode": "fixed"}})
    rule = {"matcher": {"id": "byRegexp" if regex else "byName", "options": alias}, "properties": props}
    return (rule if props else None), below


def _legend(legend) -> dict:
    out = {"displayMode": "list", "placement": "bottom", "showLegend": True, "calcs": []}
    if isinstance(legend, dict):
        if legend.get("show", True):
            out["displayMode"] = "table" if legend.get("alignAsTable") else "list"
        else:
            out["showLegend"] = False  # Grafana 8.5: displayMode hidden -> showLegend false
        if legend.get("rightSide"):
            out["placement"] = "right"
        if legend.get("values"):
            out["calcs"] = [REDUCERS[k] for k in legend if k in LEGEND_CALCS and legend[k] is True]
    return out


def _tooltip(tooltip) -> dict:
    if not isinstance(tooltip, dict):
        return {"mode": "single", "sort": "none"}
    sort = {1: "asc", 2: "desc"}.get(tooltip.get("sort") if isinstance(tooltip.get("sort"), int) else 0, "none")
    return {"mode": "multi" if tooltip.get("shared") else "single", "sort": sort}


def _graph_thresholds(thresholds, y1: dict) -> None:
    if not isinstance(thresholds, list) or not thresholds:
        return
    ordered = sorted((t for t in thresholds if isinstance(t, dict) and _number(t.get("value")) is not None),
                     key=lambda t: _number(t["value"]))
    steps: list = []
    area = any(t.get("fill") for t in ordered)
    line = any(t.get("line") for t in ordered)
    for i, t in enumerate(ordered):
        nxt = ordered[i + 1] if i + 1 < len(ordered) else None
        value = _number(t["value"])
        if t.get("op") == "gt":
            steps.append({"value": value, "color": _threshold_color(t)})
        elif t.get("op") == "lt":
            if not steps:
                steps.append({"value": None, "color": _threshold_color(t)})
            if nxt and nxt.get("op") == "lt":
                steps.append({"value": value, "color": _threshold_color(nxt)})
            else:
                steps.append({"value": value, "color": "transparent"})
    if not steps:
        return
    if steps[0]["value"] is not None:
        steps.insert(0, {"value": None, "color": "transparent"})
    mode = "line+area" if line and area else "area" if area else "line"
    y1["custom"]["thresholdsStyle"] = {"mode": mode}
    y1["thresholds"] = {"mode": "absolute", "steps": steps}


def _threshold_color(t: dict) -> str:
    mode = t.get("colorMode")
    if mode == "warning":
        return "orange"
    if mode == "custom":
        return t.get("fillColor") or t.get("lineColor") or "red"
    return "red"


# --- singlestat -> stat -----------------------------------------------------------------------------

def singlestat_to_stat(p: dict) -> dict:
    reducer = REDUCERS.get(str(p.get("valueName") or ""), "mean")
    reduce: dict = {"calcs": [reducer]}
    if p.get("tableColumn"):
        reduce["fields"] = f"/^{p['tableColumn']}$/"
    defaults: dict = {}
    if p.get("format"):
        defaults["unit"] = p["format"]
    if p.get("nullText"):
        defaults["noValue"] = p["nullText"]
    if p.get("decimals") is not None:
        defaults["decimals"] = p["decimals"]
    levels = [_number(x.strip()) for x in str(p.get("thresholds") or "").split(",") if x.strip()]
    colors = [c for c in _l(p.get("colors")) if isinstance(c, str)]
    if levels and colors:
        steps = []
        for color in colors:
            idx = len(steps) - 1
            steps.append({"value": None if idx < 0 else (levels[idx] if idx < len(levels) else None),
                          "color": color})
        defaults["thresholds"] = {"mode": "absolute", "steps": [s for i, s in enumerate(steps)
                                                                if i == 0 or s["value"] is not None]}
    mappings = _value_mappings(p)
    if mappings:
        defaults["mappings"] = mappings
    gauge = _o(p.get("gauge"))
    if gauge.get("show"):
        defaults["min"], defaults["max"] = gauge.get("minValue"), gauge.get("maxValue")
    sparkline = _o(p.get("sparkline"))
    options = {"reduceOptions": reduce, "orientation": "horizontal",
               "graphMode": "area" if sparkline.get("show") else "none",
               "colorMode": "background" if p.get("colorBackground") else "value" if p.get("colorValue") else "none"}
    if options["colorMode"] == "none" and sparkline.get("lineColor") and options["graphMode"] == "area" \
            and not gauge.get("show"):  # statPanelChangedHandler's own step: the gauge has none
        defaults["color"] = {"mode": "fixed", "fixedColor": sparkline["lineColor"]}
    if p.get("valueName") == "name":
        options["textMode"] = "name"
    if gauge.get("show"):
        # a singlestat drawn as a gauge becomes a gauge panel, not a stat (getPanelPluginToMigrateTo
        # in public/app/features/dashboard/state/getPanelPluginToMigrateTo.ts)
        out = _kept(p, SINGLESTAT_KEYS, "gauge")
        options = {"reduceOptions": reduce, "orientation": "horizontal",
                   "showThresholdMarkers": bool(gauge.get("thresholdMarkers", True)),
                   "showThresholdLabels": bool(gauge.get("thresholdLabels", False))}
    else:
        out = _kept(p, SINGLESTAT_KEYS, "stat")
    out["fieldConfig"] = {"defaults": defaults, "overrides": []}
    out["options"] = options
    return out


def _value_mappings(p: dict) -> list:
    """Angular value/range maps -> the legacy mapping model Grafana's migration writes first."""
    kind = p.get("mappingType") or (1 if p.get("valueMaps") else 2 if p.get("rangeMaps") else None)
    out = []
    if kind == 1:
        for m in _l(p.get("valueMaps")):
            if isinstance(m, dict) and m.get("op", "=") == "=" and "value" in m:
                out.append({"type": "value", "options": {str(m["value"]): {"text": m.get("text", "")}}})
    elif kind == 2:
        for m in (m for m in _l(p.get("rangeMaps")) if isinstance(m, dict)):
            out.append({"type": "range", "options": {"from": _number(m.get("from")), "to": _number(m.get("to")),
                                                     "result": {"text": m.get("text", "")}}})
    return out


# --- Angular table -> table -------------------------------------------------------------------------

COLOR_MODES = {"cell": "color-background", "row": "color-background", "value": "color-text"}
TRANSFORMS = {"timeseries_to_rows": "seriesToRows", "timeseries_to_columns": "seriesToColumns",
              "timeseries_aggregations": "reduce", "table": "merge"}


def angular_table_to_table(p: dict) -> dict:
    styles = [s for s in _l(p.get("styles")) if isinstance(s, dict)]
    transformations = list(_l(p.get("transformations")))
    if isinstance(p.get("transform"), str) and p["transform"] in TRANSFORMS:
        opts: dict = {"reducers": []}
        if p["transform"] == "timeseries_aggregations":
            opts = {"includeTimeField": False,
                    "reducers": [REDUCERS.get(str(c.get("value")), c.get("value")) for c in _l(p.get("columns"))
                                 if isinstance(c, dict)]}
        transformations.append({"id": TRANSFORMS[p["transform"]], "options": opts})
    base = next((s for s in styles if s.get("pattern") == "/.*/"), None)
    defaults: dict = {"custom": {}}
    if base:
        defaults = _drop_none({"unit": base.get("unit"), "decimals": base.get("decimals"),
                               "displayName": base.get("alias") or None,
                               "custom": _drop_none({"align": None if base.get("align") in (None, "auto")
                                                     else base["align"]})})
        if isinstance(base.get("thresholds"), list) and base["thresholds"]:
            defaults["thresholds"] = {"mode": "absolute",
                                      "steps": _table_steps(base["thresholds"], _l(base.get("colors")))}
        if isinstance(base.get("colorMode"), str) and base["colorMode"] in COLOR_MODES:
            defaults["custom"]["cellOptions"] = {"type": COLOR_MODES[base["colorMode"]]}
    out = _kept(p, TABLE_KEYS, "table")
    out["transformations"] = transformations
    out["fieldConfig"] = {"defaults": defaults,
                          "overrides": [_style_override(s) for s in styles if s.get("pattern") != "/.*/"]}
    out["options"] = {"showHeader": p.get("showHeader", True)}
    if isinstance(p.get("sort"), dict) and p["sort"].get("col") is not None:
        out["options"]["sortBy"] = []  # Angular sorted by column index; the new table sorts by name
    return out


def _table_steps(thresholds: list, colors: list) -> list:
    values = [None] + [_number(t) for t in thresholds]
    return [{"color": colors[i] if i < len(colors) else "red", "value": v} for i, v in enumerate(values)]


def _style_override(style: dict) -> dict:
    pattern = style.get("pattern", "")
    props: list = []
    if style.get("alias"):
        props.append({"id": "displayName", "value": style["alias"]})
    if style.get("unit"):
        props.append({"id": "unit", "value": style["unit"]})
    if style.get("decimals"):
        props.append({"id": "decimals", "value": style["decimals"]})
    if style.get("type") == "date":
        props.append({"id": "unit", "value": f"time: {style.get('dateFormat')}"})
    if style.get("link"):
        props.append({"id": "links", "value": [{"title": style.get("linkTooltip") or "",
                                                 "url": style.get("linkUrl") or "",
                                                 "targetBlank": bool(style.get("linkTargetBlank"))}]})
    if isinstance(style.get("colorMode"), str) and style["colorMode"] in COLOR_MODES:
        props.append({"id": "custom.cellOptions", "value": {"type": COLOR_MODES[style["colorMode"]]}})
    if style.get("align"):
        props.append({"id": "custom.align", "value": None if style["align"] == "auto" else style["align"]})
    if isinstance(style.get("thresholds"), list) and style["thresholds"]:
        props.append({"id": "thresholds", "value": {"mode": "absolute", "steps": _table_steps(
            style["thresholds"], _l(style.get("colors")))}})
    matcher = "byRegexp" if re.fullmatch(r"/.*/", str(pattern or "")) else "byName"
    return {"matcher": {"id": matcher, "options": pattern}, "properties": props}
