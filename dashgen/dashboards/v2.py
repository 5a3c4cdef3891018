"""Grafana 13's own dashboard format: a classic dashboard as a ``dashboard.grafana.app/v2`` object.

Grafana 13 stores new and UI-edited dashboards in the v2 schema (dynamic dashboards): a
``spec`` with ``elements`` (one ``Panel`` per classic panel, keyed ``panel-<id>``) and a
``layout`` that places them (``GridLayout``, or ``RowsLayout`` when the dashboard has rows).
:func:`to_v2` writes that object from the classic JSON dashgen builds, the way Grafana's own
converter does, so a dashboard dashgen pushes as v2 is the one Grafana would have made of the
classic one (grafana/grafana ``apps/dashboard/pkg/migration/conversion/v1beta1_to_v2alpha1.go``,
then ``v2alpha1_to_v2beta1.go``: a query's ``kind`` becomes ``DataQuery`` with the datasource
type as ``group`` and its uid as ``datasource.name``; a panel's ``vizConfig`` becomes
``VizConfig`` with the panel type as ``group``; v2 itself names a transformation
``{kind: Transformation, group: <id>}``).

:func:`to_classic` reads a v2 object back into the classic model (the inverse, after
``v2alpha1_to_v1beta1.go``), so lint, diff and preview read v2 output and v2 dashboards
stored in Grafana with the rules they apply to classic ones. A classic dashboard survives
``to_classic(to_v2(d))`` except for what v2 does not hold (tests/test_v2.py checks it on every
built dashboard): row panels get ids of their own (v2 rows have none), and Grafana's
conversion adds ``options.legend.showLegend`` where a legend is configured.

Pure data in, pure data out: nothing here knows about voice agents.
"""

from __future__ import annotations

import copy
from typing import Any

from .v2_format import API_GROUP, is_v2

V2 = f"{API_GROUP}/v2"  # Grafana 13
V2BETA1 = f"{API_GROUP}/v2beta1"  # Grafana 12 (dashboardNewLayouts)
API_VERSIONS = (V2, V2BETA1)

_CURSOR = {0: "Off", 1: "Crosshair", 2: "Tooltip"}
_HIDE = {0: "dontHide", 1: "hideLabel", 2: "hideVariable"}
_REFRESH = {0: "never", 1: "onDashboardLoad", 2: "onTimeRangeChanged"}
_SORT = {0: "disabled", 1: "alphabeticalAsc", 2: "alphabeticalDesc", 3: "numericalAsc", 4: "numericalDesc",
         5: "alphabeticalCaseInsensitiveAsc", 6: "alphabeticalCaseInsensitiveDesc", 7: "naturalAsc", 8: "naturalDesc"}
# Grafana's default refresh picker (TimeSettingsSpec.autoRefreshIntervals).
DEFAULT_REFRESH_INTERVALS = ["5s", "10s", "30s", "1m", "5m", "15m", "30m", "1h", "2h", "1d"]
# Keys of a classic panel that v2 holds elsewhere than in vizConfig (knownPanelProperties).
_PANEL_KEYS = {"type", "id", "pluginVersion", "targets", "title", "description", "transparent", "datasource",
               "gridPos", "links", "repeat", "repeatDirection", "maxPerRow", "maxDataPoints", "transformations",
               "interval", "timeFrom", "timeShift", "hideTimeOverride", "timeCompare", "libraryPanel",
               "cacheTimeout", "queryCachingTTL", "options", "fieldConfig", "autoMigrateFrom"}
_QUERY_OPTIONS = ("timeFrom", "maxDataPoints", "timeShift", "queryCachingTTL", "interval", "cacheTimeout",
                  "hideTimeOverride", "timeCompare")
LEGACY_STRING_VALUE_KEY = "__legacyStringValue"
# The classic schemaVersion Grafana 12/13 convert a v2 dashboard to (the newest it migrates to).
CLASSIC_SCHEMA_VERSION = 42


def classic_view(doc: Any) -> Any:
    """What lint, diff and preview read of a parsed dashboard file: the classic model itself, or
    the classic model a v2 object stands for."""
    return to_classic(doc) if is_v2(doc) else doc


