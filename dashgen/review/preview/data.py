"""Synthetic data, read from a panel's JSON (and the catalog, when there is one).

Seeded by the panel id (the same picture on every run) and shaped by the thresholds (of the
panel, or of the catalog's measurement the query reads): values sit below a threshold and
sometimes cross it, as they do in production.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from .theme import fmt_value, threshold_steps, unit_of

_QUANTILES_RE = re.compile(r"quantile_over_time\(\s*([\w.]+)\s*((?:,\s*[0-9.]+\s*)+)\)")
FUNC_RE = re.compile(r"\|\s*(\w+)\(\s*([\w.]*)")
_BY_RE = re.compile(r"\)\s*by\s*\(([^)]*)\)")
_SELECT_RE = re.compile(r"select\(([^)]*)\)")
_STAGE_RE = re.compile(r'([\w.]+)\s*=\s*"([\w.-]+)"')
FLOOR_RE = re.compile(r"([\w.]+)\s*>\s*(-?[0-9.]+)")


def attr_key(name: str) -> str:
    """span.audio.first_byte_ms -> audio.first_byte_ms (how the catalog names attributes)."""
    for prefix in ("span.", "resource.", "."):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


@dataclass
class Hints:
    """What the catalog says about values: typical level and unit per (stage, attribute)."""

    levels: dict[tuple[str | None, str], float] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    stage_attr: str | None = None
    stage_values: list[str] = field(default_factory=list)
    span_names: list[str] = field(default_factory=list)

    @classmethod
    def from_catalog(cls, catalog) -> "Hints":
        h = cls()
        if catalog is None:
            return h
        h.stage_attr = catalog.stage_attribute
        h.stage_values = [s.id for s in catalog.stages]
        h.span_names = [s.span for s in catalog.stages]
        for s in catalog.stages:
            for m in s.measurements:
                limit = next((t.value for t in m.thresholds), None) or m.bad_above
                h.units.setdefault(m.attribute, m.unit)
                if limit:
                    h.levels[(s.id, m.attribute)] = float(limit)
                    h.levels.setdefault((None, m.attribute), float(limit))
        return h

    def level(self, stage: str | None, attr: str | None) -> float | None:
        if not attr:
            return None
        key = attr_key(attr)
        return self.levels.get((stage, key)) or self.levels.get((None, key))

    def groups(self, by: str) -> list[str]:
        key = attr_key(by.strip())
        if self.stage_attr and key == self.stage_attr and self.stage_values:
            return self.stage_values
        if key == "name" and self.span_names:
            return self.span_names
        return ["a", "b", "c"]


def stage_of(query: str, hints: Hints) -> str | None:
    for attr, value in _STAGE_RE.findall(query):
        if hints.stage_attr and attr_key(attr) == hints.stage_attr:
            return value
        if attr_key(attr) == "name" and value in hints.span_names:
            return hints.stage_values[hints.span_names.index(value)]
    return None


def limits_of(panel: dict) -> list[tuple[float, str]]:
    """The panel's thresholds with a value (not the base step): what the data is shaped by."""
    return [(float(v), c) for v, c in threshold_steps(panel) if isinstance(v, (int, float))]


def default_level(unit: str | None, attr: str | None) -> float:
    name = attr or ""
    if unit in ("percent",) or name.endswith("_pct"):
        return 20.0
    if unit == "percentunit":
        return 0.2
    if unit in ("reqps", "ops"):
        return 6.0
    if unit == "s" or name.endswith("_s"):
        return 0.4
    if unit == "ms" or name.endswith("_ms"):
        return 200.0
    return 50.0


def rng_for(panel: dict, salt: str = ""):
    import numpy as np

    seed = int.from_bytes(hashlib.sha256(f"{panel.get('id')}/{panel.get('title')}/{salt}".encode()).digest()[:8], "big")
    return np.random.default_rng(seed)


@dataclass
class Series:
    name: str
    values: Any  # numpy array


N_POINTS = 96  # 6 h at a nearly 4-minute step


