"""Panel builders shared by the dashboards: one function per kind of panel a measurement gets.

Each returns one grafanalib-extension panel with its key, TraceQL from the builder, unit,
catalog thresholds and a description that says what the number means and where to look
next. Measurements Tempo cannot take quantiles of (float attributes, as Pipecat and LiveKit
record seconds) get ``avg/max_over_time`` and span duration quantiles instead, and say so.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from ..catalog.conventions import quantile_label
from ..catalog.model import Flag, Measurement, Stage
from ..voice.burn_rates import burn_rates, page_long_windows
from .model import DataLink, HeatmapPanel, StatPanel, TablePanel, TimeSeriesPanel, threshold_steps
from ..queries.traceql import Cond
from .kit import SEVERITY_COLORS, Ctx
from ..voice.interrupted import interruption
from ..voice.paging import threshold_severity
from .series import rename, rename_function, rename_quantiles

QUANTILES = (0.5, 0.95, 0.99)
FLOAT_NOTE = ("This attribute is recorded as a float, and Tempo's quantile functions drop floats: the panel shows "
              "avg and max over time instead (and span duration quantiles where they help).")


def panel_key(stage: Stage, *parts: str) -> str:
    """A stable panel key like ``barge-in-silence-heatmap`` (panel ids are hashes of these)."""
    return "-".join((stage.id, *parts)).replace("_", "-")


def session_url(ctx: Ctx, value: str = "${__value.raw}") -> str:
    """Link into the session drilldown with the given session id, keeping the time range and the
    datasource and service variables. Root-relative on purpose: Grafana prefixes a link that starts
    with ``/`` with its sub-path (``locationUtil.assureBaseUrl`` in
    ``packages/grafana-data/src/utils/location.ts``, called by the field link supplier)."""
    return f"/d/{ctx.uid('session')}/?var-session={value}&{ctx.link_vars()}&${{__url_time_range}}"


def explore_trace_url(ctx: Ctx, trace_field: str = "traceIdHidden") -> str:
    """Explore's trace view for the row's trace id (data-link variables stay unencoded)."""
    placeholder_tid, placeholder_ds = "@@TRACE@@", "@@DS@@"
    panes = {"a": {"datasource": placeholder_ds,
                   "queries": [{"refId": "A", "datasource": {"type": "tempo", "uid": placeholder_ds},
                                "queryType": "traceql", "query": placeholder_tid}],
                   "range": {"from": "@@FROM@@", "to": "@@TO@@"}}}
    encoded = quote(json.dumps(panes, separators=(",", ":"), sort_keys=True), safe="")
    encoded = encoded.replace(quote(placeholder_tid), "${__data.fields." + trace_field + "}")
    encoded = encoded.replace(quote(placeholder_ds), "${" + ctx.catalog.tempo.variable + "}")
    # the dashboard's time range, as epoch ms (Explore reads those in a pane's range)
    encoded = encoded.replace("%40%40FROM%40%40", "${__from}").replace("%40%40TO%40%40", "${__to}")
    return f"/explore?schemaVersion=1&panes={encoded}"


def session_row_link(ctx: Ctx) -> DataLink:
    """Every cell of a row links to the session drilldown with that row's session id.

    A field link on the defaults, not an override: Grafana's published schema types
    override matcher options and values as objects, which byName's string is not.
    """
    value = '${__data.fields["' + ctx.catalog.session_attribute + '"]}'
    return DataLink(title="Open this session in the drilldown", url=session_url(ctx, value))


def stage_filter(ctx: Ctx, stage: Stage) -> list[Cond]:
    return ctx.stage_conds(stage) + ctx.service_conds()


def short_title(stage: Stage) -> str:
    """``ASR (speech to text)`` -> ``ASR``: the part of a stage title a legend has room for."""
    return stage.title.partition(" (")[0].strip()


def quantiles_panel(ctx: Ctx, stage: Stage, m: Measurement, quantiles=QUANTILES, w: int = 12, h: int = 8,
                    extra: str = "") -> TimeSeriesPanel:
    """p50/p95/p99 over time of one (integer) measurement, with the catalog's threshold as a dashed line."""
    if not m.quantiles_work:
        raise ValueError(f"{stage.id}.{m.id} is a float: Tempo cannot take its quantiles (use spread_panels)")
    attr = ctx.q.span(m.attribute)
    labels = "/".join(quantile_label(q) for q in quantiles)
    limits = "; ".join(f"{t.quantile_label} limit {t.value:g} {m.unit} ({threshold_severity(t)})" for t in m.thresholds)
    query = ctx.q.quantile(stage_filter(ctx, stage) + ctx.measured(m, stage), attr, quantiles)
    desc = (f"{labels} of {m.title.lower()}: {m.meaning}. "
            + ("Spans that produced nothing (-1) are left out. " if m.nothing_value is not None else "")
            + interruption(ctx.catalog).panel_note(stage, m)
            + (f"Catalog: {limits}. " if limits else "")
            + "Tempo buckets values in powers of two, so quantiles are coarse, and it drops values below 2: "
              "dashgen's instrumentation records 0 and 1 as 2 (read 2 as 'at most 2'); spans that carry a 0 "
              "or 1 from other instrumentation are left out of these quantiles (verify-traces flags them)"
            + ". " + (extra or "Next: the recent-spans table below, then a session in the drilldown."))
    return TimeSeriesPanel(key=panel_key(stage, m.id, "quantiles"), title=f"{m.title} {labels}", description=desc,
                           targets=[ctx.tempo_metrics(query)], unit=m.grafana_unit, thresholdSteps=ctx.steps(m),
                           thresholdsStyle="dashed" if m.thresholds else "off",
                           overrides=rename_quantiles(quantiles, f"{m.title} {{q}}"),
                           shows=[f"{stage.id}.{m.id}:{quantile_label(q)}" for q in quantiles], w=w, h=h)


