"""One synthetic voice service that every preview panel reads, so the pictures agree with each other.

A panel's numbers are not drawn per panel: they come from one model of the service, seeded by
the names of what is measured (never by the panel), so the overview's "TTS p95 now" is the TTS
dashboard's p95, and the relations a real system cannot break hold everywhere:

- each measurement of a stage is lognormal around a median that moves with time (a slow wave and
  one incident per stage); quantiles are quantiles of that distribution, so p50 <= p95 <= p99;
- a stage's ``total`` is its ``first_byte`` times a factor of at least 1, so every quantile of
  the total is at least the same quantile of the first byte;
- span rates nest: turns >= spans of a stage >= its produced-nothing, error and "above N" spans
  (the last from the same distribution), and every ratio is in [0, 1].

The level of a measurement is its catalog threshold (p95 sits near it and crosses it during the
incident), or a default by unit.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from functools import lru_cache
from statistics import NormalDist

N_POINTS = 96  # 6 h at a nearly 4-minute step
SIGMA = 0.3  # spread of log(value): p95 = 1.64 x median, p99 = 2 x median
MEDIAN_OF_LEVEL = 0.5  # the median sits at half the limit: p95 at 0.82 of it, p99 at it
TOTAL_OVER_FIRST_BYTE = 1.8
TURNS_PER_SECOND = 3.0
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

    @classmethod
    def from_catalog(cls, catalog) -> "Hints":
        h = cls()
        if catalog is None:
            return h
        h.stage_attr = catalog.stage_attribute
        h.stage_values = [s.id for s in catalog.stages]
        h.span_names = [s.span for s in catalog.stages]
        h.turn_span = catalog.turn_span
        for s in catalog.stages:
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

    def attribute_of(self, stage: str | None, kind: str) -> str | None:
        return next((a for (s, a), k in self.kinds.items() if s == stage and k == kind), None)

    def groups(self, by: str) -> list[str]:
        key = attr_key(by.strip())
        if self.stage_attr and key == self.stage_attr and self.stage_values:
            return self.stage_values
        if key == "name" and self.span_names:
            return self.span_names
        return ["a", "b", "c"]

    def stage_of_span(self, name: str) -> str | None:
        return self.stage_values[self.span_names.index(name)] if name in self.span_names else None


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
    kind = hints.kind(stage, attr)
    first = hints.attribute_of(stage, "first_byte")
    if kind == "total" and first and first != attr_key(attr):
        return median(hints, stage, first, unit) * TOTAL_OVER_FIRST_BYTE
    level = hints.level(stage, attr) or default_level(unit or hints.units.get(attr_key(attr)), attr)
    return level * MEDIAN_OF_LEVEL * wave(f"{stage}/{attr_key(attr)}") * (1 + 0.7 * incident(stage))


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
