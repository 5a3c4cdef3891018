"""The OTLP -> Prometheus metric name translation, recomputed for tests (independent of dashgen's own
``catalog.conventions``): what a Collector's prometheus exporter, or Prometheus' OTLP receiver, calls
a metric under the default UnderscoreEscapingWithSuffixes strategy (prometheus/otlptranslator,
``metric_namer.go`` and ``unit_namer.go``).

Only the units a stage catalog can use are in the table; any other unit is an error here, never a
guess. tests/test_collector_bridge.py checks this against the doc-comment examples of
otlptranslator itself.
"""

from __future__ import annotations

import re

# otlptranslator unit_namer.go (unitMap / perUnitMap), the entries the catalog's units reach
UNIT_WORDS = {"ns": "nanoseconds", "us": "microseconds", "ms": "milliseconds", "s": "seconds",
              "%": "percent", "By": "bytes", "1": "", "": ""}
PER_UNIT_WORDS = {"s": "second", "m": "minute", "h": "hour"}


def unit_words(unit: str) -> tuple[str, str]:
    """(main word, ``per_<word>``) of a UCUM unit; empty for an annotation (``{span}``) or ``1``."""
    main, _, per = unit.partition("/")
    if main.startswith("{") and main.endswith("}"):  # an annotation: no word
        main = ""
    if main not in UNIT_WORDS:
        raise KeyError(f"unit {main!r} is not in this test's table")
    if per and per not in PER_UNIT_WORDS:
        raise KeyError(f"per-unit {per!r} is not in this test's table")
    return UNIT_WORDS[main], ("per_" + PER_UNIT_WORDS[per]) if per else ""


def prometheus_name(name: str, unit: str, kind: str) -> str:
    """``kind``: ``histogram`` | ``counter`` (monotonic sum) | ``updown`` (non-monotonic sum) | ``gauge``.

    Tokens are the name's runs of ``[a-zA-Z0-9:]``; each unit word is appended unless it already is
    one whole token (``slices.Contains`` in otlptranslator), then ``total`` for a counter."""
    tokens = [t for t in re.split(r"[^a-zA-Z0-9:]+", name) if t]
    for word in unit_words(unit):
        if word and word not in tokens:
            tokens.append(word)
    if kind == "counter":
        tokens = [t for t in tokens if t != "total"] + ["total"]
    if kind == "gauge" and unit == "1":
        tokens = [t for t in tokens if t != "ratio"] + ["ratio"]
    out = "_".join(tokens)
    return "_" + out if out[:1].isdigit() else out


def prometheus_label(key: str) -> str:
    """otlptranslator's LabelNamer: anything but ``[a-zA-Z0-9_]`` -> ``_``; a leading digit -> ``key_``."""
    out = re.sub(r"[^a-zA-Z0-9_]", "_", key)
    return "key_" + out if out[:1].isdigit() else out
