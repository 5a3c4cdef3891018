"""What part each catalog stage plays in a voice turn, as the catalog declares it.

A stage's ``role`` (``speech_to_text``, ``generation``, ``text_to_speech``, ``playback``,
``barge_in``, ``turn`` or ``custom``) and its ``critical_path`` flag are catalog keys, never
guessed from ids: a stage named ``stt`` or ``rag_retrieval`` is what its catalog says. The
dashboards read them (which stage gets the barge-in breakdown, which first bytes stack up in
the session drilldown's per-turn bars, where the caller-felt latency comes from) and so does
the simulator (which timeline a stage's span gets).

Defaults: ``turn`` for the stage whose span is the turn span, ``custom`` for any other stage
without a role; a stage is on the critical path of the caller-felt latency (the silence from
the end of the user's speech to the agent's first audio) when it says so, and by default when
it is speech to text, generation or text to speech.
"""

from __future__ import annotations

from ..catalog.model import Catalog, Measurement, Stage

# The roles whose first byte, by default, is a step of the caller-felt latency.
CRITICAL_BY_DEFAULT = ("speech_to_text", "generation", "text_to_speech")


def role(stage: Stage, catalog: Catalog) -> str:
    """The stage's declared role; else ``turn`` for the turn span's stage, ``custom`` for any other."""
    if stage.role is not None:
        return stage.role
    return "turn" if stage.span == catalog.turn_span else "custom"


def on_critical_path(stage: Stage, catalog: Catalog) -> bool:
    """Whether the stage's first byte adds to the latency the caller feels."""
    if stage.critical_path is not None:
        return stage.critical_path
    return role(stage, catalog) in CRITICAL_BY_DEFAULT


def stages_with(catalog: Catalog, name: str) -> list[Stage]:
    """The stages of one role, in catalog order."""
    return [s for s in catalog.stages if role(s, catalog) == name]


def response_chain(catalog: Catalog) -> list[Stage]:
    """The stages on the critical path that have a first byte, in catalog (pipeline) order: the
    steps that follow each other between the user's last word and the agent's first audio."""
    return [s for s in catalog.stages if on_critical_path(s, catalog) and s.measurement("first_byte") is not None]


def caller_felt(catalog: Catalog) -> tuple[Stage, Measurement] | None:
    """``(stage, measurement)`` of the latency a caller feels, end of the user's speech to the first
    agent audio, when the catalog's spans carry it: a turn-level ``e2e`` measurement (LiveKit's
    ``lk.e2e_latency``), else the playback stage's first byte (its span opens when the client
    hears the user stop)."""
    for s in catalog.stages:
        m = s.measurement("e2e")
        if m is not None:
            return s, m
    for s in stages_with(catalog, "playback"):
        if s.measurement("first_byte") is not None:
            return s, s.measurement("first_byte")
    return None


def problem(stage: Stage, catalog: Catalog) -> tuple[str, str] | None:
    """``(problem, fix)`` when the declared role contradicts the spans: the turn span's stage is the
    turn (the instrumentation records it on the turn span itself), and only it."""
    is_turn_span = stage.span == catalog.turn_span
    if stage.role == "turn" and not is_turn_span:
        return (f"stage {stage.id} has role turn but its span {stage.span!r} is not the turn span "
                f"{catalog.turn_span!r}", "give it the role of what it does (e.g. custom), or use the turn span")
    if stage.role is not None and stage.role != "turn" and is_turn_span:
        return (f"stage {stage.id} has role {stage.role} but its span is the turn span {catalog.turn_span!r}, "
                f"whose stage is the turn", "use role: turn, or leave role out")
    return None


def placement_problem(stage: Stage, catalog: Catalog) -> tuple[str, str] | None:
    """``(problem, fix)`` when ``in_turn: false`` names the turn span's own stage, which is the turn."""
    if not stage.in_turn and stage.span == catalog.turn_span:
        return (f"stage {stage.id} has in_turn: false but its span is the turn span {catalog.turn_span!r}",
                "leave in_turn out for the turn span's stage")
    return None
