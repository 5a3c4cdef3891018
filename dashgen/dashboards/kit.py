"""What every dashboard definition shares: the catalog, the query builder, variables,
datasource references, links, uids and threshold steps taken from the catalog."""

from __future__ import annotations

import re

from ..records import dataclass  # dataclasses' decorator without generated code (start-up)
from ..catalog.conventions import make_uid
from ..catalog.model import Catalog, Measurement, Stage
from .model import (
    DashLink, DatasourceVariable, ModernDashboard, PrometheusTarget, TempoTarget, TextboxVariable,
    ThresholdStep, datasource_ref, threshold_steps,
)
from .layout import lay_out
from .model_views import ConditionVariable, TempoValuesVariable
from ..queries import promql
from ..voice.paging import SEVERITY_RANK, threshold_severity
from ..queries.traceql import AnyOf, Attr, ConditionVar, Cond, TraceQL

OWNER_TAG = "dashgen"
SERVICE_FILTER = "service_filter"  # the hidden variable holding the whole service condition
SEVERITY_COLORS = {"ticket": "orange", "page": "red"}
SEVERITY_BY_RANK = {rank: SEVERITY_COLORS[sev] for sev, rank in SEVERITY_RANK.items()}


@dataclass(frozen=True)
class BuiltDashboard:
    key: str
    uid: str
    title: str
    folder_uid: str
    dashboard: ModernDashboard  # laid out: ids and gridPos assigned
    origin: str | None = None  # a definition file's dashboard: "path:line" where the file made it


