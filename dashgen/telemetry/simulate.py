"""``dashgen simulate``: synthetic voice sessions run through the real instrumentation.

Each turn is planned first (all timings drawn from one seeded RNG, the same for every catalog),
then replayed through ``dashgen.telemetry.instrument`` with a virtual clock per span, so the spans carry
exactly what a real application instrumented with the helpers would emit, and span start/end
times lie on a realistic timeline over the last ``window`` minutes.

Baseline (ms; lognormal medians, p95 roughly 1.7x): ASR first partial 80 (+ late audio when
client jitter is above 20), utterance 1.8 s, endpointing 250; LLM first token 280, 12-25 ms per
token; errors: ASR 0.5%, LLM 1%, TTS 0.5% of turns; TTS first audio 170, chunks every ~45 ms, a stall of 150-400 ms in ~6% of turns; client
jitter 12 (buffer 60-200 following it), network 25; barge-in on 15% of turns: VAD fires ~35 ms
after the user starts talking and confirms speech ~70 ms later, cancel 0.2-2 ms after that,
outbound silent after the in-flight part of the client buffer (every milestone from VAD firing); 2% of turns
the ASR hears nothing; 25% of final transcripts revise the last partial a little, 2% a lot.

Incidents start half way through the window:

- ``slow-tts``: TTS first audio median 480 ms, stalls in a third of the turns (the 350 ms p95 page fires);
- ``deep-client-buffer``: clients settle on a 450 ms jitter buffer: barge-in silence goes past 200 ms p95;
- ``asr-late-revisions``: 30% of final transcripts rewrite the last partial ("confirm" -> "cancel");
- ``llm-tail``: 12% of requests take 1.2-3 s to the first token (p99 two seconds);
- ``interrupted-early``: a quarter of the turns, the caller talks again before the agent's first audio,
  and the TTS first byte is taken at the interruption (0.9-2.5 s), as frameworks report it (Pipecat
  issue #1682). Every span of an interrupted turn carries the catalog's interrupted attribute, so the
  latency panels, quantile rules and SLOs leave these turns out and nothing pages where the catalog's
  spans and metrics carry it (``voice.interrupted``); without that exclusion the TTS p95 would page.
"""

from __future__ import annotations

import math
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..catalog.model import Stage
from ..catalog.conventions import TIME_UNITS_PER_MS
from .instrument import Instrumentation, VirtualClock
from .recorder import DERIVED_AT_END
from ..voice.roles import role

# The timeline the simulator gives a stage, by its catalog role (dashgen.voice.roles); a custom
# stage gets the generic one, which draws every measurement from its unit.
TIMELINES = {"speech_to_text": "_asr", "generation": "_llm", "text_to_speech": "_tts", "playback": "_client",
             "barge_in": "_barge_in", "custom": "_generic"}

INCIDENTS = {
    "slow-tts": "TTS first audio median 480 ms and frequent stalls (TTS first-byte page)",
    "deep-client-buffer": "clients buffer 450 ms of audio: barge-in silence goes past 200 ms",
    "asr-late-revisions": "30% of final transcripts rewrite the last partial",
    "llm-tail": "12% of LLM requests take 1.2-3 s to the first token",
    "interrupted-early": "a quarter of the turns are interrupted before the agent's first audio, their TTS first "
                         "byte taken at the interruption (0.9-2.5 s): no alert, interrupted turns are no latency sample",
}

PHRASES = [
    "i want to cancel my order",
    "can you move my appointment to thursday",
    "what is the balance on my card account",
    "please send me the invoice again",
    "i would like to book a table for ten",
    "yes that is correct",
    "no i said the new one",
    "how long will the delivery take",
]


class SimulatedFailure(RuntimeError):
    """A stage failure the simulator injects (recorded on the span like any exception)."""