def comparable(d: dict) -> dict:
    """A classic dashboard without what a v2 object cannot hold, to compare it with one that was v2:
    row panels' ids (v2 rows have none), a panel's own datasource where every query names one (v2
    keeps it on the queries), an empty ``fieldConfig``, the ``schemaVersion``."""
    d = copy.deepcopy(d)
    d.pop("schemaVersion", None)

    def fix(panels: list) -> None:
        for p in panels:
            if p.get("type") == "row":
                p.pop("id", None)
            if p.get("targets") and all(t.get("datasource") for t in p["targets"]):
                p.pop("datasource", None)
            if p.get("fieldConfig") in ({"defaults": {}, "overrides": []}, {"defaults": {"custom": {}}, "overrides": []}):
                p.pop("fieldConfig")
            fix(p.get("panels") or [])

    fix(d.get("panels") or [])
    return d


# -------------------------------------------------------------------------------------------------
# classic -> v2

def to_v2(dashboard: dict, api_version: str = V2) -> dict:
    """The App Platform object of a classic dashboard: ``metadata.name`` is its uid."""
    if api_version not in API_VERSIONS:
        raise ValueError(f"unknown v2 API version {api_version!r}")
    return {"apiVersion": api_version, "kind": "Dashboard", "metadata": {"name": dashboard["uid"]},
            "spec": to_v2_spec(dashboard, api_version)}


def to_v2_spec(d: dict, api_version: str = V2) -> dict:
    elements, layout = _elements_and_layout(d.get("panels") or [], api_version)
    spec = {
        "title": d.get("title", ""),
        "tags": list(d.get("tags") or []),
        "cursorSync": _CURSOR.get(d.get("graphTooltip", 0), "Off"),
        "preload": bool(d.get("preload", False)),
        "editable": d.get("editable", True),
        "liveNow": d.get("liveNow", False),
        "timeSettings": _time_settings(d),
        "links": [_dashboard_link(link) for link in d.get("links") or []],
        "elements": elements,
        "layout": layout,
        "variables": [v for v in (_variable(x) for x in (d.get("templating") or {}).get("list") or []) if v],
        "annotations": [_annotation(a) for a in (d.get("annotations") or {}).get("list") or []],
    }
    if d.get("description"):
        spec["description"] = d["description"]
    if isinstance(d.get("revision"), int):
        spec["revision"] = d["revision"]
    return spec


def _time_settings(d: dict) -> dict:
    picker = d.get("timepicker") or {}
    ts = {
        "from": (d.get("time") or {}).get("from") or "now-6h",
        "to": (d.get("time") or {}).get("to") or "now",
        "timezone": d.get("timezone", "browser"),
        "autoRefresh": d.get("refresh") or "",
        "autoRefreshIntervals": list(picker.get("refresh_intervals") or DEFAULT_REFRESH_INTERVALS),
        "hideTimepicker": bool(picker.get("hidden", False)),
        "fiscalYearStartMonth": int(d.get("fiscalYearStartMonth") or 0),
    }
    if d.get("weekStart"):
        ts["weekStart"] = d["weekStart"]
    if picker.get("nowDelay"):
        ts["nowDelay"] = picker["nowDelay"]
    if picker.get("quick_ranges"):
        ts["quickRanges"] = [{k: q.get(k, "") for k in ("display", "from", "to")} for q in picker["quick_ranges"]]
    return ts


def _dashboard_link(link: dict) -> dict:
    out = {"title": link.get("title", ""), "type": link.get("type", "link"), "icon": link.get("icon", ""),
           "tooltip": link.get("tooltip", ""), "tags": list(link.get("tags") or []),
           "asDropdown": bool(link.get("asDropdown", False)), "targetBlank": bool(link.get("targetBlank", False)),
           "includeVars": bool(link.get("includeVars", False)), "keepTime": bool(link.get("keepTime", False))}
    for key in ("url", "placement"):
        if isinstance(link.get(key), str):
            out[key] = link[key]
    return out


