"""Session drilldown: every span of one session in time order, one turn as a waterfall, and
per-turn first bytes (a matrix of every stage, stacked bars of the response chain).

Tempo load: the dashboard sends ONE search, the spans table's. The matrix, the bars and the turn
table reuse its result through Grafana's Dashboard datasource and filter it themselves, so with
``$session`` empty (the dashboard opened on its own) one search runs, not four. No TraceQL form
makes that one free: Tempo exits early only for a query whose every spanset filter is statically
false (``RootExpr.IsNoop``, Tempo 2.7+), and a filter that compares a span attribute to the
variable is never static; Grafana skips the request only when the whole interpolated query is
empty. So the dashboard's own default range is short (``SEARCH_RANGE``): the empty-session
search covers the last hour only, while links from the other dashboards bring their range.
"""

from __future__ import annotations

from ..queries.traceql import Cond, Var
from .breakdown import PARTS_FIELD, REMAINDER, parts_and_whole
from .good_turn import session_score
from .kit import BuiltDashboard, Ctx
from .model import DataLink, Row, TablePanel, TempoTarget, TextboxVariable
from .model_views import BarChartPanel, TracesPanel
from .layout import panel_id
from .panels import explore_trace_url, numeric_columns

# Grafana's Tempo span tables show the span start column (named "time") as "Start time"
# (displayNameFromDS in resultTransformer.ts); a table sorts by the name it displays.
START_TIME = "Start time"
SPANS_KEY = "session-spans"
# The dashboard's default range: what the one search with an empty $session covers. Links from
# the other dashboards carry their own range (${__url_time_range}), so lookups are not cut short.
SEARCH_RANGE = "now-1h"
DASHBOARD_DS = {"type": "datasource", "uid": "-- Dashboard --"}


def _from_spans_table(ctx: Ctx) -> list[dict]:
    """The spans table's result (typed columns included): no second search."""
    return [{"refId": "A", "datasource": DASHBOARD_DS, "withTransforms": True,
             "panelId": panel_id(ctx.uid("session"), SPANS_KEY)}]


def _numbers_in(unit: str) -> list[dict]:
    """The unit on number columns only. A panel-wide unit would also format the string turn-id
    column, which Grafana does for any string that parses as a number ("1" shows as "1 ms":
    ``getDisplayProcessor`` leaves a string raw only when the field has no unit)."""
    return [{"matcher": {"id": "byType", "options": "number"}, "properties": [{"id": "unit", "value": unit}]}]


def _keep(*filters: tuple[str, str, object]) -> dict:
    """A ``filterByValue`` transformation keeping the rows where every (column, matcher, value) holds."""
    return {"id": "filterByValue", "options": {"type": "include", "match": "all", "filters": [
        {"fieldName": col, "config": {"id": how, "options": {"value": value}}} for col, how, value in filters]}}


def _measured(ctx: Ctx) -> list[str]:
    return [m.attribute for s in ctx.catalog.stages for m in s.measurements]


def _select(ctx: Ctx):
    c = ctx.catalog
    names = [c.stage_attribute, c.turn_attribute]
    fb = [m.attribute for s in c.stages for m in s.measurements if m.id == "first_byte"]
    total = [m.attribute for s in c.stages for m in s.measurements if m.id == "total"]
    names += fb[:1] + total[:1] + [c.error_attribute]
    names += _measured(ctx) + _verdict(ctx)
    return ctx.select(*names)


def _verdict(ctx: Ctx) -> list[str]:
    """The good-turn verdict on the turn spans (``voice.good_turn``), when the catalog has the SLI."""
    return [ctx.catalog.good_turn.attribute] if ctx.catalog.good_turn is not None else []


def _session_conds(ctx: Ctx, extra=()):
    c = ctx.catalog
    conds = [Cond(ctx.q.span(c.session_attribute), "=", Var("session")), *extra]
    if c.session_on_stage_spans:
        return conds, None
    conds.insert(0, Cond(ctx.q.intrinsic("name"), "=", c.session_span))
    # Only an ancestor span carries the session id: select its descendants.
    return conds, (">>", tuple(ctx.service_conds()))