def over_time_panel(ctx: Ctx, stage: Stage, m: Measurement, how: str, w: int = 12, h: int = 8) -> TimeSeriesPanel:
    """``avg`` or ``max`` of a measurement over time: what works when its quantiles do not (floats).

    One query per panel: Tempo names an unlabelled aggregate by its function (``avg_over_time``),
    renamed by an override to what it shows.
    """
    attr = ctx.q.span(m.attribute)
    conds = stage_filter(ctx, stage) + ctx.measured(m, stage)
    query = ctx.q.avg(conds, attr) if how == "avg" else ctx.q.max(conds, attr)
    word = {"avg": "Average", "max": "Maximum"}[how]
    limits = "; ".join(f"{t.quantile_label} limit {t.value:g} {m.unit} ({threshold_severity(t)})" for t in m.thresholds)
    note = FLOAT_NOTE if not m.quantiles_work else "The average hides tails: read it next to the quantiles."
    return TimeSeriesPanel(
        key=panel_key(stage, m.id, "average" if how == "avg" else "max"), title=f"{m.title} {word.lower()}",
        description=(f"{word} of {m.title.lower()} over time: {m.meaning}. {note} "
                     + interruption(ctx.catalog).panel_note(stage, m)
                     + (f"Catalog: {limits} (drawn for reference: an {how} above it means the quantile is too)." if limits and how == "max" else "")).strip(),
        targets=[ctx.tempo_metrics(query)], unit=m.grafana_unit, thresholdSteps=ctx.steps(m),
        thresholdsStyle="dashed" if m.thresholds else "off",
        overrides=[rename_function(f"{how}_over_time", f"{m.title} {word.lower()}")],
        shows=[f"{stage.id}.{m.id}:{how}"], w=w, h=h)


def spread_panels(ctx: Ctx, stage: Stage, m: Measurement, w: int = 12, h: int = 8) -> list[TimeSeriesPanel]:
    """How a measurement is spread: its quantiles, or (floats) its avg and max over time."""
    if m.quantiles_work:
        return [quantiles_panel(ctx, stage, m, m.quantiles, w=w, h=h)]
    return [over_time_panel(ctx, stage, m, "avg", w=w, h=h), over_time_panel(ctx, stage, m, "max", w=w, h=h)]