@dataclass
class TurnPlan:
    """Every time of one turn, in ms from the moment the user starts speaking."""

    n: int
    utterance: float
    asr_nothing: bool
    asr_error: bool
    tts_error: bool
    asr_first_partial: float
    partials: list[tuple[float, str]]
    final_at: float
    final_text: str
    llm_start: float
    llm_error: bool
    llm_ttft: float
    llm_tokens: list[float]  # token times relative to llm_start
    tts_start: float
    tts_chunks: list[float]  # relative to tts_start
    jitter: float
    buffer: float
    network: float
    client_skew: float
    play_start: float
    play_end: float
    barge: dict | None
    end: float
    generic: dict = field(default_factory=dict)


def _ln(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def plan_turn(rng: random.Random, n: int, incidents: frozenset[str]) -> TurnPlan:
    utterance = min(6000.0, max(400.0, _ln(rng, 1800, 0.45)))
    endpoint = _ln(rng, 250, 0.3)
    jitter = _ln(rng, 12, 0.6)
    network = _ln(rng, 25, 0.2)
    buffer = min(200.0, max(60.0, 40 + 2.5 * jitter))
    if "deep-client-buffer" in incidents:
        buffer = rng.uniform(380, 520)
    client_skew = rng.uniform(-40, 40)
    asr_nothing = rng.random() < 0.02
    asr_error = not asr_nothing and rng.random() < 0.005
    tts_error = rng.random() < 0.005
    final_text = rng.choice(PHRASES)
    words = final_text.split()
    r = rng.random()
    large = 0.30 if "asr-late-revisions" in incidents else 0.02
    if r < large:  # a late rewrite: half the words change with the final ("confirm" became "cancel")
        k = max(2, len(words) // 2)
        partial_text = " ".join(words[: len(words) - k] + ["confirm", "the", "order", "uh"][:k] + ["okay"] * (k - 4))
    elif r < large + 0.25:  # the last word arrives only with the final
        partial_text = " ".join(words[:-1])
    else:
        partial_text = final_text
    first_partial = _ln(rng, 80, 0.28) + max(0.0, jitter - 20) * 0.8
    final_at = utterance + endpoint
    partials, t, i = [], first_partial, 1
    while t < utterance and i < len(words) - 1:
        partials.append((t, " ".join(words[:i])))
        t += rng.uniform(200, 400)
        i += 1
    partials.append((min(max(t, first_partial), final_at - 1), partial_text))
    llm_start = final_at + rng.uniform(2, 8)
    llm_error = rng.random() < 0.01
    ttft = _ln(rng, 280, 0.35)
    if "llm-tail" in incidents and rng.random() < 0.12:
        ttft = rng.uniform(1200, 3000)
    n_tokens = rng.randint(20, 80)
    tokens = [ttft]
    for _ in range(n_tokens - 1):
        tokens.append(tokens[-1] + rng.uniform(12, 25))
    tts_start = llm_start + ttft + rng.uniform(1, 4)
    ttfb = _ln(rng, 480, 0.35) if "slow-tts" in incidents else _ln(rng, 170, 0.3)
    stall_p = 0.03 if "slow-tts" in incidents else 0.004  # per gap
    audio_ms = n_tokens * 60.0
    chunks = [ttfb]
    for _ in range(max(1, int(audio_ms / 200)) - 1):
        gap = rng.uniform(150, 400) if rng.random() < stall_p else _ln(rng, 45, 0.4)
        chunks.append(chunks[-1] + gap)
    play_start = tts_start + ttfb + network + buffer
    play_end = play_start + audio_ms
    barge = None
    if not asr_nothing and not asr_error and not llm_error and rng.random() < 0.15:
        start = play_start + rng.uniform(0.3, 0.8) * audio_ms
        onset = _ln(rng, 35, 0.3)  # the user starts talking over the agent; VAD fires this much later
        confirm = _ln(rng, 70, 0.25)  # VAD firing -> speech confirmed (not a cough)
        cancel = rng.uniform(0.2, 2.0)  # confirmed -> generation cancelled
        inflight = buffer * rng.uniform(0.3, 0.7) + network
        # every milestone from the moment VAD fires (at start + onset)
        barge = {"start": start, "onset": onset, "vad": confirm, "cancel": cancel,
                 "silence": confirm + cancel + inflight}
        play_end = min(play_end, start + onset + barge["silence"])
    asr_nothing = asr_nothing or asr_error  # nothing downstream of a failed ASR
    tts_error = tts_error and not asr_nothing and not llm_error
    if tts_error:
        barge = None
    # drawn only in the incident, so a run without it draws the same numbers as before
    if ("interrupted-early" in incidents and not (asr_nothing or llm_error or tts_error)
            and rng.random() < 0.25):
        # the caller talks again before the first audio: the TTS first byte stops at the interruption
        cut = rng.uniform(900, 2500)
        onset, confirm, cancel = _ln(rng, 35, 0.3), _ln(rng, 70, 0.25), rng.uniform(0.2, 2.0)
        barge = {"start": tts_start + cut - onset - confirm - cancel, "onset": onset, "vad": confirm,
                 "cancel": cancel, "silence": confirm + cancel + network}
        chunks = [cut]
        play_start = tts_start + cut + network
        play_end = play_start + 1
    if asr_nothing:
        end = utterance + 600
    elif llm_error or tts_error:
        end = llm_start + 2000
    else:
        end = max(play_end, tts_start + chunks[-1]) + 20
        if barge:
            end = max(end, barge["start"] + barge["onset"] + barge["silence"] + 5)
    return TurnPlan(n=n, utterance=utterance, asr_nothing=asr_nothing, asr_error=asr_error, tts_error=tts_error, asr_first_partial=first_partial,
                    partials=partials, final_at=final_at, final_text=final_text, llm_start=llm_start,
                    llm_error=llm_error, llm_ttft=ttft, llm_tokens=tokens, tts_start=tts_start, tts_chunks=chunks,
                    jitter=jitter, buffer=buffer, network=network, client_skew=client_skew, play_start=play_start,
                    play_end=play_end, barge=barge, end=end,
                    generic={"first": _ln(rng, 120, 0.4), "total": rng.uniform(1.5, 4.0), "u": rng.random()})


@dataclass
class SimResult:
    sessions: int = 0
    turns: int = 0
    stage_spans: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    barge_ins: int = 0
    incident_turns: int = 0


class Simulator:
    def __init__(self, inst: Instrumentation, seed: int = 1, incidents=(), now_ns: int | None = None,
                 window_minutes: float = 10.0):
        unknown = sorted(set(incidents) - set(INCIDENTS))
        if unknown:
            raise ValueError(f"unknown incident {unknown[0]!r} (one of: {', '.join(INCIDENTS)})")
        self.inst = inst
        self.catalog = inst.catalog
        self.rng = random.Random(seed)
        self.incidents = frozenset(incidents)
        self.now_ns = time.time_ns() if now_ns is None else int(now_ns)
        self.window_ms = window_minutes * 60_000.0
        self.result = SimResult()

    def run(self, sessions: int, after_session=None) -> SimResult:
        """``after_session(end_ms)``, when given, is called after each session with the time its last
        turn ended (ms relative to now): ``verify-metrics`` samples the metric readers there."""
        start_ms = -self.window_ms
        for i in range(sessions):
            offset = start_ms + self.window_ms * (i / max(1, sessions)) + self.rng.uniform(0, 2000)
            end_ms = self.session(i, offset)
            if after_session is not None:
                after_session(end_ms)
        return self.result

    def session(self, i: int, offset_ms: float) -> float:
        rng = self.rng
        sid = f"sess_{rng.getrandbits(24):06x}"
        incidents = self.incidents if offset_ms >= -self.window_ms / 2 else frozenset()
        n_turns = rng.randint(3, 8)
        plans, t = [], 0.0
        for n in range(1, n_turns + 1):
            t += _ln(rng, 800, 0.4)
            p = plan_turn(rng, n, incidents)
            plans.append((t, p))
            t += p.end
        # a session ends where its last turn ends: keep it inside the window, ending before now
        offset_ms = min(offset_ms, -t - 1000.0)
        epoch = self.now_ns + int(offset_ms * 1e6)
        sclock = VirtualClock(epoch)
        self.result.sessions += 1
        with self.inst.session_span(sid, clock=sclock):
            for at, p in plans:
                self.turn(sid, p, epoch + int(at * 1e6))
                self.result.incident_turns += bool(incidents)
            sclock.set(t)
        return offset_ms + t

    # one turn ------------------------------------------------------------------------------------
    def turn(self, sid: str, p: TurnPlan, epoch: int) -> None:
        c = self.catalog
        tid = f"speech_{self.rng.getrandbits(32):08x}" if "speech" in c.turn_attribute else str(p.n)
        self.result.turns += 1
        self.result.barge_ins += p.barge is not None
        if self.inst.turn_stage() is not None:
            sid_ = self.inst.turn_stage().id
            self.result.stage_spans[sid_] = self.result.stage_spans.get(sid_, 0) + 1
        tclock = VirtualClock(epoch)
        with self.inst.turn_span(sid, tid, clock=tclock) as turn:
            turn.interrupted(p.barge is not None)
            for st in c.stages:
                if role(st, c) == "turn":
                    continue
                fn = getattr(self, TIMELINES[role(st, c)])
                try:
                    ran = fn(st, sid, tid, p, epoch)
                except SimulatedFailure:
                    ran = True
                    self.result.errors += 1
                if ran:
                    self.result.stage_spans[st.id] = self.result.stage_spans.get(st.id, 0) + 1
            self._turn_measurements(turn, p)
            tclock.set(p.end)

    def _open(self, st: Stage, sid, tid, epoch: int, at_ms: float, p: TurnPlan, skew: float = 0.0):
        clock = VirtualClock(epoch + int(skew * 1e6), at_ms)
        return self._every_measurement(st, sid, tid, clock, p), clock

    @contextmanager
    def _every_measurement(self, st: Stage, sid, tid, clock, p: TurnPlan):
        """The stage's span; when it produced something, every measurement its timeline did not record
        (a custom one on any stage) gets a value drawn from its unit, so the spans carry everything the
        catalog declares, as ``verify-traces`` and ``verify-metrics`` require of a real application."""
        with self.inst.stage_span(st.id, sid, tid, clock=clock) as rec:
            rec.interrupted(p.barge is not None)  # every span of the turn says whether it was interrupted
            yield rec
            if rec.produced:
                for m in st.measurements:
                    if m.id not in DERIVED_AT_END and not rec.recorded(m.id):
                        rec.set(m.id, *self._draw(m.unit, p.generic["u"]))

    def _asr(self, st, sid, tid, p: TurnPlan, epoch) -> bool:
        cm, clock = self._open(st, sid, tid, epoch, 0.0, p)
        with cm as rec:
            if p.asr_error:
                clock.advance(800)
                raise SimulatedFailure("ASR stream closed by the provider")
            if p.asr_nothing:
                clock.advance(p.utterance + 600)
                return True
            for at, text in p.partials:
                clock.set(max(clock.ms, at))
                rec.partial(text)
            clock.set(max(clock.ms, p.final_at))
            rec.final(p.final_text)
            clock.advance(3)
        return True

    def _llm(self, st, sid, tid, p: TurnPlan, epoch) -> bool:
        if p.asr_nothing:
            return False
        cm, clock = self._open(st, sid, tid, epoch, p.llm_start, p)
        with cm as rec:
            if p.llm_error:
                clock.advance(2000)
                raise SimulatedFailure("LLM request timed out after 2000 ms")
            for tok in p.llm_tokens:
                clock.set(p.llm_start + tok)
                rec()
        return True

    def _tts(self, st, sid, tid, p: TurnPlan, epoch) -> bool:
        if p.asr_nothing or p.llm_error:
            return False
        cm, clock = self._open(st, sid, tid, epoch, p.tts_start, p)
        with cm as rec:
            if p.tts_error:
                clock.advance(1500)
                raise SimulatedFailure("TTS synthesis failed: 503 from the voice provider")
            for ch in p.tts_chunks:
                clock.set(p.tts_start + ch)
                rec.chunk()
            clock.advance(2)
        return True

    def _client(self, st, sid, tid, p: TurnPlan, epoch) -> bool:
        if p.asr_nothing or p.llm_error or p.tts_error:
            return False
        # the client's span starts when it hears the user stop, by its own (skewed) clock
        cm, clock = self._open(st, sid, tid, epoch, p.utterance, p, skew=p.client_skew)
        with cm as rec:
            clock.set(p.play_start)
            rec.played()
            rec.report(jitter_ms=p.jitter, buffer_ms=p.buffer)
            clock.set(max(clock.ms, p.play_end))
        return True

    def _barge_in(self, st, sid, tid, p: TurnPlan, epoch) -> bool:
        b = p.barge
        if not b:
            return False
        # the span opens when the user starts talking over the agent; the milestones count from VAD firing
        cm, clock = self._open(st, sid, tid, epoch, b["start"], p)
        with cm as rec:
            clock.advance(b["onset"]); rec.vad_fired()
            clock.advance(b["vad"]); rec.confirmed()
            clock.advance(b["cancel"]); rec.cancelled()
            clock.set(b["start"] + b["onset"] + b["silence"]); rec.silent()
        return True

    def _generic(self, st, sid, tid, p: TurnPlan, epoch) -> bool:
        """A custom stage (no model of its own): first byte after ~120 ms; every other measurement is drawn
        from its unit when the span closes (``_every_measurement``)."""
        if p.asr_nothing or p.llm_error:
            return False
        cm, clock = self._open(st, sid, tid, epoch, p.llm_start, p)
        with cm as rec:
            clock.advance(p.generic["first"])
            rec()
            clock.advance(p.generic["first"] * p.generic["total"])
        return True

    @staticmethod
    def _draw(unit: str, u: float) -> tuple[float, str | None]:
        if unit in TIME_UNITS_PER_MS:
            return 20 + 180 * u, "ms"
        if unit == "percent":
            return round(40 * u), None
        if unit == "bytes":
            return float(int(1000 + 99000 * u)), None
        return float(1 + int(9 * u)), None

    def _turn_measurements(self, turn, p: TurnPlan) -> None:
        """Measurements and flags of a stage whose span is the turn span (LiveKit's agent_turn, Pipecat's turn)."""
        st = turn.stage
        for f in st.flags:  # an interrupted turn is a barge-in; any other flag: a coin from the plan
            turn.flag(f.id, p.barge is not None if f.id == "interrupted" else p.generic["u"] > 0.5)
        for m in st.measurements:
            if m.id in ("e2e", "user_bot_latency"):
                if not (p.asr_nothing or p.llm_error or p.tts_error):
                    turn.set(m.id, p.play_start - p.utterance, unit="ms")
            elif m.id == "interruption_delay":  # LiveKit: from the user starting to talk to detection
                if p.barge:
                    turn.set(m.id, p.barge["onset"] + p.barge["vad"], unit="ms")
            elif m.id == "vad_detect":  # from VAD firing, as everywhere else
                if p.barge:
                    turn.set(m.id, p.barge["vad"], unit="ms")
            elif m.id == "first_byte":
                if not (p.asr_nothing or p.llm_error or p.tts_error):
                    turn.set("first_byte", p.play_start - p.utterance, unit="ms")
            elif m.id != "total":
                turn.set(m.id, *self._draw(m.unit, p.generic["u"]))
