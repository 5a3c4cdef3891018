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


# --- cases side by side ---------------------------------------------------------------------------
# promtool evaluates every loaded rule at every step of every test group, so a 6-hour case costs the
# same whether it feeds one stage or three. Cases that cannot see each other run side by side in one
# group: each stage keeps its own stimulus and its own assertions, at a third of the evaluations.

SIDE_BY_SIDE = " | "  # joins the names of the cases that share a group


def _fired(case: dict) -> set[str]:
    return {a["alertname"] for a in case.get("alert_rule_test", []) if a["exp_alerts"]}


def _asked(case: dict) -> tuple[set[str], bool]:
    """``(alert names the case asserts on, whether it asks about every alert)``: a query of ``ALERTS``
    naming no alert (no page at any time) asks about all of them."""
    names = {a["alertname"] for a in case.get("alert_rule_test", [])}
    every = False
    for t in case.get("promql_expr_test", []):
        if "ALERTS" in t["expr"]:
            named = re.findall(r'alertname="([^"]+)"', t["expr"])
            names.update(named)
            every = every or not named
    return names, every


def _apart(a: dict, b: dict) -> bool:
    """Neither case's series nor firing alerts reach what the other asserts."""
    if a.get("interval") != b.get("interval"):
        return False
    if {s["series"] for s in a["input_series"]} & {s["series"] for s in b["input_series"]}:
        return False
    for x, y in ((a, b), (b, a)):
        names, every = _asked(y)
        if _fired(x) and (every or _fired(x) & names):
            return False
    return True


def _joined(cases: list[dict]) -> dict:
    out = {"name": SIDE_BY_SIDE.join(c["name"] for c in cases), "interval": cases[0]["interval"],
           "input_series": [s for c in cases for s in c["input_series"]]}
    for key in ("alert_rule_test", "promql_expr_test"):
        items = []
        for c in cases:
            items += [i for i in c.get(key, []) if i not in items]  # the same check asked twice, once
        if items:
            out[key] = items
    return out


def side_by_side(cases: list[dict]) -> list[dict]:
    """The cases packed into as few promtool test groups as keep them apart (no shared input series;
    no alert that one fires is asserted by another, nor any alert when another asks that nothing
    pages), first come first packed; a group of several is named by its cases' names joined by
    ``SIDE_BY_SIDE``. Each stage's rules only read that stage's series, so each case's assertions
    hold side by side exactly when they hold alone."""
    groups: list[list[dict]] = []
    for case in cases:
        home = next((g for g in groups if all(_apart(case, other) for other in g)), None)
        if home is None:
            groups.append([case])
        else:
            home.append(case)
    return [g[0] if len(g) == 1 else _joined(g) for g in groups]
