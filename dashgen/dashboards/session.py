"""Session drilldown: every span of one session in time order, and first byte per turn."""

from __future__ import annotations

from .model import DataLink, Row, TablePanel, TextboxVariable
from ..queries.traceql import Cond, Var
from .kit import BuiltDashboard, Ctx
from .panels import explore_trace_url


def _select(ctx: Ctx):
    c = ctx.catalog
    names = [c.stage_attribute, c.turn_attribute]
    fb = [m.attribute for s in c.stages for m in s.measurements if m.id == "first_byte"]
    total = [m.attribute for s in c.stages for m in s.measurements if m.id == "total"]
    names += fb[:1] + total[:1] + [c.error_attribute]
    names += [m.attribute for s in c.stages for m in s.measurements]
    return ctx.select(*names)


def _session_conds(ctx: Ctx, extra=()):
    c = ctx.catalog
    conds = [Cond(ctx.q.span(c.session_attribute), "=", Var("session")), *extra]
    if c.session_on_stage_spans:
        return conds, None
    conds.insert(0, Cond(ctx.q.intrinsic("name"), "=", c.session_span))
    # Only an ancestor span carries the session id: select its descendants.
    return conds, (">>", tuple(ctx.service_conds()))


def spans_table(ctx: Ctx) -> TablePanel:
    c = ctx.catalog
    conds, structural = _session_conds(ctx)
    query = ctx.q.search(conds + ([] if structural else ctx.service_conds()), _select(ctx), structural)
    return TablePanel(
        key="session-spans", title="Every span of session $session, in time order",
        description=(f"Every span whose {c.session_attribute} is the session you typed above, oldest first, with "
                     f"stage, turn, first byte, total, error and the stage-specific attributes as columns. Click a "
                     f"row to open its trace in Explore's trace view and see the stages laid out in time."),
        targets=[ctx.tempo_search(query, limit=100, spss=100)], sortBy=[("time", False)],
        fieldLinks=[DataLink(title="Open this trace in Explore", url=explore_trace_url(ctx))],
        shows=["session:spans"], w=24, h=12)


def first_byte_per_turn(ctx: Ctx) -> TablePanel | None:
    c = ctx.catalog
    fb = next((m for s in c.stages for m in s.measurements if m.id == "first_byte"), None)
    if fb is None:
        return None
    conds, structural = _session_conds(ctx, [Cond(ctx.q.span(fb.attribute), ">=", 0)] if fb.nothing_value is not None else [])
    by = ctx.by_stage()
    select = (by, ctx.q.span(c.turn_attribute), ctx.q.span(fb.attribute))
    query = ctx.q.search(conds, select, structural)
    column = str(by).split(".", 1)[1] if "." in str(by) else str(by)
    return TablePanel(
        key="session-first-byte-per-turn", title="First byte by stage, per turn",
        description=(f"One row per turn of the session, one column per stage: {fb.title.lower()} in {fb.unit}. A turn "
                     f"that felt slow shows which stage spent the time. Stages that produced nothing are left out."),
        targets=[ctx.tempo_search(query, limit=100, spss=100)], unit=fb.grafana_unit,
        transformations=[{"id": "groupingToMatrix", "options": {
            "columnField": column, "rowField": c.turn_attribute, "valueField": fb.attribute}}],
        shows=["session:first_byte_per_turn"], w=24, h=10)


def turn_table(ctx: Ctx) -> TablePanel:
    c = ctx.catalog
    conds, structural = _session_conds(ctx, [Cond(ctx.q.span(c.turn_attribute), "=", Var("turn"))])
    query = ctx.q.search(conds, _select(ctx), structural)
    return TablePanel(
        key="session-turn-spans", title="Spans of turn $turn",
        description=(f"Only the spans of one turn ({c.turn_attribute} = the turn variable). Empty until you type a "
                     f"turn id above; take it from the table of every span."),
        targets=[ctx.tempo_search(query, limit=20, spss=50)], sortBy=[("time", False)], shows=["session:turn"],
        w=24, h=8)


def build(ctx: Ctx) -> BuiltDashboard:
    variables = ctx.variables(
        TextboxVariable("session", "Session id", "", "The session id to look up (from a slowest-turns table)."),
        TextboxVariable("turn", "Turn id (optional)", "", "Optional: one turn of the session."),
    )
    panels = [Row(key="row-session", title="Session"), spans_table(ctx)]
    per_turn = first_byte_per_turn(ctx)
    if per_turn is not None:
        panels.append(per_turn)
    if ctx.catalog.session_on_stage_spans:
        # With the session id on an ancestor only, session and turn sit on different spans
        # and one spanset cannot hold both; the spans table above shows the turn column.
        panels += [Row(key="row-turn", title="One turn"), turn_table(ctx)]
    return ctx.dashboard("session", "Session drilldown",
                         "Every span of one voice session, for going from an aggregate to a single bad call.",
                         panels, variables)
