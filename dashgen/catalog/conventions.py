"""The one home of dashgen's conventions: units, metric names, buckets, uids, durations, numbers.

Every table and rule here used to exist in two to seven copies across the catalog, the
dashboards, the alerts, review and telemetry, and the copies had drifted apart (two
OTel -> Prometheus suffix rules, two uid hashes, three duration grammars). Anything that
names, converts or prints one of these things imports it from here.
"""

from __future__ import annotations

import hashlib
import re
from types import MappingProxyType
from typing import Mapping
from ..records import dataclass  # dataclasses' decorator without generated code (start-up)

# --- units ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """What one catalog unit is called by each system dashgen writes for."""

    grafana: str  # Grafana's unit id (all of them are in Grafana's units schema)
    ucum: str  # the OpenTelemetry instrument unit (UCUM), e.g. "ms", "%", "By"
    prometheus: str  # the word OpenTelemetry's Prometheus naming appends ("" for plain counts)
    suffixes: tuple[str, ...]  # attribute-name endings that already spell the unit (dropped from metric names)
    per_ms: float | None = None  # time units only: how many of them make one millisecond


# The Prometheus words and attribute suffixes follow the OpenTelemetry -> Prometheus
# compatibility spec (ms -> milliseconds, % -> percent, By -> bytes; a "1" unit adds nothing).
UNITS: Mapping[str, Unit] = MappingProxyType({
    "ns": Unit("ns", "ns", "nanoseconds", ("_ns", "_nanoseconds"), 1e6),
    "us": Unit("µs", "us", "microseconds", ("_us", "_microseconds"), 1e3),
    "ms": Unit("ms", "ms", "milliseconds", ("_ms", "_milliseconds"), 1.0),
    "s": Unit("s", "s", "seconds", ("_s", "_seconds"), 1e-3),
    "percent": Unit("percent", "%", "percent", ("_pct", "_percent")),
    "count": Unit("short", "1", "", ("_count", "_total")),
    "bytes": Unit("bytes", "By", "bytes", ("_bytes", "_by")),
})
TIME_UNITS_PER_MS: Mapping[str, float] = MappingProxyType(
    {name: u.per_ms for name, u in UNITS.items() if u.per_ms is not None})

# How a value in a Grafana unit reads in review text (diff lines, preview axes); a unit not
# listed is written after the value as it is.
GRAFANA_UNIT_SUFFIX: Mapping[str, str] = MappingProxyType({
    "ms": " ms", "s": " s", "ns": " ns", "µs": " µs", "us": " µs", "m": " min", "h": " h", "d": " d",
    "percent": "%", "percentunit": " (0-1)", "bytes": " B", "decbytes": " B", "short": "", "none": "",
    "reqps": " req/s", "ops": " ops/s", "hertz": " Hz", "dtdurationms": " ms", "dtdurations": " s",
})


def convert(value: float, from_unit: str | None, to_unit: str) -> float:
    """``value`` in ``from_unit`` (None: already in ``to_unit``) expressed in ``to_unit``."""
    if from_unit is None or from_unit == to_unit:
        return float(value)
    if from_unit in TIME_UNITS_PER_MS and to_unit in TIME_UNITS_PER_MS:
        return float(value) / TIME_UNITS_PER_MS[from_unit] * TIME_UNITS_PER_MS[to_unit]
    raise ValueError(f"cannot convert {from_unit} to {to_unit}")


# --- metric names, labels, buckets ------------------------------------------------------------

METRIC_NAME_PATTERN = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_NAME_PATTERN = r"[a-zA-Z_][a-zA-Z0-9_]*"  # names starting with __ are reserved to Prometheus
DEFAULT_STAGE_LABEL = "stage"  # the stage label of a convention without a stage attribute

# Who records a metric the rules read: the application's OpenTelemetry SDK, the Collector bridge
# dashgen generates (signaltometrics, from the spans), or the framework's own instrument.
METRIC_SOURCES = ("sdk", "bridge", "framework")

