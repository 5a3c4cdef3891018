"""The rule model: what each alert or recording rule evaluates, independent of its output form.

A rule's condition is data, not a tuple to decode later: a ``Condition`` compares a typed
``Signal`` (what the expression measures: a histogram quantile, a counter ratio, a bad-event
ratio, a TraceQL quantile) with a threshold in a unit. An alert fires while any row of its
``when`` holds entirely (a disjunction of conjunctions): one row of one condition for a
threshold alert, one row per window pair for a multiwindow burn-rate alert. The output forms
(``grafana``, ``provisioning``, ``prometheus``) and the generated promtool tests read the same
conditions; each signal renders its own query through the checked builders in ``queries``.
"""

from __future__ import annotations

import re
from functools import cached_property, reduce

from ..records import dataclass  # dataclasses' decorator without generated code (start-up)
from ..catalog.conventions import SLOTH_WINDOW_LABEL, make_uid
from ..catalog.model import Catalog, Metric, Slo
from ..queries import promql


# group key -> what it holds; output order
GROUPS = ("latency", "errors", "absence", "slo-recording", "slo-burn", "traces")

class Signal:
    """What a query measures. Subclasses are frozen dataclasses with an ``expr`` property.

    Prometheus signals carry ``extra`` (the catalog's ``prometheus.matchers``, rendered) on
    every selector, and those built from events a ``Guard``: the expression holds only where
    the window saw ``min_events`` events, so tiny traffic cannot page.
    """

    datasource = "prometheus"  # "prometheus" | "tempo"
    recorded: str | None = None  # a recorded series holding the same value, when there is one
    extra: tuple[str, ...] = ()

    def guard(self, expr: str) -> str:
        g = getattr(self, "events", None)
        if g is None:
            return expr
        return promql.guarded(expr, g.counter, g.label, g.stage, g.window, g.min_events, self.extra)


@dataclass(frozen=True)
class Guard:
    """At least ``min_events`` increments of ``counter`` for ``stage`` within ``window``."""

    counter: str
    label: str | None  # None: a framework histogram's _count, which has no stage label
    stage: str
    window: str
    min_events: int


@dataclass(frozen=True)
class HistogramQuantile(Signal):
    """``histogram_quantile(q, ...)`` over one stage's histogram."""

    metric: Metric
    stage: str
    q: float
    window: str
    extra: tuple[str, ...] = ()
    events: Guard | None = None

    @cached_property
    def expr(self) -> str:
        return self.guard(promql.quantile(self.metric.name, self.metric.label, self.stage, self.q, self.window,
                                          self.extra))

    @property
    def series_labels(self) -> dict[str, str]:
        return stage_labels(self.metric, self.stage)


def stage_labels(metric: Metric, stage: str) -> dict[str, str]:
    """The labels a query over one stage's histogram keeps: the stage label, when it has one."""
    return {metric.label: stage} if metric.label is not None else {}


@dataclass(frozen=True)
class SloIds:
    """An SLO's identity in Sloth's labels: ``sloth_service`` (the catalog's uid prefix), ``sloth_slo``
    (stage and measurement) and ``sloth_id``, both joined; every SLO series carries all three."""

    service: str
    name: str

    @property
    def id(self) -> str:
        return f"{self.service}-{self.name}"

    @property
    def labels(self) -> dict[str, str]:
        return {"sloth_id": self.id, "sloth_service": self.service, "sloth_slo": self.name}

    def select(self, record: str) -> str:
        """One recorded SLO series of this SLO (selected by ``sloth_id``)."""
        return promql.selector(record, promql.matcher("sloth_id", "=", self.id))


@dataclass(frozen=True)
class CounterRatio(Signal):
    """Share of one counter in another for one stage (errors / runs)."""

    numerator: str
    denominator: str
    label: str
    stage: str
    window: str
    extra: tuple[str, ...] = ()
    events: Guard | None = None

    @cached_property
    def expr(self) -> str:
        return self.guard(promql.counter_ratio(self.numerator, self.denominator, self.label, self.stage, self.window,
                                               self.extra))

    @property
    def series_labels(self) -> dict[str, str]:
        return {self.label: self.stage}


