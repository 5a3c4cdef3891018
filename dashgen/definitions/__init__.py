"""Dashboard definitions: pure functions from a Catalog to laid-out dashboards.

Each module defines one dashboard; ``DASHBOARDS`` lists them in output order.
"""

from __future__ import annotations

from ..catalog import Catalog
from . import overview
from .common import BuiltDashboard, Ctx

DASHBOARDS = (overview,)


def build_dashboards(catalog: Catalog, schema_version: int) -> list[BuiltDashboard]:
    ctx = Ctx(catalog, schema_version)
    out = []
    for module in DASHBOARDS:
        built = module.build(ctx)
        if built is not None:
            out.append(built)
    return out