def _trace_link(ctx: Ctx) -> DataLink:
    """Show the row's trace in this dashboard's waterfall (same session, time range, datasources)."""
    return DataLink(title="Show this turn's trace in the waterfall below",
                    url=(f"/d/{ctx.uid('session')}/?var-session=${{session}}&var-trace=${{__data.fields.traceIdHidden}}"
                         f"&{ctx.link_vars()}&${{__url_time_range}}"))


def spans_table(ctx: Ctx) -> TablePanel:
    c = ctx.catalog
    conds, structural = _session_conds(ctx)
    query = ctx.q.search(conds + ([] if structural else ctx.service_conds()), _select(ctx), structural)
    return TablePanel(
        key=SPANS_KEY, title="Every span of session $session, in time order",
        description=(f"Every span whose {c.session_attribute} is the session you typed above, oldest first, with "
                     f"stage, turn, first byte, total, error and the stage-specific attributes as columns (typed as "
                     f"numbers). Click a row to show its turn's trace in the waterfall below, or to open it in "
                     f"Explore. This is the dashboard's only search: the panels below filter its result. With no "
                     f"session typed it still searches (for an empty id, which matches nothing) over the time "
                     f"range, one hour by default; a link from another dashboard brings its own range."),
        targets=[ctx.tempo_search(query, limit=100, spss=100)], sortBy=[(START_TIME, False)],
        transformations=[numeric_columns(*_measured(ctx), *_verdict(ctx))],
        fieldLinks=[_trace_link(ctx), DataLink(title="Open this trace in Explore", url=explore_trace_url(ctx))],
        shows=["session:spans"], w=24, h=12)


def waterfall(ctx: Ctx) -> TracesPanel:
    return TracesPanel(
        key="session-turn-trace", title="Trace of the chosen turn ($trace)",
        description=("The chosen turn's trace as a waterfall: every stage laid out in time, so a slow turn shows "
                     "which stage spent the time and what overlapped. Pick a turn by clicking a row of the table "
                     "above; with no trace chosen the panel sends no query."),
        targets=[TempoTarget(query="$trace", datasource=ctx.tempo, kind="search", tableType="traces", limit=20)],
        dataSource=ctx.tempo, shows=["session:trace"], w=24, h=14)


def _column(ctx: Ctx) -> str:
    by = str(ctx.by_stage())
    return by.split(".", 1)[1] if "." in by else by


def first_byte_per_turn(ctx: Ctx) -> TablePanel | None:
    c = ctx.catalog
    fb = next((m for s in c.stages for m in s.measurements if m.id == "first_byte"), None)
    if fb is None:
        return None
    keep = [_keep((fb.attribute, "greaterOrEqual", 0))] if fb.nothing_value is not None else []
    return TablePanel(
        key="session-first-byte-per-turn", title="First byte of every stage, per turn",
        description=(f"One row per turn of the session, one column per stage (every stage of the catalog): "
                     f"{fb.title.lower()} and its equivalents, in {fb.unit}. A turn that felt slow shows which stage "
                     f"spent the time. Stages that produced nothing are left out. Built from the spans table's "
                     f"result (Dashboard datasource): no search of its own."),
        dataSource=DASHBOARD_DS, targets=_from_spans_table(ctx), overrides=_numbers_in(fb.grafana_unit),
        transformations=[*keep, {"id": "groupingToMatrix", "options": {
            "columnField": _column(ctx), "rowField": c.turn_attribute, "valueField": fb.attribute}}],
        shows=["session:first_byte_per_turn"], w=24, h=10)


