"""One synthetic voice service that every preview panel reads, so the pictures agree with each other.

A panel's numbers are not drawn per panel: they come from one model of the service, seeded by
the names of what is measured (never by the panel), so the overview's "TTS p95 now" is the TTS
dashboard's p95, and the relations a real system cannot break hold everywhere:

- each measurement of a stage is lognormal around a median that moves with time (a slow wave and
  one incident per stage); quantiles are quantiles of that distribution, so p50 <= p95 <= p99;
- a stage's ``total`` is its ``first_byte`` times a factor of at least 1, so every quantile of
  the total is at least the same quantile of the first byte;
- the caller-felt latency (``voice.roles.caller_felt``) is the sum of the critical-path first
  bytes (``voice.roles.response_chain``) plus what no stage measures (``WHOLE_OVER_PARTS``): every
  spread is the same, so each quantile of the whole is that share above the sum of the parts' same
  quantile, and the turn breakdown's remainder is positive, as in a healthy pipeline;
- span rates nest: turns >= spans of a stage >= its produced-nothing, error and "above N" spans
  (the last from the same distribution), and every ratio is in [0, 1];
- barge-in milestones all count from VAD firing, so each is the last one's distribution scaled
  by a fraction that grows with the milestone: every quantile of VAD confirmed <= cancelled <=
  outbound silent, at every moment;
- a measurement with an SLO is spread so that, healthy, it spends a fixed part of its error
  budget over the period (``SLO_BUDGET_SPENT``), and faster during its incident: the SLI stays in
  [0, 1], the budget remaining at most 100%, on the SLO dashboard and the stage's alike.

The level of a measurement is its catalog threshold (p95 sits near it and crosses it during the
incident), or a default by unit.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from functools import lru_cache
from statistics import NormalDist

N_POINTS = 96  # points across the dashboard's time range (Hints.range_s)
DEFAULT_RANGE_S = 6 * 3600.0  # Grafana's default time range, now-6h
SIGMA = 0.3  # spread of log(value): p95 = 1.64 x median, p99 = 2 x median
MEDIAN_OF_LEVEL = 0.5  # the median sits at half the limit: p95 at 0.82 of it, p99 at it
TOTAL_OVER_FIRST_BYTE = 1.8
WHOLE_OVER_PARTS = 1.2  # caller-felt = sum of the critical-path first bytes + 20% transport and playout
TURNS_PER_SECOND = 3.0
SLO_BUDGET_SPENT = 0.4  # the share of the error budget a healthy stage spends over the SLO period
_NORMAL = NormalDist()


def attr_key(name: str) -> str:
    """span.audio.first_byte_ms -> audio.first_byte_ms (how the catalog names attributes)."""
    for prefix in ("span.", "resource.", "."):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def rng(*parts) -> "object":
    import numpy as np

    seed = int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:8], "big")
    return np.random.default_rng(seed)


def default_level(unit: str | None, attr: str | None) -> float:
    name = attr or ""
    if unit in ("percent",) or name.endswith("_pct"):
        return 20.0
    if unit == "percentunit":
        return 0.2
    if unit in ("reqps", "ops", "cps"):
        return 6.0
    if unit == "s" or name.endswith("_s"):
        return 0.4
    if unit == "ms" or name.endswith("_ms"):
        return 200.0
    if unit == "us" or name.endswith("_us"):
        return 400.0
    return 50.0


@dataclass
class Hints:
    """What the catalog says about values: level, unit and kind per (stage, attribute)."""

    levels: dict[tuple[str | None, str], float] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    kinds: dict[tuple[str, str], str] = field(default_factory=dict)  # (stage, attribute) -> measurement id
    integers: set[str] = field(default_factory=set)
    metrics: dict[str, str] = field(default_factory=dict)  # Prometheus metric name -> attribute
    stage_attr: str | None = None
    stage_values: list[str] = field(default_factory=list)
    span_names: list[str] = field(default_factory=list)
    turn_span: str | None = None
    nothing_value: str = "-1"
    range_s: float = DEFAULT_RANGE_S  # the dashboard's time range (now-6h: 21600)
    # (stage, attribute) -> (position, count, the last milestone's attribute): barge-in milestones
    milestones: dict[tuple[str, str], tuple[int, int, str]] = field(default_factory=dict)
    slos: dict[str, "SloHint"] = field(default_factory=dict)  # sloth_id -> what the SLO measures
    # (stage, attribute) of the caller-felt latency -> the (stage, attribute) parts it adds up
    wholes: dict[tuple[str, str], tuple[tuple[str, str], ...]] = field(default_factory=dict)
    good_turns: str | None = None  # the good-turn SLI's good counter (voice.good_turn), when the catalog has one
    verdict: str | None = None  # the good-turn verdict's span attribute (1 good, 0 not), on turn spans
    booleans: set[str] = field(default_factory=set)  # boolean span attributes (stage flags): grouped, true or false
    never_fail: set[str] = field(default_factory=set)  # stages whose spans never mark a failure (voice.errors)
    error_attr: str | None = None  # the catalog's error attribute (voice.errors): true on a failed span
    metric_stage_label: str | None = None  # the catalog's alerting.stage_label: the metrics' stage label

    @property
    def prometheus_stage_label(self) -> str | None:
        """The stage label of the metrics: the catalog's (``alerting.stage_label``, e.g. Pipecat's ``stage``,
        whose spans have no stage attribute), else the stage attribute as the bridge names it
        (``audio.stage`` -> ``audio_stage``)."""
        if self.metric_stage_label:
            return self.metric_stage_label
        return self.stage_attr.replace(".", "_") if self.stage_attr else None

    def for_range(self, time_from: object) -> "Hints":
        """These hints over a dashboard's time range (``now-3h``); any other form keeps 6 h."""
        import re
        from dataclasses import replace

        m = re.fullmatch(r"now-(\d+)([smhdw])", str(time_from or ""))
        if not m:
            return self
        return replace(self, range_s=float(int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400,
                                                               "w": 604800}[m.group(2)]))

    @classmethod
    def from_catalog(cls, catalog) -> "Hints":
        from ...voice.errors import is_counted, stage_error

        h = cls()
        if catalog is None:
            return h
        h.stage_attr = catalog.stage_attribute
        h.metric_stage_label = catalog.alerting.stage_label
        h.error_attr = stage_error(catalog).attribute
        h.stage_values = [s.id for s in catalog.stages]
        h.span_names = [s.span for s in catalog.stages]
        h.turn_span = catalog.turn_span
        h._add_whole(catalog)
        if catalog.good_turn is not None:
            h.good_turns, h.verdict = catalog.good_turn.good_metric, catalog.good_turn.attribute
        h._add_good_turn_slo(catalog)
        for s in catalog.stages:
            h._add_milestones(catalog, s)
            h._add_slo(catalog, s)
            h.booleans.update(f.attribute for f in s.flags)
            if not is_counted(s):
                h.never_fail.add(s.id)
            for m in s.measurements:
                limit = next((t.value for t in m.thresholds), None) or m.bad_above
                h.units.setdefault(m.attribute, m.unit)
                h.kinds[(s.id, m.attribute)] = m.id
                if m.integer:
                    h.integers.add(m.attribute)
                if m.metric is not None:
                    h.metrics.setdefault(m.metric.name, m.attribute)
                if m.nothing_value is not None:
                    h.nothing_value = str(int(m.nothing_value))
                if limit:
                    h.levels[(s.id, m.attribute)] = float(limit)
                    h.levels.setdefault((None, m.attribute), float(limit))
        return h

    def _add_milestones(self, catalog, stage) -> None:
        from ...voice.barge_in import applies, milestones

        if applies(stage, catalog):
            ms = milestones(stage)
            for i, m in enumerate(ms):
                self.milestones[(stage.id, m.attribute)] = (i, len(ms), ms[-1].attribute)

    def _add_whole(self, catalog) -> None:
        from ...voice.roles import caller_felt, response_chain

        felt = caller_felt(catalog)
        parts = tuple((s.id, s.measurement("first_byte").attribute) for s in response_chain(catalog)
                      if felt is None or s is not felt[0])
        if felt is not None and parts:
            self.wholes[(felt[0].id, felt[1].attribute)] = parts

    def _add_slo(self, catalog, stage) -> None:
        if stage.slo is None:
            return
        from ...alerts.slo import slo_ids
        from ...catalog.conventions import seconds

        m = next((m for m in stage.measurements if m.id == stage.slo.measurement), None)
        if m is not None:
            self.slos[slo_ids(catalog, stage).id] = SloHint(stage.id, m.attribute, float(stage.slo.threshold),
                                                            float(stage.slo.objective), seconds(stage.slo.window))

    def _add_good_turn_slo(self, catalog) -> None:
        """The good-turn SLO (``voice.good_turn``): its recorded series follow the bad-turn share."""
        if catalog.good_turn is None:
            return
        from ...alerts.slo import GOOD_TURN_STAGE, good_turn_ids
        from ...catalog.conventions import seconds

        g = catalog.good_turn
        self.slos[good_turn_ids(catalog).id] = SloHint(GOOD_TURN_STAGE, "", 0.0, float(g.objective),
                                                       seconds(g.window), turns=True)

    def level(self, stage: str | None, attr: str | None) -> float | None:
        if not attr:
            return None
        key = attr_key(attr)
        return self.levels.get((stage, key)) or self.levels.get((None, key))

    def kind(self, stage: str | None, attr: str) -> str:
        key = attr_key(attr)
        found = self.kinds.get((stage, key)) if stage else None
        found = found or next((k for (_, a), k in self.kinds.items() if a == key), None)
        return found or ("total" if "total" in key else "first_byte" if "first_byte" in key else key)

    def slo_of(self, stage: str | None, attr: str) -> "SloHint | None":
        key = attr_key(attr)
        return next((s for s in self.slos.values() if s.stage == stage and s.attribute == key), None)

    def attribute_of(self, stage: str | None, kind: str) -> str | None:
        return next((a for (s, a), k in self.kinds.items() if s == stage and k == kind), None)

    def groups(self, by: str) -> list[str]:
        """The values a ``by (label)`` query returns: the stages for the stage attribute or label,
        the span names for ``name``, true and false for a boolean flag, else three values named
        after the label (``model-1``...): never stage names for a label that is not the stage."""
        key = attr_key(by.strip())
        if self.stage_values and key in (self.stage_attr, self.prometheus_stage_label):
            return self.stage_values
        if key == "name" and self.span_names:
            return self.span_names
        if key in self.booleans:  # Tempo groups a boolean attribute by its two values
            return ["false", "true"]
        return [f"{key.rsplit('.', 1)[-1]}-{i}" for i in (1, 2, 3)]

    def stage_of_span(self, name: str) -> str | None:
        return self.stage_values[self.span_names.index(name)] if name in self.span_names else None


