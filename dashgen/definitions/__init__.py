"""Users' definition files: run them, take their dashboards, locate every problem at ``file:line``.

A definition file is code run at build time (as grafanalib's ``generate-dashboards`` runs
``*.dashboard.py`` files): dashgen imports it as a module of its own, with its folder on
``sys.path`` meanwhile so it can import helpers beside it. Then it calls ``dashboards(kit)``
(``dashgen.api``) or takes the module-level grafanalib ``dashboard``. Whatever goes wrong
there (a syntax or import error, an exception, a missing or wrong-typed result) is one
``DefinitionError`` at the line of the user's file it happened on; ``DASHGEN_DEBUG=1`` also
prints the traceback. ``check_collisions`` keeps user dashboards from taking a generated
dashboard's uid, title or panel tags, so they go through the pipeline as peers, not usurpers.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import sys
import traceback
from dataclasses import dataclass

from ..api import Kit
from ..dashboards.kit import BuiltDashboard, Ctx
from ..errors import DefinitionError
from .from_grafanalib import translate

DEBUG_HINT = "DASHGEN_DEBUG=1 shows the traceback"


def _is_grafanalib_dashboard(item) -> bool:
    """Whether ``item`` is a grafanalib ``Dashboard``. A file that made one imported grafanalib, so
    when no module has, nothing is one, and dashgen does not pay grafanalib's import to find out."""
    gl = sys.modules.get("grafanalib.core")
    return gl is not None and isinstance(item, gl.Dashboard)


@dataclass(frozen=True)
class UserDashboard:
    built: BuiltDashboard
    path: str  # as the catalog or --definitions named it
    line: int  # where it was made: the kit.dashboard(...) call or the Dashboard(...) assignment
    problems: tuple = ()  # DefinitionProblems: what the grafanalib translation could not carry (lint reports them)


def user_dashboards(paths: tuple[str, ...] | list[str], ctx: Ctx) -> list[UserDashboard]:
    """The dashboards of every definition file, in file order; a file named twice runs once."""
    out: list[UserDashboard] = []
    seen: set[str] = set()
    for path in paths:
        if os.path.abspath(path) not in seen:
            seen.add(os.path.abspath(path))
            out += _dashboards_of(path, ctx)
    return out


def _dashboards_of(path: str, ctx: Ctx) -> list[UserDashboard]:
    if not os.path.isfile(path):
        raise DefinitionError(path, 1, "no such definition file")
    name = "dashgen_definition_" + hashlib.sha256(os.path.abspath(path).encode()).hexdigest()[:12]
    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)
    try:
        module = _execute(path, name)
        if callable(getattr(module, "dashboards", None)):
            return _from_function(path, module.dashboards, ctx)
        if hasattr(module, "dashboard"):
            line = _assignment_line(path, "dashboard")
            return [_one(path, module.dashboard, line, ctx, None, "the module-level dashboard")]
        raise DefinitionError(path, 1, "defines neither a function dashboards(kit) nor a module-level "
                                       "dashboard = Dashboard(...) (see docs/extending.md)")
    finally:
        sys.modules.pop(name, None)
        if folder in sys.path:
            sys.path.remove(folder)


