"""``dashgen preview``: every dashboard drawn offline (no Grafana) as PNG and SVG.

Two steps, so the layout is testable without looking at pixels:

1. :func:`layout_model` (``layout``) turns a dashboard's JSON into boxes in pixels, straight
   from each panel's ``gridPos`` the way Grafana places them.
2. :func:`draw_dashboard` (``draw``) draws those boxes with matplotlib (Agg, no display): the
   header, rows as header bars, panels as framed boxes with their titles, and inside each frame
   the panel type the way Grafana draws it (``panels``), filled with deterministic synthetic
   data shaped by the thresholds (``data``), in Grafana's dark theme (``theme``).

:func:`write_previews` (``write``) writes the files.
"""

from .data import Hints, synthetic_series
from .draw import draw_dashboard
from .layout import BOTTOM_PX, HEADER_PX, ROW_PX, WIDTH_PX, Box, Layout, layout_model
from .theme import color_of, step_color
from .write import write_previews

__all__ = ["BOTTOM_PX", "HEADER_PX", "ROW_PX", "WIDTH_PX", "Box", "Hints", "Layout", "color_of", "draw_dashboard",
           "layout_model", "step_color", "synthetic_series", "write_previews"]
