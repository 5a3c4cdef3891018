"""The stage catalog: which stages, spans, attributes, units and thresholds exist.

``load_catalog(path_or_preset)`` reads a YAML file (or a bundled preset: ``default``,
``pipecat``, ``livekit``), validates it against ``CATALOG_SPEC`` and returns a frozen
``Catalog``. Every problem is a ``CatalogError`` whose text is
``path/to/catalog.yaml:LINE:COL: what is wrong (how to fix it)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from ..errors import CatalogError, InputError
from .yamlspec import Bool, Context, Enum, Field, ListOf, Loc, Map, Num, Str, load_document
from . import alerting as catalog_alerting
from .alerting import ALERTING_SPEC, METRIC_SPEC, SLO_SPEC, Alerting, Metric, Slo

PRESETS = ("default", "pipecat", "livekit")

# A TraceQL attribute name we can write unquoted: dot-separated words. Grafana's TraceQL
# grammar (lezer-traceql) reads a first word that merely starts with a scope or keyword
# (``span.parent_id``, ``span.links``, ``span.with_x``) as that keyword and rejects the query.
TRACEQL_RESERVED_PREFIXES = ("span", "resource", "event", "instrumentation", "link", "parent", "with")
ATTRIBUTE_RE = r"(?!(?:" + "|".join(TRACEQL_RESERVED_PREFIXES) + r"))[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*"
SCOPED_ATTRIBUTE_RE = r"(span|resource)\." + ATTRIBUTE_RE
ID_RE = r"[a-z][a-z0-9_]{0,30}"
UID_RE = r"[a-zA-Z0-9_-]{1,40}"
DURATION_RE = r"[1-9][0-9]*(s|m|h|d)"
SPAN_NAME_RE = r"[A-Za-z0-9_.:/ -]{1,100}"

# Catalog unit -> Grafana unit id (all of them are in Grafana's units schema).
UNITS: Mapping[str, str] = MappingProxyType(
    {
        "ns": "ns",
        "us": "µs",
        "ms": "ms",
        "s": "s",
        "percent": "percent",
        "count": "short",
        "bytes": "bytes",
    }
)
SEVERITIES = ("page", "ticket")
PANEL_KINDS = ("quantiles", "average", "heatmap", "bad_rate")
DEFAULT_QUANTILES = (0.5, 0.95, 0.99)

ATTR_HINT = ("use dot-separated words of letters, digits and _ (e.g. audio.first_byte_ms), the first word not "
             "starting with " + ", ".join(TRACEQL_RESERVED_PREFIXES) + " (TraceQL reads those as keywords)")

_THRESHOLD = Map(
    doc="A p-quantile threshold: the value the quantile must stay below.",
    fields={
        "quantile": Field(Num(minimum=0, maximum=1, exclusive=True, example="0.95"), default=0.95,
                          doc="which quantile is watched, between 0 and 1 (default 0.95)"),
        "value": Field(Num(positive=True, example="350"), required=True,
                       doc="the limit, in the measurement's unit; must be positive"),
        "severity": Field(Enum(values=SEVERITIES), default="page", doc="page or ticket"),
        "for": Field(Str(pattern=DURATION_RE, pattern_hint="write a duration like 5m, 30s, 1h", example="5m"),
                     default="5m", doc="how long the quantile must stay above before the alert fires"),
    },
)

_MEASUREMENT = Map(
    doc="One numeric span attribute of a stage.",
    fields={
        "id": Field(Str(pattern=ID_RE, pattern_hint="use lower-case letters, digits and _ (max 31), e.g. first_byte",
                        example="first_byte"), required=True, doc="stable key, used in panel keys and uids"),
        "attribute": Field(Str(pattern=ATTRIBUTE_RE, pattern_hint=ATTR_HINT, example="audio.first_byte_ms"),
                           required=True, doc="span attribute name (without the span. scope)"),
        "title": Field(Str(example='"First byte"'), required=True, doc="human name, used in panel titles"),
        "unit": Field(Enum(values=tuple(UNITS)), required=True, doc="one of " + ", ".join(UNITS)),
        "integer": Field(Bool(), default=True,
                         doc="true when emitted as an integer; Tempo quantiles drop float attributes"),
        "meaning": Field(Str(example='"time to the first partial transcript"'), required=True,
                         doc="what the number means; goes into panel descriptions"),
        "nothing_value": Field(Num(integer=True, example="-1"), default=None,
                               doc="the value that means the stage produced nothing (e.g. -1); excluded from quantiles"),
        "thresholds": Field(ListOf(item=_THRESHOLD), default=[], doc="quantile thresholds (p95 paging lines)"),
        "bad_above": Field(Num(positive=True, example="150"), default=None,
                           doc="an event above this value counts as bad (a stutter, a large revision)"),
        "bad_name": Field(Str(example='"stutters"'), default=None,
                          doc="plural name of such bad events, e.g. stutters"),
        "metric": Field(METRIC_SPEC, default=None,
                        doc="the Prometheus histogram of this measurement, for alert rules (name, label, buckets)"),
        "quantiles": Field(ListOf(item=Num(minimum=0, maximum=1, exclusive=True, example="0.95"), min_items=1),
                           default=None, doc="quantiles its panel shows (default 0.5, 0.95, 0.99)"),
        "panels": Field(ListOf(item=Enum(values=PANEL_KINDS), min_items=1), default=None,
                        doc="which panels the stage dashboard gets for it: " + ", ".join(PANEL_KINDS)
                            + " (default: quantiles, plus heatmap and bad_rate when bad_above is set)"),
    },
)

_STAGE = Map(
    doc="One stage of the voice pipeline, traced as its own span.",
    fields={
        "id": Field(Str(pattern=ID_RE, pattern_hint="use lower-case letters, digits and _, e.g. tts", example="tts"),
                    required=True, doc="stage id, also the value of the stage attribute"),
        "span": Field(Str(pattern=SPAN_NAME_RE, pattern_hint="letters, digits and . _ : / - only", example="audio.tts"),
                      required=True, doc="span name of the stage (audio.<stage>)"),
        "title": Field(Str(example='"TTS (text to speech)"'), required=True, doc="human title of the stage"),
        "first_byte": Field(Str(example='"first playable audio chunk"'), required=True,
                            doc='what "first byte" means for this stage'),
        "description": Field(Str(example='"..."'), default="", doc="optional longer text for the stage dashboard"),
        "measurements": Field(ListOf(item=_MEASUREMENT, min_items=1, unique_by="id"), required=True,
                              doc="the stage's numeric attributes, in display order"),
        "slo": Field(SLO_SPEC, default=None,
                     doc="optional latency SLO; dashgen adds burn-rate alerts and their recording rules"),
    },
)

_DATASOURCE = Map(
    doc="A datasource the dashboards use through a datasource variable.",
    fields={
        "name": Field(Str(example="Tempo"), required=True, doc="datasource name in Grafana; push resolves it"),
        "uid": Field(Str(pattern=UID_RE, pattern_hint="use [a-zA-Z0-9_-], at most 40 characters", example="tempo"),
                     required=True, doc="default uid written into the output; push replaces it with the live one"),
        "variable": Field(Str(pattern=r"[a-z][a-z0-9_]*", pattern_hint="lower-case letters, digits, _", example="tempo"),
                          required=True, doc="name of the dashboard datasource variable"),
    },
)

CATALOG_SPEC = Map(
    doc="The stage catalog.",
    fields={
        "catalog": Field(Enum(values=(1,)), required=True, doc="format version; always 1"),
        "name": Field(Str(pattern=ID_RE, pattern_hint="lower-case letters, digits, _", example="audio"), required=True,
                      doc="short name of the convention"),
        "title": Field(Str(example='"Voice agent"'), required=True, doc="human title, shown in dashboard descriptions"),
        "notes": Field(Str(example='"..."'), default="", doc="free text about the convention, shown on the overview"),
        "convention": Field(
            Map(
                fields={
                    "session_attribute": Field(Str(pattern=ATTRIBUTE_RE, pattern_hint=ATTR_HINT, example="audio.session_id"),
                                               required=True, doc="span attribute with the session id"),
                    "turn_attribute": Field(Str(pattern=ATTRIBUTE_RE, pattern_hint=ATTR_HINT, example="audio.turn_id"),
                                            required=True, doc="span attribute with the turn id"),
                    "stage_attribute": Field(Str(pattern=ATTRIBUTE_RE, pattern_hint=ATTR_HINT, example="audio.stage"),
                                             default=None,
                                             doc="span attribute holding the stage id; leave out to tell stages by span name"),
                    "error_attribute": Field(Str(pattern=ATTRIBUTE_RE, pattern_hint=ATTR_HINT, example="audio.error"),
                                             default=None, doc="boolean span attribute set on failure"),
                    "turn_span": Field(Str(pattern=SPAN_NAME_RE, pattern_hint="a span name", example="voice.turn"),
                                       required=True, doc="name of the parent span of one turn"),
                    "session_on_stage_spans": Field(Bool(), default=True,
                                                    doc="true when every stage span carries the session attribute; "
                                                        "false when only an ancestor span does (then session "
                                                        "lookups select its descendants)"),
                    "session_span": Field(Str(pattern=SPAN_NAME_RE, pattern_hint="a span name", example="conversation"),
                                          default=None,
                                          doc="name of the span that carries the session id when stage spans do "
                                              "not (needed with session_on_stage_spans: false)"),
                    "service_attribute": Field(Str(pattern=SCOPED_ATTRIBUTE_RE,
                                                   pattern_hint="a scoped attribute, e.g. resource.service.name",
                                                   example="resource.service.name"),
                                               default=None, doc="optional service filter attribute (scoped)"),
                },
                doc="Attribute and span names shared by all stages.",
            ),
            required=True,
        ),
        "grafana": Field(
            Map(
                fields={
                    "folder": Field(
                        Map(fields={
                            "uid": Field(Str(pattern=UID_RE, pattern_hint="use [a-zA-Z0-9_-], at most 40 characters",
                                             example="voice-agent"), required=True, doc="folder uid"),
                            "title": Field(Str(example='"Voice agent"'), required=True, doc="folder title"),
                        }),
                        required=True,
                        doc="the Grafana folder that holds the dashboards and rules",
                    ),
                    "uid_prefix": Field(Str(pattern=r"[a-z][a-z0-9-]{0,15}", pattern_hint="lower-case, digits, -, at most 16",
                                            example="voice"), required=True, doc="prefix of every dashboard and rule uid"),
                    "tags": Field(ListOf(item=Str(pattern=r"[A-Za-z0-9_.:-]{1,50}", pattern_hint="a short tag", example="voice")),
                                  default=[], doc="tags on every dashboard (dashgen adds its own)"),
                    "datasources": Field(
                        Map(fields={"tempo": Field(_DATASOURCE, required=True, doc="the Tempo datasource"),
                                    "prometheus": Field(_DATASOURCE, required=True, doc="the Prometheus datasource")}),
                        required=True,
                        doc="datasources, by role",
                    ),
                },
                doc="Where and how the output lands in Grafana.",
            ),
            required=True,
        ),
        "stages": Field(ListOf(item=_STAGE, min_items=1, unique_by="id"), required=True,
                        doc="the pipeline stages, in pipeline order"),
        "alerting": Field(ALERTING_SPEC, default=None,
                          doc="alert rule settings: team, receiver, runbooks, interval, rate thresholds, TraceQL switch"),
    },
)


def quantile_label(q: float) -> str:
    """``0.95`` -> ``p95``; ``0.999`` -> ``p99.9``."""
    return f"p{round(q * 100, 6):g}"


@dataclass(frozen=True)
class Threshold:
    quantile: float
    value: float
    severity: str
    for_: str

    @property
    def quantile_label(self) -> str:
        return quantile_label(self.quantile)


@dataclass(frozen=True)
class Measurement:
    id: str
    attribute: str
    title: str
    unit: str
    integer: bool
    meaning: str
    nothing_value: int | None
    thresholds: tuple[Threshold, ...]
    bad_above: float | None
    bad_name: str | None
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    panels: tuple[str, ...] = ("quantiles",)
    metric: Metric | None = None

    @property
    def grafana_unit(self) -> str:
        return UNITS[self.unit]

    @property
    def quantiles_work(self) -> bool:
        """Tempo's quantile/histogram functions only count integer (or duration) values."""
        return self.integer

    def threshold(self, quantile: float = 0.95) -> Threshold | None:
        for t in self.thresholds:
            if t.quantile == quantile:
                return t
        return None


