"""Table columns as Grafana types them.

Grafana's Tempo datasource builds a span table (``public/app/plugins/datasource/tempo/
resultTransformer.ts``, ``createTableFrameFromTraceQlQueryAsSpans``) with the start time as a
time field (shown as "Start time" by its ``displayNameFromDS``), the duration as a number and
every span attribute as a string; only a ``convertFieldType`` transformation
(``packages/grafana-data/src/transformations/transformers/convertFieldType.ts``, ``targetField``
naming the column) makes a column a number. A unit comes from the panel default, then the
overrides in order (``byName`` on the column, ``byType`` on its kind), the last match winning.
"""

from __future__ import annotations

from .fields import defaults, override_value

START_TIME = "Start time"  # the span table's "time" column, by its displayNameFromDS


def converted_columns(panel: dict) -> set[str]:
    """Columns a ``convertFieldType`` transformation makes numbers."""
    return {c.get("targetField") for t in panel.get("transformations") or [] if t.get("id") == "convertFieldType"
            for c in (t.get("options") or {}).get("conversions") or [] if c.get("destinationType") == "number"}


def converted_any(panel: dict) -> set[str]:
    """Columns a ``convertFieldType`` transformation converts, to whatever type."""
    return {c.get("targetField") for t in panel.get("transformations") or [] if t.get("id") == "convertFieldType"
            for c in (t.get("options") or {}).get("conversions", [])}


def column_kind(panel: dict, column: str) -> str:
    """``string``, ``number`` or ``time`` as the span table types the column after the panel's
    conversions."""
    if column in (START_TIME, "Time"):
        return "time"
    if column in ("Duration", "Value") or column in converted_columns(panel):
        return "number"
    return "string"


def column_unit(panel: dict, column: str, kind: str | None = None) -> str | None:
    """The unit Grafana applies to a column: the panel default, then the matching overrides."""
    def matches(m: dict) -> bool:
        return (m.get("id"), m.get("options")) in (("byName", column), ("byType", kind))

    return override_value(panel, "unit", matches, defaults(panel).get("unit"))
