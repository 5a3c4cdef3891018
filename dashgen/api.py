"""The public API of definition files: the kit a ``dashboards(kit)`` function receives, and the
classes it builds panels with. Documented in docs/extending.md.

A definition file is a Python module that the catalog's ``definitions:`` (or ``--definitions``)
names; dashgen runs it at build time and takes its dashboards through the same pipeline as its
own: canonical JSON, stable panel ids, layout, lint, diff, preview, plan, push and prune. It
defines one of:

- ``def dashboards(kit: Kit) -> list``: dashboards made with ``kit.dashboard(...)`` (grafanalib
  ``Dashboard`` objects are accepted in the list too);
- ``dashboard = Dashboard(...)``: one grafanalib 0.7.1 dashboard, grafanalib's own
  ``*.dashboard.py`` convention, translated to current Grafana JSON (docs/extending.md says how).

Why a kit rather than "import dashgen's internals": the kit is what dashgen's own dashboards use
(``dashgen.dashboards.kit.Ctx`` and ``panels``), narrowed to a surface dashgen promises to keep.
Everything in ``__all__`` and every public attribute of ``Kit`` is that promise: tests/test_definitions.py
pins both lists, so removing or renaming a name fails a test and is a visible, versioned change
(``API_VERSION``).
"""

from __future__ import annotations

import os
import sys

from .catalog.model import Catalog, Measurement, Stage, Threshold
from .dashboards import panels as _panels
from .dashboards.kit import BuiltDashboard, Ctx
from .dashboards.model import (
    DashLink, DataLink, DatasourceVariable, HeatmapPanel, PluginPanel, PrometheusTarget, Row, StatPanel,
    TablePanel, TempoTarget, TextboxVariable, TextPanel, ThresholdStep, TimeSeriesPanel, Variable, threshold_steps,
)
from .dashboards.series import rename, rename_function, rename_quantiles
from .queries import promql
from .queries.traceql import Attr, Cond, TraceQL, Var

API_VERSION = 2  # 2: PluginPanel, Variable, kit.datasource_variables, kit.dashboard's settings
DASHBOARD_SETTINGS = frozenset({"uid", "links", "tags", "refresh", "time_from", "time_to", "timezone",
                                "annotations", "graph_tooltip"})

__all__ = [
    "API_VERSION", "Kit",
    # the catalog model (read-only)
    "Catalog", "Stage", "Measurement", "Threshold",
    # queries: the TraceQL builder's pieces, the PromQL builder module
    "TraceQL", "Attr", "Cond", "Var", "promql",
    # panels, rows, targets, links, variables, thresholds
    "TimeSeriesPanel", "StatPanel", "HeatmapPanel", "TablePanel", "TextPanel", "Row", "PluginPanel",
    "TempoTarget", "PrometheusTarget", "DataLink", "DashLink", "TextboxVariable", "DatasourceVariable", "Variable",
    "ThresholdStep", "threshold_steps",
    # series names: Grafana names a Tempo metrics series by its labels; field overrides rename it
    "rename", "rename_quantiles", "rename_function",
    # what kit.dashboard returns
    "BuiltDashboard",
]


