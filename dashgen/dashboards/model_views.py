"""Grafana pieces past the staples in ``model``: a trace waterfall, an alert list, a bar chart,
a dashboard list, a variable of Tempo tag values. Same contract: today's JSON keys only,
``key``/``w``/``h`` for ``layout``.

``traces`` and ``alertlist`` have no published JSON schema (options are free-form in the
dashboard schema); their options follow Grafana's own types, cited on each class.
"""

from __future__ import annotations

import attr

from .model import ModernPanel, _legend

# A panel class that adds no attrs field is a plain subclass: it inherits the attrs class's
# generated __init__ and fields (attr.fields, attr.evolve read them through the class), where
# @attr.s would collect the ~40 inherited fields again and compile another __init__ (start-up).


class _NoDataPanel(ModernPanel):
    """A panel that queries nothing itself (Grafana lists alerts or dashboards for it)."""

    def to_json_data(self):
        data = super().to_json_data()
        for key in ("fieldConfig", "targets", "datasource"):
            data.pop(key)
        return data


class TracesPanel(ModernPanel):
    """The trace view (waterfall) of one trace. Grafana's Tempo datasource sends a query that is
    only hex characters as a trace-id lookup, and sends no request for an empty query
    (``public/app/plugins/datasource/tempo/datasource.ts``), so an unset trace variable costs
    Tempo nothing."""

    plugin_type = "traces"

    def to_json_data(self):
        data = super().to_json_data()
        data.pop("fieldConfig")
        return data


@attr.s(eq=False, repr=False)
class AlertListPanel(_NoDataPanel):
    """Grafana-managed alerts, filtered by label (``UnifiedAlertListOptions`` in
    ``public/app/plugins/panel/alertlist/types.ts``; sortOrder 3 = importance)."""

    plugin_type = "alertlist"
    labelFilter = attr.ib(default="")
    maxItems = attr.ib(default=20)

    def options_json(self):
        return {"viewMode": "list", "groupMode": "default", "groupBy": [], "maxItems": self.maxItems,
                "sortOrder": 3, "dashboardAlerts": False, "alertName": "", "alertInstanceLabelFilter": self.labelFilter,
                "showInstances": True, "folder": None,
                "stateFilter": {"firing": True, "pending": True, "noData": True, "normal": False, "error": True}}


@attr.s(eq=False, repr=False)
class BarChartPanel(ModernPanel):
    """Bars per row of a table-shaped result (x = the first string field, or ``xField``)."""

    plugin_type = "barchart"
    stacking = attr.ib(default="normal")
    xField = attr.ib(default=None)

    def custom_json(self):
        return {"lineWidth": 1, "fillOpacity": 80, "gradientMode": "none", "axisPlacement": "auto", "axisLabel": "",
                "scaleDistribution": {"type": "linear"}, "thresholdsStyle": {"mode": "off"},
                "hideFrom": {"legend": False, "tooltip": False, "viz": False}}

    def options_json(self):
        return {"xField": self.xField, "orientation": "auto", "xTickLabelRotation": -45, "xTickLabelMaxLength": 16,
                "stacking": self.stacking, "showValue": "never", "barWidth": 0.8, "groupWidth": 0.7,
                "legend": _legend(), "tooltip": {"mode": "multi", "sort": "none"}, "fullHighlight": False}


@attr.s(eq=False, repr=False)
class DashListPanel(_NoDataPanel):
    """Dashboards by tag. Grafana builds each link itself, so it carries the sub-path
    (``appSubUrl``), and with ``keepTime``/``includeVars`` the time range and variables."""

    plugin_type = "dashlist"
    tags = attr.ib(factory=list)

    def options_json(self):
        return {"keepTime": True, "includeVars": True, "showStarred": False, "showRecentlyViewed": False,
                "showSearch": True, "showHeadings": False, "showFolderNames": False, "maxItems": 30, "query": "",
                "tags": list(self.tags)}