def _elements_and_layout(panels: list, api_version: str) -> tuple[dict, dict]:
    elements: dict[str, dict] = {}
    if not any(p.get("type") == "row" for p in panels):
        items = [_grid_item(p, _add(elements, p, api_version)) for p in panels]
        return elements, {"kind": "GridLayout", "spec": {"items": items}}
    rows: list[dict] = []
    row_y = -1
    for p in panels:
        if p.get("type") == "row":
            row_y = (p.get("gridPos") or {}).get("y", 0)
            rows.append(_row(p, [_grid_item(c, _add(elements, c, api_version), row_y)
                                 for c in p.get("panels") or []]))
            continue
        if not rows:  # panels above the first row: a row without a header, as Grafana converts them
            rows.append({"kind": "RowsLayoutRow", "spec": {
                "title": "", "collapse": False, "hideHeader": True,
                "layout": {"kind": "GridLayout", "spec": {"items": []}}}})
        rows[-1]["spec"]["layout"]["spec"]["items"].append(_grid_item(p, _add(elements, p, api_version), row_y))
    return elements, {"kind": "RowsLayout", "spec": {"rows": rows}}


def _row(p: dict, items: list) -> dict:
    spec = {"title": p.get("title", ""), "collapse": bool(p.get("collapsed", False)),
            "layout": {"kind": "GridLayout", "spec": {"items": items}}}
    if p.get("repeat"):
        spec["repeat"] = {"mode": "variable", "value": p["repeat"]}
    return {"kind": "RowsLayoutRow", "spec": spec}


def _add(elements: dict, p: dict, api_version: str) -> str:
    name = f"panel-{p.get('id', 0)}"
    if name in elements:
        raise ValueError(f"two panels have the id {p.get('id', 0)}: v2 keys its elements by panel id")
    elements[name] = _panel(p, api_version)
    return name


def _grid_item(p: dict, name: str, row_y: int | None = None) -> dict:
    pos = p.get("gridPos") or {}
    y = pos.get("y", 0)
    if row_y is not None:  # a row's items are placed from the row's top (yOffsetInRows)
        y = max(y - row_y - 1, 0)
    spec = {"x": pos.get("x", 0), "y": y, "width": pos.get("w", 6), "height": pos.get("h", 3),
            "element": {"kind": "ElementReference", "name": name}}
    if p.get("repeat"):
        repeat = {"mode": "variable", "value": p["repeat"]}
        if p.get("repeatDirection") in ("h", "v"):
            repeat["direction"] = p["repeatDirection"]
        if p.get("maxPerRow"):
            repeat["maxPerRow"] = p["maxPerRow"]
        spec["repeat"] = repeat
    return {"kind": "GridLayoutItem", "spec": spec}


def _panel(p: dict, api_version: str) -> dict:
    if isinstance(p.get("libraryPanel"), dict):
        lib = p["libraryPanel"]
        return {"kind": "LibraryPanel", "spec": {"id": p.get("id", 0), "title": p.get("title", ""),
                                                 "libraryPanel": {"uid": lib.get("uid", ""), "name": lib.get("name", "")}}}
    panel_ds = p.get("datasource") if isinstance(p.get("datasource"), dict) else None
    spec = {
        "id": p.get("id", 0),
        "title": p.get("title", ""),
        "description": p.get("description", ""),
        "links": [_data_link(link) for link in p.get("links") or []],
        "data": {"kind": "QueryGroup", "spec": {
            "queries": [_panel_query(t, panel_ds) for t in p.get("targets") or []],
            "transformations": [_transformation(t, api_version) for t in p.get("transformations") or []],
            "queryOptions": {k: p[k] for k in _QUERY_OPTIONS if p.get(k) not in (None, "", False)},
        }},
        "vizConfig": _viz_config(p),
    }
    if p.get("transparent"):
        spec["transparent"] = True
    return {"kind": "Panel", "spec": spec}


def _data_link(link: dict) -> dict:
    out = {"title": link.get("title", ""), "url": link.get("url", "")}
    if "targetBlank" in link:
        out["targetBlank"] = bool(link["targetBlank"])
    return out


def _data_query(spec: dict, ds: dict | None) -> dict:
    """v2's DataQueryKind: the datasource type is the group, its uid the ``datasource.name``."""
    out = {"kind": "DataQuery", "group": (ds or {}).get("type") or "", "version": "v0", "spec": spec}
    if ds and ds.get("uid"):
        out["datasource"] = {"name": ds["uid"]}
    return out


