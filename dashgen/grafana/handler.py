"""What every resource-kind handler provides, and what they share while a push runs.

Shaped after Grizzly (``pkg/grafana/*-handler.go``: one handler per kind knows how to read,
compare, write and delete it; ``pkg/grizzly/workflow.go`` orchestrates without knowing any kind).
A handler is created for one run and holds that run's state for its kind:

1. :meth:`Handler.prepare`: the desired objects (the build, with datasource uids resolved and
   dashgen's ownership marker added), computed while the second round of reads is in flight, so
   no read may depend on them;
2. :meth:`Handler.reads`: a generator of *rounds* of GETs. The workflow runs round ``n`` of every
   handler in one worker pool, so independent reads overlap; a handler that needs what an earlier
   round returned (a search, then GETs of the hits) simply yields again;
3. :meth:`Handler.compare`: pure, desired vs live -> plan items;
4. :meth:`Handler.write` / :meth:`Handler.delete`: one item, safe to retry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from .client import GrafanaClient

if TYPE_CHECKING:
    from .instance import Instance
    from .plan import Build, Item, Options


def short_hash(obj: Any) -> str:
    """The first 12 hex digits of the SHA-256 of ``obj``'s canonical JSON: dashgen's content marker."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass
class Read:
    """One GET of a read round: ``fetch`` runs in the pool, ``keep`` stores its result."""

    fetch: Callable[[], Any]
    keep: Callable[[Any], None]


@dataclass
class Evidence:
    """What one handler's reads show about another kind's objects, so nothing is read twice:
    a dashboard read in folder F proves that F exists."""

    folders_seen: set[str] = field(default_factory=set)


@dataclass
class WriteContext:
    """What apply tells a handler about the write it is making."""

    message: str  # the version-history message of a save
    provenance_headers: dict[str, str]
    backup_dir: Path


class Conflict(Exception):
    """The live object changed between dashgen's read and its write: reported, never overwritten."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class Handler:
    """Base class; see the module docstring for the life cycle."""

    kinds: tuple[str, ...] = ()  # the Item kinds this handler plans, writes and deletes
    option_name: str = ""  # its name for `push --only` (plan.ONLY_KINDS)

    def __init__(self, client: GrafanaClient, build: "Build", instance: "Instance", evidence: Evidence):
        self.client, self.build, self.instance, self.evidence = client, build, instance, evidence
        self.notices: list[str] = []  # one line each, shown with the plan: what was left out, and why

    def prepare(self, options: "Options") -> None:
        """Compute the desired objects (runs after the preflight, while the second read round is in flight)."""

    def reads(self, options: "Options") -> Iterator[list[Read]]:
        """Yield one list of reads per round; the first round runs alongside the preflight."""
        return iter(())

    def compare(self, options: "Options") -> list["Item"]:
        raise NotImplementedError

    def write(self, item: "Item", ctx: WriteContext) -> None:
        raise NotImplementedError

    def delete(self, item: "Item", ctx: WriteContext) -> None:
        raise NotImplementedError(f"cannot delete a {item.kind}")

    def backup_copy(self, item: "Item") -> Any:
        """What ``--force`` saves before overwriting or deleting ``item``: the live object as read."""
        return item.live