def duration_quantiles_panel(ctx: Ctx, stage: Stage, w: int = 12, h: int = 8) -> TimeSeriesPanel:
    """Span duration quantiles: what works for percentiles when the attributes are floats."""
    query = ctx.q.quantile(stage_filter(ctx, stage), ctx.q.intrinsic("duration"), QUANTILES)
    return TimeSeriesPanel(
        key=panel_key(stage, "duration", "quantiles"),
        title=f"{stage.title} span duration p50/p95/p99",
        description=(f"Quantiles of the {stage.span} span's duration. The first-byte attribute of this convention is a "
                     f"float in seconds, which Tempo's quantiles drop; span duration is an intrinsic Tempo can always "
                     f"take quantiles of, so this is the percentile view for this stage."),
        # Tempo returns duration quantiles in seconds (pkg/traceql/ast_metrics.go bucketizeDuration)
        targets=[ctx.tempo_metrics(query)], unit="s", overrides=rename_quantiles(QUANTILES, "span duration {q}"),
        shows=[f"{stage.id}:duration"], w=w, h=h)


def heatmap_panel(ctx: Ctx, stage: Stage, m: Measurement, w: int = 12, h: int = 8) -> HeatmapPanel:
    attr = ctx.q.span(m.attribute)
    query = ctx.q.histogram(stage_filter(ctx, stage) + ctx.measured(m, stage), attr)
    bad = f" Above {m.bad_above:g} {m.unit} counts as one of the {m.bad_name}." if m.bad_above is not None else ""
    return HeatmapPanel(
        key=panel_key(stage, m.id, "heatmap"),
        title=f"{m.title} distribution",
        description=(f"Distribution of {m.title.lower()} over time ({m.meaning}), in Tempo's power-of-two buckets "
                     f"(histogram_over_time, no by(): a heatmap must not split series). Tempo drops values below 2: "
                     f"dashgen's instrumentation records 0 and 1 as 2 (the lowest band reads 'at most 2').{bad} A band of hot cells high "
                     f"up is a tail worth a look in the table below. " + interruption(ctx.catalog).panel_note(stage, m)).strip(),
        targets=[ctx.tempo_metrics(query)], yUnit=m.grafana_unit, shows=[f"{stage.id}.{m.id}:heatmap"], w=w, h=h)


# Spans per second: Grafana's "reqps" reads "req/s"; a span is not a request.
SPAN_RATE_UNIT = "cps"


def rate_panel(ctx: Ctx, stage: Stage, w: int = 12, h: int = 8) -> TimeSeriesPanel:
    """Every span of the stage per second, produced-nothing and errored ones included: the load
    the bad-event rate is read against."""
    query = ctx.q.rate(stage_filter(ctx, stage))
    return TimeSeriesPanel(
        key=panel_key(stage, "rate"), title=f"{stage.title}: spans per second",
        description=(f"Every {stage.span} span per second, including those that produced nothing or failed: the "
                     f"load on this stage. Read the bad-event rate beside it against it: bad events rising while "
                     f"this is flat is a regression, not load."),
        targets=[ctx.tempo_metrics(query)], unit=SPAN_RATE_UNIT,
        overrides=[rename_function("rate", f"{short_title(stage)} spans/s")], shows=[f"{stage.id}:rate"], w=w, h=h)


def flag_panel(ctx: Ctx, stage: Stage, flag: Flag, w: int = 12, h: int = 8) -> TimeSeriesPanel:
    """Stage spans per second split by a boolean flag: the share where it is true, stacked (one query)."""
    attr = ctx.q.span(flag.attribute)
    query = ctx.q.rate(stage_filter(ctx, stage), (attr,))
    return TimeSeriesPanel(
        key=panel_key(stage, flag.id, "rate"), title=f"{flag.title} per second",
        description=(f"{stage.span} spans per second, stacked by {attr}: true means {flag.meaning}. The true band's "
                     f"share of the stack is the share of {flag.title.lower()}; a share that grows with latency is "
                     f"users giving up on a slow agent. Next: the slowest table, or a session in the drilldown."),
        targets=[ctx.tempo_metrics(query)], unit=SPAN_RATE_UNIT, drawStyle="bars", fillOpacity=60, stacking="normal",
        overrides=[rename({str(attr): True}, flag.title), rename({str(attr): False}, f"other {stage.span} spans")],
        shows=[f"{stage.id}.{flag.id}:rate"], w=w, h=h)


