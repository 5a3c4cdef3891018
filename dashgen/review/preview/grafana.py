"""Grafana's decisions (``dashgen.drawn``) painted in the preview's theme, so the preview cannot flatter.

What Grafana shows (series names, colour mode, the active threshold step, drawn threshold lines,
column kinds and units) is decided once, in :mod:`dashgen.drawn`, which lint and diff read too;
this module only turns those decisions into the dark theme's colours and the cell texts.
"""

from __future__ import annotations

from ...drawn import (Frame, START_TIME, column_kind, column_unit, display_names, drawn_thresholds, field_name,
                      fixed_color, js_regex, palette_index, prometheus_frame, step_color, tempo_frame,
                      tempo_series_name, value_colour)
from .theme import PALETTE, color_of, fmt_value

__all__ = ["Frame", "START_TIME", "cell_text", "column_kind", "column_unit", "display_names", "drawn_thresholds",
           "field_name", "fixed_color", "js_regex", "prometheus_frame", "series_color", "step_color", "tempo_frame",
           "tempo_series_name", "value_color"]


def value_color(panel: dict, series_index: int, value: float) -> str:
    """The colour of a value (a stat's text or background) in the theme: see ``drawn.value_colour``."""
    colour = value_colour(panel, series_index, value)
    if isinstance(colour, int):
        return PALETTE[palette_index(colour, len(PALETTE))]
    return color_of(colour)


def series_color(panel: dict, series_index: int, last_value: float) -> str:
    """A time series line: by-value modes colour it by its last value (``getFieldSeriesColor``)."""
    return value_color(panel, series_index, last_value)


def cell_text(value, kind: str, unit: str | None) -> str:
    """``getDisplayProcessor``: a string without a unit is shown as it is; a number (or a string
    under a unit) is formatted by the unit, ``none`` when there is none."""
    if kind == "string" and not unit:
        return str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not unit or unit == "none":
        return f"{number:.0f}" if abs(number) >= 100 or number.is_integer() else f"{number:.3g}"
    return fmt_value(number, unit)
