"""What part a catalog stage plays in a voice turn, told from its id or its measurements.

The catalog names stages freely (``asr`` or ``stt``, ``barge_in`` or ``interruption``); the
simulator needs to know which timeline to give a stage, and the dashboards which stages add
up to the silence a caller hears (ASR first partial + LLM first token + TTS first audio).
"""

from __future__ import annotations

ROLE_BY_ID = {"asr": "asr", "stt": "asr", "llm": "llm", "tts": "tts", "client": "client", "playback": "client",
              "barge_in": "barge_in", "interruption": "barge_in", "bargein": "barge_in"}
ROLE_BY_MEASUREMENT = {"time_to_final": "asr", "revision": "asr", "max_chunk_gap": "tts", "jitter": "client",
                       "buffer_depth": "client", "vad_detect": "barge_in", "cancel": "barge_in", "silence": "barge_in"}
# The stages whose first bytes follow each other between the user's last word and the agent's first audio.
RESPONSE_CHAIN = ("asr", "llm", "tts")


def role_of(stage, catalog) -> str:
    """``turn`` (the stage is the turn span), one of ROLE_BY_ID's roles, or ``generic``."""
    if stage.span == catalog.turn_span:
        return "turn"
    if stage.id in ROLE_BY_ID:
        return ROLE_BY_ID[stage.id]
    for m in stage.measurements:
        if m.id in ROLE_BY_MEASUREMENT:
            return ROLE_BY_MEASUREMENT[m.id]
    return "generic"


def response_chain(catalog) -> list:
    """The ASR, LLM and TTS stages (in that order) that have a first byte, as far as the catalog has them."""
    by_role = {}
    for s in catalog.stages:
        role = role_of(s, catalog)
        if role in RESPONSE_CHAIN and role not in by_role and s.measurement("first_byte") is not None:
            by_role[role] = s
    return [by_role[r] for r in RESPONSE_CHAIN if r in by_role]


def caller_felt(catalog):
    """``(stage, measurement)`` of the latency a caller feels, end of the user's speech to the first
    agent audio, when the catalog's spans carry it: a turn-level ``e2e`` measurement (LiveKit's
    ``lk.e2e_latency``), else the client's first byte (its span opens when it hears the user stop)."""
    for s in catalog.stages:
        m = s.measurement("e2e")
        if m is not None:
            return s, m
    for s in catalog.stages:
        if role_of(s, catalog) == "client" and s.measurement("first_byte") is not None:
            return s, s.measurement("first_byte")
    return None
