"""Small grafanalib-style classes that emit Grafana 11/12 JSON.

grafanalib 0.7.1 writes schemaVersion 12 dashboards: legacy panel keys (``span``,
``height``, ``error``, ``minSpan``...), the pre-9.1 heatmap and no Tempo target. Grafana's
current schema rejects those keys, so these classes follow grafanalib's model (attrs classes,
its field names, ``to_json_data`` for its JSON encoder; a grafanalib object nests in them and
encodes the same way) and emit only the keys of the current schema. They do not inherit
grafanalib's ``Panel`` and ``Dashboard``: those carry legacy fields these classes never write, and
importing ``grafanalib.core`` builds its ~120 attrs classes, about half of the stack's start-up.
So a build imports grafanalib only to run a user's grafanalib file (``definitions/``), which
dashgen translates into these classes. Nothing here knows about voice agents.

Every panel carries a stable ``key``; ``layout`` turns keys into panel ids and
positions. ``NULL`` marks the one place Grafana needs a JSON null (the base threshold
step, which Grafana writes for -Infinity); ``render`` drops every other None.
"""

from __future__ import annotations

import attr

# eq=False, repr=False on every class below: nothing compares or prints these models, and
# attrs generating those methods for each class is a measurable share of start-up.
from attr.validators import instance_of

from ..canonical import NULL  # the one JSON null Grafana needs; the dashboards import it from here

DEFAULT_SCHEMA_VERSION = 41
SUPPORTED_SCHEMA_VERSIONS = (41, 42)
# ``--schema-version v2``: Grafana 13's dashboard.grafana.app/v2 objects (dashboards/v2.py), built
# from the newest classic model.
V2_FORMAT = "v2"
V2_CLASSIC_BASE = 42
SCHEMA_VERSION_CHOICES = (*(str(v) for v in SUPPORTED_SCHEMA_VERSIONS), V2_FORMAT)


def parse_schema_version(value) -> int | str:
    """``41``/``"41"``/``42`` -> an int, ``"v2"`` -> ``"v2"`` (the --schema-version choices)."""
    if isinstance(value, str) and value.strip().lower() == V2_FORMAT:
        return V2_FORMAT
    return int(value)



def _as_tuple(value):
    """``tuple(value)`` as a Python function: attrs reads a converter's signature (inspect.signature)
    for every class that inherits it, and a builtin's signature is parsed from its text signature
    with the tokenizer, whose first use compiles its regular expressions: milliseconds of start-up."""
    return tuple(value)


def datasource_ref(ds_type: str, uid: str) -> dict:
    return {"type": ds_type, "uid": uid}


@attr.s(frozen=True, eq=False, repr=False)
class ThresholdStep:
    color = attr.ib(validator=instance_of(str))
    value = attr.ib(default=None)  # None: the base step (-Infinity)

    def to_json_data(self):
        return {"color": self.color, "value": NULL if self.value is None else self.value}


def merge_json(data: dict, extra: dict | None) -> dict:
    """``data`` with ``extra`` laid over it, object by object (lists and scalars replace)."""
    for k, v in (extra or {}).items():
        if isinstance(v, dict) and isinstance(data.get(k), dict):
            data[k] = merge_json(dict(data[k]), v)
        else:
            data[k] = v
    return data


def threshold_steps(limits: list[tuple[float, str]], base: str = "green") -> list[ThresholdStep]:
    """Base step plus one step per (value, color), sorted by value as Grafana requires."""
    return [ThresholdStep(base)] + [ThresholdStep(color, value) for value, color in sorted(limits)]


# -------------------------------------------------------------------------------------------------
# Targets

