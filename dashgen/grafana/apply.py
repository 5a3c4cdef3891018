"""Execute a :class:`dashgen.grafana.plan.Plan`: first the writes nothing depends on being written
(folders), then the writes that need one of them (dashboards and rule groups, together), then every prune.

Within each phase a bounded worker pool (``concurrency``) runs the writes. Every write is safe to
retry: the handler that makes it guards it (a version or resourceVersion that was read, and a
re-read before retrying a write whose response was lost), so nothing is applied twice. An item
whose prerequisite failed (a dashboard whose folder could not be created) is skipped.
"""

from __future__ import annotations

import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

from .. import __version__
from .client import GrafanaError
from .handler import Conflict, Handler, WriteContext
from .plan import CREATE, PRUNE, UNCHANGED, UPDATE, Item, Plan
from .report import Progress


def save_message(cwd: str | None = None) -> str:
    """``dashgen <version> <git short sha>`` (the sha when available), at most 500 characters."""
    sha = ""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=3)
        if out.returncode == 0:
            sha = out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return f"dashgen {__version__} {sha}".strip()[:500]


def _safe_name(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s)[:80]


def write_backup(backup_dir: Path, item: Item, content: object) -> Path:
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    version = f"-v{item.live_version}" if item.live_version is not None else ""
    path = backup_dir / f"{stamp}-{item.kind}-{_safe_name(item.key)}{version}.json"
    path.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


class Applier:
    def __init__(self, handlers: Sequence[Handler], plan: Plan, *, concurrency: int = 8,
                 disable_provenance: bool = False, backup_dir: str | Path = ".dashgen/backups",
                 message: str | None = None, progress: Progress | None = None):
        self.handlers, self.plan = list(handlers), plan
        self.by_kind = {k: h for h in self.handlers for k in h.kinds}
        self.concurrency = max(1, concurrency)
        self.ctx = WriteContext(message=(message if message is not None else save_message())[:500],
                                provenance_headers={"X-Disable-Provenance": "true"} if disable_provenance else {},
                                backup_dir=Path(backup_dir))
        self.progress = progress or Progress(len(plan.writes))

    def run(self) -> Plan:
        for it in self.plan.items:
            if it.action in (UNCHANGED, "orphan"):
                it.outcome = "unchanged" if it.action == UNCHANGED else "kept"
        writes = [i for i in self.plan.writes if i.action in (CREATE, UPDATE)]
        keys = {(i.kind, i.key) for i in writes}
        # phase 0: what needs nothing written first (folders); phase 1: what needs a phase-0 write
        # (dashboards and rule groups together, so the last dashboards and the groups share rounds)
        for phase in (0, 1):
            failed = {(i.kind, i.key) for i in self.plan.items if i.outcome in ("failed", "skipped")}
            items = [i for i in writes if (i.requires in keys) == bool(phase)]
            self._phase([i for i in items if not self._skipped(i, failed)], self._write)
        self._phase([i for i in self.plan.writes if i.action == PRUNE], self._delete)
        return self.plan

    def _skipped(self, it: Item, failed: set[tuple[str, str]]) -> bool:
        if it.requires in failed:
            it.outcome, it.detail = "skipped", f"{it.requires[0]} {it.requires[1]!r} could not be created"
            self.progress.step(f"skip {it.kind} {it.key}")
            return True
        return False

    def _write(self, it: Item) -> None:
        self._backup(it)
        self.by_kind[it.kind].write(it, self.ctx)

    def _delete(self, it: Item) -> None:
        self._backup(it)
        self.by_kind[it.kind].delete(it, self.ctx)

    def _backup(self, it: Item) -> None:
        if it.forced and it.live is not None:
            path = write_backup(self.ctx.backup_dir, it, self.by_kind[it.kind].backup_copy(it))
            it.detail = f"backup: {path}"

    def _phase(self, items: list[Item], fn: Callable[[Item], None]) -> None:
        def one(it: Item) -> None:
            try:
                fn(it)
            except Conflict as exc:
                it.outcome, it.detail = "conflict", exc.detail
            except GrafanaError as exc:
                it.outcome, it.detail = "failed", exc.message
            except OSError as exc:  # backup could not be written: do not overwrite
                it.outcome, it.detail = "failed", f"backup failed: {exc.strerror or exc}"
            verb = {"created": "create", "updated": "update", "deleted": "delete"}.get(it.outcome, it.outcome)
            self.progress.step(f"{verb} {it.kind} {it.key}" + (f": {it.detail}" if it.outcome in ("failed", "conflict") else ""))

        if self.concurrency == 1 or len(items) <= 1:
            for it in items:
                one(it)
            return
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            list(pool.map(one, items))


def exit_code(plan: Plan) -> int:
    outcomes = {i.outcome for i in plan.items}
    if outcomes & {"failed", "skipped"}:
        return 1
    if "conflict" in outcomes:
        return 3
    return 0