class RecordedSli(Signal):
    """An SLO's bad-event ratio over one window (``ids``, ``record``): the recording rule keeps it as
    Sloth's ``slo:sli_error:ratio_rate<window>``, and ``recorded`` selects that series without
    ``sloth_window``, so the windows of one alert compare and join as one series."""

    @cached_property
    def recorded(self) -> str:
        return promql.without("max", (SLOTH_WINDOW_LABEL,), self.ids.select(self.record))


@dataclass(frozen=True)
class BadEventRatio(RecordedSli):
    """Share of one stage's measurements above an SLO threshold (a bucket boundary).

    ``record`` names the recording rule that keeps this ratio (Sloth's
    ``slo:sli_error:ratio_rate<window>``, labelled with the SLO's ``SloIds`` and ``sloth_window``);
    the Prometheus form alerts on that series (the workbook's form), without ``sloth_window`` so
    the windows of one alert compare and join as one series, as Sloth's alerts do. The recorded
    ratio carries the guard too: no series while the window holds too few events.
    """

    metric: Metric
    stage: str
    threshold: float
    window: str
    ids: SloIds
    record: str
    extra: tuple[str, ...] = ()
    events: Guard | None = None

    @cached_property
    def expr(self) -> str:
        return self.guard(promql.bad_ratio(self.metric.name, self.metric.label, self.stage, self.threshold,
                                           self.window, self.extra))

    @property
    def series_labels(self) -> dict[str, str]:
        """The labels of the inline ratio (the alerts' form): the stage label only; the recorded
        series add the SLO's ``SloIds`` labels."""
        return stage_labels(self.metric, self.stage)


@dataclass(frozen=True)
class TurnBadRatio(RecordedSli):
    """Share of judged turns that were not good (``voice.good_turn``): one minus good turns over judged
    turns, from the two counters of ``good_turn.counters``. Recorded like ``BadEventRatio`` (Sloth's
    ``slo:sli_error:ratio_rate<window>`` with the SLO's ``SloIds``), and guarded by judged turns."""

    turns: str
    good: str
    window: str
    ids: SloIds
    record: str
    extra: tuple[str, ...] = ()
    events: Guard | None = None

    @cached_property
    def expr(self) -> str:
        return self.guard(promql.turn_bad_ratio(self.turns, self.good, self.window, self.extra))

    @property
    def series_labels(self) -> dict[str, str]:
        return {}


@dataclass(frozen=True)
class SloSeries(Signal):
    """A series derived from an SLO's recorded ratios (Sloth's meta recordings: objective, budget,
    burn rates, budget remaining); ``expr`` is built by ``promql``'s SLO builders."""

    expr: str


@dataclass(frozen=True)
class StageEvents(Signal):
    """How many events one stage had (its counter's increase) over a window that ended ``offset`` ago."""

    counter: str
    label: str
    stage: str
    window: str
    offset: str | None = None
    extra: tuple[str, ...] = ()

    @cached_property
    def expr(self) -> str:
        return promql.events(self.counter, self.label, self.stage, self.window, self.extra, self.offset)

    @property
    def series_labels(self) -> dict[str, str]:
        return {self.label: self.stage}


@dataclass(frozen=True)
class Absent(Signal):
    """1 while a stage's counter has had no sample for ``window``: its telemetry is missing."""

    counter: str
    label: str
    stage: str
    window: str
    extra: tuple[str, ...] = ()
    matcher_labels: tuple[tuple[str, str], ...] = ()  # absent_over_time keeps equality matchers as labels

    @cached_property
    def expr(self) -> str:
        return promql.stage_absent(self.counter, self.label, self.stage, self.window, self.extra)

    @property
    def series_labels(self) -> dict[str, str]:
        return {self.label: self.stage, **dict(self.matcher_labels)}


@dataclass(frozen=True)
class PromQuery(Signal):
    """A whole rule expression as one Prometheus query (a Grafana-managed rule's data query)."""

    expr: str