def _panel_query(t: dict, panel_ds: dict | None) -> dict:
    ds = t.get("datasource") if isinstance(t.get("datasource"), dict) and (
        t["datasource"].get("uid") or t["datasource"].get("type")) else None
    if ds is None and panel_ds and panel_ds.get("uid") != "-- Mixed --":
        ds = panel_ds
    spec = {k: v for k, v in t.items() if k not in ("refId", "hide", "datasource")}
    return {"kind": "PanelQuery", "spec": {"refId": t.get("refId") or "A", "hidden": bool(t.get("hide", False)),
                                           "query": _data_query(spec, ds)}}


def _transformation(t: dict, api_version: str) -> dict:
    spec = {"options": t.get("options") or {}}
    for key in ("disabled", "filter", "topic"):
        if key in t:
            spec[key] = t[key]
    if api_version == V2BETA1:  # v2beta1: the id is the kind, and the spec repeats it
        return {"kind": t.get("id", ""), "spec": {"id": t.get("id", ""), **spec}}
    return {"kind": "Transformation", "group": t.get("id", ""), "spec": spec}


def _viz_config(p: dict) -> dict:
    options = copy.deepcopy(p.get("options") or {})
    legend = options.get("legend")
    if isinstance(legend, dict) and "displayMode" in legend:  # a VizLegendOptions legend (not heatmap's)
        legend.setdefault("showLegend", True)
    fc = p.get("fieldConfig") or {}
    defaults = copy.deepcopy(fc.get("defaults") or {}) or {"custom": {}}
    return {"kind": "VizConfig", "group": p.get("type", "timeseries"), "version": p.get("pluginVersion", ""),
            "spec": {"options": options,
                     "fieldConfig": {"defaults": defaults, "overrides": copy.deepcopy(fc.get("overrides") or [])}}}


def _option(o: Any) -> dict:
    def text(v):
        return v if isinstance(v, (str, list)) else ("" if v is None else str(v))
    if not isinstance(o, dict):
        return {"text": "", "value": ""}
    return {"text": text(o.get("text")), "value": text(o.get("value"))}


def _common(v: dict) -> dict:
    out = {"name": v.get("name", ""), "hide": _HIDE.get(v.get("hide", 0), "dontHide"),
           "skipUrlSync": bool(v.get("skipUrlSync", False)), "current": _option(v.get("current"))}
    for key in ("label", "description"):
        if v.get(key):
            out[key] = v[key]
    return out


def _choices(v: dict) -> dict:
    out = {"multi": bool(v.get("multi", False)), "includeAll": bool(v.get("includeAll", False)),
           "allowCustomValue": bool(v.get("allowCustomValue", True)),
           "options": [dict(_option(o), selected=bool(o.get("selected", False))) for o in v.get("options") or []
                       if isinstance(o, dict)]}
    if v.get("allValue"):
        out["allValue"] = v["allValue"]
    return out


def _variable(v: dict) -> dict | None:
    kind = v.get("type")
    if kind == "datasource":
        spec = dict(_common(v), pluginId=v.get("query") or "", refresh=_REFRESH.get(v.get("refresh", 0), "never"),
                    regex=v.get("regex", ""), **_choices(v))
        return {"kind": "DatasourceVariable", "spec": spec}
    if kind == "query":
        query = v.get("query")
        query = dict(query) if isinstance(query, dict) else ({LEGACY_STRING_VALUE_KEY: query} if query else {})
        ds = v.get("datasource") if isinstance(v.get("datasource"), dict) else None
        spec = dict(_common(v), query=_data_query(query, ds), refresh=_REFRESH.get(v.get("refresh", 0), "never"),
                    regex=v.get("regex", ""), sort=_SORT.get(v.get("sort", 0), "disabled"), **_choices(v))
        if isinstance(v.get("definition"), str):
            spec["definition"] = v["definition"]
        return {"kind": "QueryVariable", "spec": spec}
    if kind == "textbox":
        return {"kind": "TextVariable", "spec": dict(_common(v), query=v.get("query") or "")}
    if kind == "custom":
        return {"kind": "CustomVariable", "spec": dict(_common(v), query=v.get("query") or "", **_choices(v))}
    if kind == "constant":
        return {"kind": "ConstantVariable", "spec": dict(_common(v), query=v.get("query") or "")}
    if kind == "interval":
        spec = dict(_common(v), query=v.get("query") or "", refresh="onTimeRangeChanged",
                    auto=bool(v.get("auto", False)), auto_min=v.get("auto_min", "10s"),
                    auto_count=v.get("auto_count", 30),
                    options=[dict(_option(o), selected=bool(o.get("selected", False))) for o in v.get("options") or []])
        return {"kind": "IntervalVariable", "spec": spec}
    return None  # Grafana's converter skips unknown kinds too


