"""Find, parse, check and build a catalog: ``load_catalog(path_or_preset)`` -> frozen ``Catalog``.

The order is one way: ``yamlspec`` loads the document against ``spec`` (types, patterns,
defaults, every value's location), the checks below that need one stage at a time run on
that document, ``_build`` turns it into the model in one pass (each measurement with its
Prometheus metric, the catalog with its alerting settings), and the checks across stages
and histograms run on the built model. Every problem is a ``CatalogError`` whose text is
``path/to/catalog.yaml:LINE:COL: what is wrong (how to fix it)``.

All independent problems are reported together (``Context`` collects them): each check
below runs only on values that passed their own checks (``ctx.valid``), and the model is
built from the stages that did, so that their histograms and SLOs are checked too.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from types import MappingProxyType

from ..errors import CatalogError, InputError
from .conventions import (OTEL_DEFAULT_BUCKETS, counter_name, default_buckets, prometheus_name, reserved_dashboard,
                          seconds, stage_label)
from .frameworks import framework, known
from .model import (
    Absence, Alerting, Catalog, Datasource, Flag, FrameworkPin, GoodTurn, Measurement, Metric, PromMatcher, RateAlert,
    Slo, Stage, TempoServer, Threshold,
)
from .spec import CATALOG_SPEC, DEFAULT_QUANTILES
from .yamlspec import INVALID, Context, close_matches, dotted, load_document

PRESETS = ("default", "pipecat", "livekit", "livekit-1.6")
# Other names of a preset: the framework version it pins (docs/frameworks.md).
PRESET_ALIASES = {"livekit-1.7": "livekit", "pipecat-1.7": "pipecat"}
PRESET_NAMES = (*PRESETS, *PRESET_ALIASES)
# Dashboard variables the dashboards define themselves: a matcher label may not take their name.
RESERVED_VARIABLES = ("service", "session", "turn", "stage", "trace", "traceId", "service_filter")


def preset_path(name: str) -> Path:
    return Path(__file__).resolve().parent / "presets" / f"{PRESET_ALIASES.get(name, name)}.yaml"


def display_path(source: str) -> str:
    """How messages name a catalog: its path as given, or ``<preset NAME>/NAME.yaml``."""
    if source.startswith("preset:"):
        name = source.partition(":")[2]
        return f"<preset {name}>/{name}.yaml"
    return source


def resolve_catalog_source(ref: str | None) -> tuple[str, str, str]:
    """Return ``(text, display_path, source)`` for a path or a preset name (None = default)."""
    if ref is None or ref in PRESET_NAMES:
        name = ref or "default"
        text = preset_path(name).read_text(encoding="utf-8")
        return text, display_path(f"preset:{name}"), f"preset:{name}"
    path = Path(ref)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{ref}: no such catalog file{_did_you_mean(ref)} (give a path, or one of the presets: "
                         f"{', '.join(PRESET_NAMES)})") from None
    except IsADirectoryError:
        raise InputError(f"{ref}: is a directory, not a catalog file (give the path of a .yaml file)") from None
    except OSError as exc:
        raise InputError(f"{ref}: cannot read the catalog: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data[:line_start].count(b"\n") + 1
        col = len(data[line_start:exc.start].decode("utf-8")) + 1  # in characters, as YAML errors count
        raise CatalogError(ref, line, col, f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x})",
                           "save the catalog as UTF-8") from None
    return text, ref, ref


def _did_you_mean(ref: str) -> str:
    """``; did you mean pipecat?`` for a preset name or a catalog file beside ``ref`` close to it."""
    import difflib

    path = Path(ref)
    folder = path.parent
    try:
        nearby = [str(folder / p.name) if str(folder) != "." else p.name
                  for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()]
    except OSError:
        nearby = []
    close = difflib.get_close_matches(ref, [*PRESET_NAMES, *sorted(nearby)], n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def load_catalog(ref: str | None = None) -> Catalog:
    """Load and validate a catalog from a path or preset name (None: the bundled default)."""
    text, display, source = resolve_catalog_source(ref)
    return parse_catalog(text, display, source)


def parse_catalog(text: str, display_path: str, source: str | None = None) -> Catalog:
    """Validate catalog text; ``display_path`` is what error messages name."""
    raw, ctx = load_document(text, CATALOG_SPEC, display_path)
    if raw is INVALID:
        ctx.raise_errors()
    _document_checks(raw, ctx)
    # The stages to build: all that passed their own checks, when what they share did too.
    shared = [(key,) for key in raw if key != "stages"]
    built = [si for si in range(len(raw["stages"]) if raw["stages"] is not INVALID else 0)
             if ctx.valid(("stages", si))]
    catalog = _build(raw, ctx, source or display_path, built) if built and ctx.valid(*shared) else None
    if catalog is not None:
        _metric_checks(catalog, ctx, built)
        _tempo_checks(catalog, ctx, built)
        _framework_checks(catalog, ctx)
    ctx.raise_errors()  # nothing was collected when every stage was built
    if raw["definitions"]:
        catalog = dataclasses.replace(catalog, definitions=_definitions(raw["definitions"], ctx, source or display_path))
    return catalog


def _definitions(patterns: list[str], ctx: Context, source: str) -> tuple[str, ...]:
    """The definition files the catalog names, relative to the catalog's folder, in the order given.

    A glob expands in sorted order (the same on every machine); a name or glob that finds
    no file is an error at its line, so a typo never silently drops a dashboard.
    """
    import glob  # only a catalog with definitions needs it

    base = preset_path(source.partition(":")[2]).parent if source.startswith("preset:") else Path(source).parent
    found: dict[str, None] = {}
    for i, pattern in enumerate(patterns):
        full = os.path.normpath(base / pattern)
        if glob.has_magic(pattern):
            matches = sorted(m for m in glob.glob(full, recursive=True) if os.path.isfile(m))
        else:
            matches = [full] if os.path.isfile(full) else []
        if not matches:
            raise ctx.error(ctx.locations[("definitions", i)],
                            f"definitions[{i}] {pattern!r} {'matches' if glob.has_magic(pattern) else 'is'} no file "
                            f"(looked for {full})", "give a path relative to the catalog file")
        found.update(dict.fromkeys(matches))
    return tuple(found)


# --- checks on the document --------------------------------------------------------------------

def _document_checks(raw: dict, ctx: Context) -> None:
    """Checks that need more than one field at a time, each on values that passed their own."""
    stages = [] if raw["stages"] is INVALID else list(enumerate(raw["stages"]))
    for si, stage in stages:
        if not ctx.valid(("stages", si, "id")) or stage["measurements"] is INVALID:
            continue
        for mi, m in enumerate(stage["measurements"]):
            base = ("stages", si, "measurements", mi)
            if ctx.valid(base):
                _measurement_checks(stage["id"], m, base, ctx)
    for si, stage in stages:
        taken = reserved_dashboard(stage["id"]) if ctx.valid(("stages", si, "id")) else None
        if taken:
            ctx.add(ctx.locations[("stages", si, "id")],
                    f"stage id {stage['id']!r} would give its dashboard the uid of {taken}, which it would overwrite",
                    f"rename the stage, e.g. {stage['id']}_stage")
    short_titles: dict[str, int] = {}
    for si, stage in stages:
        if not ctx.valid(("stages", si, "title")):
            continue
        short = stage["title"].partition(" (")[0].strip().lower()
        if short in short_titles:
            first = raw["stages"][short_titles[short]]
            ctx.add(ctx.locations[("stages", si, "title")],
                    f"stage title {stage['title']!r} reads like {first['title']!r} (line "
                    f"{ctx.locations[('stages', short_titles[short], 'title')].line}): alert and panel titles "
                    f"use the part before ' (', so two stages would share them",
                    "give the stages titles that differ before any parenthesis")
        else:
            short_titles[short] = si
    conv = raw["convention"]
    if ctx.valid(("convention",)):
        if not conv["session_on_stage_spans"] and not conv["session_span"]:
            ctx.add(ctx.locations[("convention", "session_on_stage_spans")],
                    "session_on_stage_spans is false but no convention.session_span names the span that "
                    "carries the session id", "add session_span: <span name>, e.g. conversation")
        if conv["stage_attribute"] is None:
            spans = [s["span"] for si, s in stages if ctx.valid(("stages", si, "span"))]
            told: set[str] = set()
            for si, s in stages:
                if ctx.valid(("stages", si, "span")) and spans.count(s["span"]) > 1 and s["span"] not in told:
                    told.add(s["span"])
                    ctx.add(ctx.locations[("stages", si, "span")],
                            f"span {s['span']!r} is used by two stages, and no stage_attribute tells them apart",
                            "give each stage its own span name, or set convention.stage_attribute")
    datasources = ("grafana", "datasources")
    if ctx.valid(datasources + ("tempo", "variable"), datasources + ("prometheus", "variable")):
        ds = raw["grafana"]["datasources"]
        if ds["tempo"]["variable"] == ds["prometheus"]["variable"]:
            ctx.add(ctx.locations[datasources + ("prometheus", "variable")],
                    "the tempo and prometheus datasource variables have the same name", "give them different names")
    ds_vars = {raw["grafana"]["datasources"][r]["variable"] for r in ("tempo", "prometheus")} \
        if ctx.valid(datasources + ("tempo", "variable"), datasources + ("prometheus", "variable")) else set()
    if ctx.valid(("prometheus",), ("convention",)):
        for mi, m in enumerate((raw["prometheus"] or {}).get("matchers") or ()):
            stage_lbl = (raw["alerting"] or {}).get("stage_label") if ctx.valid(("alerting",)) else None
            stage_lbl = stage_lbl or stage_label(conv["stage_attribute"])
            if m["label"] == stage_lbl or m["label"] in ds_vars or m["label"] in RESERVED_VARIABLES:
                why = ("is the stage label, which every query already matches per stage" if m["label"] == stage_lbl
                       else "would name a dashboard variable dashgen already uses")
                ctx.add(ctx.locations[("prometheus", "matchers", mi, "label")],
                        f"prometheus.matchers[{mi}].label {m['label']!r} {why}", "match another label")
    interval = (raw["alerting"] or {}).get("interval") if ctx.valid(("alerting",)) else None
    if interval and seconds(interval) % 10:
        ctx.add(ctx.locations[("alerting", "interval")],
                f"alerting.interval {interval} is not a multiple of 10 seconds (Grafana's "
                f"scheduler ticks every 10 s)", "use e.g. 30s, 1m or 2m")


def _measurement_checks(stage_id: str, m: dict, base: tuple, ctx: Context) -> None:
    quantiles: set[float] = set()
    for ti, t in enumerate(m["thresholds"]):
        if t["quantile"] in quantiles:
            ctx.add(ctx.locations[base + ("thresholds", ti, "quantile")],
                    f"two thresholds for quantile {t['quantile']} on {stage_id}.{m['id']}",
                    "keep one threshold per quantile")
        quantiles.add(t["quantile"])
    if m["panels"] and "bad_rate" in m["panels"] and m["bad_above"] is None:
        ctx.add(ctx.locations[base + ("panels",)], f"{stage_id}.{m['id']} asks for a bad_rate panel "
                f"but sets no bad_above", "add bad_above and bad_name, or drop bad_rate")
    elif (m["bad_above"] is None) != (m["bad_name"] is None):
        key = "bad_name" if m["bad_name"] is None else "bad_above"
        ctx.add(ctx.locations[base], f"{stage_id}.{m['id']} sets only one of bad_above and bad_name",
                f"add {key} too, or remove both")
    metric = m["metric"] or {}
    if metric.get("source") == "framework" and not metric.get("name"):
        ctx.add(ctx.locations[base + ("metric", "source")],
                f"{stage_id}.{m['id']} is recorded by the framework but names no metric",
                "add metric.name: the framework's histogram as Prometheus names it, e.g. "
                "lk_agents_turn_e2e_latency_seconds")
    if m["nothing_value"] is not None and m["nothing_value"] >= 0:
        ctx.add(ctx.locations[base + ("nothing_value",)],
                f"nothing_value must be negative (it marks 'produced nothing'), got {m['nothing_value']}",
                "use -1")


# --- the model, in one pass ----------------------------------------------------------------------

def _build(raw: dict, ctx: Context, source: str, built: list[int]) -> Catalog:
    """The model of the stages at the indexes ``built`` (all of them for a valid catalog)."""
    conv, g = raw["convention"], raw["grafana"]
    alerting = _alerting(raw["alerting"], conv["stage_attribute"], raw["name"])

    def metric_name(m: dict) -> str:
        return m["metric"]["name"] or prometheus_name(m["attribute"], m["unit"])

    # A histogram without explicit buckets gets the unit's defaults plus every threshold compared
    # with it (quantile thresholds, SLO thresholds) over all measurements recorded into it, so the
    # SDK and the generated Collector bridge resolve each limit exactly.
    limits: dict[str, set[float]] = {}
    for s in (raw["stages"][si] for si in built):  # stages that passed their own checks
        slo_raw = s["slo"]
        for m in s["measurements"]:
            values = {float(t["value"]) for t in m["thresholds"]}
            if slo_raw and slo_raw["measurement"] == m["id"]:
                values.add(float(slo_raw["threshold"]))
            limits.setdefault(metric_name(m), set()).update(values)

    def measurement(m: dict) -> Measurement:
        block = m["metric"]
        name = metric_name(m)
        source = block.get("source") or alerting.source
        framework = source == "framework"
        # A framework's own histogram has no stage label, and the SDK's default buckets whatever its unit
        # (opentelemetry-python's _DEFAULT_EXPLICIT_BUCKET_HISTOGRAM_AGGREGATION_BOUNDARIES) unless a View
        # says otherwise: dashgen cannot add the thresholds to buckets it does not configure.
        buckets = block.get("buckets") or (OTEL_DEFAULT_BUCKETS if framework
                                           else sorted(set(default_buckets(m["unit"])) | limits[name]))
        metric = Metric(name=name, label=block.get("label") or (None if framework else alerting.stage_label),
                        buckets=tuple(float(b) for b in buckets), source=source,
                        labels=tuple(block.get("labels") or ()))
        return Measurement(
            id=m["id"], attribute=m["attribute"], title=m["title"], unit=m["unit"], integer=m["integer"],
            meaning=m["meaning"], nothing_value=m["nothing_value"],
            thresholds=tuple(Threshold(float(t["quantile"]), t["value"], t["severity"], t["for"]) for t in m["thresholds"]),
            bad_above=m["bad_above"], bad_name=m["bad_name"], metric=metric,
            quantiles=tuple(float(q) for q in (m["quantiles"] or DEFAULT_QUANTILES)),
            panels=tuple(m["panels"] or (("quantiles", "heatmap", "bad_rate") if m["bad_above"] is not None
                                         else ("quantiles",))),
        )

    def slo(s: dict | None) -> Slo | None:
        return Slo(s["measurement"], float(s["objective"]), s["threshold"], s["window"]) if s else None

    stages = tuple(
        Stage(id=s["id"], span=s["span"], title=s["title"], first_byte=s["first_byte"], description=s["description"],
              measurements=tuple(measurement(m) for m in s["measurements"]), slo=slo(s["slo"]),
              flags=tuple(Flag(**f) for f in s["flags"]), records_errors=s["records_errors"],
              role=s["role"], critical_path=s["critical_path"], in_turn=s["in_turn"])
        for s in (raw["stages"][si] for si in built)
    )
    ds = g["datasources"]
    tempo, prom = raw["tempo"], raw["prometheus"]
    return Catalog(
        source=source, name=raw["name"], title=raw["title"], notes=raw["notes"],
        session_attribute=conv["session_attribute"], turn_attribute=conv["turn_attribute"],
        stage_attribute=conv["stage_attribute"], error_attribute=conv["error_attribute"],
        turn_span=conv["turn_span"], service_attribute=conv["service_attribute"],
        session_on_stage_spans=conv["session_on_stage_spans"], session_span=conv["session_span"],
        interrupted_attribute=conv["interrupted_attribute"], interrupted_on_stage_spans=conv["interrupted_on_stage_spans"],
        folder_uid=g["folder"]["uid"], folder_title=g["folder"]["title"], uid_prefix=g["uid_prefix"],
        tags=tuple(g["tags"]),
        tempo=Datasource("tempo", **ds["tempo"]), prometheus=Datasource("prometheus", **ds["prometheus"]),
        stages=stages, alerting=alerting, locations=MappingProxyType(dict(ctx.locations)),
        tempo_server=TempoServer(tempo["version"], tempo["metrics_max_range"]),
        prom_matchers=tuple(PromMatcher(m["label"], m["value"]) for m in prom["matchers"]),
        extra_attributes=tuple(conv["attributes"]),
        framework=FrameworkPin(raw["framework"]["name"], raw["framework"]["version"]) if raw["framework"] else None,
        good_turn=_good_turn(raw["good_turn"], conv["stage_attribute"], raw["name"]),
    )


def _good_turn(g: dict | None, stage_attribute: str | None, catalog_name: str) -> GoodTurn | None:
    if not g:
        return None
    ns = counter_name(stage_attribute, catalog_name, "runs").split("_stage_")[0]  # the counters' namespace
    counters = g["counters"]
    return GoodTurn(latency_ms=float(g["latency_ms"]), latency=g["latency"],
                    barge_in_silence_ms=float(g["barge_in_silence_ms"]), objective=float(g["objective"]),
                    window=g["window"], attribute=g["attribute"],
                    turns_metric=counters.get("turns") or f"{ns}_turns_judged_total",
                    good_metric=counters.get("good") or f"{ns}_turns_good_total")


def _alerting(a: dict, stage_attribute: str | None, catalog_name: str) -> Alerting:
    counters = a["counters"]  # every key of a block has its default, the block's own (spec.py)

    def rate_alert(key: str) -> RateAlert:
        return RateAlert(above=float(a[key]["above"]), for_=a[key]["for"], severity=a[key]["severity"])

    return Alerting(
        team=a["team"], receiver=a["receiver"], runbook_url=a["runbook_url"].rstrip("/"),
        interval=a["interval"], rate_window=a["rate_window"],
        stage_label=a["stage_label"] or stage_label(stage_attribute), source=a["source"],
        runs_metric=counters.get("runs") or counter_name(stage_attribute, catalog_name, "runs"),
        errors_metric=counters.get("errors") or counter_name(stage_attribute, catalog_name, "errors"),
        nothing_metric=counters.get("nothing") or counter_name(stage_attribute, catalog_name, "nothing"),
        error_rate=rate_alert("error_rate"), nothing_rate=rate_alert("nothing_rate"),
        tempo_rules=a["tempo_rules"], min_events=a["min_events"],
        absence=Absence(a["absence"]["for"], a["absence"]["severity"]),
        grafana_recording_rules=a["grafana_recording_rules"],
    )


# --- checks on the built model: histograms and SLOs ------------------------------------------------

def _metric_checks(catalog: Catalog, ctx: Context, built: list[int]) -> None:
    """Buckets increase, measurements sharing a histogram agree on it, thresholds lie inside it
    and an SLO threshold is one of its boundaries. What the SLO means (a window set for its
    period, pages that can fire) is checked a layer up, in ``dashgen.voice.checks``.
    ``built[i]`` is the index in the document of ``catalog.stages[i]``."""
    shared: dict[str, tuple[tuple, Metric, str]] = {}
    for si, stage in zip(built, catalog.stages):
        for mi, m in enumerate(stage.measurements):
            base = ("stages", si, "measurements", mi)
            if not _histogram_checks(ctx, base, f"{stage.id}.{m.id}", m, shared):
                continue
            for ti, t in enumerate(m.thresholds):
                # histogram_quantile interpolates inside a bucket, so a quantile threshold between two
                # boundaries still works (approximately); above the last boundary it never fires.
                _check_in_range(ctx, base + ("thresholds", ti, "value"), t.value, m.metric,
                                f"{dotted(base)}.thresholds[{ti}].value", f"{stage.id}.{m.id}")
        if stage.slo:
            _slo_checks(ctx, ("stages", si, "slo"), stage)


# The TraceQL metrics functions the dashboards use, with the Tempo release that brought them
# (Tempo's changelog; the table of lint/tempo.py and docs/compatibility.md): every catalog gets
# quantile_over_time/histogram_over_time panels; a float measurement (Tempo's quantiles drop
# floats) or one asking for panels: [average] gets avg_over_time/max_over_time panels.
QUANTILES_SINCE, OVER_TIME_SINCE = (2, 5), (2, 7)


def _framework_checks(catalog: Catalog, ctx: Context) -> None:
    """A pinned framework version is one there is data for (presets/frameworks/)."""
    pin = catalog.framework
    if pin is not None and framework(pin.name, pin.version) is None:
        ctx.add(ctx.locations[("framework",)], f"framework {pin.name} {pin.version}: dashgen has no record of the "
                                               f"names it emits", f"pin one of {', '.join(known())}, or leave out "
                                                                  f"framework:")


def _tempo_checks(catalog: Catalog, ctx: Context, built: list[int]) -> None:
    """The oldest Tempo (``tempo.version``) answers every query the catalog's dashboards need."""
    version = catalog.tempo_server.version_tuple
    where = ctx.locations.get(("tempo", "version"))
    if version < QUANTILES_SINCE:
        ctx.add(where or ctx.locations[("stages",)],
                f"tempo.version {catalog.tempo_server.version} is older than Tempo 2.5, which brought "
                f"quantile_over_time and histogram_over_time, on which every stage dashboard relies",
                'use tempo.version: "2.5" or later (the oldest Tempo you run)')
        return
    if version >= OVER_TIME_SINCE:
        return
    for si, stage in zip(built, catalog.stages):
        for mi, m in enumerate(stage.measurements):
            base = ("stages", si, "measurements", mi)
            if m.integer and "average" not in m.panels:
                continue
            key = base + (("integer",) if not m.integer else ("panels",))
            why = "a float (Tempo's quantiles drop floats)" if not m.integer else "asked for an average panel"
            fix = "record it as an integer (integer: true)" if not m.integer else "drop average from its panels"
            ctx.add(ctx.locations.get(key, ctx.locations[base]),
                    f"{stage.id}.{m.id} is {why}, so its panels use avg_over_time and max_over_time, which need "
                    f"Tempo 2.7, newer than tempo.version {catalog.tempo_server.version}"
                    + ("" if where else " (the default when the tempo block leaves it out)"),
                    f'set tempo.version: "2.7" if your Tempo is 2.7 or later, or {fix}')


