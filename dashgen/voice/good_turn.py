"""What a good turn is: the one definition of the good-turn SLI that every consumer reads.

"Did this call feel natural?" has no single number in the practice; this is an answer a team can
tune in its catalog (``good_turn``). A turn is **good** when all of these hold:

- its caller-felt latency (end of the user's speech to the first agent audio: a turn-level ``e2e``
  measurement, else the playback stage's first byte, ``roles.caller_felt``; or the measurement
  ``good_turn.latency`` names) is at most ``latency_ms``;
- if the user barged in, the agent's outbound audio went silent at most ``barge_in_silence_ms``
  after VAD fired (the barge-in stage's last milestone with a limit, ``barge_in.milestones``);
- no stage span of the turn failed (``voice.errors``: status ERROR or the error attribute);
- no stage of the reply produced nothing (its first byte is the ``nothing_value``, -1; a barge-in
  stage's "nothing" is a barge-in that cancelled nothing, not a reply that never came).

An **interrupted** turn (``voice.interrupted``: the user talked over the agent) is no latency sample:
its timings stop at the interruption. It is judged by the rest: good when its barge-in went silent in
time and nothing failed or came back empty; not judged when the catalog has no silence milestone to
judge it by. A turn that neither failed nor produced nothing but carries no caller-felt latency (the
client never reported) is **not judged** either: no verdict, not counted, because missing telemetry
is not what the caller heard.

The verdict needs every span of the turn, and nothing outside the application sees them together:
the Collector's processors and connectors read one span at a time (OTTL's span context holds the
span, its scope and resource, never a sibling span: open-telemetry/opentelemetry-collector-contrib
``pkg/ottl/contexts/ottlspan``). So the instrumentation judges the turn when its turn span ends
(``dashgen.telemetry.instrument``: the turn span is the parent and ends last) and writes the
verdict where every reader finds it:

- on the turn span, as the integer attribute ``good_turn.attribute`` (1 good, 0 not): the session
  drilldown's score and ``verify-traces`` read it;
- as two counters, judged turns and good turns (``good_turn.counters``): the SDK path increments
  them, the Collector bridge counts turn spans carrying the attribute (``collector.bridge``), and
  the recording rules and burn-rate alerts divide them (``alerts.slo``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ..records import dataclass  # dataclasses' decorator without generated code (start-up)

from ..catalog.conventions import TIME_UNITS_PER_MS, convert
from ..catalog.model import Catalog, GoodTurn, Measurement, Slo, Stage
from . import barge_in
from .errors import StageError, stage_error
from .interrupted import Interruption, interruption
from .roles import caller_felt, role

GOOD, NOT_GOOD = 1, 0  # the attribute's values
SLO_KEY = "good_turn"  # the SLO's key in rule uids, Sloth ids and panel keys


@dataclass(frozen=True)
class Outcome:
    """What one stage span of a turn says: failed, produced nothing, and its measurements (in their units)."""

    stage: str
    failed: bool
    nothing: bool
    values: Mapping[str, float]
    interrupted: bool = False  # the span says the user interrupted the turn (voice.interrupted)


@dataclass(frozen=True)
class GoodTurnSli:
    """The good-turn SLI of one catalog: its limits resolved against the measurements that judge it."""

    spec: GoodTurn
    felt: tuple[Stage, Measurement]
    barge: tuple[Stage, Measurement] | None
    error: StageError
    interruption: Interruption  # which spans mark an interrupted turn, and which stages are barge-ins

    @property
    def turn_span(self) -> str:
        return self.interruption.turn_span

    @property
    def slo(self) -> Slo:
        return slo(self.spec)

    @property
    def latency_limit(self) -> float:
        """``latency_ms`` in the caller-felt measurement's unit."""
        return convert(self.spec.latency_ms, "ms", self.felt[1].unit)

    @property
    def silence_limit(self) -> float | None:
        return convert(self.spec.barge_in_silence_ms, "ms", self.barge[1].unit) if self.barge else None

    def judge(self, outcomes: Iterable[Outcome]) -> bool | None:
        """True (good), False (not good) or None (not judged: no caller-felt latency, or an interrupted turn
        without a silence milestone, and nothing else wrong)."""
        felt_stage, felt_m = self.felt
        felt = None
        bad = interrupted = silent_in_time = False
        for o in outcomes:
            interrupted = interrupted or o.interrupted
            if o.failed or (o.nothing and o.stage not in self.interruption.barge_in):
                bad = True
            if o.stage == felt_stage.id and felt_m.id in o.values and o.values[felt_m.id] != felt_m.nothing_value:
                felt = o.values[felt_m.id]
            if self.barge and o.stage == self.barge[0].id:
                silence = o.values.get(self.barge[1].id)
                if silence is not None and silence > self.silence_limit:
                    bad = True
                silent_in_time = silent_in_time or silence is not None
        if bad:
            return False
        if interrupted:  # its latency stopped at the interruption: the barge-in judges it
            return True if silent_in_time else None
        if felt is None:
            return None
        return felt <= self.latency_limit

    def outcome(self, stage: Stage, status_code: int, attributes: Mapping[str, object]) -> Outcome:
        """A span's outcome as the spans carry it (``verify-traces`` reads stored spans this way)."""
        values = {m.id: float(attributes[m.attribute]) for m in stage.measurements
                  if isinstance(attributes.get(m.attribute), (int, float))
                  and not isinstance(attributes.get(m.attribute), bool)}
        fb = stage.measurement("first_byte")
        nothing = fb is not None and fb.nothing_value is not None and values.get("first_byte") == fb.nothing_value
        return Outcome(stage.id, self.error.failed(status_code, attributes), nothing, values,
                       attributes.get(self.interruption.attribute) is True)

    def describe(self) -> str:
        """The definition in words, for panel descriptions, alert texts and docs."""
        fs, fm = self.felt
        parts = [f"caller-felt latency ({fs.id} {fm.title.lower()}) at most {self.spec.latency_ms:g} ms"]
        if self.barge:
            bs, bm = self.barge
            parts.append(f"a barge-in's {bm.title.lower()} ({bs.id}) at most {self.spec.barge_in_silence_ms:g} ms")
        parts.append(f"no stage failed ({self.error.describe()})")
        parts.append("no stage produced nothing")
        return ", ".join(parts[:-1]) + " and " + parts[-1]


