"""The stage side of instrumentation: what one stage span records while it is open.

``StageRecorder`` is what ``Instrumentation.stage_span`` yields: calling it marks the first byte,
and its helpers (``partial``/``final`` for ASR, ``chunk`` for TTS, the barge-in milestones from
VAD firing, the client's ``report``) turn events into the catalog's measurements. When the span
ends it writes them as span attributes, encoded for Tempo (``encode_value``), and hands them to
the metric side (``Instrumentation._record_stage``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..catalog import Measurement, Stage
from ..catalog.conventions import TIME_UNITS_PER_MS, convert
from ..voice.interrupted import interruption
from .clocks import Clock

if TYPE_CHECKING:
    from .instrument import Instrumentation

# Smallest integer Tempo's quantile_over_time / histogram_over_time counts.
TEMPO_MIN_INT = 2
# Measurements the recorder works out itself when the span ends (``_finish``), from what happened.
DERIVED_AT_END = ("first_byte", "total", "max_chunk_gap")


def encode_value(measurement: Measurement, value: float) -> int | float:
    """The attribute value for ``value`` (in the measurement's unit), as Tempo needs it."""
    if value < 0:
        raise ValueError(f"{measurement.attribute}: negative value {value!r} (only nothing_value may be negative)")
    if measurement.integer:
        return max(TEMPO_MIN_INT, int(round(value)))
    return float(value)


def revision_percent(last_partial: str, final: str) -> int:
    """How much the final transcript revised the last partial: the word-level edit distance
    normalised by the longer of the two, as an integer percent (0 = unchanged, 100 = all new)."""
    a, b = last_partial.lower().split(), final.lower().split()
    if not a and not b:
        return 0
    prev = list(range(len(b) + 1))
    for i, wa in enumerate(a, 1):
        cur = [i]
        for j, wb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (wa != wb)))
        prev = cur
    return int(round(100.0 * prev[-1] / max(len(a), len(b))))


