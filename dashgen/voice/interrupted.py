"""Interrupted turns are not latency samples: the one definition every consumer reads.

When the user talks over the agent, the turn's timings stop at the interruption: a first byte that
had not come yet is recorded as the time until the cancel (Pipecat issue #1682: TTFB reported on
interrupted turns), a total is cut short. Such a number says nothing about how fast the pipeline is,
and a few of them move a p95. The catalog names the boolean span attribute that marks such a turn
(``convention.interrupted_attribute``, default ``audio.interrupted``) and which spans carry it
(``convention.interrupted_on_stage_spans``: every stage span, or only the turn span).

A measurement leaves interrupted turns out (``Interruption.excludes``) when it is a latency the team
watches: a time (its unit is ns, us, ms or s) that is the stage's first byte, carries a quantile
threshold or is its SLO's measurement; its stage's spans carry the attribute; and its stage is not a
barge-in stage (a barge-in is measured only on interrupted turns: there the interruption is the
sample). Other times (a stage's total, jitter, the client's buffer depth) keep every turn: they are
no speed figure an alert pages on, and a jitter measured on an interrupted turn is still a jitter.

Its readers, each in its own language:

- the dashboards' TraceQL (``queries.traceql.TraceQL.not_interrupted``): ``span.<attribute> != true``
  on every latency query of such a measurement. Tempo evaluates a comparison with an attribute the
  span lacks as false (grafana/tempo ``pkg/traceql/ast_execute.go``, ``BinaryOperation.execute``: a
  missing attribute is nil, and an operand of another type makes the comparison false), so the spans
  the attribute is read on must carry it on every turn, false when not interrupted: dashgen's
  instrumentation does, and so do both frameworks on their turn spans (LiveKit's
  ``lk.interrupted``: livekit-agents ``livekit/agents/voice/agent_activity.py``,
  ``current_span.set_attribute(trace_types.ATTR_SPEECH_INTERRUPTED, speech_handle.interrupted)``;
  Pipecat's ``turn.was_interrupted``: ``src/pipecat/utils/tracing/turn_trace_observer.py``,
  ``_handle_turn_ended`` and ``end_conversation_tracing``); ``telemetry.verify`` reports a span that
  lacks it;
- the Prometheus series: the measurement's histogram carries the attribute as a label
  (``label``, ``audio.interrupted`` -> ``audio_interrupted``): the SDK path (``telemetry.instrument``)
  records it with every value, the Collector bridge (``collector.bridge``) keeps it as a dimension
  (``default_value`` false for spans without it); the quantile rules, SLO ratios and PromQL panels
  match ``<label>!="true"`` (``queries.promql.not_interrupted``), which a series without the label
  matches too;
- a framework's own histogram (``metric.source: framework``, LiveKit's ``lk.agents.turn.*``) has no
  such label (livekit-agents ``telemetry/otel_metrics.py``, ``_record_turn_metrics``, records every
  message's metrics, interrupted or not): its rules cannot leave interrupted turns out, and say so.
"""

from __future__ import annotations

from ..records import dataclass, derived  # dataclasses' decorator without generated code (start-up)
from ..catalog.conventions import TIME_UNITS_PER_MS, label_name
from ..catalog.model import Catalog, Measurement, Stage
from .roles import role


@dataclass(frozen=True)
class Interruption:
    """The definition for one catalog."""

    attribute: str
    turn_span: str
    on_stage_spans: bool
    barge_in: frozenset[str]  # ids of the catalog's barge-in stages

    @property
    def label(self) -> str:
        """The Prometheus label the attribute becomes (otlptranslator's LabelNamer)."""
        return label_name(self.attribute)

    def carried_by(self, stage: Stage) -> bool:
        """Whether the stage's spans carry the attribute (every stage span, or the turn span only)."""
        return self.on_stage_spans or stage.span == self.turn_span

    def watched(self, stage: Stage, m: Measurement) -> bool:
        """A latency of a non-barge-in stage that interrupted turns would skew: its first byte, a
        measurement with a quantile threshold, or its SLO's."""
        latency = m.id == "first_byte" or bool(m.thresholds) or (stage.slo is not None
                                                                  and stage.slo.measurement == m.id)
        return m.unit in TIME_UNITS_PER_MS and latency and stage.id not in self.barge_in

    def excludes(self, stage: Stage, m: Measurement) -> bool:
        """Whether interrupted turns are left out of this measurement's latency statistics."""
        return self.watched(stage, m) and self.carried_by(stage)

    def metric_excludes(self, stage: Stage, m: Measurement) -> bool:
        """Whether the measurement's histogram carries the label, so PromQL can leave them out: a
        framework's own histogram does not."""
        return self.excludes(stage, m) and m.metric.source != "framework"

    def missed(self, stage: Stage, m: Measurement) -> bool:
        """A watched latency whose histogram still counts interrupted turns."""
        return self.watched(stage, m) and not self.metric_excludes(stage, m)

    def describe(self) -> str:
        return f"{self.attribute} = true"

    def panel_note(self, stage: Stage, m: Measurement) -> str:
        """What a latency panel of the measurement says about interrupted turns ("" for no time)."""
        if not self.watched(stage, m):
            return ""
        if self.excludes(stage, m):
            return (f"Interrupted turns ({self.describe()}) are left out: their timings stop at the "
                    f"interruption and say nothing about speed. ")
        return (f"Interrupted turns are counted here: only the {self.turn_span} span carries "
                f"{self.attribute}, and a Tempo metrics query reads one span. ")

    def rule_note(self, stage: Stage, m: Measurement) -> str:
        """What a quantile or SLO rule of the measurement says about interrupted turns."""
        if self.metric_excludes(stage, m):
            return (f"Interrupted turns ({self.describe()}, label {self.label}=\"true\") are left out: "
                    f"their timings stop at the interruption.")
        if m.metric.source == "framework" and self.excludes(stage, m):
            return (f"Interrupted turns are counted: the framework's own histogram {m.metric.name} "
                    f"carries no {self.label} label.")
        if self.missed(stage, m):
            return (f"Interrupted turns are counted: only the {self.turn_span} span carries "
                    f"{self.attribute}, and the metric is derived from the {stage.span} span alone.")
        return ""


@derived
def interruption(catalog: Catalog) -> Interruption:
    return Interruption(catalog.interrupted_attribute, catalog.turn_span, catalog.interrupted_on_stage_spans,
                        frozenset(s.id for s in catalog.stages if role(s, catalog) == "barge_in"))
