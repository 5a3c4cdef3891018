"""``dashgen preview``: every dashboard drawn offline (no Grafana) as PNG and SVG.

Two steps, so the layout is testable without looking at pixels:

1. :func:`layout_model` turns a dashboard's JSON into boxes in pixels, straight from each
   panel's ``gridPos`` the way Grafana places them: one grid column is ``width / 24``, one
   grid row is 30 px (Grafana's ``GRID_CELL_HEIGHT``), below a header with the title,
   the variables and the time picker.
2. :func:`render_dashboard` draws those boxes with matplotlib (Agg, no display): rows as
   header bars, panels as framed boxes with their titles, and each panel type the way
   Grafana draws it: time series as lines with the threshold lines the panel shows, heatmaps
   as cell grids, stats as a big value coloured by the thresholds, tables as a few rows
   with the columns the query selects, text as wrapped text.

The data is synthetic, seeded by the panel id (the same picture on every run) and shaped
by the thresholds (of the panel, or of the catalog's measurement the query reads): values
sit below a threshold and sometimes cross it, as they do in production.
"""

from __future__ import annotations

import hashlib
import math
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalog.conventions import GRAFANA_UNIT_SUFFIX

GRID_COLUMNS = 24
ROW_PX = 30  # one grid row, as Grafana's GRID_CELL_HEIGHT
WIDTH_PX = 1600
HEADER_PX = 72  # dashboard title, variables and time picker above the grid
BOTTOM_PX = 8
DPI = 100
GAP_PX = 4  # half of Grafana's 8 px margin between panels, on each side of a box

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


# -------------------------------------------------------------------------------------------------
# 1. The layout model


@dataclass(frozen=True)
class Box:
    """One panel (or row header) in pixels, top-left origin, from its gridPos."""

    panel_id: int
    type: str
    title: str
    grid: tuple[int, int, int, int]  # gridPos x, y, w, h
    left: float
    top: float
    width: float
    height: float
    row: str | None = None  # the title of the row the panel sits in
    collapsed: bool = False


@dataclass(frozen=True)
class Layout:
    uid: str
    title: str
    width_px: int
    height_px: int
    column_px: float
    row_px: int
    header_px: int
    boxes: tuple[Box, ...]

    @property
    def grid_rows(self) -> int:
        return max((b.grid[1] + b.grid[3] for b in self.boxes), default=0)


def visible_panels(dashboard: dict) -> list[tuple[dict, str | None]]:
    """(panel, row title) for what Grafana shows: top-level panels; a collapsed row hides its panels."""
    out = []
    row = None
    panels = [p for p in dashboard.get("panels", []) if isinstance(p, dict) and p.get("gridPos")]
    panels.sort(key=lambda p: (p["gridPos"].get("y", 0), p["gridPos"].get("x", 0)))
    for p in panels:
        if p.get("type") == "row":
            row = p.get("title", "")
            out.append((p, None))
        else:
            out.append((p, row))
    return out


def layout_model(dashboard: dict, width_px: int = WIDTH_PX, row_px: int = ROW_PX,
                 header_px: int = HEADER_PX) -> Layout:
    """Boxes in pixels: x and w scale by ``width_px / 24``, y and h by ``row_px``, below the header."""
    col = width_px / GRID_COLUMNS
    boxes = []
    for p, row in visible_panels(dashboard):
        gp = p["gridPos"]
        x, y, w, h = int(gp.get("x", 0)), int(gp.get("y", 0)), int(gp.get("w", 1)), int(gp.get("h", 1))
        boxes.append(Box(int(p.get("id") or 0), str(p.get("type", "")), str(p.get("title", "")), (x, y, w, h),
                         left=x * col, top=header_px + y * row_px, width=w * col, height=h * row_px,
                         row=row, collapsed=bool(p.get("collapsed"))))
    grid_rows = max((b.grid[1] + b.grid[3] for b in boxes), default=0)
    return Layout(str(dashboard.get("uid", "")), str(dashboard.get("title", "")), width_px,
                  header_px + grid_rows * row_px + BOTTOM_PX, col, row_px, header_px, tuple(boxes))


