"""A grafanalib 0.7.1 ``Dashboard`` -> the dashboard dashgen writes for current Grafana.

grafanalib serialises schemaVersion 12 JSON: keys Grafana's current panel schema rejects
(``span``, ``height``, ``error``, ``editable``, Angular table keys...), datasources by name,
Prometheus targets with Graphite-era keys, no ``gridPos`` unless given, sequential ids. This
module translates what has a current equivalent, the way Grafana's own DashboardMigrator does
(``span`` -> 2 columns per span, ``height`` px -> ``ceil(px / 38)`` grid units:
``getGridHeight`` in grafana/grafana ``public/app/features/dashboard/state/DashboardMigrator.ts``,
GRID_CELL_HEIGHT 30 + GRID_CELL_VMARGIN 8), and then treats the result like dashgen's own
output: panel ids from panel keys (slugs of titles), dashgen's layout for panels without a
``gridPos``, the catalog's folder, tags, datasource variables and links.

What it cannot translate is never dropped in silence: an AngularJS panel type (``graph``,
``singlestat``: Grafana 11 no longer runs Angular), or a non-empty key with no current
equivalent, becomes a located problem ``file:line: ...`` that ``dashgen lint`` reports.
"""

from __future__ import annotations

import ast
import math
import re
from typing import NamedTuple

import attr

from ..artifacts import to_plain
from ..catalog.conventions import UID_RE
from ..dashboards.kit import BuiltDashboard, Ctx
from ..dashboards.layout import GRID_COLUMNS, assign_ids, flow
from ..dashboards.model import NULL, DatasourceVariable, ModernDashboard, ModernPanel, Row
from ..errors import DefinitionError
from ..lint.dashboards import is_metrics_query

# The properties of Panel in Grafana's dashboard schema (the same in 11.6 and 12).
PANEL_KEYS = frozenset({
    "cacheTimeout", "datasource", "description", "fieldConfig", "gridPos", "hideTimeOverride", "id", "interval",
    "libraryPanel", "links", "maxDataPoints", "maxPerRow", "options", "pluginVersion", "queryCachingTTL", "repeat",
    "repeatDirection", "targets", "timeCompare", "timeFrom", "timeShift", "title", "transformations",
    "transparent", "type"})
# Keys grafanalib always writes whose value only mattered to the legacy layout or editor.
LAYOUT_KEYS = frozenset({"span", "height", "minSpan", "editable", "error"})
# Keys Grafana's schema allows but grafanalib writes with a default value that says nothing.
EMPTY_DEFAULTS = {"transparent": False, "hideTimeOverride": False, "cacheTimeout": None, "timeFrom": None,
                  "timeShift": None, "repeatDirection": None, "maxPerRow": None}
# AngularJS panels (removed in Grafana 11) -> the grafanalib class of their current successor.
ANGULAR = {"graph": "TimeSeries", "singlestat": "Stat", "table-old": "Table",
           "grafana-piechart-panel": "PieChartv2", "grafana-worldmap-panel": "a geomap panel"}
PROMETHEUS_TARGET_KEYS = ("datasource", "expr", "format", "hide", "instant", "interval", "intervalFactor",
                          "legendFormat", "refId", "exemplar", "editorMode")
SPECIAL_DATASOURCES = {"-- Grafana --": {"type": "grafana", "uid": "grafana"},
                       "-- Mixed --": {"type": "datasource", "uid": "-- Mixed --"},
                       "-- Dashboard --": {"type": "datasource", "uid": "-- Dashboard --"}}
