"""A whole dashboard drawn as a matplotlib Figure: the header, rows, panel frames and titles;
what is inside a frame is :mod:`.panels`' job."""

from __future__ import annotations

import re

from .data import Hints, resolve_sources
from .layout import GAP_PX, WIDTH_PX, Layout, fit, layout_model, pt, rect, visible_panels
from .panels import DRAW
from .theme import BG, BORDER, DPI, PANEL_BG, TEXT, TEXT_DIM

def _draw_header(fig, layout: Layout, dashboard: dict):
    fig.text(*pt(layout, 16, 20), "▦  " + layout.title, color=TEXT, fontsize=13, fontweight="bold", va="center")
    time = (dashboard.get("time") or {}).get("from", "now-6h")
    m = re.fullmatch(r"now-(\d+)([smhdw])", str(time))
    words = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    picker = f"Last {m.group(1)} {words[m.group(2)]}" if m else str(time)
    refresh = dashboard.get("refresh") or "off"
    label = f"◷ {picker}    ⟳ {refresh}"
    w = 8 + 6.3 * len(label)
    fig.add_artist(rect(layout, layout.width_px - w - 16, 8, w, 24, "#22252b", edge=BORDER))
    fig.text(*pt(layout, layout.width_px - w - 8, 20), label, color=TEXT, fontsize=8, va="center")
    x = 16.0
    for v in (dashboard.get("templating") or {}).get("list") or []:
        if not isinstance(v, dict) or v.get("hide") == 2:
            continue
        label = str(v.get("label") or v.get("name"))
        value = str(((v.get("current") or {}).get("text")) or v.get("query") or "")
        lw, vw = 14 + 6.6 * len(label), 18 + 6.6 * max(len(value), 3)
        if x + lw + vw > layout.width_px - 16:
            break
        fig.add_artist(rect(layout, x, 40, lw, 24, "#22252b", edge=BORDER))
        fig.text(*pt(layout, x + 6, 52), label, color=TEXT, fontsize=8, va="center")
        fig.add_artist(rect(layout, x + lw, 40, vw, 24, BG, edge=BORDER))
        fig.text(*pt(layout, x + lw + 8, 52), value, color=TEXT, fontsize=8, va="center")
        x += lw + vw + 10


def draw_dashboard(dashboard: dict, hints: Hints | None = None, width_px: int = WIDTH_PX):
    """A matplotlib Figure of the dashboard, sized from the layout model (``width_px`` x height)."""
    from matplotlib.figure import Figure

    hints = (hints or Hints()).for_range((dashboard.get("time") or {}).get("from", "now-6h"))
    layout = layout_model(dashboard, width_px)
    fig = Figure(figsize=(layout.width_px / DPI, layout.height_px / DPI), dpi=DPI, facecolor=BG)
    _draw_header(fig, layout, dashboard)
    panels = {p.get("id"): p for p, _ in visible_panels(dashboard)}
    for box in layout.boxes:
        panel = panels.get(box.panel_id, {})
        if box.type == "row":
            y = box.top + box.height / 2
            marker = "▸" if box.collapsed else "▾"
            # grafana/scenes SceneGridRow.tsx: "(1 panel)", "(2 panels)"
            count = len(panel.get("panels") or [])
            extra = f"  ({count} {'panel' if count == 1 else 'panels'})" if box.collapsed else ""
            fig.text(*pt(layout, box.left + 8, y), f"{marker}  {box.title}{extra}", color=TEXT, fontsize=10,
                     fontweight="bold", va="center")
            fig.add_artist(rect(layout, box.left + GAP_PX, box.top + box.height - 2, box.width - 2 * GAP_PX, 1,
                                BORDER))
            continue
        left, top = box.left + GAP_PX, box.top + GAP_PX
        width, height = box.width - 2 * GAP_PX, box.height - 2 * GAP_PX
        fig.add_artist(rect(layout, left, top, width, height, PANEL_BG, edge=BORDER))
        title_px = 28 if box.title else 8
        if box.title:
            fig.text(*pt(layout, left + 8, top + 14), fit(box.title, width - 8, 6.3), color=TEXT, fontsize=8.5,
                     fontweight="bold", va="center")
        inner = (left + 8, top + title_px, width - 16, height - title_px - 6)
        if inner[2] < 10 or inner[3] < 10:
            continue
        draw = DRAW.get(box.type)
        if draw is not None:  # a panel reading another's result draws that result, as Grafana does
            draw(fig, layout, box, resolve_sources(panel, dashboard), hints, inner)
        else:
            fig.text(*pt(layout, left + width / 2, top + height / 2), f"{box.type} panel", color=TEXT_DIM,
                     fontsize=9, ha="center", va="center")
    return fig, layout