@dataclass(frozen=True)
class Stage:
    id: str
    span: str
    title: str
    first_byte: str
    description: str
    measurements: tuple[Measurement, ...]
    slo: Slo | None = None

    def measurement(self, mid: str) -> Measurement | None:
        for m in self.measurements:
            if m.id == mid:
                return m
        return None

    def attributes(self) -> tuple[str, ...]:
        return tuple(m.attribute for m in self.measurements)


@dataclass(frozen=True)
class Datasource:
    role: str  # "tempo" | "prometheus" (also the Grafana plugin type)
    name: str
    uid: str
    variable: str

    @property
    def type(self) -> str:
        return self.role


@dataclass(frozen=True)
class Catalog:
    source: str  # what the user named: a path as given, or "preset:<name>"
    name: str
    title: str
    notes: str
    session_attribute: str
    turn_attribute: str
    stage_attribute: str | None
    error_attribute: str | None
    turn_span: str
    service_attribute: str | None
    session_on_stage_spans: bool
    session_span: str | None
    folder_uid: str
    folder_title: str
    uid_prefix: str
    tags: tuple[str, ...]
    tempo: Datasource
    prometheus: Datasource
    stages: tuple[Stage, ...]
    locations: Mapping[tuple, Loc]
    alerting: Alerting | None = None

    def stage(self, sid: str) -> Stage:
        for s in self.stages:
            if s.id == sid:
                return s
        raise KeyError(sid)

    def has_stage(self, sid: str) -> bool:
        return any(s.id == sid for s in self.stages)

    def span_attributes(self) -> frozenset[str]:
        """Every span attribute (unscoped) the catalog declares."""
        names = {self.session_attribute, self.turn_attribute}
        names.update(a for a in (self.stage_attribute, self.error_attribute) if a)
        for s in self.stages:
            names.update(s.attributes())
        return frozenset(names)

    def loc(self, *path) -> Loc:
        return self.locations.get(tuple(path), Loc(1, 1))