def bad_rate_panel(ctx: Ctx, stage: Stage, m: Measurement, above: float | None = None, name: str | None = None,
                   w: int = 12, h: int = 8) -> TimeSeriesPanel:
    """How many spans per second end above the catalog's bad limit (stutters, late revisions...)."""
    attr = ctx.q.span(m.attribute)
    above = m.bad_above if above is None else above
    name = m.bad_name if name is None else name
    query = ctx.q.rate(stage_filter(ctx, stage) + [Cond(attr, ">", above)])
    title = f"{name[:1].upper()}{name[1:]} per second"
    return TimeSeriesPanel(
        key=panel_key(stage, m.id, "bad", "rate"), title=title,
        description=(f"{name[:1].upper()}{name[1:]} per second: {stage.span} spans whose {m.title.lower()} is above "
                     f"{above:g} {m.unit} (catalog). Compare with the spans-per-second panel: a rise here with flat "
                     f"load is this stage regressing. Next: the recent-spans table below."),
        targets=[ctx.tempo_metrics(query)], unit=SPAN_RATE_UNIT, drawStyle="bars", fillOpacity=60,
        overrides=[rename_function("rate", f"{name}/s")], shows=[f"{stage.id}.{m.id}:bad_rate"], w=w, h=h)


def numeric_columns(*attributes: str) -> dict:
    """A ``convertFieldType`` transformation typing span-attribute columns as numbers.

    Grafana's Tempo span tables type every attribute column as a string
    (``createTableFrameFromTraceQlQueryAsSpans`` in ``public/app/plugins/datasource/tempo/
    resultTransformer.ts``), so without it a sort is textual ("95" after "350") and units and
    thresholds do not apply. ``targetField`` goes through the byName matcher: the column's name.
    """
    return {"id": "convertFieldType", "options": {"conversions": [
        {"targetField": a, "destinationType": "number"} for a in dict.fromkeys(attributes)]}}


def slowest_table(ctx: Ctx, stage: Stage, m: Measurement, above: float, w: int = 24, h: int = 9,
                  title: str | None = None, columns: tuple[Measurement, ...] | None = None) -> TablePanel:
    """Spans of the stage above a limit, as Tempo returns them; the session id links to the drilldown.

    Tempo search returns the first N matching traces it finds, not the slowest (nothing in
    TraceQL orders by an attribute: ``pkg/traceql/combine.go``), so the title says "above the
    limit" and the table sorts what came back by the measurement, typed as a number first.
    """
    c = ctx.catalog
    attr = ctx.q.span(m.attribute)
    cols = columns if columns is not None else stage.measurements
    select = ctx.select(c.session_attribute, c.turn_attribute, *(x.attribute for x in cols), c.error_attribute)
    query = ctx.q.search(stage_filter(ctx, stage) + [Cond(attr, ">", above)], select)
    return TablePanel(
        key=panel_key(stage, m.id, "slowest"),
        title=title or f"{short_title(stage)} spans with {m.title.lower()} above {above:g} {m.unit} (up to 50, "
                       f"sorted by it)",
        description=(f"Up to 50 {stage.span} spans whose {m.title.lower()} was above {above:g} {m.unit}: the first "
                     f"ones Tempo finds in the time range, not necessarily the slowest. The table sorts them by "
                     f"{m.attribute}, highest first. Click a row to open every span of that session in time order "
                     f"in the session drilldown."),
        targets=[ctx.tempo_search(query, limit=50, spss=5)], unit=None,
        transformations=[numeric_columns(*(x.attribute for x in cols))],
        sortBy=[(m.attribute, True)], fieldLinks=[session_row_link(ctx)], shows=[f"{stage.id}.{m.id}:slowest"], w=w, h=h)


