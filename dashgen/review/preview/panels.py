"""Each panel type drawn the way Grafana draws it, inside its frame.

Time series as lines with the threshold lines the panel shows, heatmaps as cell grids,
stats as a big value coloured as its colour mode says, tables as a few rows with the columns the
query selects, text as wrapped text. Every function takes the figure, the layout, the box,
the panel JSON, the catalog hints and the inner rectangle in pixels.
"""

from __future__ import annotations

import math
import re
import textwrap

from .data import (FUNC_RE, N_POINTS, Hints, attr_key, bar_segments, default_level, limits_of, rng_for, search_stat,
                   stage_of, synthetic_series, table_model, time_ticks)
from .grafana import drawn_thresholds, js_regex, series_color, value_color
from .layout import GAP_PX, fit, pt, px_rect, rect
from .theme import DPI, GRID_LINE, PANEL_BG, TEXT, TEXT_DIM, color_of, fmt_value, unit_of

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


def _time_labels(ax, n: int, hints: Hints):
    ticks, labels = time_ticks(hints, n)  # the dashboard's time range (data.time_ticks)
    ax.set_xticks(ticks)
    ax.set_xticklabels(labels)
    ax.set_xlim(0, n - 1)


def series_style(panel: dict, name: str) -> dict:
    """A series' ``custom`` field config: the panel defaults, then every override whose matcher
    takes the series' display name (``byName``, ``byRegexp``), the last one winning per property."""
    from ...drawn import defaults, js_regex, overrides

    custom = dict((defaults(panel).get("custom") or {}))
    for o in overrides(panel):
        m = o.get("matcher") or {}
        hit = (m.get("id") == "byName" and m.get("options") == name) or \
              (m.get("id") == "byRegexp" and isinstance(m.get("options"), str) and js_regex(m["options"]).search(name))
        for prop in (o.get("properties") or []) if hit else []:
            if str(prop.get("id", "")).startswith("custom."):
                custom[prop["id"][len("custom."):]] = prop.get("value")
    return custom


def stack_key(style: dict) -> str | None:
    """The stacking group a series joins (``custom.stacking``: mode normal, group "A" unless set),
    None when it is drawn on its own."""
    stacking = style.get("stacking") or {}
    return None if stacking.get("mode") in (None, "none") else str(stacking.get("group") or "A")


def draw_timeseries(fig, layout, box, panel, hints, inner):
    import numpy as np

    left, top, width, height = inner
    series = synthetic_series(panel, hints)
    unit = unit_of(panel)
    legend_h = 18 if (panel.get("options") or {}).get("legend", {}).get("showLegend", True) else 0
    ax = fig.add_axes(px_rect(layout, left + 52, top, width - 56, height - legend_h - 16))
    _style_axes(ax, unit)
    x = np.arange(N_POINTS)
    stacks: dict[str, object] = {}  # group -> the top of the stack so far
    tops = []
    colors = [series_color(panel, i, float(s.values[-1])) for i, s in enumerate(series)]
    for i, s in enumerate(series):
        color, style = colors[i], series_style(panel, s.name)
        fill = float(style.get("fillOpacity", 10) or 0) / 100
        group = stack_key(style)
        base = stacks.get(group, np.zeros(N_POINTS)) if group else np.zeros(N_POINTS)
        values = np.nan_to_num(s.values)
        y = base + values
        if style.get("drawStyle") == "bars":
            ax.bar(x, values, bottom=base if group else None, color=color, width=0.8, alpha=0.8)
        else:
            dash = (style.get("lineStyle") or {}).get("fill") == "dash"
            ax.plot(x, y, color=color, linewidth=max(float(style.get("lineWidth", 1) or 1), 1.0),
                    linestyle=(0, (4, 3)) if dash else "-")
            if fill:
                ax.fill_between(x, base, y, color=color, alpha=fill, linewidth=0)
        if group:
            stacks[group] = y
        tops.append(y)
    custom = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("custom") or {}
    ymax = max(float(np.max(tops)) if tops else 0.0, 1e-9)
    mode = (custom.get("thresholdsStyle") or {}).get("mode", "off")
    limits = drawn_thresholds(panel)  # none unless the panel's style draws them
    if limits:
        ymax = max(ymax, max(v for v, _ in limits))
        for v, c in limits:
            if "area" in mode:
                ax.axhspan(v, ymax * 1.2, color=color_of(c), alpha=0.08, linewidth=0)
            if "line" in mode or "dashed" in mode:
                ax.axhline(v, color=color_of(c), linewidth=1.1, linestyle=(0, (4, 3)) if "dashed" in mode else "-")
    ymin = min(0.0, min((float(np.min(y)) for y in tops), default=0.0))  # a negative remainder goes below 0
    ax.set_ylim(ymin * 1.15, ymax * 1.15)
    _time_labels(ax, N_POINTS, hints)
    if legend_h:
        x0 = left + 56
        for i, s in enumerate(series):
            label = s.name
            fig.add_artist(rect(layout, x0, top + height - legend_h + 5, 10, 4, colors[i]))
            fig.text(*pt(layout, x0 + 14, top + height - legend_h + 8), label, color=TEXT, fontsize=7, va="center")
            x0 += 24 + 6.2 * len(label)
            if x0 > left + width - 40:
                break