def _semantic_checks(raw: dict, ctx: Context) -> None:
    """Checks that need more than one field at a time."""
    for si, stage in enumerate(raw["stages"]):
        for mi, m in enumerate(stage["measurements"]):
            base = ("stages", si, "measurements", mi)
            quantiles: dict[float, int] = {}
            for ti, t in enumerate(m["thresholds"]):
                if t["quantile"] in quantiles:
                    raise ctx.error(ctx.locations[base + ("thresholds", ti, "quantile")],
                                    f"two thresholds for quantile {t['quantile']} on {stage['id']}.{m['id']}",
                                    "keep one threshold per quantile")
                quantiles[t["quantile"]] = ti
            if m["panels"] and "bad_rate" in m["panels"] and m["bad_above"] is None:
                raise ctx.error(ctx.locations[base + ("panels",)], f"{stage['id']}.{m['id']} asks for a bad_rate panel "
                                f"but sets no bad_above", "add bad_above and bad_name, or drop bad_rate")
            if (m["bad_above"] is None) != (m["bad_name"] is None):
                key = "bad_name" if m["bad_name"] is None else "bad_above"
                raise ctx.error(ctx.locations[base], f"{stage['id']}.{m['id']} sets only one of bad_above and bad_name",
                                f"add {key} too, or remove both")
            if m["nothing_value"] is not None and m["nothing_value"] >= 0:
                raise ctx.error(ctx.locations[base + ("nothing_value",)],
                                f"nothing_value must be negative (it marks 'produced nothing'), got {m['nothing_value']}",
                                "use -1")
    short_titles: dict[str, int] = {}
    for si, stage in enumerate(raw["stages"]):
        short = stage["title"].partition(" (")[0].strip().lower()
        if short in short_titles:
            first = raw["stages"][short_titles[short]]
            raise ctx.error(ctx.locations[("stages", si, "title")],
                            f"stage title {stage['title']!r} reads like {first['title']!r} (line "
                            f"{ctx.locations[('stages', short_titles[short], 'title')].line}): alert and panel titles "
                            f"use the part before ' (', so two stages would share them",
                            "give the stages titles that differ before any parenthesis")
        short_titles[short] = si
    conv = raw["convention"]
    if not conv["session_on_stage_spans"] and not conv["session_span"]:
        raise ctx.error(ctx.locations[("convention", "session_on_stage_spans")],
                        "session_on_stage_spans is false but no convention.session_span names the span that "
                        "carries the session id", "add session_span: <span name>, e.g. conversation")
    if conv["stage_attribute"] is None:
        spans = [s["span"] for s in raw["stages"]]
        for si, s in enumerate(raw["stages"]):
            if spans.count(s["span"]) > 1:
                raise ctx.error(ctx.locations[("stages", si, "span")],
                                f"span {s['span']!r} is used by two stages, and no stage_attribute tells them apart",
                                "give each stage its own span name, or set convention.stage_attribute")
    if raw["grafana"]["datasources"]["tempo"]["variable"] == raw["grafana"]["datasources"]["prometheus"]["variable"]:
        raise ctx.error(ctx.locations[("grafana", "datasources", "prometheus", "variable")],
                        "the tempo and prometheus datasource variables have the same name", "give them different names")