@attr.s(frozen=True, eq=False, repr=False)
class TempoTarget:
    """A Tempo query target (grafanalib has none). ``kind``: metrics or search."""

    query = attr.ib(validator=instance_of(str))
    datasource = attr.ib(validator=instance_of(dict))
    refId = attr.ib(default="A")
    kind = attr.ib(default="metrics", validator=attr.validators.in_(["metrics", "search"]))
    metricsQueryType = attr.ib(default="range", validator=attr.validators.in_(["range", "instant"]))
    tableType = attr.ib(default="spans", validator=attr.validators.in_(["traces", "spans", "raw"]))
    step = attr.ib(default="1m")
    limit = attr.ib(default=20)
    spss = attr.ib(default=3)
    # How many exemplars a metrics query asks for: each one is a dot on the graph that opens its
    # trace, the way from a p95 spike to a slow call. Tempo caps it at its max_exemplars (100 by
    # default; 0 also means that max from 2.7 on: modules/frontend metrics_query_range_sharder.go).
    exemplars = attr.ib(default=100)
    extra = attr.ib(default=None)  # any other key of an imported target, kept as it was

    def to_json_data(self):
        data = {
            "refId": self.refId,
            "datasource": self.datasource,
            "queryType": "traceql",
            "query": self.query,
            "filters": [],
            "limit": self.limit,
        }
        if self.kind == "metrics":
            data.update(metricsQueryType=self.metricsQueryType, step=self.step, exemplars=self.exemplars)
        else:
            data.update(tableType=self.tableType, spss=self.spss)
        return merge_json(data, self.extra)


@attr.s(frozen=True, eq=False, repr=False)
class PrometheusTarget:
    expr = attr.ib(validator=instance_of(str))
    datasource = attr.ib(validator=instance_of(dict))
    refId = attr.ib(default="A")
    legendFormat = attr.ib(default=None)
    instant = attr.ib(default=False)
    # What an imported target says beyond the above (``dashgen import``); None: not written.
    format = attr.ib(default=None)  # time_series | table | heatmap
    interval = attr.ib(default=None)  # the minimum step, e.g. "1m" or "$__rate_interval"
    hide = attr.ib(default=None)
    extra = attr.ib(default=None)  # any other key of the target, kept as it was

    def to_json_data(self):
        return merge_json({"refId": self.refId, "datasource": self.datasource, "expr": self.expr,
                           "editorMode": "code", "legendFormat": self.legendFormat, "range": not self.instant,
                           "instant": self.instant, "format": self.format, "interval": self.interval,
                           "hide": self.hide}, self.extra)


# -------------------------------------------------------------------------------------------------
# Panels

@attr.s(frozen=True, eq=False, repr=False)
class DataLink:
    """A field data link (``fieldConfig.defaults.links``)."""

    title = attr.ib(validator=instance_of(str))
    url = attr.ib(validator=instance_of(str))
    targetBlank = attr.ib(default=False)

    def to_json_data(self):
        # Grafana's published schema types field links like dashboard links, so every
        # key it requires is written; Grafana reads title, url and targetBlank.
        return {"title": self.title, "url": self.url, "targetBlank": self.targetBlank, "type": "link",
                "icon": "external link", "tooltip": self.title, "tags": [], "asDropdown": False,
                "includeVars": False, "keepTime": False}


