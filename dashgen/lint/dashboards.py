"""Dashboard checks of ``dashgen lint``: uids, panel ids, layout, legacy keys, the TraceQL
rules, the per-dashboard TraceQL metrics query budget and panel budget, on plain JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..catalog.conventions import UID_RE
from ..catalog.model import Catalog
from ..dashboards.budget import MAX_METRICS_QUERIES, MAX_PANELS_ON_LOAD
from ..dashboards.layout import GRID_COLUMNS, overlaps
from ..artifacts import LEGACY_PANEL_KEYS
from ..queries.traceql import METRICS_FUNCTIONS, check_query
from .report import LintInput, LintReport

_METRICS_RE = re.compile(r"\|\s*(" + "|".join(sorted(METRICS_FUNCTIONS)) + r")\s*\(")


@dataclass
class DashboardStats:
    uid: str
    title: str
    panels: int
    traceql_metrics: int
    traceql_search: int
    promql: int


def tempo_queries(dashboard: dict) -> list[tuple[dict, dict]]:
    """(panel, target) for every Tempo target of a dashboard."""
    out = []
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            if (target.get("datasource") or {}).get("type") == "tempo":
                out.append((panel, target))
    return out


def is_metrics_query(query: str) -> bool:
    return bool(_METRICS_RE.search(query))


def lint_dashboard(d: dict, catalog: Catalog | None, where: str) -> tuple[list[str], DashboardStats]:
    problems: list[str] = []
    uid = d.get("uid", "")
    if not UID_RE.fullmatch(uid or ""):
        problems.append(f"{where}: uid {uid!r} is not 1-40 characters of [a-zA-Z0-9_-]")
    if "id" in d:
        problems.append(f"{where}: has a dashboard 'id' (leave it out: Grafana matches by uid)")
    if not str(d.get("title", "")).strip():
        problems.append(f"{where}: empty title")
    panels = d.get("panels", [])
    ids: dict[int, str] = {}
    for p in panels:
        title = p.get("title", "")
        pid = p.get("id")
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            problems.append(f"{where}: panel {title!r} has no positive integer id")
        elif pid in ids:
            problems.append(f"{where}: panels {ids[pid]!r} and {title!r} share id {pid}")
        else:
            ids[pid] = title
        legacy = sorted(LEGACY_PANEL_KEYS & set(p))
        if legacy:
            problems.append(f"{where}: panel {title!r} has legacy keys {legacy}")
        gp = p.get("gridPos")
        if not gp:
            problems.append(f"{where}: panel {title!r} has no gridPos")
        elif gp["x"] < 0 or gp["w"] <= 0 or gp["h"] <= 0 or gp["x"] + gp["w"] > GRID_COLUMNS:
            problems.append(f"{where}: panel {title!r} lies outside the {GRID_COLUMNS}-column grid: {gp}")
        if p.get("type") != "row" and not str(p.get("description", "")).strip():
            problems.append(f"{where}: panel {title!r} has no description")
    for p in panels:
        for t in p.get("targets", []):
            if (t.get("datasource") or {}).get("uid") == "-- Dashboard --" and t.get("panelId") not in ids:
                problems.append(f"{where}: panel {p.get('title')!r} reuses panel {t.get('panelId')}, which is not on "
                                f"this dashboard")
    for a, b in overlaps(panels):
        problems.append(f"{where}: panels {ids.get(a, a)!r} and {ids.get(b, b)!r} overlap")

    n_metrics = n_search = n_prom = 0
    known = catalog.span_attributes() if catalog else None
    svc = catalog.service_attribute if catalog else None
    for panel, target in tempo_queries(d):
        query = target.get("query", "")
        if is_metrics_query(query):
            n_metrics += 1
        else:
            n_search += 1
        for problem in check_query(query, known, svc):
            problems.append(f"{where}: panel {panel.get('title')!r}: {problem}: {query}")
    for panel in panels:
        n_prom += sum(1 for t in panel.get("targets", []) if (t.get("datasource") or {}).get("type") == "prometheus")
    if n_metrics > MAX_METRICS_QUERIES:
        problems.append(f"{where}: {n_metrics} TraceQL metrics queries (at most {MAX_METRICS_QUERIES}: each one "
                        f"costs the Tempo cluster on every refresh)")
    # Grafana builds every top-level panel when the dashboard opens; a collapsed row keeps its
    # children in its own "panels" list until it is opened (DashboardModel.toggleRow moves them
    # to the top level, grafana/grafana public/app/features/dashboard/state/DashboardModel.ts),
    # so they are not counted.
    if len(panels) > MAX_PANELS_ON_LOAD:
        problems.append(f"{where}: {len(panels)} panels drawn on load (at most {MAX_PANELS_ON_LOAD}: each one is "
                        f"built when the dashboard opens; put sections in collapsed rows or split the dashboard)")
    stats = DashboardStats(uid, d.get("title", ""), sum(1 for p in panels if p.get("type") != "row"),
                           n_metrics, n_search, n_prom)
    return problems, stats


def check(inp: LintInput, report: LintReport) -> None:
    """Every dashboard: unique uid matching its file name, then ``lint_dashboard``."""
    uids: dict[str, str] = {}
    for rel, d in inp.dashboards.items():
        uid = d.get("uid", "")
        if uid in uids:
            report.problems.append(f"{rel}: uid {uid!r} also used by {uids[uid]}")
        uids[uid] = rel
        if Path(rel).stem != uid:
            report.problems.append(f"{rel}: file name does not match the uid {uid!r}")
        problems, stats = lint_dashboard(d, inp.catalog, rel)
        report.problems += problems
        report.stats.append(stats)

