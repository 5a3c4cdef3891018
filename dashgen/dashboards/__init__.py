"""Dashboard definitions: pure functions from a Catalog to laid-out dashboards.

Output order: the overview, one dashboard per stage (barge-in gets its milestone
breakdown when its role is barge_in and it has the milestones,
``dashgen.voice.barge_in``), the session drilldown, then the SLO
dashboard when the catalog declares an SLO.
"""

from __future__ import annotations

from ..catalog.model import Catalog
from ..voice.barge_in import applies
from . import barge_in, overview, session, slo, stage
from .kit import BuiltDashboard, Ctx


def build_dashboards(catalog: Catalog, schema_version: int) -> list[BuiltDashboard]:
    ctx = Ctx(catalog, schema_version)
    out = [overview.build(ctx)]
    for s in catalog.stages:
        if applies(s, catalog):
            out.append(barge_in.build(ctx, s))
        else:
            out.append(stage.build(ctx, s))
    out.append(session.build(ctx))
    out.extend(slo.dashboards(ctx))
    return out