class Ctx:
    """Per-catalog helpers for the definitions. Pure: no I/O."""

    def __init__(self, catalog: Catalog, schema_version: int):
        self.catalog = catalog
        self.schema_version = schema_version
        self.q = TraceQL(catalog)
        self.tempo = datasource_ref("tempo", "${" + catalog.tempo.variable + "}")
        self.prometheus = datasource_ref("prometheus", "${" + catalog.prometheus.variable + "}")

    # identity ---------------------------------------------------------------------------------
    def uid(self, key: str) -> str:
        """``<uid_prefix>-<key>``; past Grafana's 40 characters, shortened with a stable hash."""
        return make_uid(self.catalog.uid_prefix, key)

    @property
    def group_tag(self) -> str:
        """The tag all dashboards of this catalog share; dashboard links use it."""
        return f"{OWNER_TAG}-{self.catalog.name}"

    @property
    def tags(self) -> list[str]:
        return sorted({OWNER_TAG, self.group_tag, *self.catalog.tags})

    # variables and filters ---------------------------------------------------------------------
    def variables(self, *extra) -> list:
        c = self.catalog
        out = [
            DatasourceVariable(c.tempo.variable, "tempo", "Tempo", c.tempo.name, c.tempo.uid),
            DatasourceVariable(c.prometheus.variable, "prometheus", "Prometheus", c.prometheus.name, c.prometheus.uid),
        ]
        out.extend(self.matcher_variables())
        if c.service_attribute:
            self.q.scoped(c.service_attribute)  # a catalog attribute, or QueryError
            out.append(TempoValuesVariable("service", "Service", c.service_attribute, self.tempo,
                                           f"One service by {c.service_attribute}, or All: no service condition at "
                                           f"all (queries compare {c.service_attribute} with =, never a regex)."))
            out.append(ConditionVariable(SERVICE_FILTER, c.service_attribute, "service",
                                         f"Hidden: the service condition every Tempo query carries, "
                                         f"{c.service_attribute} = the service chosen, or true with All."))
        out.extend(extra)
        return out

    def matcher_variables(self) -> list:
        """One textbox per ``prometheus.matchers`` label, read by ``prom_extra`` in every PromQL panel."""
        return [TextboxVariable(m.label, m.label, m.value, f"Prometheus panels match {m.label}=~\"${m.label}\" "
                                f"(a regular expression; alert rules match {m.label}=\"{m.value}\")")
                for m in self.catalog.prom_matchers]

    def service_conds(self) -> list[ConditionVar]:
        """``${service_filter:raw}``, a hidden variable holding the whole condition:
        ``resource.service.name = "voice-agent"`` for one service, ``true`` with All, so no
        service condition reaches Tempo then (``model_views.py``, ``ConditionVariable``). Never a
        regex: Grafana's Tempo datasource interpolates a TraceQL string with
        ``templateSrv.replace(query, scopedVars, VariableFormatID.Pipe)`` (grafana/grafana
        ``public/app/plugins/datasource/tempo/datasource.ts``, ``applyVariables`` and
        ``prepareTargets``), so a plain ``$service`` with several values becomes ``a|b|c``, a regex
        Tempo evaluates per span, and the datasource adds ad hoc filters to builder
        (``traceqlSearch``) queries only, never to a TraceQL string. docs/dashboards.md, "The
        service filter"."""
        return [ConditionVar(SERVICE_FILTER)] if self.catalog.service_attribute else []

    def stage_attr(self) -> Attr | None:
        sa = self.catalog.stage_attribute
        return self.q.span(sa) if sa else None

    def stage_conds(self, stage: Stage) -> list[Cond]:
        """Select the spans of one stage: by stage attribute when there is one, else by span name."""
        return [self.q.stage_cond(stage)]

    def all_stages_conds(self) -> list[Cond]:
        sa = self.stage_attr()
        if sa is not None:
            return [Cond(sa, "!=", "")]
        names = "|".join(re.escape(s.span) for s in self.catalog.stages)
        return [Cond(self.q.intrinsic("name"), "=~", names)]

    def stages_conds(self, stages: list[Stage]) -> list[Cond | AnyOf]:
        """The spans of ``stages`` only: every stage's filter when they are all the catalog's, else
        their stage ids (or span names, in a convention without a stage attribute)."""
        if len(stages) == len(self.catalog.stages):
            return self.all_stages_conds()
        sa = self.stage_attr()
        if sa is not None:
            return [AnyOf(tuple(Cond(sa, "=", s.id) for s in stages))]
        return [AnyOf(tuple(Cond(self.q.intrinsic("name"), "=", s.span) for s in stages))]

    def by_stage(self) -> Attr:
        return self.stage_attr() or self.q.intrinsic("name")

    def select(self, *names: str | None) -> tuple[Attr, ...]:
        """Span attributes for a ``select()``: in order, without repeats, skipping ``None``."""
        return tuple(self.q.span(n) for n in dict.fromkeys(n for n in names if n))

    def measured(self, m: Measurement, *stages: Stage) -> list[Cond | AnyOf]:
        """Keep only real measurements: drop the 'produced nothing' value (and below), and the
        interrupted turns of the ``stages`` the query reads (``voice.interrupted``)."""
        attr = self.q.span(m.attribute)
        nothing = [Cond(attr, ">=", 0)] if m.nothing_value is not None else []
        # each stage with its own measurement of the attribute: a stage without one has no value here
        read = [(s, x) for s in stages for x in s.measurements if x.attribute == m.attribute]
        return nothing + self.q.not_interrupted(read)

    # targets, thresholds, links ----------------------------------------------------------------
    def tempo_metrics(self, query: str, ref: str = "A", instant: bool = False) -> TempoTarget:
        return TempoTarget(query=query, datasource=self.tempo, refId=ref,
                           metricsQueryType="instant" if instant else "range")

    def tempo_search(self, query: str, ref: str = "A", limit: int = 20, spss: int = 3) -> TempoTarget:
        return TempoTarget(query=query, datasource=self.tempo, refId=ref, kind="search", limit=limit, spss=spss)

    def prom_extra(self) -> tuple[str, ...]:
        """The catalog's ``prometheus.matchers`` for panels: each through its dashboard variable.
        Pass them as ``extra`` to every ``queries.promql`` builder a panel calls."""
        return tuple(promql.matcher(m.label, "=~", "${" + m.label + "}") for m in self.catalog.prom_matchers)

    def prom_measured(self, stage: Stage, m: Measurement) -> tuple[str, ...]:
        """``prom_extra`` for a query over a measurement's histogram, plus the matcher leaving
        interrupted turns out (``voice.interrupted``)."""
        return self.prom_extra() + promql.not_interrupted(self.catalog, stage, m)

    def prom(self, expr: str, ref: str = "A", legend: str | None = None) -> PrometheusTarget:
        return PrometheusTarget(expr=expr, datasource=self.prometheus, refId=ref, legendFormat=legend)

    @staticmethod
    def steps(*measurements: Measurement) -> list[ThresholdStep]:
        """Green base step, then one step per catalog threshold at its effective severity
        (``voice.paging``: orange ticket, red page).

        One coherent set per panel: severity never decreases as the value rises. A panel that
        shows several measurements (first byte of every stage) draws each limit once, at the
        most severe level reached at or below it: a ticket limit above a page limit adds nothing
        (it would paint 600 ms orange above a red 350 ms); two page limits draw two red lines.
        """
        limits: dict[float, int] = {}
        for m in measurements:
            for t in m.thresholds:
                limits[t.value] = max(limits.get(t.value, 0), SEVERITY_RANK[threshold_severity(t)])
        steps, reached = [], 0
        for value, rank in sorted(limits.items()):
            if rank >= reached:  # every limit at the panel's highest severity so far (two page lines: both)
                steps.append((value, SEVERITY_BY_RANK[rank]))
                reached = rank
        return threshold_steps(steps)

    def link_vars(self) -> str:
        """The URL parameters a link carries so the target dashboard reads the same datasources
        and service. Grafana substitutes ``${var}`` in a data link URL URI-encoded
        (``packages/grafana-data/src/field/fieldOverrides.ts``, ``getLinksSupplier``:
        ``VariableFormatID.UriEncode``), which would send All as the service's custom all value;
        the service goes as ``${service:queryparam}`` instead, the variable's own URL state
        (``var-service=<value>``, All as ``$__all``: grafana/scenes ``formatRegistry.ts``,
        ``queryparam``; ``MultiValueVariable.ts``, ``MultiValueUrlSyncHandler``)."""
        out = [f"var-{n}=${{{n}}}" for n in (self.catalog.tempo.variable, self.catalog.prometheus.variable)]
        if self.catalog.service_attribute:
            out.append("${service:queryparam}")
        return "&".join(out)

    def links(self) -> list[DashLink]:
        return [DashLink(title="Voice agent dashboards", tags=[self.group_tag], asDropdown=True,
                         tooltip="The other dashboards generated from this catalog")]

    def dashboard(self, key: str, title: str, description: str, panels: list, variables: list | None = None,
                  refresh: str = "1m", time_from: str | None = None, *, uid: str | None = None,
                  links: list | None = None, tags: list | tuple = (), time_to: str = "now",
                  timezone: str = "browser", annotations: list | tuple = (), graph_tooltip: int = 1) -> BuiltDashboard:
        uid = uid or self.uid(key)
        dash = ModernDashboard(
            title=title, uid=uid, description=description, tags=sorted({*self.tags, *tags}) if tags else self.tags,
            panels=panels, variables=variables if variables is not None else self.variables(),
            links=self.links() if links is None else links, schemaVersion=self.schema_version, refresh=refresh,
            # Tempo's query-frontend rejects longer TraceQL metrics ranges (catalog tempo.metrics_max_range);
            # a dashboard may ask for less (the drilldown's searches on an empty session: one hour)
            timeFrom=time_from or f"now-{self.catalog.tempo_server.metrics_max_range}",
            timeTo=time_to, timezone=timezone, extraAnnotations=list(annotations), graphTooltip=graph_tooltip,
        )
        return BuiltDashboard(key=key, uid=uid, title=title, folder_uid=self.catalog.folder_uid, dashboard=lay_out(dash))


def panel_index(dashboards: list[BuiltDashboard]) -> dict[str, tuple[str, int]]:
    """What each panel shows -> ``(dashboard uid, panel id)`` of the most specific panel showing it.

    Tags name what a panel shows: ``"<stage>.<measurement>:p95"`` (a quantile),
    ``"<stage>.<measurement>:heatmap"``, ``"<stage>.<measurement>:bad_rate"``,
    ``"<stage>:errors"``, ``"<stage>:nothing"``, ``"<stage>:rate"``. Among panels showing
    the tag, the one showing the fewest other things wins (a stage dashboard's own panel
    over the overview's all-stages panel); on a tie, a stage dashboard's panel over the overview's.
    ``dashgen.build`` builds it once and hands it to the alert rules, which link to these panels.
    """
    best: dict[str, tuple[tuple[int, bool], str, int]] = {}
    for d in dashboards:
        for p in d.dashboard.panels:
            for tag in getattr(p, "shows", ()):
                cand = ((len(p.shows), d.key == "overview"), d.uid, p.id)
                if tag not in best or cand[0] < best[tag][0]:
                    best[tag] = cand
    return {tag: (uid, pid) for tag, (_rank, uid, pid) in best.items()}
