"""The clocks instrumentation measures with: the real ones, and a virtual one the simulator and
tests move by hand. Every measurement is a difference of monotonic readings; wall time is used
only for span timestamps, so a clock step (NTP) never shows up as latency."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def monotonic_ns(self) -> int: ...
    def time_ns(self) -> int: ...


class SystemClock:
    """The real clocks: monotonic for every measurement, wall time only for span timestamps."""

    def monotonic_ns(self) -> int:
        return time.monotonic_ns()

    def time_ns(self) -> int:
        return time.time_ns()


class VirtualClock:
    """A clock the caller moves by hand (the simulator, tests). Never goes backwards."""

    def __init__(self, epoch_ns: int, at_ms: float = 0.0):
        self.epoch_ns = int(epoch_ns)
        self._ms = float(at_ms)

    @property
    def ms(self) -> float:
        return self._ms

    def advance(self, ms: float) -> "VirtualClock":
        if ms < 0:
            raise ValueError("a clock does not go backwards")
        self._ms += ms
        return self

    def set(self, at_ms: float) -> "VirtualClock":
        return self.advance(at_ms - self._ms)

    def monotonic_ns(self) -> int:
        return int(round(self._ms * 1e6))

    def time_ns(self) -> int:
        return self.epoch_ns + self.monotonic_ns()