def _build(raw: dict, ctx: Context, source: str) -> Catalog:
    stages = tuple(
        Stage(
            id=s["id"], span=s["span"], title=s["title"], first_byte=s["first_byte"], description=s["description"],
            measurements=tuple(
                Measurement(
                    id=m["id"], attribute=m["attribute"], title=m["title"], unit=m["unit"], integer=m["integer"],
                    meaning=m["meaning"], nothing_value=m["nothing_value"],
                    thresholds=tuple(Threshold(float(t["quantile"]), t["value"], t["severity"], t["for"]) for t in m["thresholds"]),
                    bad_above=m["bad_above"], bad_name=m["bad_name"],
                    quantiles=tuple(float(q) for q in (m["quantiles"] or DEFAULT_QUANTILES)),
                    panels=tuple(m["panels"] or (("quantiles", "heatmap", "bad_rate") if m["bad_above"] is not None
                                                 else ("quantiles",))),
                )
                for m in s["measurements"]
            ),
        )
        for s in raw["stages"]
    )
    conv, g = raw["convention"], raw["grafana"]
    ds = g["datasources"]
    return Catalog(
        source=source, name=raw["name"], title=raw["title"], notes=raw["notes"],
        session_attribute=conv["session_attribute"], turn_attribute=conv["turn_attribute"],
        stage_attribute=conv["stage_attribute"], error_attribute=conv["error_attribute"],
        turn_span=conv["turn_span"], service_attribute=conv["service_attribute"],
        session_on_stage_spans=conv["session_on_stage_spans"], session_span=conv["session_span"],
        folder_uid=g["folder"]["uid"], folder_title=g["folder"]["title"], uid_prefix=g["uid_prefix"],
        tags=tuple(g["tags"]),
        tempo=Datasource("tempo", **ds["tempo"]), prometheus=Datasource("prometheus", **ds["prometheus"]),
        stages=stages, locations=MappingProxyType(dict(ctx.locations)),
    )


def parse_catalog(text: str, display_path: str, source: str | None = None) -> Catalog:
    """Validate catalog text; ``display_path`` is what error messages name."""
    raw, ctx = load_document(text, CATALOG_SPEC, display_path)
    _semantic_checks(raw, ctx)
    catalog_alerting.alerting_checks(raw, ctx)
    return catalog_alerting.attach(_build(raw, ctx, source or display_path), raw)


def preset_path(name: str):
    return Path(__file__).resolve().parent / "presets" / f"{name}.yaml"


def resolve_catalog_source(ref: str | None) -> tuple[str, str, str]:
    """Return ``(text, display_path, source)`` for a path or a preset name (None = default)."""
    if ref is None or ref in PRESETS:
        name = ref or "default"
        text = preset_path(name).read_text(encoding="utf-8")
        return text, f"<preset {name}>/{name}.yaml", f"preset:{name}"
    path = Path(ref)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{ref}: no such catalog file (give a path, or one of the presets: {', '.join(PRESETS)})") from None
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


def load_catalog(ref: str | None = None) -> Catalog:
    """Load and validate a catalog from a path or preset name (None: the bundled default)."""
    text, display, source = resolve_catalog_source(ref)
    return parse_catalog(text, display, source)

