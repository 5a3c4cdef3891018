"""The turn breakdown that adds up: where the caller-felt latency of a turn goes, stage by stage.

The parts are the first bytes of the stages on the critical path (``voice.roles.response_chain``:
speech to text, generation, text to speech and any stage the catalog marks ``critical_path``),
in catalog (pipeline) order; the whole is the caller-felt latency (``voice.roles.caller_felt``:
end of the user's speech to the first agent audio). What the parts leave of the whole is drawn
as its own series, "Unexplained" (transport, client playout, endpointing the catalog does not
measure), instead of being hidden.

On the overview: the p95 of each part stacked over time, from one Tempo query (``by`` stage),
and the remainder computed by Grafana transformations (``joinByField``, then ``calculateField``:
a row sum of the parts, the whole, the whole minus the parts). In the session drilldown: the
same split per turn (session.py ``response_bars``), from the spans table's result.

A p95 of a sum is not the sum of the p95s: on the overview the remainder is the whole's p95
minus the sum of the parts' p95s, and is negative when the slow turns of different stages are
not the same turns. Per turn (the drilldown) the parts and the whole are one turn's own numbers.
"""

from __future__ import annotations

from ..catalog.model import Measurement, Stage
from ..catalog.conventions import quantile_label
from ..queries.traceql import AnyOf, Cond
from ..voice.roles import caller_felt, response_chain
from .kit import Ctx
from .model import TimeSeriesPanel
from .panels import short_title
from .series import _value, rename

REMAINDER = "Unexplained"
PARTS_FIELD, WHOLE_FIELD = "dashgen parts", "dashgen whole"
QUANTILE = 0.95


def parts_and_whole(ctx: Ctx) -> tuple[list[Stage], tuple[Stage, Measurement] | None]:
    """The critical-path stages whose first byte is one integer attribute (one Tempo query takes
    them all), and the caller-felt ``(stage, measurement)`` when it is the first byte of a stage
    outside the chain, on that same attribute (so the same query returns it)."""
    chain = [s for s in response_chain(ctx.catalog) if s.measurement("first_byte").quantiles_work]
    if not chain or not ctx.catalog.stage_attribute:
        return [], None
    attribute = chain[0].measurement("first_byte").attribute
    chain = [s for s in chain if s.measurement("first_byte").attribute == attribute]
    felt = caller_felt(ctx.catalog)
    if felt is not None and (felt[0] in chain or felt[1].attribute != attribute or not felt[1].quantiles_work):
        felt = None
    return chain, felt


def series_names(key: str, value: str, q: float = QUANTILE) -> list[str]:
    """Every name Grafana may give the series ``{p=q, key=value}``: keys sorted (newer builds) or
    in either order (older builds, Go map order: dashboards/series.py)."""
    a, b = f"p={_value(q)}", f"{key}={_value(value)}"
    return [f"{{{a}, {b}}}", f"{{{b}, {a}}}"]


def _sum_of(names: list[str], alias: str) -> dict:
    return {"id": "calculateField", "options": {
        "mode": "reduceRow", "reduce": {"reducer": "sum", "include": names}, "alias": alias, "replaceFields": False}}


def overview_panel(ctx: Ctx) -> TimeSeriesPanel | None:
    """The stacked p95 of each critical-path stage over time, and the unexplained remainder."""
    chain, felt = parts_and_whole(ctx)
    if len(chain) < 2:
        return None
    fb = chain[0].measurement("first_byte")
    key = str(ctx.by_stage())
    stages = chain + ([felt[0]] if felt else [])
    conds = [AnyOf(tuple(Cond(ctx.by_stage(), "=", s.id) for s in stages)), *ctx.measured(fb, *stages), *ctx.service_conds()]
    query = ctx.q.quantile(conds, ctx.q.span(fb.attribute), (QUANTILE,), (ctx.by_stage(),))
    q = quantile_label(QUANTILE)
    overrides = [rename({"p": QUANTILE, key: s.id}, f"{i + 1}. {short_title(s)} {s.measurement('first_byte').title.lower()}")
                 for i, s in enumerate(chain)]
    # the whole's own series, should a Grafana without the transformations show it (and every other
    # stage, as the by-stage panels do): named, never {p=0.95, ...}
    in_chain = {s.id for s in chain}
    overrides += [rename({"p": QUANTILE, key: s.id}, f"{short_title(s)} first byte {quantile_label(QUANTILE)}")
                  for s in ctx.catalog.stages if s.id not in in_chain]
    transformations: list[dict] = []
    parts = " + ".join(short_title(s) for s in chain)
    said = f"{q} of each stage's {fb.title.lower()} ({fb.attribute}), stacked in pipeline order: {parts}."
    if felt:
        fs, fm = felt
        part_names = [n for s in chain for n in series_names(key, s.id)]
        whole_names = series_names(key, fs.id)
        transformations = [
            {"id": "joinByField", "options": {"mode": "outer"}},
            _sum_of(part_names, PARTS_FIELD),
            _sum_of(whole_names, WHOLE_FIELD),  # a row sum of one series: the whole, under a name of its own
            {"id": "calculateField", "options": {
                "mode": "binary", "alias": REMAINDER, "replaceFields": False,
                "binary": {"left": WHOLE_FIELD, "operator": "-", "right": PARTS_FIELD}}},
            {"id": "organize", "options": {"excludeByName": {n: True for n in [PARTS_FIELD, *whole_names]},
                                           "renameByName": {WHOLE_FIELD: f"Caller-felt {q} (the whole)"}}},
        ]
        # the whole is a line over the stack, not a part of it
        overrides.append({"matcher": {"id": "byName", "options": f"Caller-felt {q} (the whole)"}, "properties": [
            {"id": "custom.stacking", "value": {"group": "whole", "mode": "none"}},
            {"id": "custom.fillOpacity", "value": 0}, {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}}]})
        said += (f" On top, '{REMAINDER}': the caller-felt {q} ({fs.id} {fm.title.lower()}, end of the user's speech "
                 f"to the first agent audio, the dashed line) minus the sum of the parts: transport, client playout "
                 f"and any wait no stage measures. A {q} of a sum is not the sum of {q}s, so the remainder is "
                 f"negative when the slow turns of different stages are not the same turns; the session drilldown "
                 f"splits single turns exactly.")
    return TimeSeriesPanel(
        key="turn-breakdown", title=f"Where a turn's time goes: {q} by stage, stacked",
        description=(said + " Stages on the critical path come from the catalog (role, critical_path). Tempo's "
                            "quantiles count integers only and drop values below 2 (a stage recorded as a float "
                            "is left out of the parts). Next: the tallest band's stage dashboard."),
        targets=[ctx.tempo_metrics(query)], unit=fb.grafana_unit, stacking="normal", fillOpacity=60,
        transformations=transformations, overrides=overrides,
        shows=[f"{s.id}.first_byte:breakdown" for s in chain], w=24, h=9)