def _annotation(a: dict) -> dict:
    ds = a.get("datasource") if isinstance(a.get("datasource"), dict) else None
    spec = {"name": a.get("name", ""), "enable": bool(a.get("enable", False)), "hide": bool(a.get("hide", False)),
            "iconColor": a.get("iconColor", ""),
            "query": _data_query(dict(a["target"]) if isinstance(a.get("target"), dict) else {},
                                 ds if ds and ds.get("type") else None)}
    if a.get("builtIn") is not None:
        spec["builtIn"] = bool(a["builtIn"])
    legacy = {k: v for k, v in a.items()
              if k not in ("name", "datasource", "enable", "hide", "iconColor", "filter", "target", "builtIn", "mappings")}
    if spec.get("builtIn") and legacy.get("type") == "dashboard":
        del legacy["type"]  # Grafana's built-in annotation; to_classic gives it back
    if legacy:
        spec["legacyOptions"] = legacy
    return {"kind": "AnnotationQuery", "spec": spec}


# -------------------------------------------------------------------------------------------------
# v2 -> classic

_INV = {name: {v: k for k, v in table.items()} for name, table in
        (("cursor", _CURSOR), ("hide", _HIDE), ("refresh", _REFRESH), ("sort", _SORT))}


def to_classic(obj: dict) -> dict:
    """The classic dashboard a v2 object stands for (uid from ``metadata.name``)."""
    spec = obj.get("spec") or {}
    d: dict[str, Any] = {
        "uid": (obj.get("metadata") or {}).get("name", ""),
        "schemaVersion": CLASSIC_SCHEMA_VERSION,
        "title": spec.get("title", ""),
        "tags": list(spec.get("tags") or []),
        "graphTooltip": _INV["cursor"].get(spec.get("cursorSync", "Off"), 0),
        "editable": spec.get("editable", True),
        "liveNow": spec.get("liveNow", False),
        "links": [dict(link) for link in spec.get("links") or []],
        "panels": _classic_panels(spec.get("elements") or {}, spec.get("layout") or {}),
        "templating": {"list": [_classic_variable(v) for v in spec.get("variables") or []]},
        "annotations": {"list": [_classic_annotation(a) for a in spec.get("annotations") or []]},
    }
    if spec.get("preload"):
        d["preload"] = True
    if spec.get("description"):
        d["description"] = spec["description"]
    ts = spec.get("timeSettings") or {}
    d["time"] = {"from": ts.get("from", "now-6h"), "to": ts.get("to", "now")}
    d["timezone"] = ts.get("timezone", "browser")
    d["refresh"] = ts.get("autoRefresh", "")
    d["fiscalYearStartMonth"] = ts.get("fiscalYearStartMonth", 0)
    d["weekStart"] = ts.get("weekStart", "")
    picker: dict[str, Any] = {"refresh_intervals": list(ts.get("autoRefreshIntervals") or DEFAULT_REFRESH_INTERVALS)}
    if ts.get("hideTimepicker"):
        picker["hidden"] = True
    if ts.get("nowDelay"):
        picker["nowDelay"] = ts["nowDelay"]
    if ts.get("quickRanges"):
        picker["quick_ranges"] = [dict(q) for q in ts["quickRanges"]]
    d["timepicker"] = picker
    return d