def stat_from_panel(ctx: Ctx, stage: Stage, m: Measurement, source_key: str, dashboard_uid: str,
                    quantile: float = 0.95, w: int = 4, h: int = 5) -> StatPanel:
    """Current value of one quantile, reusing another panel's query result (no extra Tempo query).

    The "-- Dashboard --" datasource hands over the source panel's frames (and transformations)
    but not its field overrides, so the stat renames the series itself, and picks it by that name.
    """
    from .layout import panel_id

    t = m.threshold(quantile)
    q = quantile_label(quantile)
    name = f"{short_title(stage)} {q}"
    limit = (f"green below the catalog limit ({t.value:g} {m.unit}, {threshold_severity(t)}), "
             f"{SEVERITY_COLORS[threshold_severity(t)]} above" if t else "the catalog sets no limit for it, so it stays green")
    return StatPanel(
        key=panel_key(stage, m.id, q, "stat"),
        title=f"{short_title(stage)} {m.title.lower()} {q} now",
        description=(f"The latest {q} of {m.title.lower()} for {stage.title}: {limit}. It reuses the result of the "
                     f"{m.title} panel (Dashboard datasource), so it costs Tempo nothing. Next: the {stage.title} "
                     f"dashboard."),
        dataSource={"type": "datasource", "uid": "-- Dashboard --"},
        targets=[{"refId": "A", "datasource": {"type": "datasource", "uid": "-- Dashboard --"},
                  "panelId": panel_id(dashboard_uid, source_key), "withTransforms": True}],
        unit=m.grafana_unit, thresholdSteps=ctx.steps(m), reduceFields=f"/^{re.escape(name)}$/",
        overrides=rename_quantiles((quantile,), name), textMode="value",
        links=[], shows=[f"{stage.id}.{m.id}:{q}:now"], w=w, h=h)


def slo_burn_panel(ctx: Ctx, stage: Stage, w: int = 24, h: int = 8) -> TimeSeriesPanel | None:
    """Error-budget burn rate of the stage's SLO over the page windows, from the Prometheus histogram."""
    from ..queries import promql

    slo = getattr(stage, "slo", None)
    m = stage.measurement(slo.measurement) if slo else None
    if m is None or m.metric is None:
        return None
    targets = [ctx.prom(promql.burn_rate(m.metric.name, m.metric.label, stage.id, slo.threshold, window, slo.objective,
                                         ctx.prom_measured(stage, m)),
                        ref, legend=f"burn rate over {window}")
               for ref, window in zip("AB", page_long_windows(slo))]
    objective = f"{slo.objective * 100:g}%"
    rates = burn_rates(slo)  # the same burn rates the multi-window alerts fire at
    lines = {rate: SEVERITY_COLORS[sev] for sev, _, _, rate in sorted(rates, key=lambda r: r[0] == "page")}
    said = ", ".join(f"{sev} at {rate:g} ({long} and {short})" for sev, long, short, rate in rates)
    return TimeSeriesPanel(
        key=panel_key(stage, "slo", "burn"),
        title=f"SLO burn rate: {objective} of {m.title.lower()} under {slo.threshold:g} {m.unit}",
        description=(f"How fast the {slo.window} error budget of the SLO '{objective} of {m.title.lower()} under "
                     f"{slo.threshold:g} {m.unit}' burns, from the Prometheus histogram {m.metric.name} (the same "
                     f"numbers the alerts use). 1 = the budget lasts exactly {slo.window}; the alerts fire: {said}. "
                     + (interruption(ctx.catalog).rule_note(stage, m) + " " if interruption(ctx.catalog).rule_note(stage, m) else "")
                     + "Next: the slowest table."),
        targets=targets, unit="none", decimals=1,
        thresholdSteps=threshold_steps(sorted(lines.items())), thresholdsStyle="dashed",
        shows=[f"{stage.id}.{m.id}:slo"], w=w, h=h)
