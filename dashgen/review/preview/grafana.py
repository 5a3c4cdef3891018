"""Grafana's own rules for what a panel shows, in one place, so the preview cannot flatter.

Each rule follows Grafana's source (grafana/grafana, cited per function) and the naming one is
tested against ``@grafana/data`` itself (tests/test_preview_rules.py):

- series names: the Tempo backend names a TraceQL metrics series by its labels and sets that as
  the field's ``displayName``, so a panel's ``defaults.displayName`` never applies; only field
  overrides rename it (:func:`display_names`);
- colours: ``color.mode`` decides, not the presence of thresholds: ``palette-classic`` colours by
  series index, ``thresholds`` (the default when ``color`` is absent) by value
  (:func:`value_color`); a time series draws its thresholds only when ``thresholdsStyle.mode``
  is not ``off`` (:func:`drawn_thresholds`);
- table columns: Tempo span tables type every attribute column as a string; only a
  ``convertFieldType`` transformation makes it a number, which units then format
  (:func:`column_kind`, :func:`cell_text`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .theme import PALETTE, color_of, fmt_value, step_color, threshold_steps

START_TIME = "Start time"  # the span table's "time" column, by its displayNameFromDS


def _defaults(panel: dict) -> dict:
    return (panel.get("fieldConfig") or {}).get("defaults") or {}


def _overrides(panel: dict) -> list[dict]:
    return [o for o in (panel.get("fieldConfig") or {}).get("overrides") or [] if isinstance(o, dict)]


# -- series names ------------------------------------------------------------------------------

def _go_value(value) -> str:
    """A label value as Go's ``%v`` prints it in the Tempo backend: strings quoted, numbers bare."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def tempo_series_name(labels: list[tuple[str, object]]) -> str:
    """The name Grafana's Tempo backend gives a metrics series (``pkg/tsdb/tempo/traceql/metrics.go``,
    ``transformLabelsAndGetName``): one label, its bare value; more, ``{k=v, ...}`` with string
    values quoted, in the order given (newer Grafana sorts the keys, older ones keep Go's map order).
    """
    if len(labels) == 1:
        return str(labels[0][1])
    return "{" + ", ".join(f"{k}={_go_value(v)}" for k, v in labels) + "}"


@dataclass(frozen=True)
class Frame:
    """One series as the datasource hands it to the panel."""

    name: str  # the value field's name (Tempo: the series name; Prometheus: "Value")
    labels: tuple[tuple[str, object], ...]
    ref_id: str
    ds_display_name: str | None  # config.displayName set by the datasource (Tempo always sets it)
    display_name_from_ds: str | None = None  # Prometheus: the rendered legendFormat


def tempo_frame(labels: list[tuple[str, object]]) -> Frame:
    name = tempo_series_name(labels)
    return Frame(name, tuple(labels), name, name)


def prometheus_frame(labels: list[tuple[str, object]], legend: str | None, ref_id: str) -> Frame:
    """Grafana's Prometheus backend: a "Value" field with the series labels; a legendFormat
    (``{{label}}`` substituted) becomes ``displayNameFromDS``, which a panel default can override."""
    shown = None
    if legend and legend != "__auto":
        shown = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: str(dict(labels).get(m.group(1), "")), legend)
    return Frame("Value", tuple(labels), ref_id, None, shown)


def js_regex(pattern: str) -> re.Pattern:
    """``stringToJsRegex``: ``/body/flags`` as written; anything else anchored as ``^...$``."""
    m = re.fullmatch(r"/(.*)/([gimsuy]*)", pattern, re.S)
    if not m:
        return re.compile(f"^{pattern}$")
    flags = (re.I if "i" in m.group(2) else 0) | (re.M if "m" in m.group(2) else 0) | (re.S if "s" in m.group(2) else 0)
    return re.compile(m.group(1), flags)


def _base_name(frame: Frame, frames: list[Frame]) -> str:
    """``calculateFieldDisplayName`` (``packages/grafana-data/src/field/fieldState.ts``) before
    overrides: the datasource's displayName, else displayNameFromDS, else the labels (only the value
    when every frame has the same single label key)."""
    if frame.ds_display_name:
        return frame.ds_display_name
    if frame.display_name_from_ds:
        return frame.display_name_from_ds
    keys = {tuple(k for k, _ in f.labels) for f in frames}
    if len(keys) == 1 and len(next(iter(keys))) == 1 and frame.labels:
        return str(frame.labels[0][1])
    parts = [] if frame.name == "Value" else [frame.name]
    if frame.labels:
        parts.append("{" + ", ".join(f'{k}="{v}"' for k, v in frame.labels) + "}")
    return " ".join(parts) or frame.name