class StageRecorder:
    """Yielded by ``stage_span``. Calling it marks the first byte; its methods are the stage helpers.

    Times are taken on the monotonic clock and measured from the span's start unless a helper
    says otherwise. Helpers for measurements the catalog does not declare record nothing.
    """

    def __init__(self, inst: "Instrumentation", stage: Stage, span, clock: Clock):
        self._inst, self.stage, self.span, self._clock = inst, stage, span, clock
        self._t0 = clock.monotonic_ns()
        self._values: dict[str, float] = {}  # measurement id -> value in the measurement's unit
        self._produced = False
        self._last_chunk: int | None = None
        self._max_gap_ms: float | None = None
        self._last_partial: str | None = None
        self._vad_at: int = self._t0  # the zero of the barge-in milestones: VAD firing (see vad_fired)
        self._confirmed_at: int | None = None
        # the user talked over the agent in this turn (voice.interrupted): a barge-in span is one
        self._interrupted = stage.id in interruption(inst.catalog).barge_in

    # time --------------------------------------------------------------------------------------
    def elapsed_ms(self, since_ns: int | None = None) -> float:
        return (self._clock.monotonic_ns() - (self._t0 if since_ns is None else since_ns)) / 1e6

    def _record_ms(self, mid: str, ms: float) -> None:
        m = self.stage.measurement(mid)
        if m is not None:
            self._values[mid] = convert(ms, "ms", m.unit) if m.unit in TIME_UNITS_PER_MS else ms

    # generic -----------------------------------------------------------------------------------
    def __call__(self) -> None:
        """Mark the first useful output (first partial, token, audio chunk). No-op after the first."""
        if self._produced:
            return
        self._produced = True
        self._record_ms("first_byte", self.elapsed_ms())

    first_byte = __call__

    @property
    def produced(self) -> bool:
        return self._produced

    def recorded(self, measurement_id: str) -> bool:
        """Whether the measurement has a value already (from ``set`` or a stage helper)."""
        return measurement_id in self._values

    def set(self, measurement_id: str, value: float, unit: str | None = None) -> None:
        """Record a measurement of this stage: ``value`` in ``unit`` (a time unit is converted to the
        catalog's unit; None means the value is already in the catalog's unit)."""
        m = self.stage.measurement(measurement_id)
        if m is None:
            raise ValueError(f"stage {self.stage.id!r} has no measurement {measurement_id!r} in the catalog "
                             f"(it has: {', '.join(x.id for x in self.stage.measurements)})")
        v = convert(value, unit, m.unit)
        if v < 0 and v != m.nothing_value:
            raise ValueError(f"{m.attribute}: negative value {value!r}")
        self._values[measurement_id] = v
        if measurement_id == "first_byte":
            self._produced = True

    def flag(self, flag_id: str, value: bool) -> None:
        """Set one of the stage's boolean flags (an interrupted turn) on its span."""
        f = next((x for x in self.stage.flags if x.id == flag_id), None)
        if f is None:
            raise ValueError(f"stage {self.stage.id!r} has no flag {flag_id!r} in the catalog")
        self.span.set_attribute(f.attribute, bool(value))
        if f.attribute == self._inst.catalog.interrupted_attribute:
            self._interrupted = bool(value)

    def interrupted(self, value: bool = True) -> None:
        """The user interrupted this turn: the span carries the catalog's interrupted attribute (true;
        false when never called), and its latencies are left out of the latency panels, quantile
        alerts and SLOs (``voice.interrupted``), their histograms labelled so."""
        self._interrupted = bool(value)

    @property
    def was_interrupted(self) -> bool:
        return self._interrupted

    # ASR ---------------------------------------------------------------------------------------
    def partial(self, text: str) -> None:
        """A partial transcript arrived: the first one is the stage's first byte."""
        self()
        self._last_partial = text

    def final(self, text: str) -> None:
        """The final transcript arrived: records time to final and the revision of the last partial."""
        self()
        self._record_ms("time_to_final", self.elapsed_ms())
        if self.stage.measurement("revision") is not None:
            self._values["revision"] = float(revision_percent(self._last_partial or "", text)
                                             if self._last_partial is not None else 0)

    # TTS ---------------------------------------------------------------------------------------
    def chunk(self) -> None:
        """An audio chunk is out: the first is the first byte; the largest gap between two is kept."""
        self()
        now = self._clock.monotonic_ns()
        if self._last_chunk is not None:
            gap = (now - self._last_chunk) / 1e6
            if self._max_gap_ms is None or gap > self._max_gap_ms:
                self._max_gap_ms = gap
        self._last_chunk = now

    @property
    def max_gap_ms(self) -> float | None:
        return self._max_gap_ms

    # barge-in ----------------------------------------------------------------------------------
    # Every milestone counts from one zero, the moment VAD fires (a barge-in lasts from the moment
    # voice-activity detection fires to the moment the agent's outbound audio actually goes
    # quiet). The zero is the span's start; a span opened earlier (while the agent speaks,
    # before the user does) calls vad_fired() to move it, so the wait is never counted.
    def vad_fired(self) -> None:
        """Voice-activity detection fired: the zero of every barge-in milestone."""
        self._vad_at = self._clock.monotonic_ns()

    def _since_vad(self) -> float:
        return self.elapsed_ms(self._vad_at)

    def confirmed(self) -> None:
        """VAD confirmed the user is speaking (not a cough): ``vad_detect``, from VAD firing."""
        self._confirmed_at = self._clock.monotonic_ns()
        self._record_ms("vad_detect", self._since_vad())

    def cancelled(self) -> None:
        """LLM and TTS generation cancelled: ``cancel`` and first byte from VAD firing (on a barge-in,
        first byte is marked here), and the confirmed-to-cancel step in the catalog's unit (microseconds: it is
        often under 1 ms)."""
        self._record_ms("cancel", self._since_vad())
        self._record_ms("cancel_delay", self.elapsed_ms(self._confirmed_at if self._confirmed_at is not None
                                                        else self._vad_at))
        if not self._produced:
            self._produced = True
            self._record_ms("first_byte", self._since_vad())

    def silent(self) -> None:
        """The agent's outbound audio went quiet downstream: ``silence``, from VAD firing."""
        self._record_ms("silence", self._since_vad())

    # client ------------------------------------------------------------------------------------
    def played(self) -> None:
        """The client played its first audio frame (its first byte)."""
        self()

    def report(self, jitter_ms: float | None = None, buffer_ms: float | None = None) -> None:
        """The client's report about itself: the jitter it measured and the buffer depth it settled on."""
        if jitter_ms is not None:
            self._record_ms("jitter", float(jitter_ms))
        if buffer_ms is not None:
            self._record_ms("buffer_depth", float(buffer_ms))

    # end ---------------------------------------------------------------------------------------
    def _finish(self, failed: bool) -> None:
        if self._max_gap_ms is not None:
            self._record_ms("max_chunk_gap", self._max_gap_ms)
        elif self._produced and "max_chunk_gap" not in self._values:
            self._record_ms("max_chunk_gap", 0.0)  # one chunk: no gap
        if "total" not in self._values:
            self._record_ms("total", self.elapsed_ms())
        fb = self.stage.measurement("first_byte")
        if fb is not None and "first_byte" not in self._values and fb.nothing_value is not None:
            self._values["first_byte"] = float(fb.nothing_value)
        for m in self.stage.measurements:
            if m.id not in self._values:
                continue
            v = self._values[m.id]
            if m.nothing_value is not None and v == m.nothing_value:
                self.span.set_attribute(m.attribute, int(m.nothing_value))
            else:
                self.span.set_attribute(m.attribute, encode_value(m, v))
        intr = interruption(self._inst.catalog)
        if intr.carried_by(self.stage):  # on every turn, false when not interrupted: Tempo drops a span without it
            self.span.set_attribute(intr.attribute, self._interrupted)
        nothing = fb is not None and fb.nothing_value is not None and self._values.get("first_byte") == fb.nothing_value
        self._inst._record_stage(self.stage, self._values, failed, nothing, self._interrupted)
