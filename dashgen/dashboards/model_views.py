"""Panel types past the staples in ``model``: a trace waterfall, an alert list, a bar chart,
a dashboard list. Same contract: today's JSON keys only, ``key``/``w``/``h`` for ``layout``.

``traces`` and ``alertlist`` have no published JSON schema (options are free-form in the
dashboard schema); their options follow Grafana's own types, cited on each class.
"""

from __future__ import annotations

import attr

from .model import ModernPanel, _legend


@attr.s(eq=False, repr=False)
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
class AlertListPanel(ModernPanel):
    """Grafana-managed alerts, filtered by label (``UnifiedAlertListOptions`` in
    ``public/app/plugins/panel/alertlist/types.ts``; sortOrder 3 = importance)."""

    plugin_type = "alertlist"
    labelFilter = attr.ib(default="")
    maxItems = attr.ib(default=20)

    def to_json_data(self):
        data = super().to_json_data()
        for key in ("fieldConfig", "targets", "datasource"):
            data.pop(key)
        return data

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
class DashListPanel(ModernPanel):
    """Dashboards by tag. Grafana builds each link itself, so it carries the sub-path
    (``appSubUrl``), and with ``keepTime``/``includeVars`` the time range and variables."""

    plugin_type = "dashlist"
    tags = attr.ib(factory=list)

    def to_json_data(self):
        data = super().to_json_data()
        for key in ("fieldConfig", "targets", "datasource"):
            data.pop(key)
        return data

    def options_json(self):
        return {"keepTime": True, "includeVars": True, "showStarred": False, "showRecentlyViewed": False,
                "showSearch": True, "showHeadings": False, "showFolderNames": False, "maxItems": 30, "query": "",
                "tags": list(self.tags)}