@dataclass(frozen=True)
class TraceQuantile(Signal):
    """A TraceQL metrics quantile on Tempo (Grafana-managed rules only); ``q`` is its quantile,
    the ``p`` label of the series Tempo returns (what the alert panel renames)."""

    query: str
    q: float | None = None
    datasource = "tempo"

    @property
    def expr(self) -> str:
        return self.query


@dataclass(frozen=True)
class Condition:
    """``signal op value``: the value in ``unit`` (a measurement's unit, or "ratio")."""

    signal: Signal
    op: str  # one of promql.COMPARE_OPS
    value: float
    unit: str

    def __post_init__(self):
        if self.op not in promql.COMPARE_OPS:
            raise ValueError(f"unknown comparison {self.op!r}")


@dataclass(frozen=True)
class Recording:
    """A recording rule: keep ``signal`` as the series ``metric``."""

    metric: str
    signal: Signal


@dataclass(frozen=True)
class Rule:
    """One alert (``when``) or recording rule (``records``), independent of its output form."""

    uid: str
    title: str  # Grafana title
    group: str  # key in GROUPS
    stage: str
    labels: dict
    annotations: dict  # summary, description, runbook_url (none for recording rules)
    when: tuple[tuple[Condition, ...], ...] = ()
    records: Recording | None = None
    for_: str = "0s"
    name: str = ""  # Prometheus alert name (CamelCase); empty for recording rules
    panel: tuple[str, int] | None = None  # (dashboard uid, panel id) the alert links to
    receiver: str | None = None
    slo: Slo | None = None  # burn-rate alerts: the SLO whose budget they guard

    def __post_init__(self):
        if (self.records is None) == (not self.when):
            raise ValueError(f"rule {self.uid}: needs exactly one of when and records")

    @property
    def is_alert(self) -> bool:
        return self.records is None

    @property
    def signals(self) -> tuple[Signal, ...]:
        """The distinct signals the rule reads, in order (one query each)."""
        if self.records is not None:
            return (self.records.signal,)
        return tuple(dict.fromkeys(c.signal for row in self.when for c in row))

    @cached_property
    def expr(self) -> str:
        """THE query of the rule, in both forms: what a recording rule records; for an alert, its
        ``when`` as one expression (comparisons joined with ``and`` within a row, rows with ``or``).
        The Prometheus form evaluates it as its ``expr``, the Grafana-managed form as its one data
        query (``grafana.grafana_data``), so what promtool proves holds for both."""
        if self.records is not None:
            return self.records.signal.expr
        rows = [reduce(lambda left, right: promql.logical("and", left, right),
                       [promql.compare(c.signal.expr, c.op, c.value) for c in row])
                for row in self.when]
        return reduce(lambda left, right: promql.logical("or", left, right), rows)

    @property
    def prometheus(self) -> bool:
        """Whether Prometheus can evaluate it (no Tempo query)."""
        return all(s.datasource == "prometheus" for s in self.signals)


@dataclass(frozen=True)
class RuleSet:
    catalog: Catalog
    rules: tuple[Rule, ...]

    def group_name(self, key: str) -> str:
        return f"{self.catalog.uid_prefix}-{key}"

    def groups(self) -> list[tuple[str, list[Rule]]]:
        out = []
        for key in GROUPS:
            rs = [r for r in self.rules if r.group == key]
            if rs:
                out.append((key, rs))
        return out


# --- naming -----------------------------------------------------------------------------------

def rule_uid(catalog: Catalog, *parts: str) -> str:
    """Stable uid: ``<prefix>-<parts>``; longer than 40 characters -> shortened with a hash."""
    return make_uid(catalog.uid_prefix, *parts)


def camel(*parts: str) -> str:
    """A Prometheus alert name from words: ``voice tts first_byte`` -> ``VoiceTtsFirstByte``."""
    words = re.split(r"[^A-Za-z0-9]+", " ".join(parts))
    return "".join(w[:1].upper() + w[1:] for w in words if w)
