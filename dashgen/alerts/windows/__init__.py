"""Burn-rate alert windows, as data: one YAML file per window set, shipped in the package.

Like Sloth's ``internal/alert/windows/*.yaml``, the multiwindow multi-burn-rate parameters are
numbers to review and swap, not code: ``google-30d.yaml`` holds the SRE workbook's four
window pairs. The catalog's SLO checks read them too (the fastest burn must be able to fire),
so this module is a leaf: it imports nothing of dashgen.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DEFAULT = "google-30d"
SEVERITIES = ("page", "ticket")


@dataclass(frozen=True)
class BurnWindow:
    """Alert at ``severity`` when both windows burn faster than ``budget_share`` of the budget
    per long window allows."""

    severity: str  # page | ticket
    long: str  # duration, e.g. "1h"
    short: str  # duration, e.g. "5m"
    budget_share: float


@lru_cache(maxsize=None)
def burn_windows(name: str = DEFAULT) -> tuple[BurnWindow, ...]:
    """The window pairs of ``windows/<name>.yaml``, pages first; read once per run."""
    path = Path(__file__).with_name(f"{name}.yaml")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or set(doc) - set(SEVERITIES):
        raise ValueError(f"{path}: expected a mapping with the keys {', '.join(SEVERITIES)}")
    out = []
    for severity in SEVERITIES:
        for w in doc.get(severity) or ():
            share = w.get("budget_share")
            if not (isinstance(share, (int, float)) and 0 < share <= 1) or not (w.get("long") and w.get("short")):
                raise ValueError(f"{path}: {severity} window {w!r} needs long, short and 0 < budget_share <= 1")
            out.append(BurnWindow(severity, str(w["long"]), str(w["short"]), float(share)))
    return tuple(out)