def draw_heatmap(fig, layout, box, panel, hints, inner):
    import numpy as np

    left, top, width, height = inner
    query = str(((panel.get("targets") or [{}])[0]).get("query", ""))
    m = FUNC_RE.search(query)
    attr = m.group(2) if m else None
    yunit = (((panel.get("options") or {}).get("yAxis") or {}).get("unit")) or hints.units.get(attr_key(attr or "")) \
        or unit_of(panel)
    level = hints.level(stage_of(query, hints), attr) or (limits_of(panel)[0][0] if limits_of(panel) else None) \
        or default_level(yunit, attr)
    k0 = int(math.floor(math.log2(max(level, 1e-9)))) - 4
    edges = [2.0 ** (k0 + i) for i in range(9)]  # Tempo's histogram buckets are powers of two
    rng = rng_for(panel, "heatmap")
    cols = 48
    centre = math.log2(level) - k0 - 1.5
    grid = np.zeros((len(edges) - 1, cols))
    for c in range(cols):
        mu = centre + 0.6 * math.sin(c / 7.0) + (1.3 if cols * 0.6 < c < cols * 0.7 else 0)
        samples = rng.normal(mu, 0.9, 60)
        idx = np.clip(np.floor(samples).astype(int), 0, len(edges) - 2)
        np.add.at(grid[:, c], idx, 1)
    ax = fig.add_axes(px_rect(layout, left + 52, top, width - 56 - 26, height - 16))
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
    ticks, labels = time_ticks(hints, cols + 1)
    ax.set_xticks(ticks)
    ax.set_xticklabels(labels)
    # The colour scale at the right, as Grafana's heatmap legend.
    cax = fig.add_axes(px_rect(layout, left + width - 18, top + 4, 8, height - 28))
    cax.imshow(np.linspace(1, 0, 64)[:, None] ** 0.5, aspect="auto", cmap=cmap)
    cax.set_axis_off()


def stat_value(panel: dict, hints: Hints) -> tuple[float, str, int]:
    """(value, series name, series index) a stat shows: the last value of the series its
    ``reduceOptions.fields`` regex picks by display name (the first series without one)."""
    pick = ((panel.get("options") or {}).get("reduceOptions") or {}).get("fields") or ""
    found = search_stat(panel, hints, lambda name: not pick or js_regex(pick).search(name))
    if found is not None:
        return found[0], found[1], 0
    series = synthetic_series(panel, hints)
    index = next((i for i, s in enumerate(series) if not pick or js_regex(pick).search(s.name)), 0)
    return float(series[index].values[-1]), series[index].name, index


def draw_stat(fig, layout, box, panel, hints, inner):
    import numpy as np

    left, top, width, height = inner
    unit = unit_of(panel)
    value, _, index = stat_value(panel, hints)
    color = value_color(panel, index, value)  # thresholds only in thresholds mode (fieldColor.ts)
    opts = panel.get("options") or {}
    mode = opts.get("colorMode", "value")
    frame_top = box.top + GAP_PX
    if mode == "background":
        fig.add_artist(rect(layout, box.left + GAP_PX + 1, frame_top + 1, box.width - 2 * GAP_PX - 2,
                                 box.height - 2 * GAP_PX - 2, color, alpha=0.85, zorder=-0.5))
    text_color = "#ffffff" if mode == "background" else (color if mode == "value" else TEXT)
    if opts.get("graphMode", "none") == "area":
        spark = synthetic_series(panel, hints)[index].values
        spark = spark / max(float(np.max(spark)), 1e-9)
        ax = fig.add_axes(px_rect(layout, box.left + GAP_PX + 1, box.top + box.height - GAP_PX - height * 0.45,
                                   box.width - 2 * GAP_PX - 2, height * 0.45 - 1))
        ax.fill_between(np.arange(len(spark)), 0, spark, color="#ffffff" if mode == "background" else color,
                        alpha=0.18, linewidth=0)
        ax.set_xlim(0, len(spark) - 1)
        ax.set_ylim(0, 1.05)
        ax.set_axis_off()
    size = max(10, min(34, height * 0.33, width / max(len(fmt_value(value, unit)), 3) * 1.1) * 72 / DPI)
    fig.text(*pt(layout, left + width / 2, top + height * 0.48), fmt_value(value, unit), color=text_color,
             fontsize=size, fontweight="bold", ha="center", va="center")