# A value the service variable offers: no ',' (a custom variable splits its query there), no
# '\' or control character (doublequote escapes '"' only, TraceQL reads '\' as an escape), no
# " : " (a custom variable reads "text : value" there: grafana/scenes CustomVariable.tsx,
# transformCsvStringToOptions)
SAFE_VALUE_REGEX = r'/^(?!.*\s:\s)[^,\\\x00-\x1f]+$/'
ALL_CONDITION = "true"  # the condition with All: every span meets it, no attribute is read
# The service variable's custom all value: its text before the last " : " is a label, what follows
# (ALL_CONDITION) the condition variable's value (see ConditionVariable)
ALL_VALUE = f"All : {ALL_CONDITION}"


@attr.s(frozen=True, eq=False, repr=False)
class TempoValuesVariable:
    """A single-value variable listing one attribute's values from Tempo (its tag-values API, not a
    search), with All, whose custom all value is ``ALL_VALUE``. One value, never several: several
    would reach the condition variable as ``"a","b"``, which its query splits at the comma. Its
    regex keeps only values the condition variable can hold (``SAFE_VALUE_REGEX``; a value it does
    not match is left out: grafana/scenes ``variants/query/utils.ts``, ``metricNamesToVariableValues``).
    A link carries it as ``${name:queryparam}`` (``Ctx.link_vars``)."""

    name = attr.ib()
    label = attr.ib()
    attribute = attr.ib()  # scoped, e.g. resource.service.name
    datasource = attr.ib()
    description = attr.ib(default=None)

    def to_json_data(self):
        return {"type": "query", "name": self.name, "label": self.label, "description": self.description,
                "datasource": self.datasource,
                "query": {"type": 1, "label": self.attribute, "refId": "TempoDatasourceVariableQueryEditor-VariableQuery"},
                "current": {"text": "All", "value": "$__all"}, "options": [],
                "hide": 0, "refresh": 2, "regex": SAFE_VALUE_REGEX, "sort": 1, "multi": False, "includeAll": True,
                "allValue": ALL_VALUE, "skipUrlSync": False}


@attr.s(frozen=True, eq=False, repr=False)
class ConditionVariable:
    """A hidden custom variable whose one value is the whole service condition a query writes
    (``${name:raw}``, ``queries/traceql.py`` ``ConditionVar``).

    Its query, ``${service:doublequote} : attribute = ${service:doublequote}``, is interpolated,
    then read as ``text : value`` (grafana/scenes ``variants/CustomVariable.tsx``,
    ``transformCsvStringToOptions``: ``sceneGraph.interpolate``, then ``^\\s*(.+)\\s:\\s(.+)$``, the
    text taking everything before the last " : "):

    - a service chosen: ``"voice-agent" : resource.service.name = "voice-agent"``, one option whose
      value is the equality, the value quoted and ``"`` escaped by ``doublequote``
      (``formatRegistry.ts``);
    - All: the service variable's custom all value, inserted as written whatever the format
      (``MultiValueVariable.ts``, ``CustomAllValue.formatter``), twice: ``All : true :
      resource.service.name = All : true``, one option whose value is ``true``.

    It re-reads its query whenever the service changes (its query names the service variable:
    ``VariableDependencyConfig`` on ``query``); the old value is not among the new options, so it
    takes the first, the only one (``MultiValueVariable.ts``, ``getStateUpdateGivenNewOptions``)."""

    name = attr.ib()
    attribute = attr.ib()  # scoped, e.g. resource.service.name
    source = attr.ib()  # the service variable's name
    description = attr.ib(default=None)

    @property
    def query(self) -> str:
        chosen = "${" + self.source + ":doublequote}"
        return f"{chosen} : {self.attribute} = {chosen}"

    def to_json_data(self):
        return {"type": "custom", "name": self.name, "label": self.name, "description": self.description,
                "query": self.query, "current": {"text": "All", "value": ALL_CONDITION}, "options": [],
                "hide": 2, "multi": False, "includeAll": False, "skipUrlSync": True}