def _matches(matcher: dict, frame: Frame, shown: str) -> bool:
    """``nameMatcher.ts``: byName compares the field name or its display name; byRegexp tests
    the display name; byFrameRefID the frame's refId (the series name, for Tempo frames)."""
    kind, opt = matcher.get("id"), matcher.get("options")
    if kind == "byName":
        return opt in (frame.name, shown)
    if kind == "byRegexp" and isinstance(opt, str):
        return bool(js_regex(opt).search(shown))
    if kind == "byFrameRefID":
        return opt == frame.ref_id
    if kind == "byNames" and isinstance(opt, dict):
        return frame.name in opt.get("names", []) or shown in opt.get("names", [])
    return False


def display_names(panel: dict, frames: list[Frame]) -> list[str]:
    """The names Grafana shows for ``frames`` on ``panel``.

    ``defaults.displayName`` applies only where the datasource set none: panel defaults fill a
    config value only when it is unset (``fieldOverrides.ts`` ``setFieldConfigDefaults``), and
    the Tempo backend sets ``DisplayName``. Overrides then apply in order, the last match winning.
    """
    default = _defaults(panel).get("displayName")
    out = []
    for f in frames:
        shown = _base_name(f, frames)
        name = f.ds_display_name or default or shown
        for o in _overrides(panel):
            if _matches(o.get("matcher") or {}, f, shown):
                for prop in o.get("properties") or []:
                    if prop.get("id") == "displayName" and prop.get("value"):
                        name = prop["value"]
        out.append(name)
    return out


# -- colours -------------------------------------------------------------------------------------

def color_mode(panel: dict) -> str:
    """``getFieldColorModeForField``: ``thresholds`` when the panel sets no colour mode."""
    return (_defaults(panel).get("color") or {}).get("mode") or "thresholds"


def value_color(panel: dict, series_index: int, value: float) -> str:
    """The colour of a value (a stat's text or background), ``fieldColor.ts``: by threshold only in
    ``thresholds`` mode; ``palette-classic`` takes the series' palette colour whatever the value."""
    mode = color_mode(panel)
    if mode == "thresholds":
        return step_color(panel, value)
    if mode == "fixed":
        return color_of((_defaults(panel).get("color") or {}).get("fixedColor") or "green")
    return PALETTE[series_index % len(PALETTE)]


def series_color(panel: dict, series_index: int, last_value: float) -> str:
    """A time series line: by-value modes colour it by its last value (``getFieldSeriesColor``)."""
    return value_color(panel, series_index, last_value)


def drawn_thresholds(panel: dict) -> list[tuple[float, str]]:
    """The threshold lines a time series draws: none unless ``custom.thresholdsStyle.mode`` is set
    and not ``off`` (``GraphThresholdsStyleMode``)."""
    mode = ((_defaults(panel).get("custom") or {}).get("thresholdsStyle") or {}).get("mode", "off")
    if mode == "off":
        return []
    return [(float(v), c) for v, c in threshold_steps(panel) if isinstance(v, (int, float))]


# -- table columns ------------------------------------------------------------------------------

def converted_columns(panel: dict) -> set[str]:
    """Columns a ``convertFieldType`` transformation makes numbers (``targetField`` is a name)."""
    return {c.get("targetField") for t in panel.get("transformations") or [] if t.get("id") == "convertFieldType"
            for c in (t.get("options") or {}).get("conversions") or [] if c.get("destinationType") == "number"}


def column_kind(panel: dict, column: str) -> str:
    """``string``, ``number`` or ``time`` as Grafana's Tempo span table types the column
    (``createTableFrameFromTraceQlQueryAsSpans``: attributes are strings, start time a time,
    duration a number) after the panel's conversions."""
    if column in (START_TIME, "Time"):
        return "time"
    if column in ("Duration", "Value") or column in converted_columns(panel):
        return "number"
    return "string"


def column_unit(panel: dict, column: str, kind: str | None = None) -> str | None:
    """The unit Grafana applies to a column: the panel default, then the overrides in order
    (``byName`` on the column, ``byType`` on its type), the last match winning."""
    unit = _defaults(panel).get("unit")
    for o in _overrides(panel):
        m = o.get("matcher") or {}
        if (m.get("id"), m.get("options")) in (("byName", column), ("byType", kind)):
            for prop in o.get("properties") or []:
                if prop.get("id") == "unit":
                    unit = prop.get("value")
    return unit


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
