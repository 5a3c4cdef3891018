"""What every generated promtool test is made of: synthetic series in promtool's notation and the
alerts a rule is expected to raise. Shared by ``promtool`` (one rule at a time) and
``promtool_paging`` (what pages across all rules: missing data, tiny traffic, the SLO policy)."""

from __future__ import annotations

import math
import re

from ..catalog.conventions import seconds
from ..queries.promql import le_spellings
from .model import Rule
from .prometheus import prometheus_rule

STEP = "1m"
PER_MIN = 10000  # measurements (or runs) per minute in the synthetic series
HISTORY_MIN = 120  # good minutes before a burn starts


def minutes(duration: str) -> int:
    return math.ceil(seconds(duration) / 60)


def fmt_labels(name: str, labels: dict) -> str:
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def linear(per_min: int, minutes: int) -> str:
    return f"0+{per_min}x{minutes}"


def piecewise(parts: list[tuple[int, int]]) -> str:
    """Counter values: ``[(increase per minute, minutes), ...]`` in promtool's expanding notation."""
    out, start = [], 0
    for i, (inc, n) in enumerate(parts):
        if i == 0:
            out.append(f"{start}+{inc}x{n}")
        else:
            # continue from the last value without repeating it: first step already advanced
            out.append(f"{start + inc}+{inc}x{n - 1}")
        start += inc * n
    return " ".join(out)


def expected(rule: Rule, series_labels: dict) -> list[dict]:
    p = prometheus_rule(rule)
    return [{"exp_labels": {**series_labels, **p["labels"]}, "exp_annotations": p["annotations"]}]


def histogram_series(metric, label_value: dict, fast: tuple[float, int], slow: tuple[float, int],
                     length: int) -> list[dict]:
    """Cumulative bucket counters: ``(upper bound, per minute)`` events in the bucket ending at
    ``fast[0]`` and in the bucket ending at ``slow[0]``."""
    series = []
    for b in list(metric.buckets) + [math.inf]:
        per = (fast[1] if b >= fast[0] else 0) + (slow[1] if b >= slow[0] else 0)
        le = "+Inf" if b == math.inf else le_spellings(b)[0]
        series.append({"series": fmt_labels(metric.bucket, {**label_value, "le": le}),
                       "values": linear(per, length)})
    series.append({"series": fmt_labels(metric.count, label_value), "values": linear(fast[1] + slow[1], length)})
    return series


def with_scope(series: str, scope: dict) -> str:
    """A series written by ``fmt_labels`` with the catalog's ``prometheus.matchers`` labels added."""
    if not scope:
        return series
    name, _, inner = series.partition("{")
    labels = dict(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"', inner))
    return fmt_labels(name, {**labels, **scope})