# OpenTelemetry SDK default explicit bucket boundaries (the histogram's default view, made
# for milliseconds), and the semantic conventions' advice for durations in seconds.
OTEL_DEFAULT_BUCKETS = (0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000)
OTEL_SECONDS_BUCKETS = (0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
_UNIT_BUCKETS = {"s": OTEL_SECONDS_BUCKETS,
                 "us": tuple(b * 1000 for b in OTEL_DEFAULT_BUCKETS),
                 "ns": tuple(b * 1000000 for b in OTEL_DEFAULT_BUCKETS)}


def default_buckets(unit: str) -> tuple[float, ...]:
    """The histogram boundaries a measurement in ``unit`` gets when the catalog names none."""
    return tuple(float(b) for b in _UNIT_BUCKETS.get(unit, OTEL_DEFAULT_BUCKETS))


# --- OpenTelemetry -> Prometheus names (prometheus/otlptranslator) ------------------------------
#
# A port of what Prometheus' OTLP receiver, the Collector's prometheus and prometheusremotewrite
# exporters and Mimir all run: prometheus/otlptranslator with its default translation strategy
# UnderscoreEscapingWithSuffixes (strategy.go). Read at metric_namer.go @0d792268 (normalizeName,
# addUnitTokens), unit_namer.go @36c47458 (buildUnitSuffixes: a unit in {braces} adds nothing)
# and label_namer.go @09983983. dashgen's metric names are chosen so that this translation leaves
# them as they are: the SDK instruments and the generated Collector bridge both send those names,
# and the tests check that what Prometheus stores is what the rules read.

OTLP_UNIT_WORDS: Mapping[str, str] = MappingProxyType({  # otlptranslator's unitMap
    "d": "days", "h": "hours", "min": "minutes", "s": "seconds", "ms": "milliseconds", "us": "microseconds",
    "ns": "nanoseconds", "By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "GiBy": "gibibytes",
    "TiBy": "tibibytes", "KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes", "TBy": "terabytes",
    "m": "meters", "V": "volts", "A": "amperes", "J": "joules", "W": "watts", "g": "grams",
    "Cel": "celsius", "Hz": "hertz", "1": "", "%": "percent",
})
OTLP_PER_UNIT_WORDS: Mapping[str, str] = MappingProxyType({  # otlptranslator's perUnitMap
    "s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year",
})
OTLP_KINDS = ("histogram", "counter", "gauge", "updown")  # counter = monotonic sum; updown = non-monotonic


def _otlp_unit_words(unit: str) -> tuple[str, str]:
    """buildUnitSuffixes + cleanUpUnit: (main word, ``per_<word>``), empty for ``{...}`` units."""
    parts = unit.split("/", 1)
    main = parts[0].strip()
    main_word = OTLP_UNIT_WORDS.get(main, main) if main and not any(c in main for c in "{}") else ""
    per_word = ""
    if len(parts) > 1 and parts[1].strip() and not any(c in parts[1] for c in "{}"):
        per = parts[1].strip()
        per_word = "per_" + OTLP_PER_UNIT_WORDS.get(per, per)

    def clean(word: str) -> str:
        return re.sub(r"__+", "_", re.sub(r"[^a-zA-Z0-9:]", "_", word)).removeprefix("_")
    return clean(main_word), clean(per_word)


def otlp_metric_name(name: str, unit: str, kind: str) -> str:
    """The Prometheus name of an OpenTelemetry metric ``name`` in UCUM ``unit`` (``kind``: one of
    ``OTLP_KINDS``), as otlptranslator's UnderscoreEscapingWithSuffixes writes it (histogram series
    then add ``_bucket``/``_sum``/``_count``): ``audio.first_byte`` in ``ms`` ->
    ``audio_first_byte_milliseconds``; counter ``audio.stage.runs`` -> ``audio_stage_runs_total``.

    Tokens are the runs of ``[a-zA-Z0-9:]`` (so ``.``, ``_`` and ``__`` all become one ``_``); the unit
    word is appended unless it already is a token; ``_total`` only for a monotonic counter (an existing
    ``total`` token moves to the end); ``_ratio`` only for a gauge in unit ``1``."""
    if kind not in OTLP_KINDS:
        raise ValueError(f"unknown metric kind {kind!r}")
    tokens = [t for t in re.split(r"[^a-zA-Z0-9:]+", name) if t]
    main, per = _otlp_unit_words(unit)
    if main in tokens:
        main = ""
    if per == "per_":
        per = ""
    else:
        per = per.removesuffix("_")
        if per in tokens:
            per = ""
    if per:
        main = main.removesuffix("_")
    tokens += [w for w in (main, per) if w]
    if kind == "counter":
        tokens = [t for t in tokens if t != "total"] + ["total"]
    if unit == "1" and kind == "gauge":
        tokens = [t for t in tokens if t != "ratio"] + ["ratio"]
    out = "_".join(tokens)
    return "_" + out if out[:1].isdigit() else out


def label_name(attribute: str) -> str:
    """A span attribute as a Prometheus label name, as otlptranslator's LabelNamer writes it:
    ``audio.stage`` -> ``audio_stage``; a leading digit gets ``key_``, a single leading ``_`` ``key``."""
    name = re.sub(r"[^a-zA-Z0-9_]", "_", attribute)
    if name[:1].isdigit():
        return "key_" + name
    if name.startswith("_") and not name.startswith("__"):
        return "key" + name
    return name


def otel_metric_name(attribute: str, unit: str) -> str:
    """The OpenTelemetry name dashgen gives the histogram of a measurement attribute: the attribute
    without the ending that spells its unit (``audio.first_byte_ms`` in ms -> ``audio.first_byte``)."""
    base = attribute
    for suffix in UNITS[unit].suffixes:
        if base.lower().endswith(suffix) and len(base) > len(suffix):
            return base[: -len(suffix)]
    return base


def prometheus_name(attribute: str, unit: str) -> str:
    """OpenTelemetry -> Prometheus histogram name of a measurement attribute in ``unit``
    (``audio.first_byte_ms`` in ms -> ``audio_first_byte_milliseconds``): ``otel_metric_name``
    through ``otlp_metric_name``."""
    return otlp_metric_name(otel_metric_name(attribute, unit), UNITS[unit].ucum, "histogram")


def stage_label(stage_attribute: str | None) -> str:
    """The metric label holding the stage id: the stage attribute as a label name, else ``stage``."""
    return label_name(stage_attribute) if stage_attribute else DEFAULT_STAGE_LABEL


def counter_name(stage_attribute: str | None, catalog_name: str, kind: str) -> str:
    """``<ns>_stage_<kind>_total`` (kind: runs, errors, nothing); ns is the stage attribute's
    first word (``audio``), else the catalog's name."""
    ns = label_name(stage_attribute.split(".")[0]) if stage_attribute else catalog_name
    return f"{ns}_stage_{kind}_total"


# Sloth's recording-rule names and labels (slok/sloth pkg/common/conventions/slo.go), so Sloth's
# Grafana dashboards and tooling read dashgen's SLO series unchanged.
SLOTH_SLI_ERROR = "slo:sli_error:ratio_rate{window}"  # PromSLIErrorMetricFmt
SLOTH_OBJECTIVE = "slo:objective:ratio"
SLOTH_ERROR_BUDGET = "slo:error_budget:ratio"
SLOTH_TIME_PERIOD = "slo:time_period:days"
SLOTH_CURRENT_BURN = "slo:current_burn_rate:ratio"
SLOTH_PERIOD_BURN = "slo:period_burn_rate:ratio"
SLOTH_BUDGET_REMAINING = "slo:period_error_budget_remaining:ratio"
SLOTH_ID_LABELS = ("sloth_id", "sloth_service", "sloth_slo")
SLOTH_WINDOW_LABEL = "sloth_window"
# What Sloth's own backend lists SLOs by (internal/http/backend/storage/prometheus/cache.go): the
# info series (PromMetaSLOInfoMetric, its objective label in percent) and the alerts' severity.
SLOTH_INFO = "sloth_slo_info"
SLOTH_SEVERITY_LABEL = "sloth_severity"
SLOTH_OBJECTIVE_LABEL = "sloth_objective"


def sli_error_record(window: str) -> str:
    """``slo:sli_error:ratio_rate5m``: the recorded share of bad events over ``window``."""
    return SLOTH_SLI_ERROR.format(window=window)


# --- uids -------------------------------------------------------------------------------------

# The dashboards that are not a stage's, by key (uid = <uid_prefix>-<key>); the alert rules and
# SLO dashboards of a large catalog have pages <key>-page-<n> (dashboards/budget.py). A stage's
# dashboard is keyed by its id with - for _, so a stage id that maps onto one of these keys is
# refused in the catalog, at its line (it would overwrite that dashboard).
DASHBOARD_KEYS = {"overview": "the overview", "session": "the session drilldown", "alerts": "the alert rules",
                  "slo": "the SLO dashboard"}
PAGED_DASHBOARD_KEYS = ("alerts", "slo")
_RESERVED_KEY_RE = re.compile(r"(?:%s)|(?:%s)-page-[0-9]+" % ("|".join(DASHBOARD_KEYS),
                                                               "|".join(PAGED_DASHBOARD_KEYS)))


def stage_dashboard_key(stage_id: str) -> str:
    return stage_id.replace("_", "-")


def reserved_dashboard(stage_id: str) -> str | None:
    """What generated dashboard a stage with this id would overwrite, or None."""
    key = stage_dashboard_key(stage_id)
    if not _RESERVED_KEY_RE.fullmatch(key):
        return None
    return DASHBOARD_KEYS.get(key) or f"a page of {DASHBOARD_KEYS[key.partition('-')[0]]}"


UID_PATTERN = r"[a-zA-Z0-9_-]{1,40}"  # Grafana: at most 40 characters of these
UID_RE = re.compile(UID_PATTERN)
UID_HINT = "use [a-zA-Z0-9_-], at most 40 characters"


def make_uid(*parts: str) -> str:
    """``prefix-part-part``: lower-case, ``_`` and ``.`` as ``-``; past Grafana's 40 characters,
    31 of them plus a stable hash of the whole.

    The hash is sha1 (an identifier, not a secret), cut to 8 hex digits: the rule uids, which
    grow past 40 characters first (stage + measurement + quantile + ``traces``), always used it,
    so their uids (and the runbook anchors built on them) stay as they were. No bundled catalog
    has a dashboard uid that long."""
    uid = "-".join(p.replace("_", "-").replace(".", "-") for p in parts if p).lower()
    uid = re.sub(r"[^a-zA-Z0-9_-]", "-", uid)
    if len(uid) > 40:
        uid = uid[:31].rstrip("-") + "-" + hashlib.sha1(uid.encode()).hexdigest()[:8]
    if not UID_RE.fullmatch(uid):
        raise ValueError(f"uid {uid!r} is not valid ({UID_HINT})")
    return uid


# --- durations --------------------------------------------------------------------------------

DURATION_PATTERN = r"[1-9][0-9]*(s|m|h|d)"  # what a catalog (and so every generated query) uses
DURATION_RE = re.compile(DURATION_PATTERN)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(duration: str) -> int:
    """``5m`` -> 300. Also ``0s`` (a rule's "fire at once" ``for``)."""
    count, unit = duration[:-1], duration[-1:]
    if unit not in _SECONDS or not (count.isascii() and count.isdigit()):
        raise ValueError(f"not a duration: {duration!r}")
    return int(count) * _SECONDS[unit]


# --- numbers ----------------------------------------------------------------------------------

def format_number(value: float) -> str:
    """The shortest text that reads back as ``value``, never in exponent form: ``350``, ``0.95``,
    ``0.0001``. Queries need it exact; texts say the same number as their queries."""
    text = repr(float(value))
    if text.endswith(".0"):
        text = text[:-2]
    if "e" in text:
        text = f"{value:.12f}".rstrip("0").rstrip(".")
    return text


def format_percent(share: float) -> str:
    """``0.05`` -> ``5%``, ``0.995`` -> ``99.5%`` (rounded to 6 decimals: 0.07 * 100 is not 7)."""
    return format_number(round(float(share) * 100, 6)) + "%"


def quantile_label(q: float) -> str:
    """``0.95`` -> ``p95``; ``0.999`` -> ``p99.9``."""
    return f"p{round(q * 100, 6):g}"
