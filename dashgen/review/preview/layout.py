"""The layout model: a dashboard's JSON as boxes in pixels, testable without looking at pixels.

Straight from each panel's ``gridPos`` the way Grafana places them: one grid column is
``width / 24``, one grid row is 30 px (Grafana's ``GRID_CELL_HEIGHT``), below a header with
the title, the variables and the time picker.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...dashboards.layout import GRID_COLUMNS
from ...drawn import read_dashboard

ROW_PX = 30  # one grid row, as Grafana's GRID_CELL_HEIGHT
WIDTH_PX = 1600
HEADER_PX = 72  # dashboard title, variables and time picker above the grid
BOTTOM_PX = 8
GAP_PX = 4  # half of Grafana's 8 px margin between panels, on each side of a box


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
    """(panel, row title) for what Grafana shows: top-level panels; a collapsed row hides its panels
    (:attr:`dashgen.drawn.DrawnDashboard.on_grid`)."""
    return [(p.raw, p.row) for p in read_dashboard(dashboard).on_grid if p.raw.get("gridPos")]


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


# Pixels (top-left origin, as the layout) to matplotlib figure fractions (bottom-left origin).

def px_rect(layout: Layout, left, top, width, height):
    """Figure-fraction rectangle [x0, y0, w, h] of a pixel box (top-left origin)."""
    W, H = layout.width_px, layout.height_px
    return [left / W, 1 - (top + height) / H, max(width, 1) / W, max(height, 1) / H]


def fit(text: str, width_px: float, char_px: float = 5.4) -> str:
    """``text`` cut with an ellipsis to what fits ``width_px`` at about ``char_px`` per character."""
    limit = max(3, int((width_px - 12) / char_px))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pt(layout: Layout, x: float, y: float) -> tuple[float, float]:
    """Figure fraction of a pixel point (top-left origin)."""
    return x / layout.width_px, 1 - y / layout.height_px


def rect(layout: Layout, left, top, width, height, color, alpha=1.0, edge=None, zorder=-1.0):
    """A rectangle in pixels (top-left origin), drawn below the axes unless told otherwise."""
    from matplotlib.patches import Rectangle

    W, H = layout.width_px, layout.height_px
    return Rectangle((left / W, 1 - (top + height) / H), width / W, height / H, facecolor=color,
                     edgecolor=edge or "none", linewidth=1 if edge else 0, alpha=alpha, zorder=zorder)
