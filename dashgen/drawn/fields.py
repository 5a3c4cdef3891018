"""Field config as Grafana applies it: defaults, overrides, threshold steps, colour.

Sources (grafana/grafana, ``packages/grafana-data/src/``):

- ``field/fieldColor.ts``: ``getFieldColorModeForField`` reads ``config.color?.mode ??
  FieldColorModeId.Thresholds``, so a panel without a colour mode is coloured by its thresholds;
  ``palette-classic`` (and the other by-series modes) take ``colors[seriesIndex % colors.length]``
  whatever the value, so threshold steps are ignored; ``fixed`` takes ``color.fixedColor``.
- ``field/thresholds.ts``: ``getActiveThreshold`` walks the steps in order and keeps the last one
  whose value the number reaches (``value >= threshold.value``, stopping at the first it does not);
  the base step's value is ``-Infinity`` (``null`` in the JSON).
- ``field/fieldOverrides.ts``: panel defaults fill what the data left unset
  (``setFieldConfigDefaults``); overrides then apply in order, the last matching property winning.
- ``public/app/core/components/OptionsUI/registry.tsx`` (``getAllStandardFieldConfigs``): the
  ``thresholds`` option's ``defaultValue`` is base green and red from 80 (absolute), which the panel
  gets when it sets no thresholds at all (Grafana's docs, "About thresholds: Default thresholds");
- ``packages/grafana-schema/src/common/common.gen.ts`` ``GraphThresholdsStyleMode``: a time series
  draws its steps only when ``custom.thresholdsStyle.mode`` is not ``off`` (the default).
"""

from __future__ import annotations

BASE = None  # the base step's value (-Infinity to Grafana)
DEFAULT_STEPS = ((BASE, "green"), (80, "red"))  # a panel that sets no thresholds gets these
BY_VALUE_MODES = ("thresholds",)  # the by-value gradient modes (continuous-*) need a min/max: not modelled
THRESHOLD_PANELS = ("stat", "gauge", "bargauge")  # coloured by the colour mode; never draw threshold lines
GRAPH_PANELS = ("timeseries", "barchart", "trend")  # draw threshold lines/areas when thresholdsStyle says so


def defaults(panel: dict) -> dict:
    fc = panel.get("fieldConfig") if isinstance(panel.get("fieldConfig"), dict) else {}
    d = fc.get("defaults")
    return d if isinstance(d, dict) else {}


def overrides(panel: dict) -> list[dict]:
    fc = panel.get("fieldConfig") if isinstance(panel.get("fieldConfig"), dict) else {}
    return [o for o in fc.get("overrides") or [] if isinstance(o, dict)]


def override_value(panel: dict, prop: str, matches, default=None) -> object:
    """The value of override property ``prop`` for a field ``matches(matcher)`` accepts: the last
    matching override's, ``default`` when none sets it."""
    value = default
    for o in overrides(panel):
        if matches(o.get("matcher") or {}):
            for p in o.get("properties") or []:
                if isinstance(p, dict) and p.get("id") == prop:
                    value = p.get("value")
    return value


def unit(panel: dict) -> str | None:
    return defaults(panel).get("unit")


def steps(panel: dict) -> list[tuple[float | None, str]]:
    """(value, colour) of the panel's threshold steps in order; the base step's value is None."""
    raw = ((defaults(panel).get("thresholds") or {}).get("steps")) or []
    return [(s.get("value"), s.get("color", "green")) for s in raw if isinstance(s, dict)]


def effective_steps(panel: dict) -> list[tuple[float | None, str]]:
    """The steps Grafana colours by: the panel's, or the standard default when it sets no
    ``thresholds`` at all (an empty step list stays empty)."""
    if "thresholds" not in defaults(panel):
        return list(DEFAULT_STEPS)
    return steps(panel)


def step_color(panel: dict, value: float) -> str | None:
    """The colour name of the step ``value`` reaches (``getActiveThreshold``) among the
    :func:`effective_steps`; None without steps (Grafana then uses its fallback grey)."""
    found = effective_steps(panel)
    if not found:
        return None
    active = found[0][1]
    for v, c in found:
        if v is BASE or value >= v:
            active = c
        else:
            break
    return active


def color_mode(panel: dict) -> str:
    """``getFieldColorModeForField``: the panel's ``color.mode``, ``thresholds`` when unset."""
    return (defaults(panel).get("color") or {}).get("mode") or "thresholds"


def fixed_color(panel: dict) -> str | None:
    return (defaults(panel).get("color") or {}).get("fixedColor")


def palette_index(series_index: int, palette_size: int) -> int:
    """The by-series modes' colour: ``colors[seriesIndex % colors.length]``."""
    return series_index % palette_size


def value_colour(panel: dict, series_index: int, value: float) -> str | int | None:
    """What colours a value (a stat's text, a gauge, a series line by its last value): a colour
    name from the active step (``thresholds`` mode) or ``fixedColor`` (``fixed``), or the series
    index into the theme's palette (``palette-classic`` and the other by-series modes)."""
    mode = color_mode(panel)
    if mode in BY_VALUE_MODES:
        return step_color(panel, value)
    if mode == "fixed":
        return fixed_color(panel) or "green"
    return series_index


def thresholds_style(panel: dict) -> str:
    """``custom.thresholdsStyle.mode``: ``off`` (the default), ``line``, ``dashed``, ``area``, ..."""
    return ((defaults(panel).get("custom") or {}).get("thresholdsStyle") or {}).get("mode") or "off"


def drawn_thresholds(panel: dict) -> list[tuple[float, str]]:
    """The threshold lines or areas a graph draws: its steps with a value, none while
    ``thresholdsStyle`` is ``off``."""
    if thresholds_style(panel) == "off":
        return []
    return [(float(v), c) for v, c in steps(panel) if isinstance(v, (int, float)) and not isinstance(v, bool)]


def uses_steps(panel: dict) -> bool:
    """Whether Grafana shows the panel's threshold steps at all: by colour (``thresholds`` mode on
    a panel coloured by value) or as lines/areas on a graph."""
    if panel.get("type") in THRESHOLD_PANELS:
        return color_mode(panel) in BY_VALUE_MODES
    if panel.get("type") in GRAPH_PANELS:
        return thresholds_style(panel) != "off" or color_mode(panel) in BY_VALUE_MODES
    return True