def _histogram_checks(ctx: Context, base: tuple, where: str, m: Measurement,
                      shared: dict[str, tuple[tuple, Metric, str]]) -> bool:
    """Check one measurement's histogram; False when its buckets are unusable for later checks."""
    metric = m.metric
    if base + ("metric", "name") in ctx.locations and re.search(r"_(bucket|count|sum)$", metric.name):
        ctx.add(ctx.locations[base + ("metric", "name")],
                f"{dotted(base)}.metric.name {metric.name!r} names a series, not the histogram",
                f"drop the suffix: {re.sub(r'_(bucket|count|sum)$', '', metric.name)}")
    bks = metric.buckets
    for bi in range(1, len(bks)):
        if bks[bi] <= bks[bi - 1]:
            ctx.add(ctx.locations[base + ("metric", "buckets", bi)],
                    f"{dotted(base)}.metric.buckets must increase: {bks[bi]:g} follows "
                    f"{bks[bi - 1]:g}", "list the boundaries in increasing order, without repeats")
            return False
    loc_path = base + ("metric",) if base + ("metric",) in ctx.locations else base
    if metric.name in shared:
        first_path, first, first_where = shared[metric.name]
        if (first.buckets, first.label, first.source) != (metric.buckets, metric.label, metric.source):
            what = ("buckets" if first.buckets != metric.buckets
                    else "label" if first.label != metric.label else "source")
            ctx.add(ctx.locations[loc_path],
                    f"{where} and {first_where} both record {metric.name} but with different "
                    f"{what} (one histogram has one bucket layout and one stage label)",
                    f"give {where} the same metric.{what} as {first_where} (line "
                    f"{ctx.locations[first_path].line}), or another metric.name")
    else:
        shared[metric.name] = (loc_path, metric, where)
    return True