@attr.s(eq=False, repr=False)
class ModernPanel:
    """Base of our panels: the grafanalib ``Panel`` fields Grafana still reads, today's JSON keys only.

    ``key`` is the stable identity of the panel (ids derive from it), ``w``/``h`` its size
    on the 24-column grid; ``layout`` fills in ``id`` and ``gridPos``.
    """

    # grafanalib's names (and order) for what a panel of today's schema still has
    dataSource = attr.ib(default=None)
    targets = attr.ib(factory=list, validator=instance_of(list))
    title = attr.ib(default="")
    description = attr.ib(default=None)
    gridPos = attr.ib(default=None)
    id = attr.ib(default=None)
    interval = attr.ib(default=None)
    links = attr.ib(factory=list)
    transformations = attr.ib(factory=list, validator=instance_of(list))
    key = attr.ib(default="", validator=instance_of(str))
    w = attr.ib(default=12, validator=instance_of(int))
    h = attr.ib(default=8, validator=instance_of(int))
    unit = attr.ib(default=None)
    decimals = attr.ib(default=None)
    minValue = attr.ib(default=None)
    maxValue = attr.ib(default=None)
    thresholdSteps = attr.ib(factory=list)
    fieldLinks = attr.ib(factory=list)
    overrides = attr.ib(factory=list)
    mappings = attr.ib(factory=list)
    noValue = attr.ib(default=None)
    colorMode = attr.ib(default="palette-classic")
    # What the panel shows, as tags like "tts.first_byte:p95" (not rendered); alert rules
    # use them to point __dashboardUid__/__panelId__ at the right panel.
    shows = attr.ib(factory=tuple, converter=_as_tuple)
    # Keys of an imported panel the typed fields above do not carry, laid over the panel's JSON as
    # they were (``dashgen import`` writes them and says so): nothing is dropped.
    extra = attr.ib(factory=dict)

    plugin_type = "?"

    def options_json(self) -> dict:
        return {}

    def custom_json(self) -> dict | None:
        return None

    def to_json_data(self):
        defaults = {
            "unit": self.unit,
            "decimals": self.decimals,
            "min": self.minValue,
            "max": self.maxValue,
            "noValue": self.noValue,
            "color": {"mode": self.colorMode},
            "thresholds": {"mode": "absolute", "steps": self.thresholdSteps or threshold_steps([])},
            "mappings": self.mappings,
            "links": self.fieldLinks or None,
            "custom": self.custom_json(),
        }
        return merge_json({
            "type": self.plugin_type,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "datasource": self.dataSource,
            "gridPos": self.gridPos,
            "targets": self.targets,
            "links": self.links or None,
            "transformations": self.transformations or None,
            "interval": self.interval,
            "maxDataPoints": None,
            "fieldConfig": {"defaults": defaults, "overrides": self.overrides},
            "options": self.options_json(),
        }, self.extra)


def _legend(calcs=(), display="list", placement="bottom", show=True) -> dict:
    return {"displayMode": display, "placement": placement, "showLegend": show, "calcs": list(calcs)}


@attr.s(eq=False, repr=False)
class TimeSeriesPanel(ModernPanel):
    plugin_type = "timeseries"
    drawStyle = attr.ib(default="line")
    fillOpacity = attr.ib(default=10)
    lineWidth = attr.ib(default=1)
    thresholdsStyle = attr.ib(default="off")  # off | line | dashed | area | line+area
    stacking = attr.ib(default="none")
    legendCalcs = attr.ib(factory=list)
    legendDisplay = attr.ib(default="list")
    showPoints = attr.ib(default="never")
    logScale = attr.ib(default=False)

    def custom_json(self):
        return {
            "drawStyle": self.drawStyle,
            "lineWidth": self.lineWidth,
            "lineInterpolation": "linear",
            "fillOpacity": self.fillOpacity,
            "gradientMode": "none",
            "showPoints": self.showPoints,
            "pointSize": 4,
            "spanNulls": False,
            "axisPlacement": "auto",
            "axisLabel": "",
            "scaleDistribution": {"type": "log", "log": 2} if self.logScale else {"type": "linear"},
            "stacking": {"mode": self.stacking, "group": "A"},
            "thresholdsStyle": {"mode": self.thresholdsStyle},
            "hideFrom": {"legend": False, "tooltip": False, "viz": False},
        }

    def options_json(self):
        return {
            "legend": _legend(self.legendCalcs, self.legendDisplay),
            "tooltip": {"mode": "multi", "sort": "desc"},
        }


@attr.s(eq=False, repr=False)
class StatPanel(ModernPanel):
    plugin_type = "stat"
    reduceCalc = attr.ib(default="lastNotNull")
    graphMode = attr.ib(default="area")
    statColorMode = attr.ib(default="background")
    textMode = attr.ib(default="value_and_name")
    reduceFields = attr.ib(default="")  # a display-name regex like "/^p95$/"; "" = numeric fields
    # Colour by the threshold steps: "palette-classic" colours by series index and ignores them
    # (fieldColorModeRegistry in packages/grafana-data/src/field/fieldColor.ts), so a tile would
    # never turn red.
    colorMode = attr.ib(default="thresholds")

    def options_json(self):
        return {
            "reduceOptions": {"calcs": [self.reduceCalc], "fields": self.reduceFields, "values": False},
            "graphMode": self.graphMode,
            "colorMode": self.statColorMode,
            "justifyMode": "auto",
            "textMode": self.textMode,
            "wideLayout": True,
            "showPercentChange": False,
            "percentChangeColorMode": "standard",
            "orientation": "auto",
        }