# Options Grafana's panel plugins fill in with these defaults when a panel leaves them out, and
# the published schemas require (``<type>.jsonschema.json`` ``Options``); grafanalib omits them.
OPTION_DEFAULTS = {
    "stat": {"wideLayout": True, "showPercentChange": False, "percentChangeColorMode": "standard",
             "justifyMode": "auto", "textMode": "auto", "colorMode": "value", "graphMode": "area",
             "orientation": "auto"},
    "gauge": {"showThresholdLabels": False, "showThresholdMarkers": True, "sizing": "auto", "minVizWidth": 75,
              "minVizHeight": 75, "orientation": "auto"},
    "table": {"frameIndex": 0, "showHeader": True},
    "bargauge": {"displayMode": "gradient", "valueMode": "color", "namePlacement": "auto", "showUnfilled": True,
                 "sizing": "auto", "minVizWidth": 8, "minVizHeight": 16, "maxVizHeight": 300,
                 "orientation": "auto"},
}
NO_CUSTOM = frozenset({"stat", "gauge", "bargauge", "text"})  # panel types without custom field config
GRID_UNIT_PX = 30 + 8
MIN_PANEL_PX = 3 * 30


@attr.s(eq=False, repr=False)
class TranslatedPanel(ModernPanel):
    """A panel already in current JSON (``data``); dashgen only gives it its id and gridPos."""

    data = attr.ib(factory=dict)

    def to_json_data(self):
        return {**self.data, "id": self.id, "gridPos": self.gridPos}


@attr.s(eq=False, repr=False)
class TranslatedDashboard(ModernDashboard):
    """dashgen's dashboard JSON with the grafanalib file's own time range, time zone and annotations."""

    time = attr.ib(factory=dict)
    zone = attr.ib(default="browser")
    extraAnnotations = attr.ib(factory=list)

    def to_json_data(self):
        data = super().to_json_data()
        data.update(time=self.time or data["time"], timezone=self.zone)
        data["annotations"] = {"list": data["annotations"]["list"] + self.extraAnnotations}
        return data


def translate(dash, ctx: Ctx, path: str, line: int) -> tuple[BuiltDashboard, list[str]]:
    """The laid-out dashboard of grafanalib ``dash`` and the located problems of its translation."""
    t = _Translation(ctx, path, line, _title_lines(path))
    uid = dash.uid or ctx.uid(_slug(dash.title))
    if not UID_RE.fullmatch(uid):
        raise DefinitionError(path, line, f"dashboard uid {uid!r} is not 1-40 characters of [a-zA-Z0-9_-]")
    panels = t.legacy_rows(dash.rows) if dash.rows else t.panels(dash.panels)
    templating = to_plain(dash.templating).get("list", [])
    named = {v.get("name") for v in templating}
    variables = [v for v in ctx.variables() if isinstance(v, DatasourceVariable) and v.name not in named]
    board = TranslatedDashboard(
        title=dash.title, uid=uid, description=dash.description or "",
        tags=sorted({*ctx.tags, *dash.tags}), panels=_lay_out(uid, panels), variables=variables + templating,
        links=to_plain(dash.links) + to_plain(ctx.links()), schemaVersion=ctx.schema_version,
        refresh=dash.refresh or "", graphTooltip=dash.graphTooltip, time=to_plain(dash.time),
        zone=dash.timezone or "browser", extraAnnotations=to_plain(dash.annotations).get("list", []))
    return BuiltDashboard(key=uid, uid=uid, title=dash.title, folder_uid=ctx.catalog.folder_uid,
                          dashboard=board), t.problems


class DefinitionProblem(NamedTuple):
    """What the translation could not carry, at the panel's line (``dashgen lint`` reports it)."""

    path: str
    line: int
    panel: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: panel {self.panel!r}: {self.message}"


