"""The paging policy: THE one home of what pages, for how long it must last, and how one incident
becomes one notification. The rule families (``alerts``), the dashboards' threshold colours and
overview tiles, the alert texts and the docs all read it here.

The practice pages on p95 per layer (ASR first partial 150 ms, TTS first byte 350 ms, barge-in
outbound silence 200 ms) and, beside it, on SLO error-budget burn. Both stay pages:

- **Severity is the catalog's.** A quantile threshold, a ratio limit or the absence rules keep the
  severity the catalog gives them: nothing here demotes a p95 page because the stage also has an
  SLO. (A p95 above the limit says that more than 5% are slow, anything from a 1x to a 20x burn
  of a 95% objective; it is not "a 2x burn", and the burn-rate pages are slow to see it:
  ``docs/alerts.md`` has the measured detection times.)
- **A quantile page is sustained.** ``histogram_quantile`` over ``alerting.rate_window`` stays
  above the limit for at most that window after one bad minute, so the effective ``for`` is at
  least twice the window (``sustain``): one slow minute pages nobody, a sustained breach pages
  within ``for`` plus a window.
- **A quantile needs events.** A p95 over fewer than ``1 / (1 - q)`` events is the slowest event
  itself; the guard asks for at least that many, and never fewer than ``alerting.min_events``
  (``quantile_min_events``; 0 turns every guard off).
- **Burn-rate pages stay beside it**, with their own ``for`` (``BURN_FOR``).
- **One incident, one notification.** When a stage's burn-rate page and its p95 page fire
  together, the person on call gets one notification: alerts are grouped by ``GROUP_BY`` (team and
  stage, never the alert name), and in Alertmanager the burn-rate page inhibits the stage's
  quantile pages (``inhibit_rules``). The generated routing lives in ``alerts/routing.py``.
"""

from __future__ import annotations

import math

from ..records import dataclass  # dataclasses' decorator without generated code (start-up)
from ..catalog.conventions import seconds
from ..catalog.model import Alerting, RateAlert, Threshold

SEVERITY_RANK = {"ticket": 1, "page": 2}  # least to most urgent
BURN_FOR = {"page": "2m", "ticket": "15m"}  # how long both windows of a pair must burn
# Labels the routing matches on: a quantile alert carries ``quantile`` (p95), a burn-rate alert
# ``slo`` (its Sloth id); both carry ``severity``, ``stage`` and ``team`` (``GROUP_BY``).
QUANTILE_LABEL = "quantile"
SLO_LABEL = "slo"
GROUP_BY = ("team", "stage")
# Alertmanager's timers for the generated routes (its defaults, spelled out): 30s to gather what
# fires together, 5m before an update of a group is sent, 4h before a still-firing group repeats.
GROUP_WAIT, GROUP_INTERVAL, REPEAT_INTERVAL = "30s", "5m", "4h"


def duration(secs: int) -> str:
    """A Prometheus duration for whole seconds: ``600`` -> ``10m``."""
    for unit, size in (("h", 3600), ("m", 60)):
        if secs and secs % size == 0:
            return f"{secs // size}{unit}"
    return f"{secs}s"


def threshold_severity(t: Threshold) -> str:
    """The effective severity of a quantile threshold: the catalog's (no demotion)."""
    return t.severity


def rate_severity(limit: RateAlert) -> str:
    """The effective severity of a ratio limit (error rate, produced nothing): the catalog's."""
    return limit.severity


def sustain(alerting: Alerting, t: Threshold) -> str:
    """The effective ``for`` of a quantile threshold: the catalog's, and at least twice the rate
    window, so a single bad minute (above the limit for at most one window) never fires it."""
    floor = 2 * seconds(alerting.rate_window)
    return t.for_ if seconds(t.for_) >= floor else duration(floor)


def quantile_min_events(alerting: Alerting, q: float) -> int:
    """Fewest events in the window before quantile ``q`` may alert: ``1 / (1 - q)`` (20 for a p95),
    never below ``alerting.min_events``; 0 when the catalog turns the guards off."""
    if alerting.min_events <= 0:
        return 0
    return max(alerting.min_events, math.ceil(round(1 / (1 - q), 9)))


@dataclass(frozen=True)
class QuantilePolicy:
    """What a quantile threshold's alert evaluates and how it pages."""

    severity: str
    window: str  # the rate window of histogram_quantile
    for_: str
    min_events: int


def quantile_policy(alerting: Alerting, t: Threshold) -> QuantilePolicy:
    return QuantilePolicy(threshold_severity(t), alerting.rate_window, sustain(alerting, t),
                          quantile_min_events(alerting, t.quantile))


def inhibit_rules(team: str) -> list[dict]:
    """Alertmanager ``inhibit_rules``: while a stage's SLO burn-rate page fires, its quantile pages
    notify nobody (the burn page's notification already names the stage and links its budget)."""
    return [{
        "source_matchers": [f'team="{team}"', 'severity="page"', f'{SLO_LABEL}=~".+"'],
        "target_matchers": [f'team="{team}"', 'severity="page"', f'{QUANTILE_LABEL}=~".+"'],
        "equal": list(GROUP_BY),
    }]