# -------------------------------------------------------------------------------------------------
# What a panel shows, read from its JSON (and the catalog, when there is one)

_QUANTILES_RE = re.compile(r"quantile_over_time\(\s*([\w.]+)\s*((?:,\s*[0-9.]+\s*)+)\)")
_FUNC_RE = re.compile(r"\|\s*(\w+)\(\s*([\w.]*)")
_BY_RE = re.compile(r"\)\s*by\s*\(([^)]*)\)")
_SELECT_RE = re.compile(r"select\(([^)]*)\)")
_STAGE_RE = re.compile(r'([\w.]+)\s*=\s*"([\w.-]+)"')
_FLOOR_RE = re.compile(r"([\w.]+)\s*>\s*(-?[0-9.]+)")


def _attr_key(name: str) -> str:
    """span.audio.first_byte_ms -> audio.first_byte_ms (how the catalog names attributes)."""
    for prefix in ("span.", "resource.", "."):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


@dataclass
class Hints:
    """What the catalog says about values: typical level and unit per (stage, attribute)."""

    levels: dict[tuple[str | None, str], float] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    stage_attr: str | None = None
    stage_values: list[str] = field(default_factory=list)
    span_names: list[str] = field(default_factory=list)

    @classmethod
    def from_catalog(cls, catalog) -> "Hints":
        h = cls()
        if catalog is None:
            return h
        h.stage_attr = catalog.stage_attribute
        h.stage_values = [s.id for s in catalog.stages]
        h.span_names = [s.span for s in catalog.stages]
        for s in catalog.stages:
            for m in s.measurements:
                limit = next((t.value for t in m.thresholds), None) or m.bad_above
                h.units.setdefault(m.attribute, m.unit)
                if limit:
                    h.levels[(s.id, m.attribute)] = float(limit)
                    h.levels.setdefault((None, m.attribute), float(limit))
        return h

    def level(self, stage: str | None, attr: str | None) -> float | None:
        if not attr:
            return None
        key = _attr_key(attr)
        return self.levels.get((stage, key)) or self.levels.get((None, key))

    def groups(self, by: str) -> list[str]:
        key = _attr_key(by.strip())
        if self.stage_attr and key == self.stage_attr and self.stage_values:
            return self.stage_values
        if key == "name" and self.span_names:
            return self.span_names
        return ["a", "b", "c"]


def _stage_of(query: str, hints: Hints) -> str | None:
    for attr, value in _STAGE_RE.findall(query):
        if hints.stage_attr and _attr_key(attr) == hints.stage_attr:
            return value
        if _attr_key(attr) == "name" and value in hints.span_names:
            return hints.stage_values[hints.span_names.index(value)]
    return None


def _steps(panel: dict) -> list[tuple[float | None, str]]:
    steps = (((panel.get("fieldConfig") or {}).get("defaults") or {}).get("thresholds") or {}).get("steps") or []
    return [(s.get("value"), s.get("color", "green")) for s in steps if isinstance(s, dict)]


def _limits(panel: dict) -> list[tuple[float, str]]:
    return [(float(v), c) for v, c in _steps(panel) if isinstance(v, (int, float))]


def color_of(name: str | None) -> str:
    if not name:
        return TEXT_DIM
    if name in NAMED_COLORS:
        return NAMED_COLORS[name]
    m = re.fullmatch(r"rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*[0-9.]+)?\)", name.replace(" ", ""))
    if m:
        return "#%02x%02x%02x" % tuple(int(v) for v in m.groups())
    return name if name.startswith("#") else TEXT_DIM


def step_color(panel: dict, value: float) -> str:
    color = "green"
    for v, c in _steps(panel):
        if v is None or value >= v:
            color = c
    return color_of(color)


def unit_of(panel: dict) -> str | None:
    return ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("unit")


def fmt_value(value: float, unit: str | None) -> str:
    if unit == "percentunit":
        return f"{value * 100:.1f}%"
    if abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text + UNIT_SUFFIX.get(unit or "", f" {unit}" if unit else "")