def response_bars(ctx: Ctx) -> BarChartPanel | None:
    """Per turn, the first bytes of the stages on the critical path stacked (ASR first partial + LLM
    first token + TTS first audio, and any stage the catalog marks ``critical_path``, in catalog
    order), and on top the unexplained remainder of the caller-felt latency: the same split as the
    overview's turn breakdown (dashboards/breakdown.py), one turn at a time, so here the parts and
    the whole are the turn's own numbers. One column of the spans table feeds the bars, so they
    stack the stages whose first byte is that one attribute."""
    c = ctx.catalog
    chain, felt = parts_and_whole(ctx)
    if len(chain) < 2:
        return None
    fb = chain[0].measurement("first_byte")
    ids = [s.id for s in chain] + ([felt[0].id] if felt else [])
    keep = [(_column(ctx), "regex", "^(" + "|".join(ids) + ")$")]
    if fb.nothing_value is not None:
        keep.append((fb.attribute, "greaterOrEqual", 0))
    parts = " + ".join(f"{s.id.upper()} {s.measurement('first_byte').title.lower()}" for s in chain)
    remainder, more = [], ""
    if felt:
        fs, fm = felt
        remainder = [
            {"id": "calculateField", "options": {"mode": "reduceRow", "alias": PARTS_FIELD, "replaceFields": False,
                                                 "reduce": {"reducer": "sum", "include": [s.id for s in chain]}}},
            {"id": "calculateField", "options": {"mode": "binary", "alias": REMAINDER, "replaceFields": False,
                                                 "binary": {"left": fs.id, "operator": "-", "right": PARTS_FIELD}}},
            {"id": "organize", "options": {"excludeByName": {PARTS_FIELD: True, fs.id: True}}},
        ]
        more = (f" On top, '{REMAINDER}': the turn's caller-felt latency ({fs.id} {fm.title.lower()}, end of the "
                f"user's speech to the first agent audio) minus the stacked parts, so the whole bar is what the caller "
                f"waited (transport, client playout, any wait no stage measures); negative when the stages overlap.")
    return BarChartPanel(
        key="session-response-bars", title=f"Per turn: {parts}" + (f" + {REMAINDER.lower()}" if felt else ""),
        description=(f"One stacked bar per turn of the session: {parts}, in {fb.unit}. The height is the time the "
                     f"server stages took to start answering; the tallest segment is the stage to look at.{more} Built "
                     f"from the spans table's result (Dashboard datasource): no search of its own."),
        dataSource=DASHBOARD_DS, targets=_from_spans_table(ctx), overrides=_numbers_in(fb.grafana_unit),
        transformations=[_keep(*keep), {"id": "groupingToMatrix", "options": {
            "columnField": _column(ctx), "rowField": c.turn_attribute, "valueField": fb.attribute}}, *remainder],
        shows=["session:response_bars"], w=24, h=9)


def turn_table(ctx: Ctx) -> TablePanel:
    c = ctx.catalog
    return TablePanel(
        key="session-turn-spans", title="Spans of turn $turn",
        description=(f"Only the spans of one turn ({c.turn_attribute} = the turn variable). Empty until you type a "
                     f"turn id above; take it from the table of every span. Built from that table's result "
                     f"(Dashboard datasource, filtered on the turn): no search of its own."),
        dataSource=DASHBOARD_DS, targets=_from_spans_table(ctx), sortBy=[(START_TIME, False)],
        transformations=[_keep((c.turn_attribute, "equal", "$turn"))], shows=["session:turn"], w=24, h=8)


def build(ctx: Ctx) -> BuiltDashboard:
    variables = ctx.variables(
        TextboxVariable("session", "Session id", "", "The session id to look up (from a table of recent spans)."),
        TextboxVariable("turn", "Turn id (optional)", "", "Optional: one turn of the session."),
        TextboxVariable("trace", "Trace id", "", "The trace shown as a waterfall: click a row of the spans table."),
    )
    score = session_score(ctx, _from_spans_table(ctx), w=24, h=4)
    panels = [Row(key="row-session", title="Session"), *([score] if score else []), spans_table(ctx), waterfall(ctx)]
    panels += [p for p in (response_bars(ctx), first_byte_per_turn(ctx)) if p is not None]
    if ctx.catalog.session_on_stage_spans:
        # With the session id on an ancestor only, session and turn sit on different spans
        # and one spanset cannot hold both; the spans table above shows the turn column.
        panels += [Row(key="row-turn", title="One turn"), turn_table(ctx)]
    # No auto-refresh: a drilldown looks at past calls, and each refresh is a search over the range.
    return ctx.dashboard("session", "Session drilldown",
                         "Every span of one voice session, for going from an aggregate to a single bad call.",
                         panels, variables, refresh="", time_from=SEARCH_RANGE)
