"""Plan a push: preflight, read live in rounds, diff. Knows the order of the kinds, not their details.

Like Grizzly's ``pkg/grizzly/workflow.go``: it runs handlers and never looks inside a resource.
Round 0 runs the preflight together with every handler's first reads (they depend only on the
build), so a no-op push costs one round trip before the content reads; nothing is written before
all of it succeeded, and preflight problems are reported first because they explain the rest.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterator

from .apps import choose_api
from .client import GrafanaClient
from .dashboards import Dashboards
from .folders import Folders
from .handler import Evidence, Handler, Read
from .instance import Instance, preflight_reads
from .plan import Build, Options, Plan, diff
from .rule_groups import RuleGroups

# The order plan items are listed and written in: a folder before what it holds.
HANDLER_TYPES: tuple[type[Handler], ...] = (Folders, Dashboards, RuleGroups)


def pmap(fn: Callable[[Any], Any], args: list, concurrency: int) -> list:
    """``map`` over a bounded worker pool; exceptions come back in place of results."""
    def settled(a: Any) -> Any:
        try:
            return fn(a)
        except Exception as exc:  # noqa: BLE001 - re-raised by the caller
            return exc

    if not args:
        return []
    if concurrency <= 1 or len(args) == 1:
        return [settled(a) for a in args]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(settled, args))


def run_round(reads: list[Read], concurrency: int) -> BaseException | None:
    """Run one round of reads, keep every result, and return the first error (None: all went well)."""
    results = pmap(lambda r: r.fetch(), reads, concurrency)
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


def make_plan(client: GrafanaClient, build: Build, options: Options, *,
              concurrency: int = 8) -> tuple[Plan, list[Handler]]:
    instance = Instance(client.base_url)
    evidence = Evidence()
    handlers = [t(client, build, instance, evidence) for t in HANDLER_TYPES]
    rounds = [h.reads(options) for h in handlers]
    first, rounds = _next_round(rounds)
    preflight = preflight_reads(client, instance, build.datasources, discover_apis=options.api != "legacy")
    error = run_round(preflight + first, concurrency)  # preflight reads never raise: see raise_problems
    instance.raise_problems()
    if error:
        raise error
    instance.apps = choose_api(options.api, instance.api_groups, instance.describe(), client.org_id)
    for h in handlers:
        h.prepare(options)
    while rounds:
        reads, rounds = _next_round(rounds)
        error = run_round(reads, concurrency)
        if error:
            raise error
    plan = diff(handlers, options, instance.datasources)
    plan.grafana_url = client.base_url
    return plan, handlers