class Kit:
    """What a definition file's ``dashboards(kit)`` gets: one per file, for one catalog.

    It wraps the context dashgen's own dashboards are built with, so a user's panels get the
    same TraceQL builder (Tempo's rules and escaping), datasource variables, threshold colours,
    uids, tags and links as the generated ones. Pure: no I/O.
    """

    def __init__(self, ctx: Ctx, path: str):
        self._ctx = ctx
        self._path = os.path.abspath(path)
        self._made: dict[int, int] = {}  # id(BuiltDashboard) -> line of the kit.dashboard call

    # the catalog -------------------------------------------------------------------------------
    @property
    def catalog(self) -> Catalog:
        """The validated catalog: stages, measurements, thresholds, convention, Grafana settings."""
        return self._ctx.catalog

    @property
    def schema_version(self) -> int:
        return self._ctx.schema_version

    def stage(self, stage_id: str) -> Stage:
        """The catalog stage ``stage_id``; a ValueError naming the stages there are otherwise."""
        if not self.catalog.has_stage(stage_id):
            raise ValueError(f"the catalog has no stage {stage_id!r} (it has: "
                             f"{', '.join(s.id for s in self.catalog.stages)})")
        return self.catalog.stage(stage_id)

    def measurement(self, stage_id: str, measurement_id: str) -> Measurement:
        """Measurement ``measurement_id`` of stage ``stage_id``; a ValueError when there is none."""
        stage = self.stage(stage_id)
        m = stage.measurement(measurement_id)
        if m is None:
            raise ValueError(f"stage {stage_id!r} has no measurement {measurement_id!r} (it has: "
                             f"{', '.join(x.id for x in stage.measurements)})")
        return m

    # queries -----------------------------------------------------------------------------------
    @property
    def traceql(self) -> TraceQL:
        """The TraceQL builder for this catalog: ``span()``, ``quantile()``, ``rate()``, ``search()``..."""
        return self._ctx.q

    promql = promql  # the PromQL builder module: quantile, burn_rate, ratio... (validated output)

    def stage_filter(self, stage: Stage) -> list[Cond]:
        """Conditions selecting one stage's spans (and the $service filter when the catalog has one)."""
        return _panels.stage_filter(self._ctx, stage)

    def all_stages_filter(self) -> list[Cond]:
        return self._ctx.all_stages_conds() + self._ctx.service_conds()

    def by_stage(self) -> Attr:
        """The attribute to group by stage (the stage attribute, or the span name)."""
        return self._ctx.by_stage()

    def measured(self, m: Measurement, *stages: Stage) -> list[Cond]:
        """Drop a measurement's 'produced nothing' value (e.g. -1) from a query, and the interrupted
        turns of the ``stages`` it reads (docs/alerts.md, "Interrupted turns")."""
        return self._ctx.measured(m, *stages)

    def select(self, *attributes: str | None) -> tuple[Attr, ...]:
        return self._ctx.select(*attributes)

    # datasources and targets -------------------------------------------------------------------
    @property
    def tempo(self) -> dict:
        """The Tempo datasource reference (through the dashboard's datasource variable)."""
        return self._ctx.tempo

    @property
    def prometheus(self) -> dict:
        return self._ctx.prometheus

    def tempo_metrics(self, query: str, ref: str = "A", instant: bool = False) -> TempoTarget:
        return self._ctx.tempo_metrics(query, ref, instant)

    def tempo_search(self, query: str, ref: str = "A", limit: int = 20, spss: int = 3) -> TempoTarget:
        return self._ctx.tempo_search(query, ref, limit, spss)

    def prom(self, expr: str, ref: str = "A", legend: str | None = None) -> PrometheusTarget:
        return self._ctx.prom(expr, ref, legend)

    # thresholds, identity, variables, links ----------------------------------------------------
    def steps(self, *measurements: Measurement) -> list[ThresholdStep]:
        """Threshold steps from the catalog's limits: green, then orange (ticket) and red (page)."""
        return self._ctx.steps(*measurements)

    def uid(self, key: str) -> str:
        """``<uid_prefix>-<key>``, as every dashboard of the catalog is named."""
        return self._ctx.uid(key)

    @property
    def tags(self) -> list[str]:
        """dashgen's ownership tag, the catalog's group tag and its own tags (push and prune use them)."""
        return list(self._ctx.tags)

    def variables(self, *extra) -> list:
        """The datasource variables (and $service), then ``extra`` variables."""
        return self._ctx.variables(*extra)

    def datasource_variables(self, *extra) -> list:
        """The catalog's datasource variables only (``${tempo}``, ``${prometheus}``), then ``extra``:
        what a dashboard that is not about the catalog's stages (an imported one) needs."""
        return [v for v in self._ctx.variables() if isinstance(v, DatasourceVariable)] + list(extra)

    def links(self) -> list[DashLink]:
        """The dropdown of the catalog's other dashboards."""
        return self._ctx.links()

    def session_url(self, value: str = "${__value.raw}") -> str:
        """A link into the session drilldown for one session id."""
        return _panels.session_url(self._ctx, value)

    # dashgen's own panel builders ------------------------------------------------------------
    def quantiles_panel(self, stage: Stage, m: Measurement, **options) -> TimeSeriesPanel:
        return _panels.quantiles_panel(self._ctx, stage, m, **options)

    def spread_panels(self, stage: Stage, m: Measurement, **options) -> list[TimeSeriesPanel]:
        """Quantiles of an integer measurement, or avg and max of a float one."""
        return _panels.spread_panels(self._ctx, stage, m, **options)

    def heatmap_panel(self, stage: Stage, m: Measurement, **options) -> HeatmapPanel:
        return _panels.heatmap_panel(self._ctx, stage, m, **options)

    def rate_panel(self, stage: Stage, m: Measurement, **options) -> TimeSeriesPanel:
        return _panels.rate_panel(self._ctx, stage, m, **options)

    def bad_rate_panel(self, stage: Stage, m: Measurement, **options) -> TimeSeriesPanel:
        return _panels.bad_rate_panel(self._ctx, stage, m, **options)

    def slowest_table(self, stage: Stage, m: Measurement, above: float, **options) -> TablePanel:
        return _panels.slowest_table(self._ctx, stage, m, above, **options)

    # the dashboard -----------------------------------------------------------------------------
    def dashboard(self, key: str, title: str, description: str, panels: list,
                  variables: list | None = None, **settings) -> BuiltDashboard:
        """A laid-out dashboard in the catalog's folder: uid ``<prefix>-<key>``, the catalog's tags and
        links, panel ids from panel keys, panels flowed on the 24-column grid in list order (a panel
        with a ``gridPos`` keeps it).

        ``settings`` (what an imported dashboard keeps of its own): ``uid`` (instead of
        ``<prefix>-<key>``), ``links`` (instead of the catalog's dropdown), ``tags`` (added to
        dashgen's), ``refresh``, ``time_from``, ``time_to``, ``timezone``, ``annotations`` (after
        Grafana's built-in one), ``graph_tooltip``."""
        unknown = set(settings) - DASHBOARD_SETTINGS
        if unknown:
            raise TypeError(f"kit.dashboard() got unknown settings: {', '.join(sorted(unknown))} "
                            f"(it takes: {', '.join(sorted(DASHBOARD_SETTINGS))})")
        built = self._ctx.dashboard(key, title, description, panels, variables, **settings)
        self._made[id(built)] = self._caller_line()
        return built

    def _caller_line(self) -> int:
        frame = sys._getframe(2)
        while frame is not None:
            if os.path.abspath(frame.f_code.co_filename) == self._path:
                return frame.f_lineno
            frame = frame.f_back
        return 1

    def _line_of(self, built: BuiltDashboard) -> int | None:
        return self._made.get(id(built))
