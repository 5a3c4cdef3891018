"""How a plan and a push are shown: the summary table, the JSON document, the progress lines and
the refusal report. Text only; the decisions are made in ``plan`` and ``apply``."""

from __future__ import annotations

import json
import sys
import threading
from typing import TextIO

from .plan import Plan


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
    orphans = len(plan.by_action("orphan"))
    if orphans and not applied:
        lines.append(f"no longer built: {orphans}; `--prune` removes them")
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
        "notices": plan.notices,
    }
    if stats:
        doc["requests"] = stats
    return json.dumps(doc, indent=2, sort_keys=True)