def _series_specs(panel: dict, hints: Hints) -> list[tuple[str, float, float]]:
    """(name, typical level, quantile or 0) for each series the panel's queries produce."""
    unit = unit_of(panel)
    limits = limits_of(panel)
    specs: list[tuple[str, float, float]] = []
    targets = [t for t in panel.get("targets") or [] if isinstance(t, dict)]
    attrs = set()
    for t in targets:  # which attributes the queries read: name series by attribute only when they differ
        query = str(t.get("query") or t.get("expr") or "")
        m = _QUANTILES_RE.search(query) or FUNC_RE.search(query)
        attrs.add(m.group(1) if m and m.re is _QUANTILES_RE else (m.group(2) if m else None))
    for t in targets:
        query = str(t.get("query") or t.get("expr") or "")
        stage = stage_of(query, hints)
        quant = _QUANTILES_RE.search(query)
        by = _BY_RE.search(query)
        func = FUNC_RE.search(query)
        attr = quant.group(1) if quant else (func.group(2) if func else None)
        qs = [float(q) for q in re.findall(r"[0-9.]+", quant.group(2))] if quant else [0.0]
        groups = hints.groups(by.group(1).split(",")[0]) if by else [None]
        for g in groups:
            level = hints.level(g or stage, attr) if attr else None
            if level is None and func and func.group(1) in ("rate", "count_over_time"):
                level = default_level("reqps", None) * (0.3 if ">" in query or "= -1" in query or "error" in query else 1)
            if level is None:
                level = limits[0][0] if limits else default_level(unit or hints.units.get(attr_key(attr or "")), attr)
            for q in qs:
                func_name = func.group(1).replace("_over_time", "") if func else "value"
                label = f"p{q * 100:g}" if q else (t.get("legendFormat") or func_name)
                several = len(qs) > 1 or len(targets) > 1
                name = label if g is None else (f"{g} {label}" if several else g)
                if len(targets) > 1 and g is None and attr and len(attrs) > 1:
                    name = f"{attr_key(attr).split('.')[-1]} {label}"
                specs.append((name, level, q))
    if not specs:
        specs.append(("value", limits[0][0] if limits else default_level(unit, None), 0.0))
    return specs[:8]


def synthetic_series(panel: dict, hints: Hints) -> list[Series]:
    """Deterministic series shaped by the thresholds: below the limit, crossing it now and then."""
    import numpy as np

    out = []
    for i, (name, level, q) in enumerate(_series_specs(panel, hints)):
        rng = rng_for(panel, f"{name}/{i}")
        # Quantiles sit at a fraction of the limit: p50 well below, p95 near, p99 above.
        frac = {0.5: 0.5, 0.9: 0.75, 0.95: 0.82, 0.99: 1.05}.get(round(q, 2), 0.7 if q else 0.6)
        base = level * frac * rng.uniform(0.85, 1.1)
        t = np.linspace(0, 1, N_POINTS)
        wave = 0.08 * np.sin(2 * np.pi * (t * rng.uniform(0.8, 1.6) + rng.uniform(0, 1)))
        noise = np.convolve(rng.normal(0, 0.07, N_POINTS + 4), np.ones(5) / 5, mode="valid")
        values = base * (1 + wave + noise)
        start = int(rng.integers(N_POINTS // 3, N_POINTS - 16))  # one incident: above the limit for a while
        bump = np.exp(-0.5 * ((np.arange(N_POINTS) - start - 5) / 3.0) ** 2)
        values = values + bump * level * (0.45 if q >= 0.9 or not q else 0.2)
        out.append(Series(name, np.clip(values, 0, None)))
    return out


def table_columns(panel: dict) -> list[str]:
    query = str(((panel.get("targets") or [{}])[0]).get("query") or "")
    m = _SELECT_RE.search(query)
    selected = [attr_key(a.strip()) for a in m.group(1).split(",")] if m else []
    if (panel.get("targets") or [{}])[0].get("expr") is not None:
        return ["Time", "Value"]
    return ["Trace ID", "Start time", *selected, "Duration"]


def table_cell(col: str, i: int, rng, panel: dict, hints: Hints, floors: dict[str, float]) -> str:
    key = col
    if col == "Trace ID":
        return "%016x" % int(rng.integers(0, 2 ** 62))
    if col == "Start time":
        return f"2025-06-02 13:{59 - i * 3 % 60:02d}:{int(rng.integers(0, 60)):02d}"
    if col == "Duration":
        return f"{int(rng.integers(200, 4000))} ms"
    if col == "Time":
        return f"2025-06-02 13:{59 - i:02d}:00"
    if key.endswith("session_id"):
        return "sess-%06x" % int(rng.integers(0, 2 ** 24))
    if key.endswith("turn_id"):
        return str(int(rng.integers(1, 25)))
    if hints.stage_attr and key == hints.stage_attr:
        return str(rng.choice(hints.stage_values or ["asr", "llm", "tts"]))
    if key.endswith("error"):
        return "timeout" if rng.uniform() < 0.15 else ""
    unit = hints.units.get(key) or ("ms" if key.endswith("_ms") else "percent" if key.endswith("_pct") else None)
    level = hints.level(None, key) or default_level(unit, key)
    floor = floors.get(key)
    value = floor * (1 + 0.8 * (1 - i / 12) * float(rng.uniform(0.3, 1.0))) if floor else level * float(rng.uniform(0.3, 1.3))
    return fmt_value(value, unit) if unit else f"{value:.0f}"