def _slo_checks(ctx: Context, spath: tuple, stage: Stage) -> None:
    slo, si = stage.slo, spath[1]
    m = stage.measurement(slo.measurement)
    if m is None:
        ids = [x.id for x in stage.measurements]
        close = close_matches(slo.measurement, ids)
        hint = f"did you mean {close[0]!r}? " if close else ""
        ctx.add(ctx.locations[spath + ("measurement",)],
                f"stages[{si}].slo.measurement {slo.measurement!r} is not a measurement of "
                f"stage {stage.id}", f"{hint}use one of: {', '.join(ids)}")
    elif list(m.metric.buckets) == sorted(set(m.metric.buckets)):  # else reported with the buckets
        _check_boundary(ctx, spath + ("threshold",), slo.threshold, m.metric,
                        f"stages[{si}].slo.threshold", f"{stage.id}.{m.id}")


def _check_boundary(ctx: Context, path: tuple, value: float, metric: Metric, what: str, where: str) -> None:
    bks = metric.buckets
    if float(value) not in bks:
        near = [b for b in (max((b for b in bks if b < value), default=None),
                            min((b for b in bks if b > value), default=None)) if b is not None]
        ctx.add(ctx.locations[path],
                f"{what} {value:g} is not a bucket boundary of {metric.name} ({where}), so the histogram "
                f"cannot tell measurements above it from those below (buckets: "
                f"{', '.join(f'{b:g}' for b in bks)})",
                f"add {value:g} to metric.buckets of every measurement recorded as {metric.name} "
                f"(and to the SDK view or signaltometrics buckets), or use a boundary such as "
                f"{' or '.join(f'{b:g}' for b in near)}")
    else:
        _check_in_range(ctx, path, value, metric, what, where)


def _check_in_range(ctx: Context, path: tuple, value: float, metric: Metric, what: str, where: str) -> None:
    bks = metric.buckets
    if float(value) >= bks[-1]:
        ctx.add(ctx.locations[path],
                f"{what} {value:g} is not below the largest bucket boundary of {metric.name} ({where}, "
                f"{bks[-1]:g}): above it lies only +Inf, where histogram_quantile never reports more than "
                f"{bks[-1]:g}, so the alert could never fire",
                f"add a larger boundary to metric.buckets, e.g. {value * 2:g}")