def _default_level(unit: str | None, attr: str | None) -> float:
    name = attr or ""
    if unit in ("percent",) or name.endswith("_pct"):
        return 20.0
    if unit == "percentunit":
        return 0.2
    if unit in ("reqps", "ops"):
        return 6.0
    if unit == "s" or name.endswith("_s"):
        return 0.4
    if unit == "ms" or name.endswith("_ms"):
        return 200.0
    return 50.0


def _rng(panel: dict, salt: str = ""):
    import numpy as np

    seed = int.from_bytes(hashlib.sha256(f"{panel.get('id')}/{panel.get('title')}/{salt}".encode()).digest()[:8], "big")
    return np.random.default_rng(seed)


@dataclass
class Series:
    name: str
    values: Any  # numpy array


N_POINTS = 96  # 6 h at a nearly 4-minute step


def _series_specs(panel: dict, hints: Hints) -> list[tuple[str, float, float]]:
    """(name, typical level, quantile or 0) for each series the panel's queries produce."""
    unit = unit_of(panel)
    limits = _limits(panel)
    specs: list[tuple[str, float, float]] = []
    targets = [t for t in panel.get("targets") or [] if isinstance(t, dict)]
    attrs = set()
    for t in targets:  # which attributes the queries read: name series by attribute only when they differ
        query = str(t.get("query") or t.get("expr") or "")
        m = _QUANTILES_RE.search(query) or _FUNC_RE.search(query)
        attrs.add(m.group(1) if m and m.re is _QUANTILES_RE else (m.group(2) if m else None))
    for t in targets:
        query = str(t.get("query") or t.get("expr") or "")
        stage = _stage_of(query, hints)
        quant = _QUANTILES_RE.search(query)
        by = _BY_RE.search(query)
        func = _FUNC_RE.search(query)
        attr = quant.group(1) if quant else (func.group(2) if func else None)
        qs = [float(q) for q in re.findall(r"[0-9.]+", quant.group(2))] if quant else [0.0]
        groups = hints.groups(by.group(1).split(",")[0]) if by else [None]
        for g in groups:
            level = hints.level(g or stage, attr) if attr else None
            if level is None and func and func.group(1) in ("rate", "count_over_time"):
                level = _default_level("reqps", None) * (0.3 if ">" in query or "= -1" in query or "error" in query else 1)
            if level is None:
                level = limits[0][0] if limits else _default_level(unit or hints.units.get(_attr_key(attr or "")), attr)
            for q in qs:
                func_name = func.group(1).replace("_over_time", "") if func else "value"
                label = f"p{q * 100:g}" if q else (t.get("legendFormat") or func_name)
                several = len(qs) > 1 or len(targets) > 1
                name = label if g is None else (f"{g} {label}" if several else g)
                if len(targets) > 1 and g is None and attr and len(attrs) > 1:
                    name = f"{_attr_key(attr).split('.')[-1]} {label}"
                specs.append((name, level, q))
    if not specs:
        specs.append(("value", limits[0][0] if limits else _default_level(unit, None), 0.0))
    return specs[:8]


