"""The alerting part of the stage catalog: metric names, SLOs and the global ``alerting`` block.

Alerts run on Prometheus histograms of the same measurements the traces carry (recorded by
the application's OpenTelemetry SDK, or derived from spans by the Collector's
``signaltometrics`` connector). Each measurement names its histogram in a ``metric`` block;
when it is left out, the name follows OpenTelemetry's Prometheus naming: the attribute
without its unit suffix becomes the instrument (``audio.first_byte_ms`` ->
``audio.first_byte``, unit ``ms``), dots become ``_`` and the unit is spelled out
(``audio_first_byte_milliseconds``, series ``..._bucket``, ``..._count``). The one label is
the stage (``audio.stage`` -> ``audio_stage``): a session id is never a metric label.

``catalog.py`` owns the specs' place in the document; this module owns their content, the
checks that span several fields (bucket boundaries, shared metrics) and the dataclasses.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace

from ..alerts.windows import burn_windows
from .yamlspec import Bool, Context, Enum, Field, ListOf, Map, Num, Str

DURATION_RE = r"[1-9][0-9]*(s|m|h|d)"
METRIC_NAME_RE = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_NAME_RE = r"(?!__)(?!le$)[a-zA-Z_][a-zA-Z0-9_]*"
SEVERITIES = ("page", "ticket")

# OpenTelemetry SDK default explicit bucket boundaries (the histogram's default view, made
# for milliseconds), and the semantic conventions' advice for durations in seconds.
OTEL_DEFAULT_BUCKETS = (0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000)
OTEL_SECONDS_BUCKETS = (0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
DEFAULT_BUCKETS = {"s": OTEL_SECONDS_BUCKETS,
                   "us": tuple(b * 1000 for b in OTEL_DEFAULT_BUCKETS),
                   "ns": tuple(b * 1000000 for b in OTEL_DEFAULT_BUCKETS)}

# catalog unit -> (attribute suffixes that name the unit, Prometheus unit suffix) per the
# OpenTelemetry -> Prometheus compatibility spec (ms -> milliseconds, % -> percent, By -> bytes).
UNIT_NAMING = {
    "ns": (("_ns", "_nanoseconds"), "nanoseconds"),
    "us": (("_us", "_microseconds"), "microseconds"),
    "ms": (("_ms", "_milliseconds"), "milliseconds"),
    "s": (("_s", "_seconds"), "seconds"),
    "percent": (("_pct", "_percent"), "percent"),
    "bytes": (("_bytes", "_by"), "bytes"),
    "count": (("_count", "_total"), ""),
}

_DUR = Str(pattern=DURATION_RE, pattern_hint="write a duration like 5m, 30s, 1h, 30d", example="5m")

METRIC_SPEC = Map(
    doc="The Prometheus histogram that records the same measurement (for alert rules).",
    fields={
        "name": Field(Str(pattern=METRIC_NAME_RE, pattern_hint="a Prometheus metric name: letters, digits, _ and :",
                          example="audio_first_byte_milliseconds"), default=None,
                      doc="histogram name without _bucket/_count (default: the attribute per OpenTelemetry's "
                          "Prometheus naming, e.g. audio.first_byte_ms -> audio_first_byte_milliseconds)"),
        "label": Field(Str(pattern=LABEL_NAME_RE, pattern_hint="a Prometheus label name: letters, digits, _",
                           example="audio_stage"), default=None,
                       doc="label holding the stage id (default: alerting.stage_label); never a session id"),
        "buckets": Field(ListOf(item=Num(example="350"), min_items=1), default=None,
                         doc="histogram bucket boundaries, increasing (default: OpenTelemetry's 0, 5, 10, 25, 50, 75, "
                             "100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000; for unit s its 0.005 ... 10 seconds "
                             "advice); an SLO threshold must be one, a quantile threshold should be (else interpolated)"),
    },
)

SLO_SPEC = Map(
    doc="A latency SLO of the stage: objective share of measurements at or below threshold.",
    fields={
        "measurement": Field(Str(pattern=r"[a-z][a-z0-9_]{0,30}", pattern_hint="a measurement id of this stage",
                                 example="first_byte"), required=True, doc="id of the measurement the SLO is about"),
        "objective": Field(Num(minimum=0, maximum=1, exclusive=True, example="0.95"), required=True,
                           doc="share of good measurements, e.g. 0.95"),
        "threshold": Field(Num(positive=True, example="350"), required=True,
                           doc="a measurement above this is a bad event; must be a bucket boundary of its metric"),
        "window": Field(_DUR, default="30d", doc="SLO window (default 30d); burn rates scale with it"),
    },
)

_RATE_ALERT = Map(
    doc="A ratio alert per stage.",
    fields={
        "above": Field(Num(minimum=0, maximum=1, exclusive=True, example="0.05"), required=True,
                       doc="alert when the ratio goes above this (0-1)"),
        "for": Field(_DUR, default="5m", doc="how long the ratio must stay above"),
        "severity": Field(Enum(values=SEVERITIES), default="page", doc="page or ticket"),
    },
)

ALERTING_SPEC = Map(
    doc="How alert rules are generated.",
    fields={
        "team": Field(Str(pattern=r"[A-Za-z0-9_.-]{1,60}", pattern_hint="letters, digits, _ . -", example="voice"),
                      default="voice", doc="value of the team label on every rule (default voice)"),
        "receiver": Field(Str(example="voice-oncall"), default=None,
                          doc="Grafana contact point for notification_settings.receiver (default: use the "
                              "notification policy tree)"),
        "runbook_url": Field(Str(pattern=r"https?://\S+", pattern_hint="an http(s) URL", example="https://runbooks.example.com/voice"),
                             default="https://runbooks.example.com/voice-agent",
                             doc="base URL of the runbooks; each rule links <base>#<rule uid>"),
        "interval": Field(_DUR, default="1m", doc="evaluation interval of every rule group (multiple of 10s)"),
        "rate_window": Field(_DUR, default="5m", doc="rate() window of the latency and ratio alerts"),
        "stage_label": Field(Str(pattern=LABEL_NAME_RE, pattern_hint="a Prometheus label name", example="audio_stage"),
                             default=None, doc="metric label holding the stage id (default: the stage attribute with "
                                               "dots as _, e.g. audio_stage; stage without one)"),
        "counters": Field(
            Map(fields={
                "runs": Field(Str(pattern=METRIC_NAME_RE, pattern_hint="a Prometheus metric name",
                                  example="audio_stage_runs_total"), default=None,
                              doc="counter of stage runs (default <ns>_stage_runs_total, ns = the stage attribute's "
                                  "first word)"),
                "errors": Field(Str(pattern=METRIC_NAME_RE, pattern_hint="a Prometheus metric name",
                                    example="audio_stage_errors_total"), default=None,
                                doc="counter of failed stage runs (default <ns>_stage_errors_total)"),
                "nothing": Field(Str(pattern=METRIC_NAME_RE, pattern_hint="a Prometheus metric name",
                                     example="audio_stage_nothing_total"), default=None,
                                 doc="counter of stage runs that produced nothing (default <ns>_stage_nothing_total)"),
            }, doc="Counters, labelled by stage, behind the error and produced-nothing rates."),
            default=None, doc="counter metric names (defaults follow the stage attribute)"),
        "error_rate": Field(_RATE_ALERT, default=None,
                            doc="error-rate alert per stage (default above 0.05 for 5m, page)"),
        "nothing_rate": Field(_RATE_ALERT, default=None,
                              doc="produced-nothing-rate alert per stage with a nothing_value (default above 0.05 "
                                  "for 10m, ticket)"),
        "tempo_rules": Field(Bool(), default=False,
                             doc="also emit Grafana-managed TraceQL rules on Tempo (needs Grafana 12.1+ with the "
                                 "tempoAlerting feature; default false)"),
    },
)


@dataclass(frozen=True)
class Metric:
    """A Prometheus histogram of one measurement."""

    name: str
    label: str
    buckets: tuple[float, ...]

    @property
    def bucket(self) -> str:
        return self.name + "_bucket"

    @property
    def count(self) -> str:
        return self.name + "_count"


@dataclass(frozen=True)
class Slo:
    measurement: str
    objective: float
    threshold: float
    window: str

    @property
    def budget(self) -> float:
        return round(1 - self.objective, 12)

    def burn_rates(self) -> list[tuple[str, str, str, float]]:
        """``(severity, long window, short window, burn rate)`` per window pair of
        ``dashgen/alerts/windows/``."""
        days = seconds(self.window) / 86400
        out = []
        for w in burn_windows():
            rate = w.budget_share * days * 86400 / seconds(w.long)
            out.append((w.severity, w.long, w.short, round(rate, 4)))
        return out


@dataclass(frozen=True)
class RateAlert:
    above: float
    for_: str
    severity: str


@dataclass(frozen=True)
class Alerting:
    team: str
    receiver: str | None
    runbook_url: str
    interval: str
    rate_window: str
    stage_label: str
    runs_metric: str
    errors_metric: str
    nothing_metric: str
    error_rate: RateAlert
    nothing_rate: RateAlert
    tempo_rules: bool

    @property
    def interval_seconds(self) -> int:
        return seconds(self.interval)


def seconds(duration: str) -> int:
    m = re.fullmatch(r"([0-9]+)(s|m|h|d)", duration)
    if not m:
        raise ValueError(f"not a duration: {duration!r}")
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def prometheus_name(attribute: str, unit: str) -> str:
    """OpenTelemetry -> Prometheus histogram name for a measurement attribute in ``unit``."""
    suffixes, unit_word = UNIT_NAMING[unit]
    base = attribute
    for suffix in suffixes:
        if base.lower().endswith(suffix) and len(base) > len(suffix):
            base = base[: -len(suffix)]
            break
    name = re.sub(r"[^a-zA-Z0-9_:]", "_", base)
    name = re.sub(r"__+", "_", name).strip("_")
    if not re.match(r"[a-zA-Z_:]", name):
        name = "_" + name
    if unit_word and not name.endswith("_" + unit_word):
        name += "_" + unit_word
    return name


def label_name(attribute: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", attribute)


def _namespace(raw: dict) -> str:
    attr = raw["convention"]["stage_attribute"]
    return label_name(attr.split(".")[0]) if attr else raw["name"]


def _default_stage_label(raw: dict) -> str:
    alerting = raw.get("alerting") or {}
    if alerting.get("stage_label"):
        return alerting["stage_label"]
    attr = raw["convention"]["stage_attribute"]
    return label_name(attr) if attr else "stage"


def _metric(raw: dict, m: dict) -> Metric:
    block = m.get("metric") or {}
    return Metric(
        name=block.get("name") or prometheus_name(m["attribute"], m["unit"]),
        label=block.get("label") or _default_stage_label(raw),
        buckets=tuple(float(b) for b in (block.get("buckets") or DEFAULT_BUCKETS.get(m["unit"], OTEL_DEFAULT_BUCKETS))),
    )


def _fmt(values) -> str:
    return ", ".join(f"{v:g}" for v in values)


def alerting_checks(raw: dict, ctx: Context) -> None:
    """Checks across fields: buckets increase, shared metrics agree, thresholds are boundaries."""
    alerting = raw.get("alerting") or {}
    if alerting.get("interval") and seconds(alerting["interval"]) % 10:
        raise ctx.error(ctx.locations[("alerting", "interval")],
                        f"alerting.interval {alerting['interval']} is not a multiple of 10 seconds (Grafana's "
                        f"scheduler ticks every 10 s)", "use e.g. 30s, 1m or 2m")
    shared: dict[str, tuple[tuple, Metric, str]] = {}
    for si, stage in enumerate(raw["stages"]):
        for mi, m in enumerate(stage["measurements"]):
            base = ("stages", si, "measurements", mi)
            metric = _metric(raw, m)
            where = f"{stage['id']}.{m['id']}"
            if (m.get("metric") or {}).get("name") and re.search(r"_(bucket|count|sum)$", metric.name):
                raise ctx.error(ctx.locations[base + ("metric", "name")],
                                f"{base_dotted(base)}.metric.name {metric.name!r} names a series, not the histogram",
                                f"drop the suffix: {re.sub(r'_(bucket|count|sum)$', '', metric.name)}")
            bks = metric.buckets
            for bi in range(1, len(bks)):
                if bks[bi] <= bks[bi - 1]:
                    raise ctx.error(ctx.locations[base + ("metric", "buckets", bi)],
                                    f"{base_dotted(base)}.metric.buckets must increase: {bks[bi]:g} follows "
                                    f"{bks[bi - 1]:g}", "list the boundaries in increasing order, without repeats")
            loc_path = base + ("metric",) if m.get("metric") else base
            if metric.name in shared:
                first_path, first, first_where = shared[metric.name]
                if first.buckets != metric.buckets or first.label != metric.label:
                    what = "buckets" if first.buckets != metric.buckets else "label"
                    raise ctx.error(ctx.locations[loc_path],
                                    f"{where} and {first_where} both record {metric.name} but with different "
                                    f"{what} (one histogram has one bucket layout and one stage label)",
                                    f"give {where} the same metric.{what} as {first_where} (line "
                                    f"{ctx.locations[first_path].line}), or another metric.name")
            else:
                shared[metric.name] = (loc_path, metric, where)
            for ti, t in enumerate(m["thresholds"]):
                # histogram_quantile interpolates inside a bucket, so a quantile threshold between two
                # boundaries still works (approximately); above the last boundary it never fires.
                _check_in_range(ctx, base + ("thresholds", ti, "value"), t["value"], metric,
                                f"{base_dotted(base)}.thresholds[{ti}].value", where)
        slo = stage.get("slo")
        if slo:
            spath = ("stages", si, "slo")
            ids = [m["id"] for m in stage["measurements"]]
            if slo["measurement"] not in ids:
                close = difflib.get_close_matches(slo["measurement"], ids, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ctx.error(ctx.locations[spath + ("measurement",)],
                                f"stages[{si}].slo.measurement {slo['measurement']!r} is not a measurement of "
                                f"stage {stage['id']}", f"{hint}use one of: {', '.join(ids)}")
            m = stage["measurements"][ids.index(slo["measurement"])]
            _check_boundary(ctx, spath + ("threshold",), slo["threshold"], _metric(raw, m),
                            f"stages[{si}].slo.threshold", f"{stage['id']}.{m['id']}")
            budget = 1 - slo["objective"]
            s = Slo(slo["measurement"], slo["objective"], slo["threshold"], slo["window"] or "30d")
            fastest = max(rate for _, _, _, rate in s.burn_rates())
            if fastest * budget >= 1:
                raise ctx.error(ctx.locations[spath + ("objective",)],
                                f"stages[{si}].slo.objective {slo['objective']:g} leaves an error budget of "
                                f"{budget:g}: the {fastest:g}x burn-rate page would need more than 100% bad events "
                                f"and could never fire",
                                f"use an objective above {1 - 1 / fastest:.4f}, or a shorter window")
            if seconds(s.window) < seconds("3d"):
                raise ctx.error(ctx.locations.get(spath + ("window",), ctx.locations[spath]),
                                f"stages[{si}].slo.window {s.window} is shorter than the 3d burn-rate window",
                                "use a window of at least 3d, e.g. 30d")


def base_dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def _check_boundary(ctx: Context, path: tuple, value: float, metric: Metric, what: str, where: str) -> None:
    bks = metric.buckets
    if float(value) not in bks:
        near = [b for b in (max((b for b in bks if b < value), default=None),
                            min((b for b in bks if b > value), default=None)) if b is not None]
        raise ctx.error(ctx.locations[path],
                        f"{what} {value:g} is not a bucket boundary of {metric.name} ({where}), so the histogram "
                        f"cannot tell measurements above it from those below (buckets: {_fmt(bks)})",
                        f"add {value:g} to metric.buckets of every measurement recorded as {metric.name} "
                        f"(and to the SDK view or signaltometrics buckets), or use a boundary such as "
                        f"{' or '.join(f'{b:g}' for b in near)}")
    _check_in_range(ctx, path, value, metric, what, where)


def _check_in_range(ctx: Context, path: tuple, value: float, metric: Metric, what: str, where: str) -> None:
    bks = metric.buckets
    if float(value) >= bks[-1]:
        raise ctx.error(ctx.locations[path],
                        f"{what} {value:g} is not below the largest bucket boundary of {metric.name} ({where}, "
                        f"{bks[-1]:g}): above it lies only +Inf, where histogram_quantile never reports more than "
                        f"{bks[-1]:g}, so the alert could never fire",
                        f"add a larger boundary to metric.buckets, e.g. {value * 2:g}")


def attach(catalog, raw: dict):
    """Fill in metrics, SLOs and the alerting settings of a built Catalog."""
    a = raw.get("alerting") or {}
    ns = _namespace(raw)
    counters = a.get("counters") or {}

    def rate_alert(block, default):
        block = block or {}
        return RateAlert(above=float(block.get("above", default[0])), for_=block.get("for") or default[1],
                         severity=block.get("severity") or default[2])

    alerting = Alerting(
        team=a.get("team") or "voice",
        receiver=a.get("receiver"),
        runbook_url=(a.get("runbook_url") or "https://runbooks.example.com/voice-agent").rstrip("/"),
        interval=a.get("interval") or "1m",
        rate_window=a.get("rate_window") or "5m",
        stage_label=_default_stage_label(raw),
        runs_metric=counters.get("runs") or f"{ns}_stage_runs_total",
        errors_metric=counters.get("errors") or f"{ns}_stage_errors_total",
        nothing_metric=counters.get("nothing") or f"{ns}_stage_nothing_total",
        error_rate=rate_alert(a.get("error_rate"), (0.05, "5m", "page")),
        nothing_rate=rate_alert(a.get("nothing_rate"), (0.05, "10m", "ticket")),
        tempo_rules=bool(a.get("tempo_rules")),
    )
    stages = []
    for stage, rs in zip(catalog.stages, raw["stages"]):
        measurements = tuple(replace(m, metric=_metric(raw, rm)) for m, rm in zip(stage.measurements, rs["measurements"]))
        slo = rs.get("slo")
        stages.append(replace(stage, measurements=measurements,
                              slo=Slo(slo["measurement"], float(slo["objective"]), slo["threshold"],
                                      slo["window"] or "30d") if slo else None))
    return replace(catalog, stages=tuple(stages), alerting=alerting)