class _Translation:
    def __init__(self, ctx: Ctx, path: str, line: int, lines: dict[str, int]):
        self.ctx, self.path, self.line, self.lines = ctx, path, line, lines
        self.problems: list[DefinitionProblem] = []
        self.keys: set[str] = set()
        self.row_slug = ""

    def note(self, title: str, message: str) -> None:
        self.problems.append(DefinitionProblem(self.path, self.lines.get(title, self.line), title, message))

    def panels(self, panels) -> list[ModernPanel]:
        out: list[ModernPanel] = []
        for p in panels:
            data = to_plain(p)
            if data.get("type") == "row":
                out.append(self.row(data.get("title", ""), data.get("gridPos")))
                out += self.panels(getattr(p, "panels", []))  # a collapsed row's panels are written expanded
            else:
                out.append(self.panel(data, defaults=_defaults_of(p)))
        return out

    def legacy_rows(self, rows) -> list[ModernPanel]:
        """Pre-5.0 rows: a row header when it shows its title, panels 2 columns per span."""
        out: list[ModernPanel] = []
        for row in rows:
            data = to_plain(row)
            if data.get("showTitle"):
                out.append(self.row(data.get("title", ""), None))
            h = _grid_height(data.get("height"))
            for p in row.panels:
                pdata = to_plain(p)
                w = max(1, min(GRID_COLUMNS, 2 * math.floor(pdata.get("span") or 12)))
                out.append(self.panel(pdata, w, _grid_height(pdata["height"]) if pdata.get("height") else h,
                                      _defaults_of(p)))
        return out

    def row(self, title: str, grid) -> Row:
        self.row_slug = _slug(title)
        return Row(key=self.key("row-" + _slug(title)), title=title, gridPos=grid)

    def panel(self, data: dict, w: int = 12, h: int = 8, defaults: dict | None = None) -> TranslatedPanel:
        title = data.get("title", "")
        ptype = data.get("type", "")
        if ptype in ANGULAR:
            self.note(title, f"a {ptype!r} panel, an AngularJS panel Grafana 11 and later no longer draw; "
                             f"dashgen cannot translate it (use grafanalib's {ANGULAR[ptype]} instead)")
        for k in sorted(set(data) - PANEL_KEYS):
            value = data.pop(k)
            said = value not in ("", [], {}, None, False) and value != (defaults or {}).get(k)
            if k not in LAYOUT_KEYS and ptype not in ANGULAR and said:
                self.note(title, f"{k!r} has no place in current Grafana panels and was dropped (move it into "
                                 f"options or fieldConfig)")
        for k, default in EMPTY_DEFAULTS.items():
            if k in data and data[k] in (default, ""):
                del data[k]
        if "datasource" in data:
            data["datasource"] = self.datasource(data["datasource"], title)
        data["targets"] = [self.target(t, data.get("datasource"), i, title)
                           for i, t in enumerate(data.get("targets", []))]
        self.options(data, ptype, title)
        grid = data.pop("gridPos", None)
        return TranslatedPanel(key=self.key(_slug(title) or "panel"), title=title, data=data, gridPos=grid, w=w, h=h)

    def key(self, key: str) -> str:
        """A stable key: the title's slug, else the row's slug before it, else a counter."""
        if key in self.keys and self.row_slug and not key.startswith("row-"):
            key = f"{self.row_slug}.{key}"
        base, n = key, 2
        while key in self.keys:
            key, n = f"{base}-{n}", n + 1
        self.keys.add(key)
        return key

    def datasource(self, ds, title: str):
        if not isinstance(ds, str):
            return ds
        if ds in SPECIAL_DATASOURCES:
            return SPECIAL_DATASOURCES[ds]
        for d, ref in ((self.ctx.catalog.tempo, self.ctx.tempo), (self.ctx.catalog.prometheus, self.ctx.prometheus)):
            if ds in (d.name, d.uid, d.variable, f"${d.variable}", f"${{{d.variable}}}"):
                return ref
        c = self.ctx.catalog
        raise DefinitionError(self.path, self.lines.get(title, self.line),
                              f"panel {title!r}: datasource {ds!r} is neither the catalog's Tempo ({c.tempo.name!r}) "
                              f"nor its Prometheus ({c.prometheus.name!r}) datasource (name one of them, or give "
                              f"a {{'type': ..., 'uid': ...}} reference)")

    def target(self, t: dict, panel_ds, i: int, title: str) -> dict:
        ds = self.datasource(t["datasource"], title) if "datasource" in t else panel_ds
        ref = t.get("refId") or chr(ord("A") + i % 26) + (str(i // 26) if i >= 26 else "")
        kind = (ds or {}).get("type") if isinstance(ds, dict) else None
        if kind == "tempo":
            query = t.get("query") or t.get("expr") or ""
            out = {"refId": ref, "datasource": ds, "queryType": "traceql", "query": query, "filters": [],
                   "limit": t.get("limit", 20)}
            if is_metrics_query(query):
                out.update(metricsQueryType="instant" if t.get("instant") else "range", step=t.get("step", "1m"))
            else:
                out.update(tableType="spans", spss=t.get("spss", 3))
            return out
        if kind == "prometheus":
            out = {k: t[k] for k in PROMETHEUS_TARGET_KEYS if t.get(k) not in (None, "")}
            out.update(refId=ref, datasource=ds)
            if not out.get("hide"):
                out.pop("hide", None)
            out.setdefault("range", not out.get("instant", False))
            return out
        return {**t, "refId": ref, **({"datasource": ds} if ds else {})}

    def options(self, data: dict, ptype: str, title: str) -> None:
        """Options and field defaults as current Grafana's plugins write them."""
        options = data.get("options")
        if not isinstance(options, dict):
            if options not in (None, [], ""):
                self.note(title, f"options {options!r} are not an object and were dropped")
            options = data["options"] = {}
        for k, v in OPTION_DEFAULTS.get(ptype, {}).items():
            options.setdefault(k, v)
        legend = options.get("legend")
        if isinstance(legend, dict):
            if "showLegend" not in legend:  # Grafana 8.5's migration: displayMode hidden -> showLegend false
                legend["showLegend"] = legend.get("displayMode") != "hidden"
            legend.setdefault("calcs", [])
        if "fieldConfig" in data:
            data["fieldConfig"].setdefault("overrides", [])
        defaults = data.get("fieldConfig", {}).get("defaults")
        if isinstance(defaults, dict):
            if ptype == "table" and isinstance(defaults.get("custom"), dict):
                defaults["custom"].setdefault("inspect", False)
            self.thresholds(defaults)
            if defaults.get("unit") == "":
                del defaults["unit"]
            if ptype in NO_CUSTOM or defaults.get("custom") == {}:
                defaults.pop("custom", None)

    @staticmethod
    def thresholds(defaults: dict) -> None:
        """grafanalib's steps (``'null'`` base value, editor keys) -> Grafana's, green base when none."""
        th = defaults.setdefault("thresholds", {"mode": "absolute"})
        steps = th.get("steps")
        out = []
        for i, s in enumerate(steps if isinstance(steps, list) else []):
            value = s.get("value")
            out.append({"color": s.get("color", "green"),
                        "value": NULL if i == 0 or value in (None, "null") else value})
        th["steps"] = out or [{"color": "green", "value": NULL}]
        th.setdefault("mode", "absolute")


def _lay_out(uid: str, panels: list[ModernPanel]) -> list[ModernPanel]:
    """Ids from keys; panels without a gridPos flow below those the file placed."""
    panels = assign_ids(uid, panels)
    placed = [p for p in panels if p.gridPos]
    bottom = max((p.gridPos["y"] + p.gridPos["h"] for p in placed), default=0)
    flowed = iter(attr.evolve(p, gridPos={**p.gridPos, "y": p.gridPos["y"] + bottom})
                  for p in flow([p for p in panels if not p.gridPos]))
    return [p if p.gridPos else next(flowed) for p in panels]


def _defaults_of(panel) -> dict:
    """What grafanalib writes for ``panel``'s class when nothing is set: a key with that value was
    not written by the author, so dropping it is no loss worth reporting."""
    try:
        return to_plain(type(panel)())
    except Exception:  # a class with required arguments: report every non-empty dropped key
        return {}


def _grid_height(height) -> int:
    px = int(re.sub(r"[^0-9]", "", str(height)) or 250) if height is not None else 250
    return math.ceil(max(px, MIN_PANEL_PX) / GRID_UNIT_PX)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")[:60].strip("-")


def _title_lines(path: str) -> dict[str, int]:
    """Panel title -> the line of the call that made it (``Graph(title="...")``), for locating problems."""
    try:
        tree = ast.parse(open(path, encoding="utf-8").read(), path)
    except (OSError, SyntaxError, ValueError):
        return {}
    lines: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "title" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                    lines.setdefault(kw.value.value, node.lineno)
    return lines