@dataclass(frozen=True)
class SloHint:
    """An SLO as the preview needs it: the stage and attribute it measures, its good-event limit,
    objective and period."""

    stage: str
    attribute: str
    threshold: float
    objective: float
    period_s: float
    turns: bool = False  # the good-turn SLO: bad judged turns, not a measurement above a limit

    @property
    def budget(self) -> float:
        return 1 - self.objective


# -- time shapes --------------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def wave(key: str, amp: float = 0.08):
    """A slow wave plus smoothed noise around 1 (pure: cached, never modified by callers)."""
    import numpy as np

    r = rng("wave", key)
    t = np.linspace(0, 1, N_POINTS)
    slow = amp * np.sin(2 * np.pi * (t * r.uniform(0.8, 1.6) + r.uniform(0, 1)))
    noise = np.convolve(r.normal(0, amp * 0.8, N_POINTS + 4), np.ones(5) / 5, mode="valid")
    out = 1 + slow + noise
    out.setflags(write=False)
    return out


@lru_cache(maxsize=1024)
def incident(stage: str | None):
    """0..1: the stage's one incident (the same moment for all of its measurements); cached."""
    import numpy as np

    start = int(rng("incident", stage).integers(N_POINTS // 3, N_POINTS - 16))
    out = np.exp(-0.5 * ((np.arange(N_POINTS) - start - 5) / 3.0) ** 2)
    out.setflags(write=False)
    return out


# -- distributions ------------------------------------------------------------------------------

def median(hints: Hints, stage: str | None, attr: str, unit: str | None = None):
    """The median of a measurement over time."""
    milestone = hints.milestones.get((stage, attr_key(attr))) if stage else None
    if milestone and milestone[0] < milestone[1] - 1:  # an earlier milestone: a fraction of the last
        position, count, last = milestone
        return median(hints, stage, last, unit) * (0.35 + 0.65 * position / (count - 1)) ** 1.5
    parts = hints.wholes.get((stage, attr_key(attr))) if stage else None
    if parts:  # the caller-felt latency: the parts it adds up, and what no stage measures
        return sum(median(hints, s, a, unit) for s, a in parts) * WHOLE_OVER_PARTS
    kind = hints.kind(stage, attr)
    first = hints.attribute_of(stage, "first_byte")
    if kind == "total" and first and first != attr_key(attr):
        return median(hints, stage, first, unit) * TOTAL_OVER_FIRST_BYTE
    slo = hints.slo_of(stage, attr)
    if slo is not None:  # healthy, the SLO spends SLO_BUDGET_SPENT of its budget: P(value > threshold)
        base = slo.threshold / math.exp(SIGMA * _NORMAL.inv_cdf(1 - slo.budget * SLO_BUDGET_SPENT))
    else:
        base = (hints.level(stage, attr) or default_level(unit or hints.units.get(attr_key(attr)), attr)) * MEDIAN_OF_LEVEL
    return base * wave(f"{stage}/{attr_key(attr)}") * (1 + 0.7 * incident(stage))


def quantile(hints: Hints, stage: str | None, attr: str, q: float, unit: str | None = None):
    import numpy as np

    values = median(hints, stage, attr, unit) * math.exp(SIGMA * _NORMAL.inv_cdf(q))
    return np.minimum(values, 100.0) if (unit or hints.units.get(attr_key(attr))) == "percent" else values


def mean(hints: Hints, stage: str | None, attr: str, unit: str | None = None):
    return median(hints, stage, attr, unit) * math.exp(SIGMA ** 2 / 2)


def share_above(hints: Hints, stage: str | None, attr: str, limit: float):
    """The share of a stage's spans whose ``attr`` is above ``limit``, from its distribution."""
    import numpy as np

    m = median(hints, stage, attr)
    z = (math.log(max(limit, 1e-9)) - np.log(m)) / SIGMA
    return 1 - np.vectorize(_NORMAL.cdf)(z)


def sample(hints: Hints, stage: str | None, attr: str, r, floor: float | None = None) -> float:
    """One span's value (at a random moment), above ``floor`` when the query asks for that."""
    at = int(r.integers(0, N_POINTS))
    value = float(median(hints, stage, attr)[at] * math.exp(SIGMA * r.normal()))
    if floor is not None and value <= floor:
        value = floor * float(r.uniform(1.02, 1.6))
    return value


# -- rates ----------------------------------------------------------------------------------------

def turns() -> "object":
    return TURNS_PER_SECOND * wave("turns", 0.1)


def span_rate(hints: Hints, stage: str | None):
    """Spans of a stage per second: one per turn (barge-ins: a few turns in ten)."""
    return turns() * (0.15 if stage and "barge" in stage else 1.0)


def nothing_share(stage: str | None):
    return 0.01 * wave(f"nothing/{stage}", 0.3) + 0.05 * incident(stage)


def error_share(stage: str | None):
    return 0.004 * wave(f"errors/{stage}", 0.3) + 0.02 * incident(stage)


def bad_turn_share():
    """The share of judged turns that were not good (the good-turn SLI): a few in a hundred."""
    return 0.03 * wave("good-turns", 0.3) + 0.1 * incident(None)


# -- SLOs (Sloth's recorded series) ----------------------------------------------------------------

def over_window(hints: Hints, values, window_s: float):
    """The average of ``values`` over the trailing ``window_s`` at each point (a PromQL range
    vector's ``rate``); what came before the dashboard's range is taken as its typical value."""
    import numpy as np

    width = max(1, int(round(window_s / (hints.range_s / N_POINTS))))
    if width <= 1:
        return values
    before = np.full(width - 1, float(np.median(values)))
    return np.convolve(np.concatenate([before, values]), np.ones(width) / width, mode="valid")[:N_POINTS]


def slo_error_ratio(hints: Hints, slo: SloHint, window_s: float):
    """``slo:sli_error:ratio_rate<window>``: the share of bad events over the window, from the
    measurement's own distribution (so the same as the histogram panels show); the good-turn SLO's
    from the share of bad turns its overview tile shows."""
    if slo.turns:
        return over_window(hints, bad_turn_share(), window_s)
    return over_window(hints, share_above(hints, slo.stage, slo.attribute, slo.threshold), window_s)