def draw_table(fig, layout, box, panel, hints, inner):
    """Columns as Grafana types them: strings left-aligned and unformatted, numbers right-aligned
    in their unit; rows in the panel's sort (textual on a string column)."""
    left, top, width, height = inner
    row_h = 24 if (panel.get("options") or {}).get("cellHeight", "sm") == "sm" else 32
    n_rows = max(1, int((height - row_h) // row_h))
    cols, kinds, rows = table_model(panel, hints, min(n_rows, 14))
    keep = max(2, int(width // 118))
    cols, kinds, rows = cols[:keep], kinds[:keep], [r[:keep] for r in rows]
    col_w = width / len(cols)
    sort = [(s.get("displayName"), s.get("desc")) for s in (panel.get("options") or {}).get("sortBy") or []]
    fig.add_artist(rect(layout, left, top, width, row_h, "#22252b"))
    for j, c in enumerate(cols):
        arrow = next((" ↓" if desc else " ↑" for name, desc in sort if name == c), "")
        right = kinds[j] == "number"
        x = left + (j + 1) * col_w - 8 if right else left + j * col_w + 8
        fig.text(*pt(layout, x, top + row_h / 2), fit(c + arrow, col_w, 6.3), color="#6e9fff", fontsize=7.5,
                 fontweight="bold", va="center", ha="right" if right else "left")
    for i, row in enumerate(rows):
        y = top + row_h * (i + 1)
        if y + row_h > top + height:
            break
        fig.add_artist(rect(layout, left, y + row_h - 1, width, 1, GRID_LINE))
        for j, v in enumerate(row):
            right = kinds[j] == "number"
            x = left + (j + 1) * col_w - 8 if right else left + j * col_w + 8
            fig.text(*pt(layout, x, y + row_h / 2), fit(v, col_w), color=TEXT, fontsize=7.5, va="center",
                     ha="right" if right else "left")


def draw_barchart(fig, layout, box, panel, hints, inner):
    """Stacked bars: each segment starts where the one below ends (``stacking: normal``)."""
    import numpy as np

    left, top, width, height = inner
    groups, segments = bar_segments(panel, hints)
    if not groups:
        return
    ax = fig.add_axes(px_rect(layout, left + 52, top, width - 56, height - 34))
    _style_axes(ax, unit_of(panel))
    stacked = (panel.get("options") or {}).get("stacking", "none") not in ("none", None)
    x = np.arange(len(groups))
    bottom = np.zeros(len(groups))
    for i, (name, values) in enumerate(segments):
        color = series_color(panel, i, float(values[-1]) if len(values) else 0.0)
        ax.bar(x, values, bottom=bottom if stacked else None, color=color, width=0.7, alpha=0.85)
        if stacked:
            bottom = bottom + values
    ax.set_xticks(x)
    ax.set_xticklabels(groups)
    x0 = left + 56
    for i, (name, values) in enumerate(segments):
        fig.add_artist(rect(layout, x0, top + height - 13, 10, 4, series_color(panel, i, float(values[-1]))))
        fig.text(*pt(layout, x0 + 14, top + height - 10), name, color=TEXT, fontsize=7, va="center")
        x0 += 24 + 6.2 * len(name)


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


def draw_text(fig, layout, box, panel, hints, inner):
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
            fig.text(*pt(layout, left + 2, y + line_h / 2), part, color=TEXT, fontsize=7.5,
                     fontweight="bold" if bold else "normal", va="center")
            y += line_h
        if not line:
            y -= line_h / 2


# Panel type -> how to draw it; any other type is drawn as its name.
DRAW = {"timeseries": draw_timeseries, "heatmap": draw_heatmap, "stat": draw_stat, "table": draw_table,
        "text": draw_text, "barchart": draw_barchart}
