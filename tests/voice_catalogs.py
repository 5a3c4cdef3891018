"""Catalogs with custom stages and measurements, shared by the tests of what the catalog means."""

from __future__ import annotations

from conftest import DEFAULT_CATALOG

RAG_STAGE = """\
  - id: rag_retrieval
    span: audio.rag_retrieval
    role: custom
    critical_path: true
    title: Retrieval (RAG)
    first_byte: time from the final transcript to the first retrieved document
    measurements:
      - id: first_byte
        attribute: audio.first_byte_ms
        title: Time to first document
        unit: ms
        meaning: time from the final transcript to the first document the retrieval returned
        nothing_value: -1
        metric: *first_byte_metric
        thresholds:
          - {quantile: 0.95, value: 1000, severity: ticket, for: 10m}
      - id: documents
        attribute: audio.rag_documents
        title: Documents retrieved
        unit: count
        meaning: how many documents the retrieval returned for the turn

"""

ASR_CUSTOM_MEASUREMENT = """\
      - id: confidence
        attribute: audio.asr_confidence_pct
        title: Transcript confidence
        unit: percent
        meaning: the ASR's confidence in its final transcript
"""


def rag_catalog_text(critical_path: bool = True) -> str:
    """The default catalog with a custom ``rag_retrieval`` stage between ASR and LLM (on the critical path
    unless told otherwise) and a custom measurement on the ASR stage."""
    text = DEFAULT_CATALOG.read_text(encoding="utf-8")
    stage = RAG_STAGE if critical_path else RAG_STAGE.replace("    critical_path: true\n", "")
    assert "  - id: llm\n" in text and "        bad_name: large late revisions\n" in text
    text = text.replace("  - id: llm\n", stage + "  - id: llm\n", 1)
    return text.replace("        bad_name: large late revisions\n",
                        "        bad_name: large late revisions\n" + ASR_CUSTOM_MEASUREMENT, 1)