def synthetic_series(panel: dict, hints: Hints) -> list[Series]:
    """Deterministic series shaped by the thresholds: below the limit, crossing it now and then."""
    import numpy as np

    out = []
    for i, (name, level, q) in enumerate(_series_specs(panel, hints)):
        rng = _rng(panel, f"{name}/{i}")
        # Quantiles sit at a fraction of the limit: p50 well below, p95 near, p99 above.
        frac = {0.5: 0.5, 0.9: 0.75, 0.95: 0.82, 0.99: 1.05}.get(round(q, 2), 0.7 if q else 0.6)
        base = level * frac * rng.uniform(0.85, 1.1)
        t = np.linspace(0, 1, N_POINTS)
        wave = 0.08 * np.sin(2 * np.pi * (t * rng.uniform(0.8, 1.6) + rng.uniform(0, 1)))
        noise = np.convolve(rng.normal(0, 0.07, N_POINTS + 4), np.ones(5) / 5, mode="valid")
        values = base * (1 + wave + noise)
        start = int(rng.integers(N_POINTS // 3, N_POINTS - 16))  # one incident: above the limit for a while
        bump = np.exp(-0.5 * ((np.arange(N_POINTS) - start - 5) / 3.0) ** 2)
        values = values + bump * level * (0.45 if q >= 0.9 or not q else 0.2)
        out.append(Series(name, np.clip(values, 0, None)))
    return out


# -------------------------------------------------------------------------------------------------
# 2. Drawing


def _px_rect(layout: Layout, left, top, width, height):
    """Figure-fraction rectangle [x0, y0, w, h] of a pixel box (top-left origin)."""
    W, H = layout.width_px, layout.height_px
    return [left / W, 1 - (top + height) / H, max(width, 1) / W, max(height, 1) / H]


def _style_axes(ax, unit: str | None, legend: bool = False):
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.set_facecolor(PANEL_BG)
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(colors=TEXT_DIM, labelsize=7, length=0, pad=3)
    ax.grid(True, color=GRID_LINE, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.yaxis.set_major_locator(MaxNLocator(4))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_value(v, unit)))


def _time_labels(ax, n: int):
    ticks = [int(i * (n - 1) / 6) for i in range(7)]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{(6 + i) % 24:02d}:00" for i in range(7)])
    ax.set_xlim(0, n - 1)


def _draw_timeseries(fig, layout, box, panel, hints, inner):
    import numpy as np

    left, top, width, height = inner
    series = synthetic_series(panel, hints)
    unit = unit_of(panel)
    legend_h = 18 if (panel.get("options") or {}).get("legend", {}).get("showLegend", True) else 0
    ax = fig.add_axes(_px_rect(layout, left + 52, top, width - 56, height - legend_h - 16))
    _style_axes(ax, unit)
    custom = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("custom") or {}
    fill = float(custom.get("fillOpacity", 10) or 0) / 100
    stacked = (custom.get("stacking") or {}).get("mode") not in (None, "none")
    bars = custom.get("drawStyle") == "bars"
    x = np.arange(N_POINTS)
    acc = np.zeros(N_POINTS)
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        y = acc + s.values if stacked else s.values
        if bars:
            ax.bar(x, s.values, bottom=acc if stacked else None, color=color, width=0.8, alpha=0.8)
        else:
            ax.plot(x, y, color=color, linewidth=max(float(custom.get("lineWidth", 1) or 1), 1.0))
            if fill:
                ax.fill_between(x, acc if stacked else 0, y, color=color, alpha=fill, linewidth=0)
        if stacked:
            acc = y
    ymax = max(float(np.max(acc if stacked else np.max([s.values for s in series], axis=0))), 1e-9)
    mode = (custom.get("thresholdsStyle") or {}).get("mode", "off")
    limits = _limits(panel)
    if mode != "off" and limits:
        ymax = max(ymax, max(v for v, _ in limits))
        for v, c in limits:
            if "area" in mode:
                ax.axhspan(v, ymax * 1.2, color=color_of(c), alpha=0.08, linewidth=0)
            if "line" in mode or "dashed" in mode:
                ax.axhline(v, color=color_of(c), linewidth=1.1, linestyle=(0, (4, 3)) if "dashed" in mode else "-")
    ax.set_ylim(0, ymax * 1.15)
    _time_labels(ax, N_POINTS)
    if legend_h:
        x0 = left + 56
        for i, s in enumerate(series):
            label = s.name
            fig.add_artist(_rect(layout, x0, top + height - legend_h + 5, 10, 4, PALETTE[i % len(PALETTE)]))
            fig.text(*_pt(layout, x0 + 14, top + height - legend_h + 8), label, color=TEXT, fontsize=7, va="center")
            x0 += 24 + 6.2 * len(label)
            if x0 > left + width - 40:
                break


def _draw_heatmap(fig, layout, box, panel, hints, inner):
    import numpy as np

    left, top, width, height = inner
    query = str(((panel.get("targets") or [{}])[0]).get("query", ""))
    m = _FUNC_RE.search(query)
    attr = m.group(2) if m else None
    yunit = (((panel.get("options") or {}).get("yAxis") or {}).get("unit")) or hints.units.get(_attr_key(attr or "")) \
        or unit_of(panel)
    level = hints.level(_stage_of(query, hints), attr) or (_limits(panel)[0][0] if _limits(panel) else None) \
        or _default_level(yunit, attr)
    k0 = int(math.floor(math.log2(max(level, 1e-9)))) - 4
    edges = [2.0 ** (k0 + i) for i in range(9)]  # Tempo's histogram buckets are powers of two
    rng = _rng(panel, "heatmap")
    cols = 48
    centre = math.log2(level) - k0 - 1.5
    grid = np.zeros((len(edges) - 1, cols))
    for c in range(cols):
        mu = centre + 0.6 * math.sin(c / 7.0) + (1.3 if cols * 0.6 < c < cols * 0.7 else 0)
        samples = rng.normal(mu, 0.9, 60)
        idx = np.clip(np.floor(samples).astype(int), 0, len(edges) - 2)
        np.add.at(grid[:, c], idx, 1)
    ax = fig.add_axes(_px_rect(layout, left + 52, top, width - 56 - 26, height - 16))
    import matplotlib

    scheme = (((panel.get("options") or {}).get("color") or {}).get("scheme")) or "Oranges"
    # Grafana's dark theme runs a scheme from dark (few) to bright (many): matplotlib's reversed map.
    try:
        cmap = matplotlib.colormaps[f"{scheme}_r"].copy()
    except KeyError:
        cmap = matplotlib.colormaps["Oranges_r"].copy()
    cmap.set_bad(PANEL_BG)
    shown = np.ma.masked_where(grid == 0, grid ** 0.5)
    ax.imshow(shown, aspect="auto", origin="lower", cmap=cmap, interpolation="nearest",
              extent=(0, cols, 0, len(edges) - 1))
    _style_axes(ax, None)
    ax.grid(False)
    ax.set_yticks(range(0, len(edges), 2))
    ax.set_yticklabels([fmt_value(edges[i], yunit) for i in range(0, len(edges), 2)])
    ax.set_xticks([int(i * cols / 6) for i in range(7)])
    ax.set_xticklabels([f"{(6 + i) % 24:02d}:00" for i in range(7)])
    # The colour scale at the right, as Grafana's heatmap legend.
    cax = fig.add_axes(_px_rect(layout, left + width - 18, top + 4, 8, height - 28))
    cax.imshow(np.linspace(1, 0, 64)[:, None] ** 0.5, aspect="auto", cmap=cmap)
    cax.set_axis_off()


def _draw_stat(fig, layout, box, panel, hints, inner, title_px):
    import numpy as np

    left, top, width, height = inner
    unit = unit_of(panel)
    limits = _limits(panel)
    rng = _rng(panel, "stat")
    if limits:
        value = limits[0][0] * float(rng.choice([rng.uniform(0.6, 0.95), rng.uniform(1.02, 1.2)], p=[0.7, 0.3]))
    else:
        value = _default_level(unit, None) * float(rng.uniform(0.5, 1.2))
    color = step_color(panel, value)
    opts = panel.get("options") or {}
    mode = opts.get("colorMode", "value")
    frame_top = box.top + GAP_PX
    if mode == "background":
        fig.add_artist(_rect(layout, box.left + GAP_PX + 1, frame_top + 1, box.width - 2 * GAP_PX - 2,
                                 box.height - 2 * GAP_PX - 2, color, alpha=0.85, zorder=-0.5))
    text_color = "#ffffff" if mode == "background" else (color if mode == "value" else TEXT)
    if opts.get("graphMode", "none") == "area":
        spark = synthetic_series({"id": panel.get("id"), "title": "spark"}, Hints())[0].values
        spark = spark / max(float(np.max(spark)), 1e-9)
        ax = fig.add_axes(_px_rect(layout, box.left + GAP_PX + 1, box.top + box.height - GAP_PX - height * 0.45,
                                   box.width - 2 * GAP_PX - 2, height * 0.45 - 1))
        ax.fill_between(np.arange(len(spark)), 0, spark, color="#ffffff" if mode == "background" else color,
                        alpha=0.18, linewidth=0)
        ax.set_xlim(0, len(spark) - 1)
        ax.set_ylim(0, 1.05)
        ax.set_axis_off()
    size = max(10, min(34, height * 0.33, width / max(len(fmt_value(value, unit)), 3) * 1.1) * 72 / DPI)
    fig.text(*_pt(layout, left + width / 2, top + height * 0.48), fmt_value(value, unit), color=text_color,
             fontsize=size, fontweight="bold", ha="center", va="center")


def _table_columns(panel: dict) -> list[str]:
    query = str(((panel.get("targets") or [{}])[0]).get("query") or "")
    m = _SELECT_RE.search(query)
    selected = [_attr_key(a.strip()) for a in m.group(1).split(",")] if m else []
    if (panel.get("targets") or [{}])[0].get("expr") is not None:
        return ["Time", "Value"]
    return ["Trace ID", "Start time", *selected, "Duration"]


def _cell(col: str, i: int, rng, panel: dict, hints: Hints, floors: dict[str, float]) -> str:
    key = col
    if col == "Trace ID":
        return "%016x" % int(rng.integers(0, 2 ** 62))
    if col == "Start time":
        return f"2025-06-02 13:{59 - i * 3 % 60:02d}:{int(rng.integers(0, 60)):02d}"
    if col == "Duration":
        return f"{int(rng.integers(200, 4000))} ms"
    if col == "Time":
        return f"2025-06-02 13:{59 - i:02d}:00"
    if key.endswith("session_id"):
        return "sess-%06x" % int(rng.integers(0, 2 ** 24))
    if key.endswith("turn_id"):
        return str(int(rng.integers(1, 25)))
    if hints.stage_attr and key == hints.stage_attr:
        return str(rng.choice(hints.stage_values or ["asr", "llm", "tts"]))
    if key.endswith("error"):
        return "timeout" if rng.uniform() < 0.15 else ""
    unit = hints.units.get(key) or ("ms" if key.endswith("_ms") else "percent" if key.endswith("_pct") else None)
    level = hints.level(None, key) or _default_level(unit, key)
    floor = floors.get(key)
    value = floor * (1 + 0.8 * (1 - i / 12) * float(rng.uniform(0.3, 1.0))) if floor else level * float(rng.uniform(0.3, 1.3))
    return fmt_value(value, unit) if unit else f"{value:.0f}"


def _draw_table(fig, layout, box, panel, hints, inner):
    left, top, width, height = inner
    cols = _table_columns(panel)
    min_w = 118
    cols = cols[: max(2, int(width // min_w))]
    col_w = width / len(cols)
    row_h = 24 if (panel.get("options") or {}).get("cellHeight", "sm") == "sm" else 32
    query = str(((panel.get("targets") or [{}])[0]).get("query") or "")
    floors = {_attr_key(a): float(v) for a, v in _FLOOR_RE.findall(query)}
    sort = [(s.get("displayName"), s.get("desc")) for s in (panel.get("options") or {}).get("sortBy") or []]
    rng = _rng(panel, "table")
    n_rows = max(1, int((height - row_h) // row_h))
    rows = [[_cell(c, i, rng, panel, hints, floors) for c in cols] for i in range(min(n_rows, 14))]
    fig.add_artist(_rect(layout, left, top, width, row_h, "#22252b"))
    for j, c in enumerate(cols):
        arrow = ""
        for name, desc in sort:
            if name == c:
                arrow = " ↓" if desc else " ↑"
        fig.text(*_pt(layout, left + j * col_w + 8, top + row_h / 2), _fit(c + arrow, col_w, 6.3), color="#6e9fff",
                 fontsize=7.5, fontweight="bold", va="center")
    for i, row in enumerate(rows):
        y = top + row_h * (i + 1)
        if y + row_h > top + height:
            break
        fig.add_artist(_rect(layout, left, y + row_h - 1, width, 1, GRID_LINE))
        for j, v in enumerate(row):
            fig.text(*_pt(layout, left + j * col_w + 8, y + row_h / 2), _fit(v, col_w), color=TEXT, fontsize=7.5,
                     va="center")


def _markdown_lines(content: str) -> list[tuple[str, bool]]:
    """(line, bold) of a Markdown text, markup stripped the way it reads rendered."""
    out = []
    for raw in content.splitlines():
        line = raw.strip()
        bold = False
        if line.startswith("#"):
            line, bold = line.lstrip("#").strip(), True
        line = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line)
        line = re.sub(r"(\*\*|__|`)", "", line)
        if line.startswith(("- ", "* ")):
            line = "• " + line[2:]
        out.append((line, bold))
    return out


def _draw_text(fig, layout, box, panel, hints, inner):
    left, top, width, height = inner
    content = str((panel.get("options") or {}).get("content") or "")
    chars = max(20, int(width / 5.6))
    y = top + 2
    line_h = 13
    for line, bold in _markdown_lines(content):
        wrapped = textwrap.wrap(line, chars) or [""]
        for part in wrapped:
            if y + line_h > top + height:
                return
            fig.text(*_pt(layout, left + 2, y + line_h / 2), part, color=TEXT, fontsize=7.5,
                     fontweight="bold" if bold else "normal", va="center")
            y += line_h
        if not line:
            y -= line_h / 2


def _fit(text: str, width_px: float, char_px: float = 5.4) -> str:
    limit = max(3, int((width_px - 12) / char_px))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pt(layout: Layout, x: float, y: float) -> tuple[float, float]:
    """Figure fraction of a pixel point (top-left origin)."""
    return x / layout.width_px, 1 - y / layout.height_px


def _rect(layout: Layout, left, top, width, height, color, alpha=1.0, edge=None, zorder=-1.0):
    """A rectangle in pixels (top-left origin), drawn below the axes unless told otherwise."""
    from matplotlib.patches import Rectangle

    W, H = layout.width_px, layout.height_px
    return Rectangle((left / W, 1 - (top + height) / H), width / W, height / H, facecolor=color,
                     edgecolor=edge or "none", linewidth=1 if edge else 0, alpha=alpha, zorder=zorder)


def _draw_header(fig, layout: Layout, dashboard: dict):
    fig.text(*_pt(layout, 16, 20), "▦  " + layout.title, color=TEXT, fontsize=13, fontweight="bold", va="center")
    time = (dashboard.get("time") or {}).get("from", "now-6h")
    m = re.fullmatch(r"now-(\d+)([smhdw])", str(time))
    words = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    picker = f"Last {m.group(1)} {words[m.group(2)]}" if m else str(time)
    refresh = dashboard.get("refresh") or "off"
    label = f"◷ {picker}    ⟳ {refresh}"
    w = 8 + 6.3 * len(label)
    fig.add_artist(_rect(layout, layout.width_px - w - 16, 8, w, 24, "#22252b", edge=BORDER))
    fig.text(*_pt(layout, layout.width_px - w - 8, 20), label, color=TEXT, fontsize=8, va="center")
    x = 16.0
    for v in (dashboard.get("templating") or {}).get("list") or []:
        if not isinstance(v, dict) or v.get("hide") == 2:
            continue
        label = str(v.get("label") or v.get("name"))
        value = str(((v.get("current") or {}).get("text")) or v.get("query") or "")
        lw, vw = 14 + 6.6 * len(label), 18 + 6.6 * max(len(value), 3)
        if x + lw + vw > layout.width_px - 16:
            break
        fig.add_artist(_rect(layout, x, 40, lw, 24, "#22252b", edge=BORDER))
        fig.text(*_pt(layout, x + 6, 52), label, color=TEXT, fontsize=8, va="center")
        fig.add_artist(_rect(layout, x + lw, 40, vw, 24, BG, edge=BORDER))
        fig.text(*_pt(layout, x + lw + 8, 52), value, color=TEXT, fontsize=8, va="center")
        x += lw + vw + 10


def render_dashboard(dashboard: dict, hints: Hints | None = None, width_px: int = WIDTH_PX):
    """A matplotlib Figure of the dashboard, sized from the layout model (``width_px`` x height)."""
    from matplotlib.figure import Figure

    hints = hints or Hints()
    layout = layout_model(dashboard, width_px)
    fig = Figure(figsize=(layout.width_px / DPI, layout.height_px / DPI), dpi=DPI, facecolor=BG)
    _draw_header(fig, layout, dashboard)
    panels = {p.get("id"): p for p, _ in visible_panels(dashboard)}
    for box in layout.boxes:
        panel = panels.get(box.panel_id, {})
        if box.type == "row":
            y = box.top + box.height / 2
            marker = "▸" if box.collapsed else "▾"
            extra = f"  ({len(panel.get('panels') or [])} panels)" if box.collapsed else ""
            fig.text(*_pt(layout, box.left + 8, y), f"{marker}  {box.title}{extra}", color=TEXT, fontsize=10,
                     fontweight="bold", va="center")
            fig.add_artist(_rect(layout, box.left + GAP_PX, box.top + box.height - 2, box.width - 2 * GAP_PX, 1,
                                     BORDER))
            continue
        left, top = box.left + GAP_PX, box.top + GAP_PX
        width, height = box.width - 2 * GAP_PX, box.height - 2 * GAP_PX
        fig.add_artist(_rect(layout, left, top, width, height, PANEL_BG, edge=BORDER))
        title_px = 28 if box.title else 8
        if box.title:
            fig.text(*_pt(layout, left + 8, top + 14), _fit(box.title, width - 8, 6.3), color=TEXT, fontsize=8.5,
                     fontweight="bold", va="center")
        inner = (left + 8, top + title_px, width - 16, height - title_px - 6)
        if inner[2] < 10 or inner[3] < 10:
            continue
        if box.type == "timeseries":
            _draw_timeseries(fig, layout, box, panel, hints, inner)
        elif box.type == "heatmap":
            _draw_heatmap(fig, layout, box, panel, hints, inner)
        elif box.type == "stat":
            _draw_stat(fig, layout, box, panel, hints, inner, title_px)
        elif box.type == "table":
            _draw_table(fig, layout, box, panel, hints, inner)
        elif box.type == "text":
            _draw_text(fig, layout, box, panel, hints, inner)
        else:
            fig.text(*_pt(layout, left + width / 2, top + height / 2), f"{box.type} panel", color=TEXT_DIM,
                     fontsize=9, ha="center", va="center")
    return fig, layout


def _render_one(args) -> list[Path]:
    dashboard, out_dir, hints, formats, width_px = args
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    written = []
    with matplotlib.rc_context({"svg.fonttype": "none", "font.family": "DejaVu Sans", "svg.hashsalt": "dashgen",
                                "path.simplify": True}):
        fig, _ = render_dashboard(dashboard, hints, width_px)
        FigureCanvasAgg(fig)
        for fmt in formats:
            path = Path(out_dir) / f"{dashboard.get('uid')}.{fmt}"
            metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
            fig.savefig(path, format=fmt, dpi=DPI, facecolor=BG, metadata=metadata)
            written.append(path)
    return written


def render_previews(dashboards: list[dict], out_dir: Path, catalog=None, formats=("png", "svg"),
                    width_px: int = WIDTH_PX, jobs: int | None = None) -> list[Path]:
    """Write ``<uid>.png`` / ``<uid>.svg`` for every dashboard into ``out_dir``; the paths written.

    Dashboards are drawn in parallel processes (one per CPU, at most one per dashboard) where
    the platform forks; the pictures are the same either way.
    """
    import multiprocessing
    import os

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    hints = Hints.from_catalog(catalog)
    work = [(d, str(out_dir), hints, tuple(formats), width_px) for d in dashboards]
    jobs = min(jobs or os.cpu_count() or 1, len(work))
    if jobs > 1 and "fork" in multiprocessing.get_all_start_methods():
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            results = pool.map(_render_one, work, chunksize=1)
    else:
        results = [_render_one(w) for w in work]
    return [p for paths in results for p in paths]
