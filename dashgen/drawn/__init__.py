"""A built dashboard as Grafana reads it: the one home of Grafana's behaviour that lint, preview
and diff all read.

Each answer follows Grafana's own source (grafana/grafana, cited per function):

- ``dashboard``: every panel, the ones inside collapsed rows included (a collapsed row keeps its
  panels in its own ``panels`` list: ``DashboardModel.toggleRow``), each with its row and whether
  it loads when the dashboard opens;
- ``fields``: field-config defaults and overrides, threshold steps and the active step,
  colour mode (``thresholds`` when unset), the colour of a value, the threshold lines a graph draws;
- ``names``: series and display names (``getFieldDisplayName``), override matchers;
- ``tables``: column kinds of a Tempo span table after ``convertFieldType``, and column units.

The functions take a panel in the dashboard JSON's (schema v1) shape. A reader of another form
(a v2 dashboard's ``elements`` and ``layout``) only has to produce :class:`DrawnDashboard` with
panels in that shape, as Grafana's own v2-to-v1 conversion does; everything above it stays.
This package sits above ``artifacts`` and below ``lint``/``review``: it imports nothing of dashgen.
"""

from .dashboard import DrawnDashboard, DrawnPanel, read_dashboard
from .fields import (BASE, DEFAULT_STEPS, color_mode, defaults, drawn_thresholds, effective_steps, fixed_color, override_value, overrides,
                     palette_index, step_color, steps, thresholds_style, unit, uses_steps, value_colour)
from .names import (Frame, display_names, field_name, js_regex, overrides_setting, prometheus_frame, tempo_frame,
                    tempo_series_name)
from .tables import START_TIME, column_kind, column_unit, converted_columns

__all__ = ["BASE", "DEFAULT_STEPS", "effective_steps", "DrawnDashboard", "DrawnPanel", "Frame", "START_TIME", "color_mode", "column_kind", "column_unit",
           "converted_columns", "defaults", "display_names", "field_name", "drawn_thresholds", "fixed_color", "js_regex",
           "override_value", "overrides", "overrides_setting", "palette_index", "prometheus_frame", "read_dashboard", "step_color", "steps",
           "tempo_frame", "tempo_series_name", "thresholds_style", "unit", "uses_steps", "value_colour"]
