"""``dashgen build`` (and ``plan``/``push`` when they build) refuses output that ``dashgen lint`` would reject.

A catalog can be valid key by key and still ask for output Grafana or Tempo should not get:
a stage with so many measurements that its dashboard runs more TraceQL metrics queries than
the budget, say. ``build`` and ``plan`` used to write or push such output silently and only
``lint`` noticed; now the fresh build is linted in memory (the offline checks: no schemas,
no network, a few hundredths of a second) and nothing is written or pushed when it fails.
(``push --from DIR`` takes a directory as it is: lint it with ``dashgen lint --from DIR``.)

The refusal is exit 2, like a catalog error: the output is what the catalog asks for, so the
fix is in the catalog (exit 1 stays "stale output" for ``build --check`` and "problems
found" for ``lint``, which CI branches on). Only errors refuse (lint/rules.py gives each rule
its severity): warnings, house style such as a panel without a description, are returned for the
command to print, and nothing is refused for them. A rule silenced in ``.dashgen-lint.yaml``
(lint/exclusions.py) is silenced here too. Each problem is one line; when it belongs to one
stage's dashboard it starts with that stage's place in the catalog, ``file:line:col:``; when
it belongs to a dashboard of a definition file, with the file and line that made it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import PurePosixPath

from ..artifacts import DASHBOARD, kind_of
from ..catalog.load import display_path
from ..catalog.model import Catalog, Stage
from ..errors import CatalogErrors, InputError
from . import lint_artifacts
from .exclusions import Exclusions, load_exclusions
from .report import Problem


def refuse_lint_problems(artifacts: dict[str, str], dashboards: list, catalog: Catalog,
                         exclusions: Exclusions | None = None) -> list[Problem]:
    """Raise InputError (exit 2) listing the errors ``dashgen lint`` finds in a fresh build;
    return its warnings (to print on stderr), each located like an error.

    ``dashboards`` are the build's ``BuiltDashboard``s: they tell which dashboard shows which
    stage, so a problem is located at the stage in the catalog. ``exclusions``: the project's
    ``.dashgen-lint.yaml`` when None.
    """
    report = lint_artifacts(artifacts, catalog, exclusions=load_exclusions() if exclusions is None else exclusions)
    if report.ok:
        return locate(report.warnings, dashboards, catalog)
    lines = [str(p) for p in locate(report.errors, dashboards, catalog)]
    limit = CatalogErrors.LIMIT
    shown = lines[:limit] + ([f"... and {len(lines) - limit} more (dashgen lint lists them all)"]
                             if len(lines) > limit else [])
    raise InputError(f"build refused: the output would fail dashgen lint ({len(lines)} problem"
                     f"{'s' if len(lines) != 1 else ''}); nothing written\n" + "\n".join(shown))


def locate(problems: list[Problem], dashboards: list, catalog: Catalog) -> list[Problem]:
    """``problems`` of a fresh build, each located also where its fix goes: the catalog line of the stage
    (or measurement) its dashboard or panel shows, or the definition file and line that made its
    dashboard (``BuiltDashboard.origin``). ``dashgen lint`` and the gate print them so."""
    stage_of = _stage_dashboards(dashboards, catalog)
    origins = {d.uid: d.origin for d in dashboards if d.origin}
    return [_at_stage(p, stage_of, origins, catalog, dashboards) for p in problems]


def _at_stage(p: Problem, stage_of: dict, origins: dict[str, str], catalog: Catalog, dashboards: list) -> Problem:
    """The problem located also where it comes from: the definition file and line that made its dashboard,
    the stage whose dashboard it is on, else (a dashboard of several stages) what its panel shows
    (:func:`_locate_panel`)."""
    uid = PurePosixPath(p.location.file).stem if kind_of(p.location.file) == DASHBOARD else None
    if uid in origins:  # a dashboard of a definition file: the file and line that made it
        return replace(p, location=replace(p.location, catalog=origins[uid]))
    if uid not in stage_of:
        located = _locate_panel(p, uid, dashboards, catalog)
        return p if located is None else located
    index, stage = stage_of[uid]
    loc = catalog.loc("stages", index, "id")
    where = replace(p.location, catalog=f"{display_path(catalog.source)}:{loc.line}:{loc.col}: stage {stage.id}")
    hint = (f" (give stage {stage.id} fewer measurements, or fewer panels per measurement, e.g. panels: [quantiles])"
            if p.rule == "tempo-query-budget" else "")
    return replace(p, location=where, message=p.message + hint)


def _locate_panel(p: Problem, uid: str | None, dashboards: list, catalog: Catalog) -> Problem | None:
    """A problem on a dashboard of several stages, at the catalog line of what its panel shows.

    Each generated panel says what it shows (``shows``: ``"<stage>.<measurement>:p95"``,
    ``"<stage>:errors"``); the problem names the panel by title. It is located at the first
    measurement (else stage) the panel shows, so the user knows which catalog entry asked for
    it (a panel of all stages: at the catalog's ``stages`` key); None when the problem names no
    panel of a generated dashboard.
    """
    title = p.location.panel
    built = next((d for d in dashboards if d.uid == uid), None)
    panel = next((q for q in built.dashboard.panels if title is not None and q.title == title), None) if built else None
    if panel is None or not getattr(panel, "shows", None):  # a user's own panel: no catalog line asked for it
        return None
    index = {s.id: i for i, s in enumerate(catalog.stages)}
    path: tuple = ("stages",)
    what = "the stages"
    for tag in getattr(panel, "shows", ()) or ():
        sid, _, mid = tag.partition(":")[0].partition(".")
        if sid in index:
            stage = catalog.stages[index[sid]]
            mi = next((i for i, m in enumerate(stage.measurements) if m.id == mid), None)
            path = ("stages", index[sid]) + (("measurements", mi) if mi is not None else ())
            what = f"{sid}.{mid}" if mi is not None else f"stage {sid}"
            break
    loc = catalog.loc(*path)
    where = replace(p.location, catalog=f"{display_path(catalog.source)}:{loc.line}:{loc.col}: {what}")
    return replace(p, location=where, message=p.message + (
        " (the catalog asks for this panel at this line: change the entry here, and report it to dashgen's "
        "developers, as a generator should never write what its own lint rejects)"))


def _stage_dashboards(dashboards: list, catalog: Catalog) -> dict[str, tuple[int, Stage]]:
    """``{dashboard uid: (index in the catalog, stage)}`` for the one-stage dashboards.

    A stage's dashboard is keyed by its id with ``-`` for ``_`` (dashboards/stage.py and
    barge_in.py); tests/test_build_gate.py checks that every stage is found this way.
    """
    by_key = {s.id.replace("_", "-"): (i, s) for i, s in enumerate(catalog.stages)}
    return {d.uid: by_key[d.key] for d in dashboards if d.key in by_key}
