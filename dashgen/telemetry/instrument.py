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
- the catalog's interrupted attribute (``audio.interrupted``), on the spans that carry it: true when
  ``interrupted()`` was called (the user talked over the agent), else false (``voice.interrupted``);
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
``audio_first_byte_milliseconds``), with the stage label (``audio_stage``) and, on the latencies
that leave interrupted turns out, the interrupted label (``audio_interrupted``, "true" or "false")
as its attributes; each stage run also counts into the runs / errors / nothing counters
(``audio_stage_runs_total``...). A session id is never a metric attribute.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

from opentelemetry import metrics, trace
from opentelemetry.trace import Status, StatusCode

from ..catalog import Catalog, Measurement, Stage
from ..voice.checks import load_catalog
from ..voice.errors import stage_error
from ..voice.good_turn import GOOD, NOT_GOOD, Outcome, sli as good_turn_sli
from ..voice.interrupted import interruption
from ..catalog.conventions import UNITS
from .clocks import Clock, SystemClock, VirtualClock
from .recorder import TEMPO_MIN_INT, StageRecorder, encode_value, revision_percent

__all__ = ["TEMPO_MIN_INT", "Clock", "Instrumentation", "StageRecorder", "SystemClock", "VirtualClock", "configure",
           "encode_value", "revision_percent", "session_span", "stage_span", "turn_span"]

INSTRUMENTATION_NAME = "dashgen.voice"
# The outcomes of the stage spans of the turn being recorded (the good-turn verdict needs them all):
# a list per open turn span, seen by every stage span opened inside it, in this thread or task.
_TURN_OUTCOMES: ContextVar[list | None] = ContextVar("dashgen_turn_outcomes", default=None)


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
        self.good_turn = good_turn_sli(self.catalog)

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

    def _turn_counter(self, name: str, what: str):
        otel_name = name[: -len("_total")] if name.endswith("_total") else name
        c = self._instruments.get(otel_name)
        if c is None:
            c = self._instruments[otel_name] = self.meter.create_counter(otel_name, description=what)
        return c

    def _judge_turn(self, span, outcomes: list[Outcome]) -> bool | None:
        """The good-turn verdict (``voice.good_turn``) once every stage span of the turn has ended: on the
        turn span as its attribute, and into the judged and good counters when the SDK records them."""
        g = self.good_turn
        if g is None:
            return None
        verdict = g.judge(outcomes)
        if verdict is None:
            return None
        span.set_attribute(g.spec.attribute, GOOD if verdict else NOT_GOOD)
        if self.catalog.alerting.source in self.records:  # the bridge counts the turn spans instead
            self._turn_counter(g.spec.turns_metric, "turns judged by the good-turn SLI (dashgen)").add(1)
            if verdict:
                self._turn_counter(g.spec.good_metric, "good turns (dashgen good-turn SLI)").add(1)
        return verdict

    def _record_stage(self, stage: Stage, values: dict[str, float], failed: bool, nothing: bool,
                      interrupted: bool = False) -> None:
        """Record the metrics the catalog says the application's SDK records, and only those: the
        Collector bridge or the framework itself records the others (``alerting.source``,
        ``metric.source``), and recording them here too would count every event twice."""
        outcomes = _TURN_OUTCOMES.get()
        if outcomes is not None and stage.id:
            outcomes.append(Outcome(stage.id, failed, nothing, dict(values), interrupted))
        source = self.catalog.alerting.source
        label = {self.catalog.alerting.stage_label: stage.id}
        intr = interruption(self.catalog)
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
            if intr.metric_excludes(stage, m):  # the label the rules leave interrupted turns out by
                attrs[intr.label] = "true" if interrupted else "false"
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

    def _marked_failed(self, span) -> bool:
        """Whether the application marked the span failed without raising: its status set to ERROR,
        or the catalog's error attribute set true (``voice.errors``, the definition the dashboards,
        the bridge and ``verify-traces`` read), so the errors counter and the good-turn verdict
        count it as they count a raised exception. A span that records nothing (no SDK) says neither."""
        status = getattr(span, "status", None)
        code = status.status_code.value if status is not None else 0
        return stage_error(self.catalog).failed(code, getattr(span, "attributes", None) or {})

    @contextmanager
    def _span(self, name: str, attrs: dict, stage: Stage | None, clock: Clock,
              turn: bool = False) -> Iterator[StageRecorder]:
        span = self.tracer.start_span(name, start_time=clock.time_ns())
        token = _TURN_OUTCOMES.set([]) if turn else None
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
            failed = failed or self._marked_failed(span)
            if stage is not None:
                rec._finish(failed)
            if token is not None:
                outcomes = _TURN_OUTCOMES.get()
                _TURN_OUTCOMES.reset(token)
                if failed and stage is None:  # the turn itself failed, and no stage outcome says so
                    outcomes.append(Outcome(name, True, False, {}))
                self._judge_turn(span, outcomes)
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
        with self._span(c.turn_span, attrs, st, clock or self.clock, turn=True) as rec:
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
    """``stage_span(stage, session_id, turn_id)``, the usual per-stage span helper, on the configured instrumentation."""
    return _get_default().stage_span(stage, session_id, turn_id)


def turn_span(session_id: str, turn_id):
    return _get_default().turn_span(session_id, turn_id)


def session_span(session_id: str):
    return _get_default().session_span(session_id)
