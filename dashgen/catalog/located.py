"""Where catalog values are, and every mistake found in them: the ``Context`` of one load.

A user fixing a catalog wants every mistake from one run, not one per run. So the loader
records each problem here instead of stopping at the first: a value that failed its own
check is ``INVALID`` and its path is remembered, and checks that read several values (in
``load``) ask ``Context.valid`` first, so a mistake is reported once and not again by every
check that depends on it. ``raise_errors`` ends the load with all of them.
"""

from __future__ import annotations


import yaml

from ..records import dataclass  # dataclasses' decorator without generated code (start-up)
from ..errors import CatalogError, CatalogErrors


@dataclass(frozen=True)
class Loc:
    """Where a value sits in the source: 1-based line and column."""

    line: int
    col: int


def node_loc(node: yaml.Node) -> Loc:
    mark = node.start_mark
    return Loc(mark.line + 1, mark.column + 1)


class _Invalid:
    """The value of a key whose own check failed (its error is already recorded)."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID = _Invalid()


class Context:
    """Carries the file name for error messages, records every value's location and collects
    the errors found so far (``invalid`` holds the paths they were found at)."""

    def __init__(self, path: str):
        self.path = path
        self.locations: dict[tuple, Loc] = {}
        self.errors: list[CatalogError] = []
        self.invalid: set[tuple] = set()

    def error(self, loc: Loc, problem: str, fix: str = "") -> CatalogError:
        return CatalogError(self.path, loc.line, loc.col, problem, fix)

    def report(self, err: CatalogError, path: tuple | None = None) -> None:
        """Record ``err``; with ``path``, the value there (and all that holds it) is not valid."""
        self.errors.append(err)
        if path is not None:
            self.invalid.add(path)

    def add(self, loc: Loc, problem: str, fix: str = "") -> None:
        """Record a problem found by a check across values (it invalidates nothing)."""
        self.report(self.error(loc, problem, fix))

    def valid(self, *paths: tuple) -> bool:
        """True when no value at, above or below any of ``paths`` failed its own check."""
        return not any(bad[:len(p)] == p or p[:len(bad)] == bad for p in paths for bad in self.invalid)

    def raise_errors(self) -> None:
        """Raise what was collected: the one ``CatalogError``, or all of them (in file order).

        A value behind a YAML alias (``metric: *shared``) is checked at every use; its mistake
        is reported once, at the anchored value.
        """
        seen: set[tuple] = set()
        unique = [e for e in self.errors if (e.line, e.col, e.fix) not in seen and not seen.add((e.line, e.col, e.fix))]
        if len(unique) == 1:
            raise unique[0]
        if unique:
            raise CatalogErrors(unique)


def dotted(path: tuple) -> str:
    """``('stages', 0, 'id')`` -> ``stages[0].id``: how messages name a key."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "the document"