def _execute(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, os.path.abspath(path))
    if spec is None or spec.loader is None:
        raise DefinitionError(path, 1, "cannot be imported as a Python module (name it *.py)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        _debug(exc)
        line = (exc.lineno or 1) if _same(exc.filename, path) else _line_in(exc, path, 1)
        raise DefinitionError(path, line, f"{type(exc).__name__}: {exc.msg}") from None
    except (Exception, SystemExit) as exc:
        raise _located(exc, path, 1, "while running the file") from None
    return module


def _from_function(path: str, fn, ctx: Ctx) -> list[UserDashboard]:
    kit = Kit(ctx, path)
    line = getattr(getattr(fn, "__code__", None), "co_firstlineno", 1)
    try:
        result = fn(kit)
    except (Exception, SystemExit) as exc:
        raise _located(exc, path, line, "in dashboards(kit)") from None
    if isinstance(result, BuiltDashboard) or _is_grafanalib_dashboard(result):
        result = [result]
    if not isinstance(result, (list, tuple)):
        raise DefinitionError(path, line, f"dashboards(kit) returned {type(result).__name__}, not a list of "
                                          f"dashboards (make them with kit.dashboard(...))")
    return [_one(path, item, kit._line_of(item) or line, ctx, kit, f"item {i} of what dashboards(kit) returned")
            for i, item in enumerate(result)]


def _one(path: str, item, line: int, ctx: Ctx, kit: Kit | None, what: str) -> UserDashboard:
    if isinstance(item, BuiltDashboard):
        if kit is None or kit._line_of(item) is None:
            raise DefinitionError(path, line, f"{what} was not made by this file's kit.dashboard(...)")
        return UserDashboard(item, path, line)
    if _is_grafanalib_dashboard(item):
        try:
            built, problems = translate(item, ctx, path, line)
        except DefinitionError:
            raise
        except Exception as exc:  # grafanalib's own serialisation of a malformed object
            raise _located(exc, path, line, "while translating the grafanalib dashboard") from None
        return UserDashboard(built, path, line, tuple(problems))
    raise DefinitionError(path, line, f"{what} is a {type(item).__name__}, not a dashboard (expected "
                                      f"kit.dashboard(...) or a grafanalib Dashboard)")


def check_collisions(generated: list[BuiltDashboard], users: list[UserDashboard]) -> None:
    """A user dashboard may not take a generated dashboard's uid or title (Grafana keys a folder's
    dashboards by both), nor claim to show what a generated panel shows: alert rules link to
    the panel showing their measurement, and must keep linking to dashgen's own."""
    uids = {d.uid: f"the generated dashboard {d.key!r}" for d in generated}
    titles = {d.title.casefold(): f"the generated dashboard {d.key!r}" for d in generated}
    shown = {tag: d.uid for d in generated for p in d.dashboard.panels for tag in getattr(p, "shows", ())}
    for u in users:
        d = u.built
        if d.uid in uids:
            raise DefinitionError(u.path, u.line, f"dashboard uid {d.uid!r} is already used by {uids[d.uid]} "
                                                  f"(give this dashboard another key or uid)")
        if d.title.casefold() in titles:
            raise DefinitionError(u.path, u.line, f"dashboard title {d.title!r} is already used by "
                                                  f"{titles[d.title.casefold()]} in folder {d.folder_uid!r} "
                                                  f"(Grafana needs titles unique in a folder)")
        for p in d.dashboard.panels:
            for tag in getattr(p, "shows", ()):
                if tag in shown:
                    raise DefinitionError(u.path, u.line, f"panel {p.key!r} says it shows {tag!r}, which a panel "
                                                          f"of {shown[tag]} shows: alert rules link there (drop "
                                                          f"shows=, or give it a tag of your own)")
        uids[d.uid] = titles[d.title.casefold()] = f"{u.path}:{u.line}"


# --- locating ---------------------------------------------------------------------------------------

def _same(a: str | None, b: str) -> bool:
    return a is not None and os.path.abspath(a) == os.path.abspath(b)


def _line_in(exc: BaseException, path: str, default: int) -> int:
    """The line of ``path`` nearest to where ``exc`` was raised (the innermost frame in that file)."""
    line = default
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if _same(frame.f_code.co_filename, path):
            line = lineno
    return line


def _located(exc: BaseException, path: str, default: int, when: str) -> DefinitionError:
    _debug(exc)
    text = str(exc) if not isinstance(exc, SystemExit) else f"exit code {exc.code}"
    return DefinitionError(path, _line_in(exc, path, default),
                           f"{type(exc).__name__}: {text} ({when}; {DEBUG_HINT})")


def _debug(exc: BaseException) -> None:
    if os.environ.get("DASHGEN_DEBUG"):
        traceback.print_exception(exc, file=sys.stderr)


def _assignment_line(path: str, name: str) -> int:
    """The line of the last module-level assignment to ``name`` (1 when it is made otherwise)."""
    try:
        tree = ast.parse(open(path, encoding="utf-8").read(), path)
    except (OSError, SyntaxError, ValueError):
        return 1
    line = 1
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            line = node.lineno
    return line
