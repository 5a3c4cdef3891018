"""Instrument a voice agent so its spans are exactly what the dashboards query.

The attribute names, span names, units and integer-ness all come from the stage catalog,
so switching the catalog (``default``, ``pipecat``, ``livekit`` or your own) switches what
is emitted, and the generated dashboards keep matching the spans::

    from dashgen.telemetry.instrument import Instrumentation

    inst = Instrumentation("default")            # a catalog, a preset name or a path
    with inst.turn_span(session_id, turn_id):
        with inst.stage_span("llm", session_id, turn_id) as first_byte:
            async for token in llm.stream(messages):
                first_byte()                     # no-op after the first call

What a stage span carries (names from the catalog):

- the session, turn and stage attributes (the stage attribute only when the convention has one);
- ``first_byte``: time from the span's start to ``first_byte()``, on the monotonic clock;
  the measurement's ``nothing_value`` (-1) when nothing was produced;
- ``total``: the time the span was open;
- on an exception: the exception event, an ERROR status and the error attribute (``true``);
- whatever the stage helpers recorded: ``partial()``/``final()`` (ASR time to final, revision
  percent), ``chunk()`` (TTS largest inter-chunk gap), ``vad_fired()``/``confirmed()``/
  ``cancelled()``/``silent()`` (barge-in milestones, all measured from the moment VAD fires),
  ``report(jitter_ms=, buffer_ms=)`` (the client's own report).
  A helper whose measurement the catalog does not declare records nothing.

Values are converted to the measurement's catalog unit (``ns``, ``us``, ``ms``, ``s``). Integer
measurements are emitted as ``int``; Tempo's quantiles count only integers of at least 2, so a
real value below 2 in the catalog's unit is emitted as 2 (it means "at most 2": the value still
lands in Tempo's lowest bucket instead of vanishing from the percentile). A measurement that is
often below 2 ms (barge-in cancel) should be declared in ``us`` in the catalog to keep its
resolution. Non-integer measurements (Pipecat, LiveKit: float seconds) are emitted as floats.

Every measurement is also recorded, unrounded, into an OpenTelemetry histogram for the
Prometheus alerts, named and bucketed as the catalog's ``metric`` block says (default:
``audio_first_byte_milliseconds``), with the stage label (``audio_stage``) as its only
attribute; each stage run also counts into the runs / errors / nothing counters
(``audio_stage_runs_total``...). A session id is never a metric attribute.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator, Protocol

from opentelemetry import metrics, trace
from opentelemetry.trace import Status, StatusCode

from ..catalog import Catalog, Measurement, Stage, load_catalog
from ..catalog.conventions import TIME_UNITS_PER_MS, UNITS, convert

INSTRUMENTATION_NAME = "dashgen.voice"

# Smallest integer Tempo's quantile_over_time / histogram_over_time counts.
TEMPO_MIN_INT = 2


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
    # Every milestone counts from one zero, the moment VAD fires (the seed's definition: "from the
    # moment voice-activity detection fires, to the moment the agent's outbound audio actually
    # goes quiet"). The zero is the span's start; a span opened earlier (while the agent speaks,
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
        """LLM and TTS generation cancelled: ``cancel`` and first byte from VAD firing (the seed marks
        first byte here), and the confirmed-to-cancel step in the catalog's unit (microseconds: it is
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
        nothing = fb is not None and fb.nothing_value is not None and self._values.get("first_byte") == fb.nothing_value
        self._inst._record_stage(self.stage, self._values, failed, nothing)