def slo(spec: GoodTurn) -> Slo:
    """The good-turn SLO in the shape the burn-rate machinery (``voice.burn_rates``) reads."""
    return Slo(SLO_KEY, spec.objective, spec.latency_ms, spec.window)


def felt_measurement(catalog: Catalog) -> tuple[Stage, Measurement] | None:
    """The caller-felt latency the SLI judges: ``good_turn.latency`` when given, else ``roles.caller_felt``."""
    g = catalog.good_turn
    if g is not None and g.latency:
        sid, _, mid = g.latency.partition(".")
        stage = next((s for s in catalog.stages if s.id == sid), None)
        m = stage.measurement(mid) if stage else None
        return (stage, m) if m is not None else None
    return caller_felt(catalog)


def silence_measurement(catalog: Catalog) -> tuple[Stage, Measurement] | None:
    """The barge-in stage's last milestone with a limit (outbound audio silent), when there is one."""
    for s in catalog.stages:
        if role(s, catalog) != "barge_in":
            continue
        ms = barge_in.milestones(s)
        if ms and ms[-1].thresholds and ms[-1].unit in TIME_UNITS_PER_MS:
            return s, ms[-1]
    return None


def sli(catalog: Catalog) -> GoodTurnSli | None:
    """The catalog's good-turn SLI, or None when it declares none (or, before ``voice.checks`` ran, it cannot
    be judged)."""
    g = catalog.good_turn
    felt = felt_measurement(catalog) if g is not None else None
    if felt is None or felt[1].unit not in TIME_UNITS_PER_MS:
        return None
    return GoodTurnSli(g, felt, silence_measurement(catalog), stage_error(catalog), interruption(catalog))


def problems(catalog: Catalog) -> list[tuple[tuple, str, str]]:
    """``(catalog key, problem, fix)`` for a ``good_turn`` block the catalog cannot judge."""
    g = catalog.good_turn
    if g is None:
        return []
    felt = felt_measurement(catalog)
    if felt is None:
        if g.latency:
            return [(("good_turn", "latency"), f"good_turn.latency {g.latency!r} names no measurement of the catalog",
                     "write <stage id>.<measurement id>, e.g. turn.e2e")]
        return [(("good_turn",), "good_turn needs the caller-felt latency, and the catalog has neither a turn-level "
                 "e2e measurement nor a playback stage with a first byte",
                 "add good_turn.latency: <stage>.<measurement> naming the end-of-speech to first-audio latency")]
    if felt[1].unit not in TIME_UNITS_PER_MS:
        return [(("good_turn", "latency"), f"good_turn judges {felt[0].id}.{felt[1].id}, whose unit {felt[1].unit} "
                 f"is not a time", "name a latency measurement (unit ns, us, ms or s)")]
    return []
