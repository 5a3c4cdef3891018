"""The validated catalog as frozen dataclasses: what every later stage of the pipeline reads.

``load`` builds them in one pass once the document has passed its checks, with every default
already applied: each ``Measurement`` carries its Prometheus ``Metric`` and the ``Catalog``
its ``Alerting`` settings, so no reader has to work a name or a default out again.
"""

from __future__ import annotations

from typing import Mapping

from ..records import dataclass, derived  # dataclasses' decorator without generated code (start-up)
from .conventions import UNITS, quantile_label, seconds
from .spec import DEFAULT_QUANTILES
from .yamlspec import Loc

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
class Metric:
    """The Prometheus histogram of one measurement, as its source (``METRIC_SOURCES``) writes it.

    ``label`` holds the stage id; None for a framework's own histogram, which is one per
    measurement (LiveKit's ``lk_agents_turn_*``), so queries select it by name alone.
    ``labels`` are the other labels its series carry; every query sums them away."""

    name: str
    label: str | None
    buckets: tuple[float, ...]
    source: str = "sdk"
    labels: tuple[str, ...] = ()

    @property
    def bucket(self) -> str:
        return self.name + "_bucket"

    @property
    def count(self) -> str:
        return self.name + "_count"


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
    metric: Metric
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    panels: tuple[str, ...] = ("quantiles",)

    @property
    def grafana_unit(self) -> str:
        return UNITS[self.unit].grafana

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
class Slo:
    """A latency SLO; its burn-rate windows, keyed by ``window``, are in ``dashgen.voice.burn_rates``."""

    measurement: str
    objective: float
    threshold: float
    window: str

    @property
    def budget(self) -> float:
        return round(1 - self.objective, 12)


@dataclass(frozen=True)
class GoodTurn:
    """The catalog's good-turn SLI and SLO, as declared (limits in ms); what a good turn is, and which
    measurements judge it, is in ``dashgen.voice.good_turn``."""

    latency_ms: float
    latency: str | None  # "<stage>.<measurement>" holding the caller-felt latency; None: the default
    barge_in_silence_ms: float
    objective: float
    window: str
    attribute: str
    turns_metric: str
    good_metric: str


@dataclass(frozen=True)
class Flag:
    """A boolean span attribute of a stage, read as the share of its spans where it is true."""

    id: str
    attribute: str
    title: str
    meaning: str


@dataclass(frozen=True)
class Stage:
    id: str
    span: str
    title: str
    first_byte: str
    description: str
    measurements: tuple[Measurement, ...]
    slo: Slo | None = None
    flags: tuple[Flag, ...] = ()
    records_errors: bool = True
    # As declared (None: not given); what they mean, defaults included: dashgen.voice.roles
    role: str | None = None
    critical_path: bool | None = None
    in_turn: bool = True  # the span is inside the turn span (false: a stage of the session, outside any turn)

    def measurement(self, mid: str) -> Measurement | None:
        for m in self.measurements:
            if m.id == mid:
                return m
        return None

    def attributes(self) -> tuple[str, ...]:
        return tuple(m.attribute for m in self.measurements) + tuple(f.attribute for f in self.flags)


@dataclass(frozen=True)
class RateAlert:
    above: float
    for_: str
    severity: str


@dataclass(frozen=True)
class Absence:
    """The alerts on missing data: their own ``for`` and severity (a ticket by default)."""

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
    source: str  # who records the stage histograms and counters: sdk | bridge
    runs_metric: str
    errors_metric: str
    nothing_metric: str
    error_rate: RateAlert
    nothing_rate: RateAlert
    tempo_rules: bool
    min_events: int = 10  # fewest events per window before a ratio, quantile or burn rate may alert
    absence: Absence = Absence("15m", "ticket")
    # SLO recording rules in the Grafana-managed forms too: "auto" (where the instance takes them),
    # True (required: push refuses an instance without the toggle) or False (never written)
    grafana_recording_rules: str | bool = "auto"

    @property
    def interval_seconds(self) -> int:
        return seconds(self.interval)


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
class TempoServer:
    """The oldest Tempo the dashboards must work on, and its TraceQL metrics range limit."""

    version: str = "2.6"  # "major.minor"
    metrics_max_range: str = "3h"  # query_frontend.metrics.max_duration

    @property
    def version_tuple(self) -> tuple[int, int]:
        major, minor = self.version.split(".")
        return int(major), int(minor)


@dataclass(frozen=True)
class PromMatcher:
    """An extra label matcher of every PromQL query: ``label="value"`` in rules, a variable in panels."""

    label: str
    value: str


@dataclass(frozen=True)
class FrameworkPin:
    """The framework version a catalog describes (``framework:``); its names: catalog/frameworks.py."""

    name: str  # the package, e.g. livekit-agents
    version: str  # "major.minor"


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
    alerting: Alerting
    locations: Mapping[tuple, Loc]
    tempo_server: TempoServer = TempoServer()
    prom_matchers: tuple[PromMatcher, ...] = ()
    # Definition files (``definitions:``), resolved against the catalog's folder, in order.
    definitions: tuple[str, ...] = ()
    # convention.attributes: span attributes only user definitions use (group-by dimensions).
    extra_attributes: tuple[str, ...] = ()
    # framework: the framework version whose span and attribute names the catalog reads (None: not pinned).
    framework: FrameworkPin | None = None
    # convention.interrupted_attribute: true on a turn the user interrupted (dashgen.voice.interrupted)
    interrupted_attribute: str = "audio.interrupted"
    interrupted_on_stage_spans: bool = True
    # good_turn: the good-turn SLI and SLO, when the catalog declares one (dashgen.voice.good_turn).
    good_turn: GoodTurn | None = None

    def stage(self, sid: str) -> Stage:
        for s in self.stages:
            if s.id == sid:
                return s
        raise KeyError(sid)

    def has_stage(self, sid: str) -> bool:
        return any(s.id == sid for s in self.stages)

    @derived
    def span_attributes(self) -> frozenset[str]:
        """Every span attribute (unscoped) the catalog declares."""
        names = {self.session_attribute, self.turn_attribute}
        names.update(a for a in (self.stage_attribute, self.error_attribute) if a)
        names.update(self.extra_attributes)
        names.add(self.interrupted_attribute)
        if self.good_turn is not None:
            names.add(self.good_turn.attribute)
        for s in self.stages:
            names.update(s.attributes())
        return frozenset(names)

    def loc(self, *path) -> Loc:
        return self.locations.get(tuple(path), Loc(1, 1))
