"""SLO burn-rate windows, keyed by the SLO period as Sloth keys them.

The multiwindow multi-burn-rate parameters are data, one YAML file per SLO period in
``windows/`` (``google-28d.yaml``, ``google-30d.yaml``: the SRE workbook's numbers, as Sloth
ships them in ``internal/alert/windows/``). Each file names the period it is for
(``slo_period``); like Sloth's ``FSWindowsRepo`` (slok/sloth ``internal/alert/window.go``),
the sets are keyed by that period, two files for one period are an error, and an SLO whose
period has no set is refused (``internal/alert/alert.go``: "the %s SLO period time window is
not supported"): ``voice.checks`` reports it at the SLO's ``window`` line.

Every reader (the alert rules, the SLO dashboards and burn panels, the promtool tests, the
catalog checks) takes its burn rates from :func:`burn_rates` and its alert thresholds from
:func:`limit`, so a page fires at exactly the numbers the catalog check proved reachable.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import yaml

from ..records import dataclass  # dataclasses' decorator without generated code (start-up)
from ..catalog.conventions import seconds
from ..catalog.model import Slo

WINDOWS_DIR = Path(__file__).with_name("windows")
SEVERITIES = ("page", "ticket")


@dataclass(frozen=True)
class BurnWindow:
    """Alert at ``severity`` when both windows burn faster than ``budget_share`` of the period's
    error budget per long window allows (Sloth's ``errorBudgetPercent`` / 100)."""

    severity: str  # page | ticket
    long: str  # duration, e.g. "1h"
    short: str  # duration, e.g. "5m"
    budget_share: float


@dataclass(frozen=True)
class WindowSet:
    """The window pairs of one SLO period, pages first."""

    name: str  # the file's stem, e.g. google-30d
    period: str  # e.g. 30d
    windows: tuple[BurnWindow, ...]


class BurnRate(NamedTuple):
    """One window pair of an SLO: alert at ``severity`` when the bad-event ratio over both ``long``
    and ``short`` is above ``rate`` times the error budget."""

    severity: str
    long: str
    short: str
    rate: float


def _load(path: Path) -> WindowSet:
    # libyaml's parser when pyyaml has it (the same data as yaml.safe_load): the pure-Python one
    # took milliseconds of every build's start-up for these two small files
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(doc, dict) or set(doc) - {"slo_period", *SEVERITIES} or not doc.get("slo_period"):
        raise ValueError(f"{path}: expected a mapping with slo_period and the keys {', '.join(SEVERITIES)}")
    period = str(doc["slo_period"])
    seconds(period)  # a duration, or ValueError
    out = []
    for severity in SEVERITIES:
        for w in doc.get(severity) or ():
            share = w.get("budget_share")
            if not (isinstance(share, (int, float)) and 0 < share <= 1) or not (w.get("long") and w.get("short")):
                raise ValueError(f"{path}: {severity} window {w!r} needs long, short and 0 < budget_share <= 1")
            out.append(BurnWindow(severity, str(w["long"]), str(w["short"]), float(share)))
    if not any(w.severity == "page" for w in out):
        raise ValueError(f"{path}: a window set needs at least one page window")
    return WindowSet(path.stem, period, tuple(out))


@lru_cache(maxsize=None)
def window_sets() -> dict[int, WindowSet]:
    """Every shipped window set, by its SLO period in seconds; read once per run."""
    sets: dict[int, WindowSet] = {}
    for path in sorted(WINDOWS_DIR.glob("*.yaml")):
        ws = _load(path)
        key = seconds(ws.period)
        if key in sets:
            raise ValueError(f"{path}: SLO period {ws.period} already has the window set {sets[key].name}")
        sets[key] = ws
    return sets


def supported_periods() -> list[str]:
    """The SLO periods that have a window set, shortest first (``28d``, ``30d``)."""
    return [ws.period for _, ws in sorted(window_sets().items())]


def window_set(period: str) -> WindowSet | None:
    """The window set of an SLO period, or None when dashgen (like Sloth) has none for it."""
    return window_sets().get(seconds(period))


def burn_rates(slo: Slo) -> list[BurnRate]:
    """The window pairs of the SLO's period with their burn rates (share x period / long window),
    pages first. A period without a window set is refused at load (``voice.checks``)."""
    ws = window_set(slo.window)
    if ws is None:
        raise ValueError(f"SLO window {slo.window} has no burn-rate window set (supported: "
                         f"{', '.join(supported_periods())})")
    days = seconds(slo.window) / 86400
    return [BurnRate(w.severity, w.long, w.short, round(w.budget_share * days * 86400 / seconds(w.long), 4))
            for w in ws.windows]


def limit(slo: Slo, rate: float) -> float:
    """The bad-event ratio a pair of burn rate ``rate`` alerts above: rate x error budget. The
    ratio is a share of events, at most 1, so a pair whose limit is 1 or more never fires."""
    return round(rate * slo.budget, 10)


def alert_windows(slo: Slo) -> list[str]:
    """Every window of the SLO's burn-rate pairs, shortest first (one SLI recording each)."""
    return sorted({w for _, long, short, _ in burn_rates(slo) for w in (long, short)}, key=seconds)


def page_long_windows(slo: Slo) -> list[str]:
    """The long windows of the page pairs, fastest burn first (``1h``, ``6h``)."""
    return [long for sev, long, _, _ in burn_rates(slo) if sev == "page"]
