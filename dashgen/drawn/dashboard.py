"""The panels of a dashboard as Grafana lays them out: every panel once, with its row.

Grafana sorts the top-level panels by grid position when it loads a dashboard
(``public/app/features/dashboard/state/DashboardModel.ts``: the constructor calls
``sortPanelsByGridPos``, y then x). A row owns the panels after it up to the next row. A
*collapsed* row keeps its panels in its own ``panels`` list instead (``toggleRow`` saves them
there with ``row.panels = rowPanels.map(panel => panel.getSaveModel())`` and puts them back on
the grid when the row opens): they are not on the grid and do not query until the row is opened,
but they are the dashboard's panels all the same and Grafana draws them exactly like the others.
A walk over ``dashboard["panels"]`` alone misses them; :func:`read_dashboard` does not.
"""

from __future__ import annotations

from typing import Iterator
from ..records import dataclass  # dataclasses' decorator without generated code (start-up)


def _grid_key(panel: dict) -> tuple[int, int]:
    gp = panel.get("gridPos") if isinstance(panel.get("gridPos"), dict) else {}
    y, x = gp.get("y", 0), gp.get("x", 0)
    return (y if isinstance(y, int) else 0, x if isinstance(x, int) else 0)


@dataclass(frozen=True)
class DrawnPanel:
    """One panel (or row) of a dashboard, in the dashboard JSON's panel shape (``raw``)."""

    raw: dict
    row: str | None  # the title of the row it sits in; None above the first row (and for rows)
    folded: bool = False  # kept in a row's own ``panels`` list (a collapsed row): off the grid until it opens

    @property
    def id(self):
        return self.raw.get("id")

    @property
    def type(self) -> str:
        return str(self.raw.get("type", ""))

    @property
    def title(self) -> str:
        return str(self.raw.get("title", ""))

    @property
    def is_row(self) -> bool:
        return self.type == "row"

    @property
    def collapsed(self) -> bool:
        """A row that is closed when the dashboard opens."""
        return self.is_row and bool(self.raw.get("collapsed"))

    @property
    def loads_on_open(self) -> bool:
        return not self.is_row and not self.folded

    @property
    def targets(self) -> list[dict]:
        return [t for t in self.raw.get("targets") or [] if isinstance(t, dict)]

    def targets_of(self, ds_type: str) -> list[dict]:
        """The targets whose datasource is of ``ds_type`` (``tempo``, ``prometheus``)."""
        return [t for t in self.targets if (t.get("datasource") or {}).get("type") == ds_type]


@dataclass(frozen=True)
class DrawnDashboard:
    raw: dict
    panels: tuple[DrawnPanel, ...]  # rows and panels, collapsed rows' panels after their row

    @property
    def uid(self) -> str:
        return str(self.raw.get("uid") or "")

    @property
    def title(self) -> str:
        return str(self.raw.get("title", ""))

    def __iter__(self) -> Iterator[DrawnPanel]:
        return iter(self.panels)

    @property
    def charts(self) -> list[DrawnPanel]:
        """Every panel that is not a row, collapsed rows' panels included."""
        return [p for p in self.panels if not p.is_row]

    @property
    def on_grid(self) -> list[DrawnPanel]:
        """What the grid shows when the dashboard opens: rows, and panels not inside a collapsed row."""
        return [p for p in self.panels if not p.folded]

    def by_id(self) -> dict:
        return {p.id: p for p in self.panels}

    @property
    def variables(self) -> list[dict]:
        return [v for v in (self.raw.get("templating") or {}).get("list") or [] if isinstance(v, dict)]


def read_dashboard(dashboard: dict) -> DrawnDashboard:
    """A dashboard JSON (schema v1: ``panels`` with ``gridPos``) as Grafana lays it out. A v2 object
    (``dashboard.grafana.app/v2``: ``elements`` and a ``layout``) is read as the classic dashboard it
    stands for, the way Grafana converts it (``dashboards/v2.py``), so every reader applies the same
    rules to both formats."""
    from ..dashboards.v2_format import is_v2  # the conversions only for a v2 object

    if is_v2(dashboard):
        from ..dashboards.v2 import to_classic

        dashboard = to_classic(dashboard)
    top = sorted((p for p in dashboard.get("panels") or [] if isinstance(p, dict)), key=_grid_key)
    out: list[DrawnPanel] = []
    row = None
    for p in top:
        if p.get("type") == "row":
            row = str(p.get("title", ""))
            out.append(DrawnPanel(p, None))
            inner = p.get("panels") if isinstance(p.get("panels"), list) else []
            # an open row's own "panels" list is empty in Grafana's save model; what a generator puts
            # there is off the grid all the same (Grafana places it only when the row is toggled)
            out += [DrawnPanel(c, row, True) for c in inner if isinstance(c, dict)]
        else:
            out.append(DrawnPanel(p, row))
    return DrawnDashboard(dashboard, tuple(out))
