"""Plan a push: preflight, read live in rounds, diff. Knows the order of the kinds, not their details.

Like Grizzly's ``pkg/grizzly/workflow.go``: it runs handlers and never looks inside a resource.
Round 0 runs the preflight together with every handler's first reads (they depend only on the
build), so a no-op push costs one round trip before the content reads; nothing is written before
all of it succeeded, and preflight problems are reported first because they explain the rest.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterator

from ..errors import InputError
from .apps import DASHBOARD_GROUP, choose_api, v2_version
from .client import GrafanaClient
from .dashboards import Dashboards
from .folders import Folders
from .handler import Evidence, Handler, Read
from .instance import Instance, preflight_reads
from .plan import Build, Options, Plan, diff
from .rule_groups import RuleGroups

# The order plan items are listed and written in: a folder before what it holds.
HANDLER_TYPES: tuple[type[Handler], ...] = (Folders, Dashboards, RuleGroups)


def pmap(fn: Callable[[Any], Any], args: list, concurrency: int,
         meanwhile: Callable[[], None] | None = None) -> list:
    """``map`` over a bounded worker pool; exceptions come back in place of results. ``meanwhile``
    runs in the calling thread once the work is submitted (first, at concurrency 1)."""
    def settled(a: Any) -> Any:
        try:
            return fn(a)
        except Exception as exc:  # noqa: BLE001 - re-raised by the caller
            return exc

    if not args or concurrency <= 1 or (len(args) == 1 and meanwhile is None):
        if meanwhile:
            meanwhile()
        return [settled(a) for a in args]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(args))) as pool:
        results = pool.map(settled, args)  # submits every call now; results come in order
        if meanwhile:
            meanwhile()
        return list(results)


def run_round(reads: list[Read], concurrency: int, meanwhile: Callable[[], None] | None = None) -> BaseException | None:
    """Run one round of reads, keep every result, and return the first error (None: all went well).
    ``meanwhile`` runs in this thread while the reads are in flight (CPU work overlaps the network)."""
    results = pmap(lambda r: r.fetch(), reads, concurrency, meanwhile)
    for read, res in zip(reads, results):
        if not isinstance(res, BaseException):
            read.keep(res)
    return next((res for res in results if isinstance(res, BaseException)), None)


def _next_round(rounds: list[Iterator[list[Read]]]) -> tuple[list[Read], list[Iterator[list[Read]]]]:
    reads: list[Read] = []
    alive = []
    for r in rounds:
        try:
            reads += next(r)
            alive.append(r)
        except StopIteration:
            pass
    return reads, alive


def _require_v2(instance: Instance, options: Options) -> str:
    """The v2 dashboard version a v2 build is pushed in; exit 2, before any write, where there is none."""
    version = v2_version(instance.api_groups.get(DASHBOARD_GROUP))
    if instance.apps is None or version is None:
        why = ("--api legacy cannot write v2 dashboards" if options.api == "legacy" else
               f"{instance.describe()} serves no {DASHBOARD_GROUP} v2 or v2beta1 (Grafana 12.1+ with dynamic "
               f"dashboards, 13 by default)")
        raise InputError(f"this build holds v2 dashboards: {why}; push a --schema-version 42 build instead, or "
                         f"--only rule-groups")
    return version


def make_plan(client: GrafanaClient, build: Build, options: Options, *,
              concurrency: int = 8) -> tuple[Plan, list[Handler]]:
    instance = Instance(client.base_url)
    evidence = Evidence()
    # folders are always read: what is pushed into them needs them (Folders creates them only when
    # it pushes folders); a kind left out by --only is neither read nor written
    handlers = [t(client, build, instance, evidence) for t in HANDLER_TYPES
                if t is Folders or options.pushes(t.option_name)]
    rounds = [h.reads(options) for h in handlers]
    first, rounds = _next_round(rounds)
    preflight = preflight_reads(client, instance, build.datasources, discover_apis=options.api != "legacy")
    error = run_round(preflight + first, concurrency)  # preflight reads never raise: see raise_problems
    instance.raise_problems()
    if error:
        raise error
    instance.apps = choose_api(options.api, instance.api_groups, instance.describe(), client.org_id)
    if build.dashboard_format == "v2" and options.pushes("dashboards"):
        instance.v2_version = _require_v2(instance, options)
    # the desired objects are computed while the second round's reads are in flight: those reads
    # depend on the preflight (which API to read through), never on the desired objects
    reads, rounds = _next_round(rounds)
    error = run_round(reads, concurrency, meanwhile=lambda: [h.prepare(options) for h in handlers])
    while not error and rounds:
        reads, rounds = _next_round(rounds)
        error = run_round(reads, concurrency)
    if error:
        raise error
    plan = diff(handlers, options, instance.datasources)
    plan.grafana_url = client.base_url
    return plan, handlers