class Instrumentation:
    """Spans and histograms for one catalog. Thread-safe as the OpenTelemetry SDK is."""

    def __init__(self, catalog: Catalog | str | None = None, tracer_provider=None, meter_provider=None,
                 clock: Clock | None = None, records: tuple[str, ...] = ("sdk",)):
        """``records``: the metric sources (``conventions.METRIC_SOURCES``) this process records. An
        application records ``sdk`` only; ``verify-metrics`` stands in for the bridge and the
        framework too (same names, labels and buckets), as it checks the rules, not the producers."""
        self.catalog = catalog if isinstance(catalog, Catalog) else load_catalog(catalog)
        self.records = frozenset(records)
        self.tracer = (tracer_provider.get_tracer(INSTRUMENTATION_NAME) if tracer_provider
                       else trace.get_tracer(INSTRUMENTATION_NAME))
        self.meter = (meter_provider.get_meter(INSTRUMENTATION_NAME) if meter_provider
                      else metrics.get_meter(INSTRUMENTATION_NAME))
        self.clock = clock or SystemClock()
        self._instruments: dict[str, object] = {}

    def _histogram(self, m: Measurement):
        name = m.metric.name
        h = self._instruments.get(name)
        if h is None:
            same = [x for st in self.catalog.stages for x in st.measurements if x.metric.name == name]
            if any(x.unit != m.unit for x in same):
                raise ValueError(f"measurements recorded as {name!r} have different units in the catalog "
                                 f"({', '.join(sorted({x.unit for x in same}))}); give them different metric names")
            h = self.meter.create_histogram(name, unit=UNITS[m.unit].ucum, description=m.meaning,
                                            explicit_bucket_boundaries_advisory=list(m.metric.buckets))
            self._instruments[name] = h
        return h

    def _counter(self, kind: str):
        """The stage runs / errors / nothing counters the rate alerts divide (``*_total`` in Prometheus)."""
        name = getattr(self.catalog.alerting, f"{kind}_metric")
        otel_name = name[: -len("_total")] if name.endswith("_total") else name
        c = self._instruments.get(otel_name)
        if c is None:
            c = self._instruments[otel_name] = self.meter.create_counter(
                otel_name, description=f"stage {kind} by stage (dashgen {kind} counter)")
        return c

    def _record_stage(self, stage: Stage, values: dict[str, float], failed: bool, nothing: bool) -> None:
        """Record the metrics the catalog says the application's SDK records, and only those: the
        Collector bridge or the framework itself records the others (``alerting.source``,
        ``metric.source``), and recording them here too would count every event twice."""
        source = self.catalog.alerting.source
        label = {self.catalog.alerting.stage_label: stage.id}
        if source in self.records:
            self._counter("runs").add(1, label)
            if failed and (source == "sdk" or stage.records_errors):  # the bridge counts only spans saying ERROR
                self._counter("errors").add(1, label)
            if nothing:
                self._counter("nothing").add(1, label)
        for m in stage.measurements:
            v = values.get(m.id)
            skip = m.metric.source not in self.records or (m.nothing_value is not None and v == m.nothing_value)
            if v is None or skip:
                continue
            # a framework's histogram: no stage label, its own labels (placeholders here)
            attrs = ({m.metric.label: stage.id} if m.metric.label is not None
                     else dict.fromkeys(m.metric.labels, "simulated"))
            self._histogram(m).record(v, attrs)

    def turn_stage(self) -> Stage | None:
        """The stage whose span is the turn span itself (LiveKit's agent_turn), if the catalog has one."""
        return next((s for s in self.catalog.stages if s.span == self.catalog.turn_span), None)

    @property
    def session_span_name(self) -> str:
        """The span that carries the session id when stage spans do not (``session_on_stage_spans: false``)."""
        return self.catalog.session_span or "voice.session"

    def _fail(self, span, exc: BaseException) -> None:
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        if self.catalog.error_attribute:
            span.set_attribute(self.catalog.error_attribute, True)

    @contextmanager
    def _span(self, name: str, attrs: dict, stage: Stage | None, clock: Clock) -> Iterator[StageRecorder]:
        span = self.tracer.start_span(name, start_time=clock.time_ns())
        for k, v in attrs.items():
            span.set_attribute(k, v)
        rec = StageRecorder(self, stage or Stage("", name, "", "", "", ()), span, clock)
        failed = False
        try:
            with trace.use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False):
                yield rec
        except BaseException as exc:
            failed = True
            self._fail(span, exc)
            raise
        finally:
            if stage is not None:
                rec._finish(failed)
            span.end(end_time=clock.time_ns())

    def _stage_attrs(self, st: Stage | None) -> dict:
        return {self.catalog.stage_attribute: st.id} if st is not None and self.catalog.stage_attribute else {}

    @contextmanager
    def session_span(self, session_id: str, clock: Clock | None = None) -> Iterator[object]:
        """For conventions whose stage spans do not carry the session id (Pipecat's ``conversation``,
        LiveKit's ``agent_session``): the ancestor span of a session's turns. A no-op (yields None)
        when every span carries the session id."""
        if self.catalog.session_on_stage_spans:
            yield None
            return
        with self._span(self.session_span_name, {self.catalog.session_attribute: session_id}, None,
                        clock or self.clock) as rec:
            yield rec.span

    @contextmanager
    def turn_span(self, session_id: str, turn_id, clock: Clock | None = None) -> Iterator[StageRecorder]:
        """The parent span of one turn (``convention.turn_span``) with the session and turn ids; stage spans
        opened inside are its children. Yields a ``StageRecorder`` for the stage whose span is the turn span
        (LiveKit's agent_turn: ``set("e2e", ...)``), or one with no measurements."""
        c = self.catalog
        st = self.turn_stage()
        attrs = {**self._stage_attrs(st), c.session_attribute: session_id, c.turn_attribute: turn_id}
        with self._span(c.turn_span, attrs, st, clock or self.clock) as rec:
            yield rec

    @contextmanager
    def stage_span(self, stage: str, session_id: str, turn_id, clock: Clock | None = None) -> Iterator[StageRecorder]:
        """One stage's span. Yields a ``StageRecorder``: call it at the first useful output."""
        c = self.catalog
        try:
            st = c.stage(stage)
        except KeyError:
            raise ValueError(f"stage {stage!r} is not in catalog {c.name!r} "
                             f"(stages: {', '.join(s.id for s in c.stages)})") from None
        if st.span == c.turn_span:
            raise ValueError(f"stage {stage!r} is the turn span {c.turn_span!r}: use turn_span() and its recorder")
        attrs = self._stage_attrs(st)
        if c.session_on_stage_spans:
            attrs.update({c.session_attribute: session_id, c.turn_attribute: turn_id})
        with self._span(st.span, attrs, st, clock or self.clock) as rec:
            yield rec


_default: Instrumentation | None = None


def configure(catalog: Catalog | str | None = None, tracer_provider=None, meter_provider=None) -> Instrumentation:
    """Set the module-level instrumentation ``stage_span``/``turn_span`` use (default: the default preset,
    the global OpenTelemetry providers)."""
    global _default
    _default = Instrumentation(catalog, tracer_provider, meter_provider)
    return _default


def _get_default() -> Instrumentation:
    return _default or configure()


def stage_span(stage: str, session_id: str, turn_id):
    """The seed's ``stage_span(stage, session_id, turn_id)`` on the configured instrumentation."""
    return _get_default().stage_span(stage, session_id, turn_id)


def turn_span(session_id: str, turn_id):
    return _get_default().turn_span(session_id, turn_id)


def session_span(session_id: str):
    return _get_default().session_span(session_id)
