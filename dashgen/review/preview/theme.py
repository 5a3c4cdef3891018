"""Grafana's dark theme: colours, threshold step colours and values as Grafana prints them."""

from __future__ import annotations

import re

from ... import drawn
from ...catalog.conventions import GRAFANA_UNIT_SUFFIX

DPI = 100

# Grafana's dark theme.
BG = "#111217"
PANEL_BG = "#181b1f"
BORDER = "#2c3036"
TEXT = "#ccccdc"
TEXT_DIM = "#8e8e99"
GRID_LINE = "#2a2d33"
NAMED_COLORS = {
    "green": "#73BF69", "red": "#F2495C", "orange": "#FF9830", "yellow": "#FADE2A", "blue": "#5794F2",
    "purple": "#B877D9", "text": TEXT, "transparent": PANEL_BG,
    "dark-green": "#37872D", "dark-red": "#C4162A", "dark-orange": "#FA6400", "dark-yellow": "#E0B400",
    "dark-blue": "#1F60C4", "dark-purple": "#8F3BB8", "semi-dark-green": "#56A64B", "semi-dark-red": "#E02F44",
    "semi-dark-orange": "#FF780A", "semi-dark-yellow": "#F2CC0C", "semi-dark-blue": "#3274D9",
    "light-green": "#96D98D", "light-red": "#FF7383", "light-orange": "#FFB357", "light-yellow": "#FFEE52",
    "light-blue": "#8AB8FF", "super-light-green": "#C8F2C2", "super-light-red": "#FFA6B0",
}
PALETTE = ["#7EB26D", "#EAB839", "#6ED0E0", "#EF843C", "#E24D42", "#1F78C1", "#BA43A9", "#705DA0", "#508642",
           "#CCA300"]
# Axis ticks of a 0-1 share read as plain numbers: the range note of review text would crowd them.
UNIT_SUFFIX = {**GRAFANA_UNIT_SUFFIX, "percentunit": ""}


def color_of(name: str | None) -> str:
    if not name:
        return TEXT_DIM
    if name in NAMED_COLORS:
        return NAMED_COLORS[name]
    m = re.fullmatch(r"rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*[0-9.]+)?\)", name.replace(" ", ""))
    if m:
        return "#%02x%02x%02x" % tuple(int(v) for v in m.groups())
    return name if name.startswith("#") else TEXT_DIM


def threshold_steps(panel: dict) -> list[tuple[float | None, str]]:
    """(value, colour) of the panel's threshold steps; the base step's value is None."""
    return drawn.steps(panel)


def unit_of(panel: dict) -> str | None:
    return drawn.unit(panel)


def step_color(panel: dict, value: float) -> str:
    """The colour Grafana gives ``value``: its active step (``drawn.step_color``), in the theme."""
    return color_of(drawn.step_color(panel, value))


# Grafana's currency units (packages/grafana-data/src/valueFormats/categories.ts): the symbol
# before the value (after it for the krone and krona), scaled by thousands (symbolFormatters.ts
# ``currency``: '', K, M, B, T).
CURRENCY_SYMBOLS = {"currencyUSD": "$", "currencyGBP": "£", "currencyEUR": "€", "currencyJPY": "¥",
                    "currencyRUB": "₽", "currencyUAH": "₴", "currencyBRL": "R$", "currencyCZK": "czk",
                    "currencyCHF": "CHF", "currencyPLN": "PLN", "currencyBTC": "฿", "currencyZAR": "R",
                    "currencyINR": "₹", "currencyKRW": "₩"}
CURRENCY_SUFFIXES = {"currencyDKK": "kr", "currencyISK": "kr", "currencyNOK": "kr", "currencySEK": "kr"}
# Grafana's ``s`` unit scales to the largest unit that keeps the value at 1 or more
# (packages/grafana-data/src/valueFormats/dateTimeFormatters.ts ``toSeconds``).
SECONDS_SCALE = ((31536000, 3.15569e7, " year"), (604800, 604800, " week"), (86400, 86400, " day"),
                 (3600, 3600, " hour"), (60, 60, " min"))


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{value:.2f}".rstrip("0").rstrip(".")


def fmt_value(value: float, unit: str | None) -> str:
    if unit == "percentunit":
        return f"{value * 100:.1f}%"
    if unit in CURRENCY_SYMBOLS or unit in CURRENCY_SUFFIXES:
        scaled, step = abs(value), ""
        for bigger in ("K", "M", "B", "T"):
            if scaled < 1000:
                break
            scaled, step = scaled / 1000, bigger
        sign = "-" if value < 0 else ""
        if unit in CURRENCY_SUFFIXES:
            return f"{sign}{_number(scaled)} {step}{CURRENCY_SUFFIXES[unit]}"
        return f"{sign}{CURRENCY_SYMBOLS[unit]}{_number(scaled)}{step}"
    if unit == "s" and abs(value) >= 60:
        for limit, size, name in SECONDS_SCALE:
            if abs(value) >= limit:
                return f"{_number(value / size)}{name}"
    text = _number(value)
    return text + UNIT_SUFFIX.get(unit or "", f" {unit}" if unit else "")