@attr.s(eq=False, repr=False)
class HeatmapPanel(ModernPanel):
    """Grafana 9.1+ heatmap of pre-bucketed data (``histogram_over_time``): no calculation."""

    plugin_type = "heatmap"
    yUnit = attr.ib(default=None)
    colorScheme = attr.ib(default="Oranges")

    def custom_json(self):
        return {"scaleDistribution": {"type": "linear"}, "hideFrom": {"legend": False, "tooltip": False, "viz": False}}

    def options_json(self):
        return {
            "calculate": False,
            "rowsFrame": {"layout": "le"},
            "color": {"mode": "scheme", "scheme": self.colorScheme, "fill": "dark-orange", "scale": "exponential",
                      "exponent": 0.5, "steps": 64, "reverse": False},
            "cellGap": 1,
            "cellValues": {"unit": "short"},
            "showValue": "auto",
            "yAxis": {"axisPlacement": "left", "unit": self.yUnit, "reverse": False},
            "legend": {"show": True},
            "tooltip": {"mode": "single", "yHistogram": True, "showColorScale": False},
            "exemplars": {"color": "rgba(255,0,255,0.7)"},
            "filterValues": {"le": 1e-9},
            "selectionMode": "x",
        }


@attr.s(eq=False, repr=False)
class TablePanel(ModernPanel):
    plugin_type = "table"
    sortBy = attr.ib(factory=list)  # [(displayName, desc)]
    cellHeight = attr.ib(default="sm")

    def custom_json(self):
        # No cellOptions: {"type": "auto"} matches several branches of the schema's oneOf.
        return {"align": "auto", "inspect": False, "filterable": True}

    def options_json(self):
        return {
            "frameIndex": 0,
            "showHeader": True,
            "cellHeight": self.cellHeight,
            "sortBy": [{"displayName": name, "desc": desc} for name, desc in self.sortBy],
            # no "footer": hidden is the default, and Grafana 12.4+ has no panel-level footer option
            # (@grafana/schema 12.4 table Options; its migrateFooterV2 moves one to the fields)
        }


@attr.s(eq=False, repr=False)
class TextPanel(ModernPanel):
    plugin_type = "text"
    content = attr.ib(default="", validator=instance_of(str))
    mode = attr.ib(default="markdown")

    def to_json_data(self):
        data = super().to_json_data()
        for k in ("fieldConfig", "targets", "datasource"):
            if k not in self.extra:
                data.pop(k)
        return data

    def options_json(self):
        return {"mode": self.mode, "content": self.content,
                "code": {"language": "plaintext", "showLineNumbers": False, "showMiniMap": False}}


@attr.s(eq=False, repr=False)
class Row(ModernPanel):
    """A row header (``type: row``): panels after it belong to it until the next row."""

    plugin_type = "row"
    collapsed = attr.ib(default=False)
    w = attr.ib(default=24)
    h = attr.ib(default=1)
    # A collapsed row holds its panels (Grafana draws them when the row is opened); each keeps
    # its own gridPos. An expanded row's panels follow it in the dashboard's list instead.
    panels = attr.ib(factory=list)

    def to_json_data(self):
        return merge_json({"type": "row", "id": self.id, "title": self.title, "collapsed": self.collapsed,
                           "gridPos": self.gridPos, "panels": self.panels}, self.extra)


@attr.s(eq=False, repr=False)
class PluginPanel(ModernPanel):
    """A panel of a type dashgen has no class for (gauge, bar gauge, pie chart, logs...): the common
    fields typed, the plugin's own options in ``extra`` as the source had them."""

    pluginType = attr.ib(default="", validator=instance_of(str))

    def to_json_data(self):
        data = super().to_json_data()
        if self.pluginType:
            data["type"] = self.pluginType
        else:  # a library panel's reference: Grafana takes the type from the library panel
            del data["type"]
        return data


