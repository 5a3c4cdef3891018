"""Load a catalog and check what it means: ``load_catalog`` / ``parse_catalog`` for every command.

``dashgen.catalog`` checks the document's form (keys, types, patterns, histograms) and knows
nothing of what the alerts, dashboards or simulator make of it. The checks here need that
meaning, so they live one layer up and run on the valid ``Catalog``:

- an SLO's period has a burn-rate window set (``burn_rates``; Sloth refuses the others too);
- every page the catalog asks for can fire: a burn-rate pair alerts when the bad-event ratio
  over its windows is above ``rate x (1 - objective)``, and the ratio is a share of events, at
  most 1, so a page pair whose limit is 1 or more never fires, whatever the traffic;
- a ``turn`` role sits on the turn span, and that stage is in its turn (``roles``);
- a ``good_turn`` block names a caller-felt latency the turns can be judged by (``good_turn``), and
  its SLO passes the two checks above.

Each problem is a ``CatalogError`` at the key's line, like the form checks' (exit 2), all of
them in one run.
"""

from __future__ import annotations

from ..catalog.load import display_path, load_catalog as load_form, parse_catalog as parse_form
from ..catalog.model import Catalog
from ..catalog.conventions import format_number
from ..errors import CatalogError, CatalogErrors
from . import burn_rates as br
from . import good_turn, roles


def load_catalog(ref: str | None = None) -> Catalog:
    """Load and validate a catalog from a path or preset name (None: the bundled default)."""
    return check(load_form(ref))


def parse_catalog(text: str, display_path: str, source: str | None = None) -> Catalog:
    """Validate catalog text, its form and its meaning; ``display_path`` is what errors name."""
    return check(parse_form(text, display_path, source), display_path)


def check(catalog: Catalog, path: str | None = None) -> Catalog:
    """``catalog`` when its meaning holds; else every problem, located, as a ``CatalogError``."""
    path = path or display_path(catalog.source)
    errors: list[CatalogError] = []

    def add(key: tuple, problem: str, fix: str) -> None:
        loc = catalog.locations.get(key) or catalog.locations.get(key[:-1]) or catalog.loc(*key)
        errors.append(CatalogError(path, loc.line, loc.col, problem, fix))

    for si, stage in enumerate(catalog.stages):
        if stage.slo is not None:
            _slo_checks(add, ("stages", si, "slo"), stage)
        problem = roles.problem(stage, catalog)
        if problem:
            add(("stages", si, "role"), *problem)
        problem = roles.placement_problem(stage, catalog)
        if problem:
            add(("stages", si, "in_turn"), *problem)
    for key, problem, fix in good_turn.problems(catalog):
        add(key, problem, fix)
    if catalog.good_turn is not None:
        _burn_checks(add, ("good_turn",), "good_turn", good_turn.slo(catalog.good_turn))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise CatalogErrors(errors)
    return catalog


def _slo_checks(add, spath: tuple, stage) -> None:
    _burn_checks(add, spath, f"stages[{spath[1]}].slo", stage.slo)


def _burn_checks(add, spath: tuple, where: str, slo) -> None:
    """The SLO's period has a window set, and its pages can fire."""
    if slo is None:
        return
    if br.window_set(slo.window) is None:
        add(spath + ("window",),
            f"{where}.window {slo.window} has no burn-rate window set, so no page or ticket could be "
            f"computed for it (dashgen, like Sloth, has sets for {', '.join(br.supported_periods())} only)",
            f"use window: {' or '.join(br.supported_periods())}")
        return
    for sev, long, short, rate in br.burn_rates(slo):
        if sev == "page" and br.limit(slo, rate) >= 1:
            # rate x budget >= 1 <=> objective <= 1 - 1/rate: suggest the first objective above it
            lowest = 1 - 1 / rate
            add(spath + ("objective",),
                f"{where}.objective {format_number(slo.objective)} leaves an error budget of "
                f"{format_number(slo.budget)}: the {rate:g}x burn-rate page ({long} and {short} windows) needs "
                f"a bad-event ratio above {rate:g} x {format_number(slo.budget)} = "
                f"{format_number(br.limit(slo, rate))}, and a ratio is at most 1 (every event bad), so it "
                f"could never fire",
                f"use an objective above {lowest:.4f}, i.e. 1 - 1/{rate:g}")
            return
