"""Barge-in milestones: from the moment VAD fires to outbound audio going quiet.

A barge-in stage (``role: barge_in``) measures its steps from one zero, the moment
voice-activity detection fires: VAD confirmed the user speaks (``vad_detect_ms``), the
generation was cancelled (``cancel_ms``), the agent's outbound audio went silent
(``silence_ms``, the number that pages at p95 200 ms). Because every milestone counts from the
same zero, the p95s of successive milestones can be read against each other and against the
limit: the barge-in dashboard lays them out side by side, and ``verify-traces`` checks that on
every span they never decrease in milestone order.
"""

from __future__ import annotations

from ..catalog.model import Catalog, Measurement, Stage
from .roles import role


def milestones(stage: Stage) -> list[Measurement]:
    """The cumulative milestones: every measurement but first byte and total that shares the unit
    of the last one with a limit (a finer-grained step like VAD-to-cancel in us is not one)."""
    candidates = [m for m in stage.measurements if m.id not in ("first_byte", "total")]
    with_limit = [m for m in candidates if m.thresholds]
    if not with_limit:
        return candidates
    unit = with_limit[-1].unit
    ms = [m for m in candidates if m.unit == unit]
    return ms[: ms.index(with_limit[-1]) + 1]


def applies(stage: Stage, catalog: Catalog) -> bool:
    """A barge-in stage with at least two integer milestones and a limit on the last: the
    milestones can be broken down (and checked in order)."""
    if role(stage, catalog) != "barge_in":
        return False
    ms = milestones(stage)
    return len(ms) >= 2 and all(m.quantiles_work for m in ms) and bool(ms[-1].thresholds)