# -------------------------------------------------------------------------------------------------
# Dashboard-level pieces

@attr.s(frozen=True, eq=False, repr=False)
class DatasourceVariable:
    name = attr.ib()
    plugin = attr.ib()  # tempo | prometheus
    label = attr.ib()
    default_name = attr.ib()
    default_uid = attr.ib()

    def to_json_data(self):
        return {"type": "datasource", "name": self.name, "label": self.label, "query": self.plugin,
                "current": {"text": self.default_name, "value": self.default_uid},
                "hide": 0, "refresh": 1, "regex": "", "multi": False, "includeAll": False, "options": [],
                "skipUrlSync": False}


@attr.s(frozen=True, eq=False, repr=False)
class TextboxVariable:
    name = attr.ib()
    label = attr.ib()
    default = attr.ib(default="")
    description = attr.ib(default=None)

    def to_json_data(self):
        return {"type": "textbox", "name": self.name, "label": self.label, "query": self.default,
                "current": {"text": self.default, "value": self.default},
                "options": [{"selected": True, "text": self.default, "value": self.default}],
                "hide": 0, "description": self.description, "skipUrlSync": False}


class Variable:
    """A template variable of any type (query, custom, interval, constant, adhoc, textbox...), the
    way Grafana's JSON spells it: ``Variable("query", "job", query="label_values(up, job)",
    datasource=kit.prometheus, refresh=1)``. Every keyword is written as given."""

    def __init__(self, type: str, name: str, **fields):
        self.type, self.name, self.fields = type, name, fields

    def to_json_data(self):
        return {"type": self.type, "name": self.name, **self.fields}


@attr.s(frozen=True, eq=False, repr=False)
class DashLink:
    """A dashboard link: to other dashboards by tag, or to one URL."""

    title = attr.ib()
    tags = attr.ib(factory=list)
    url = attr.ib(default=None)
    tooltip = attr.ib(default="")
    asDropdown = attr.ib(default=False)

    def to_json_data(self):
        return {"title": self.title, "type": "link" if self.url else "dashboards", "url": self.url,
                "icon": "external link" if self.url else "dashboard", "tooltip": self.tooltip,
                "tags": list(self.tags), "asDropdown": self.asDropdown, "targetBlank": False,
                "includeVars": True, "keepTime": True}


@attr.s(eq=False, repr=False)
class ModernDashboard:
    """A dashboard with grafanalib's field names, serialised with only today's keys (no ``id``,
    ``rows``...)."""

    title = attr.ib(validator=instance_of(str))
    description = attr.ib(default="", validator=instance_of(str))
    links = attr.ib(factory=list)
    panels = attr.ib(factory=list, validator=instance_of(list))
    tags = attr.ib(factory=list)
    uid = attr.ib(default=None)
    variables = attr.ib(factory=list)
    schemaVersion = attr.ib(default=DEFAULT_SCHEMA_VERSION)
    refresh = attr.ib(default="1m")
    timeFrom = attr.ib(default="now-6h")
    graphTooltip = attr.ib(default=1)
    timeTo = attr.ib(default="now")
    timezone = attr.ib(default="browser")
    extraAnnotations = attr.ib(factory=list)  # after Grafana's built-in "Annotations & Alerts"

    def to_json_data(self):
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description or None,
            "tags": self.tags,
            "timezone": self.timezone,
            "editable": True,
            "graphTooltip": self.graphTooltip,
            "time": {"from": self.timeFrom, "to": self.timeTo},
            "timepicker": {"refresh_intervals": ["30s", "1m", "5m", "15m", "1h"]},
            "fiscalYearStartMonth": 0,
            "liveNow": False,
            "refresh": self.refresh,
            "schemaVersion": self.schemaVersion,
            "panels": self.panels,
            "templating": {"list": self.variables},
            "annotations": {"list": [{
                "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True,
                "hide": True, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard",
            }, *self.extraAnnotations]},
            "links": self.links,
            "weekStart": "",
        }
