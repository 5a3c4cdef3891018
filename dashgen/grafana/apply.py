"""Execute a :class:`dashgen.grafana.plan.Plan`: folders, then dashboards, then alert rule groups, then prunes.

Within each phase a bounded worker pool (``concurrency``) runs the writes. Every write is safe to
retry: dashboard saves carry the version that was read with ``overwrite: false`` (so an edit made
between dashgen's read and its write is a 412, reported as a conflict), and a write whose
response was lost is re-read before it is retried, so nothing is applied twice.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TextIO

from .. import __version__
from .client import GrafanaClient, GrafanaError
from .plan import (CREATE, PRUNE, UNCHANGED, UPDATE, Item, Plan, dashboard_hash, group_equal)


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


class Progress:
    """A progress bar on a terminal, plain lines (``[12/200] update dashboard voice-tts``) otherwise."""

    def __init__(self, total: int, stream: TextIO | None = None, tty: bool | None = None):
        self.total, self.done = total, 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.lock = threading.Lock()

    def step(self, text: str) -> None:
        with self.lock:
            self.done += 1
            if self.tty:
                width = 30
                filled = int(width * self.done / max(self.total, 1))
                self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {text[:60]:<60}")
                if self.done == self.total:
                    self.stream.write("\n")
            else:
                self.stream.write(f"[{self.done}/{self.total}] {text}\n")
            self.stream.flush()


class _Conflict(Exception):
    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def _safe_name(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s)[:80]


def write_backup(backup_dir: Path, item: Item) -> Path:
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    version = f"-v{item.live_version}" if item.live_version is not None else ""
    path = backup_dir / f"{stamp}-{item.kind}-{_safe_name(item.key)}{version}.json"
    path.write_text(json.dumps(item.live, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


class Applier:
    def __init__(self, client: GrafanaClient, plan: Plan, *, concurrency: int = 8, disable_provenance: bool = False,
                 backup_dir: str | Path = ".dashgen/backups", message: str | None = None,
                 progress: Progress | None = None):
        self.client, self.plan = client, plan
        self.concurrency = max(1, concurrency)
        self.prov_headers = {"X-Disable-Provenance": "true"} if disable_provenance else {}
        self.backup_dir = Path(backup_dir)
        self.message = (message if message is not None else save_message())[:500]
        self.progress = progress or Progress(len(plan.writes))

    # ---------------------------------------------------------------- driver
    def run(self) -> Plan:
        for it in self.plan.items:
            if it.action in (UNCHANGED, "orphan"):
                it.outcome = "unchanged" if it.action == UNCHANGED else "kept"
        folders = [i for i in self.plan.writes if i.kind == "folder"]
        dashboards = [i for i in self.plan.writes if i.kind == "dashboard" and i.action != PRUNE]
        groups = [i for i in self.plan.writes if i.kind == "rule-group"]
        prunes = [i for i in self.plan.writes if i.action == PRUNE]
        self._phase(folders, self._folder)
        failed_folders = {i.key for i in folders if i.outcome == "failed"}
        for it in dashboards + groups:
            if it.folder_uid in failed_folders:
                it.outcome, it.detail = "skipped", f"folder {it.folder_uid!r} could not be created"
                self.progress.step(f"skip {it.kind} {it.key}")
        self._phase([i for i in dashboards if not i.outcome], self._dashboard)
        self._phase([i for i in groups if not i.outcome], self._group)
        self._phase(prunes, self._prune)
        return self.plan

    def _phase(self, items: list[Item], fn: Callable[[Item], None]) -> None:
        def one(it: Item) -> None:
            try:
                fn(it)
            except _Conflict as exc:
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

    def _backup(self, it: Item) -> None:
        if it.forced and it.live is not None:
            path = write_backup(self.backup_dir, it)
            it.detail = f"backup: {path}"

    # ---------------------------------------------------------------- folders
    def _folder(self, it: Item) -> None:
        def reconcile() -> Any:
            live = self.client.get_folder(it.key)
            return live if live and live.get("title") == it.title else None

        self.client.call("POST", "/api/folders", body={"uid": it.key, "title": it.title}, reconcile=reconcile)
        it.outcome = "created"

    # ---------------------------------------------------------------- dashboards
    def _dashboard(self, it: Item) -> None:
        self._backup(it)
        dash = dict(it.desired)
        expected = it.live_version if it.action == UPDATE else None
        if expected is not None:
            dash["version"] = expected
        body = {"dashboard": dash, "folderUid": it.folder_uid, "message": self.message, "overwrite": bool(it.forced)}

        def reconcile() -> Any:
            got = self.client.get_dashboard(it.key)
            if got is None:
                return None  # not created yet: retry
            ld, meta = got.get("dashboard") or {}, got.get("meta") or {}
            if dashboard_hash(ld, meta.get("folderUid") or "") == it.desired_hash:
                return {"version": meta.get("version"), "status": "success", "reconciled": True}
            if expected is not None and meta.get("version") == expected:
                return None  # our write did not land: retry
            if it.forced:
                return None
            raise _Conflict(self._changed_detail(meta))

        try:
            res = self.client.call("POST", "/api/dashboards/db", body=body, reconcile=reconcile)
        except GrafanaError as exc:
            if exc.status == 412:
                got = None
                try:
                    got = self.client.get_dashboard(it.key)
                except GrafanaError:
                    pass
                raise _Conflict(self._changed_detail((got or {}).get("meta") or {})) from None
            raise
        it.outcome = "created" if it.action == CREATE else "updated"
        version = (res or {}).get("version")
        note = f"version {version}" if version else ""
        it.detail = "; ".join(x for x in (it.detail, note) if x)

    @staticmethod
    def _changed_detail(meta: dict) -> str:
        if not meta:
            return "changed by someone else between dashgen's read and its write (HTTP 412); run `dashgen plan` again"
        return (f"changed by someone else between dashgen's read and its write (HTTP 412): now version "
                f"{meta.get('version')} by {meta.get('updatedBy') or '?'} at {meta.get('updated') or '?'}; "
                "nothing was overwritten, run `dashgen plan` again")

    # ---------------------------------------------------------------- rule groups
    def _group(self, it: Item) -> None:
        self._backup(it)
        folder, _, group = it.key.partition("/")
        from urllib.parse import quote
        path = f"/api/v1/provisioning/folder/{folder}/rule-groups/{quote(group, safe='')}"

        def reconcile() -> Any:
            live = self.client.get_rule_group(folder, group)
            return live if live and group_equal(it.desired, live) else None

        self.client.call("PUT", path, body=it.desired, headers=self.prov_headers, reconcile=reconcile)
        it.outcome = "created" if it.action == CREATE else "updated"

    # ---------------------------------------------------------------- prunes
    def _prune(self, it: Item) -> None:
        self._backup(it)
        if it.kind == "dashboard":
            def reconcile() -> Any:
                return {"gone": True} if self.client.get_dashboard(it.key) is None else None

            try:
                self.client.call("DELETE", f"/api/dashboards/uid/{it.key}", reconcile=reconcile)
            except GrafanaError as exc:
                if exc.status != 404:
                    raise
        elif it.kind == "rule":
            self.client.call("DELETE", f"/api/v1/provisioning/alert-rules/{it.key}", ok=(200, 204),
                             headers=self.prov_headers)
        else:
            raise GrafanaError(f"cannot prune a {it.kind}")
        it.outcome = "deleted"


def exit_code(plan: Plan) -> int:
    outcomes = {i.outcome for i in plan.items}
    if outcomes & {"failed", "skipped"}:
        return 1
    if "conflict" in outcomes:
        return 3
    return 0


# ---------------------------------------------------------------------------- reporting
ACTION_ORDER = ["create", "update", "prune", "drifted", "conflict", "orphan", "unchanged"]


def summary_counts(plan: Plan, field: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in plan.items:
        v = getattr(i, field) or i.action
        out[v] = out.get(v, 0) + 1
    return out


def format_table(plan: Plan, *, applied: bool, verbose: bool = False) -> str:
    """The summary table. Unchanged resources are counted, not listed, unless ``verbose``
    or something failed (then every resource's outcome is listed)."""
    rows = []
    failed = any(i.outcome in ("failed", "skipped", "conflict") for i in plan.items)
    hidden = 0
    for it in plan.items:
        state = it.outcome if applied else it.action
        if state in ("unchanged",) and not (verbose or failed):
            hidden += 1
            continue
        detail = it.reason if not applied or not it.detail else (
            f"{it.reason}; {it.detail}" if it.reason and state not in ("created",) else it.detail)
        if not applied and it.forced:
            detail = f"--force: {detail}; live copy backed up first"
        rows.append((it.kind, it.key, it.action if applied else "", state, detail))
    headers = ("KIND", "NAME", "PLANNED", "OUTCOME", "DETAIL") if applied else ("KIND", "NAME", "", "ACTION", "DETAIL")
    cols = [0, 1, 2, 3, 4] if applied else [0, 1, 3, 4]
    widths = {c: max([len(headers[c])] + [len(str(r[c])) for r in rows]) for c in cols}
    lines = []
    if rows:
        lines.append("  ".join(headers[c].ljust(widths[c]) for c in cols).rstrip())
        for r in rows:
            lines.append("  ".join(str(r[c]).ljust(widths[c]) for c in cols).rstrip())
    counts = summary_counts(plan, "outcome" if applied else "action")
    total = ", ".join(f"{n} {k}" for k, n in sorted(counts.items(), key=lambda kv: (ACTION_ORDER + [kv[0]]).index(kv[0])))
    lines.append(("Summary: " if applied else "Plan: ") + (total or "nothing to do")
                 + (f" ({hidden} unchanged not listed; -v lists them)" if hidden else ""))
    return "\n".join(lines)


def refusal_report(plan: Plan) -> str:
    lines = ["dashgen: refusing to push: it would overwrite changes it does not own. Nothing was written."]
    for it in plan.blocking:
        who = ""
        if it.live_version is not None:
            who = f" (live version {it.live_version}, last changed by {it.changed_by or '?'} at {it.changed_at or '?'})"
        lines.append(f"  {it.action}: {it.kind} {it.key} {it.title!r}{who}: {it.reason}")
    lines.append("What to do: port the change into the catalog and rebuild; or delete/rename the resource in Grafana; "
                 "or re-run with --force to overwrite (the live JSON is saved to --backup-dir first).")
    return "\n".join(lines)


def plan_json(plan: Plan, *, applied: bool, exit_code: int, stats: dict | None = None) -> str:
    doc = {
        "grafana_url": plan.grafana_url,
        "applied": applied,
        "exit_code": exit_code,
        "datasources": plan.datasources,
        "summary": summary_counts(plan, "outcome" if applied else "action"),
        "resources": [i.public() for i in plan.items],
    }
    if stats:
        doc["requests"] = stats
    return json.dumps(doc, indent=2, sort_keys=True)


def elapsed(start: float) -> str:
    return f"{time.monotonic() - start:.1f}s"