def _classic_panels(elements: dict, layout: dict) -> list:
    kind, spec = layout.get("kind"), layout.get("spec") or {}
    if kind == "GridLayout":
        return [_classic_panel(elements, item, 0) for item in spec.get("items") or []]
    if kind == "AutoGridLayout":  # placed as Grafana's converter does: columns of equal width, rows of 9
        cols = max(int(spec.get("maxColumnCount") or 3), 1)
        width, out = 24 // cols, []
        for i, item in enumerate(spec.get("items") or []):
            pos = {"x": (i % cols) * width, "y": (i // cols) * 9, "w": width, "h": 9}
            out.append(_classic_panel(elements, {"spec": dict(item.get("spec") or {}, **_grid(pos))}, 0))
        return out
    if kind in ("RowsLayout", "TabsLayout"):
        entries = spec.get("rows") if kind == "RowsLayout" else spec.get("tabs")
        return _classic_rows(elements, entries or [])
    return []


def _grid(pos: dict) -> dict:
    return {"x": pos["x"], "y": pos["y"], "width": pos["w"], "height": pos["h"]}


def _classic_rows(elements: dict, rows: list) -> list:
    out: list[dict] = []
    used = {int(e.get("spec", {}).get("id", 0)) for e in elements.values()}
    next_id = max(used, default=0) + 1
    y = 0
    for row in rows:
        rspec = row.get("spec") or {}
        inner = _classic_panels(elements, rspec.get("layout") or {})
        height = max((p["gridPos"]["y"] + p["gridPos"]["h"] for p in inner), default=0)
        if rspec.get("hideHeader"):
            for p in inner:
                p["gridPos"]["y"] += y
            out.extend(inner)
            y += height
            continue
        collapsed = bool(rspec.get("collapse", False))
        for p in inner:
            p["gridPos"]["y"] += y + 1
        rp = {"type": "row", "id": next_id, "title": rspec.get("title", ""), "collapsed": collapsed,
              "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": inner if collapsed else []}
        if (rspec.get("repeat") or {}).get("value"):
            rp["repeat"] = rspec["repeat"]["value"]
        next_id += 1
        out.append(rp)
        if not collapsed:
            out.extend(inner)
        y += 1 + (0 if collapsed else height)
    return out


def _classic_panel(elements: dict, item: dict, dy: int) -> dict:
    ispec = item.get("spec") or {}
    name = (ispec.get("element") or {}).get("name", "")
    el = elements.get(name) or {}
    pspec = el.get("spec") or {}
    p: dict[str, Any] = {"id": pspec.get("id", 0), "title": pspec.get("title", ""),
                         "gridPos": {"x": ispec.get("x", 0), "y": ispec.get("y", 0) + dy,
                                     "w": ispec.get("width", 6), "h": ispec.get("height", 3)}}
    repeat = ispec.get("repeat") or {}
    if repeat.get("value"):
        p["repeat"] = repeat["value"]
        if repeat.get("direction"):
            p["repeatDirection"] = repeat["direction"]
        if repeat.get("maxPerRow"):
            p["maxPerRow"] = repeat["maxPerRow"]
    if el.get("kind") == "LibraryPanel":
        p["libraryPanel"] = dict(pspec.get("libraryPanel") or {})
        return p
    viz = pspec.get("vizConfig") or {}
    p["type"] = viz.get("group") or viz.get("kind") or "timeseries"
    if viz.get("version"):
        p["pluginVersion"] = viz["version"]
    if pspec.get("description"):
        p["description"] = pspec["description"]
    if pspec.get("links"):
        p["links"] = [dict(link) for link in pspec["links"]]
    if pspec.get("transparent"):
        p["transparent"] = True
    vspec = viz.get("spec") or {}
    p["options"] = copy.deepcopy(vspec.get("options") or {})
    p["fieldConfig"] = copy.deepcopy(vspec.get("fieldConfig") or {"defaults": {}, "overrides": []})
    if p["fieldConfig"].get("defaults") == {"custom": {}}:  # the converter's filler for "no defaults"
        p["fieldConfig"]["defaults"] = {}
    data = (pspec.get("data") or {}).get("spec") or {}
    targets = [_classic_target(q) for q in data.get("queries") or []]
    if targets:
        p["targets"] = targets
        sources = {(t.get("datasource") or {}).get("uid") for t in targets}
        if len(sources) == 1 and targets[0].get("datasource"):
            p["datasource"] = dict(targets[0]["datasource"])
    if data.get("transformations"):
        p["transformations"] = [_classic_transformation(t) for t in data["transformations"]]
    p.update(data.get("queryOptions") or {})
    return p


def _classic_ds(q: dict) -> dict | None:
    if not q.get("group") and not (q.get("datasource") or {}).get("name"):
        return None
    out = {"type": q.get("group", "")}
    if (q.get("datasource") or {}).get("name"):
        out["uid"] = q["datasource"]["name"]
    return out


def _classic_target(pq: dict) -> dict:
    spec = pq.get("spec") or {}
    q = spec.get("query") or {}
    t = dict(q.get("spec") or {})
    t["refId"] = spec.get("refId", "A")
    if spec.get("hidden"):
        t["hide"] = True
    ds = _classic_ds(q)
    if ds:
        t["datasource"] = ds
    return t


def _classic_transformation(t: dict) -> dict:
    spec = t.get("spec") or {}
    tid = t.get("group") if t.get("kind") == "Transformation" else spec.get("id", t.get("kind", ""))
    out = {"id": tid, "options": spec.get("options") or {}}
    for key in ("disabled", "filter", "topic"):
        if key in spec:
            out[key] = spec[key]
    return out


def _classic_variable(v: dict) -> dict:
    kind, spec = v.get("kind"), v.get("spec") or {}
    out: dict[str, Any] = {"name": spec.get("name", ""), "hide": _INV["hide"].get(spec.get("hide"), 0),
                           "skipUrlSync": spec.get("skipUrlSync", False), "current": dict(spec.get("current") or {})}
    for key in ("label", "description", "allValue"):
        if spec.get(key):
            out[key] = spec[key]
    for key in ("multi", "includeAll", "regex"):
        if key in spec:
            out[key] = spec[key]
    if "options" in spec:
        out["options"] = [{k: o[k] for k in ("text", "value", "selected") if k in o} for o in spec["options"]]
    if "refresh" in spec:
        out["refresh"] = _INV["refresh"].get(spec["refresh"], 0)
    if kind == "DatasourceVariable":
        out.update(type="datasource", query=spec.get("pluginId", ""))
    elif kind == "QueryVariable":
        q = spec.get("query") or {}
        query = dict(q.get("spec") or {})
        out.update(type="query", sort=_INV["sort"].get(spec.get("sort"), 0),
                   query=query.get(LEGACY_STRING_VALUE_KEY, query) if LEGACY_STRING_VALUE_KEY in query else query)
        ds = _classic_ds(q)
        if ds:
            out["datasource"] = ds
        if "definition" in spec:
            out["definition"] = spec["definition"]
    elif kind == "TextVariable":  # its one option is its text, as Grafana's v1 text box keeps it
        query = spec.get("query", "")
        out.update(type="textbox", query=query, options=[{"selected": True, "text": query, "value": query}])
    elif kind == "CustomVariable":
        out.update(type="custom", query=spec.get("query", ""))
    elif kind == "ConstantVariable":
        out.update(type="constant", query=spec.get("query", ""))
    elif kind == "IntervalVariable":
        out.update(type="interval", query=spec.get("query", ""), auto=spec.get("auto", False),
                   auto_min=spec.get("auto_min", "10s"), auto_count=spec.get("auto_count", 30))
    else:
        out["type"] = str(kind or "").removesuffix("Variable").lower()
    return out


def _classic_annotation(a: dict) -> dict:
    spec = a.get("spec") or {}
    q = spec.get("query") or {}
    out: dict[str, Any] = dict(spec.get("legacyOptions") or {})
    out.update(name=spec.get("name", ""), enable=spec.get("enable", False), hide=spec.get("hide", False),
               iconColor=spec.get("iconColor", ""))
    if "builtIn" in spec:
        out["builtIn"] = 1 if spec["builtIn"] else 0
        if spec["builtIn"]:
            out.setdefault("type", "dashboard")
    ds = _classic_ds(q)
    if ds:
        out["datasource"] = ds
    if q.get("spec"):
        out["target"] = dict(q["spec"])
    return out
