"""Silencing one rule for one dashboard or panel: ``.dashgen-lint.yaml``.

The format is grafana/dashboard-linter's ``.lint`` file (``lint/configuration.go``:
``exclusions`` maps a rule name to ``reason`` and ``entries``; each entry names a
``dashboard`` and/or a ``panel`` and may give its own ``reason``; a rule with no entries is
silenced everywhere)::

    exclusions:
      panel-description:
        reason: our own dashboards are described in the wiki
        entries:
          - dashboard: team-sessions        # a uid or a title
            panel: Sessions now             # a panel title; left out: the whole dashboard
      exemplars: {}                         # everywhere

dashboard-linter matches the dashboard by title; dashgen takes the uid or the title. An
excluded problem is not printed and does not refuse; ``dashgen lint`` counts it. The file is
read from the directory dashgen runs in, or from ``--exclusions FILE``. An unknown rule id or a
malformed file is an input error naming the file and line.
"""

from __future__ import annotations

from dataclasses import field
from pathlib import Path

import yaml

from ..records import dataclass  # dataclasses' decorator without generated code (start-up)
from ..errors import InputError
from .report import Problem
from .rules import RULES

DEFAULT_FILE = ".dashgen-lint.yaml"


@dataclass(frozen=True)
class Entry:
    dashboard: str | None = None
    panel: str | None = None

    def matches(self, p: Problem, titles: dict[str, str]) -> bool:
        loc = p.location
        if self.dashboard is not None and self.dashboard not in (loc.dashboard, titles.get(loc.dashboard or "")):
            return False
        return self.panel is None or self.panel == loc.panel


@dataclass(frozen=True)
class Exclusions:
    rules: dict[str, tuple[Entry, ...]] = field(default_factory=dict)  # () silences the rule everywhere
    source: str | None = None

    def excludes(self, p: Problem, titles: dict[str, str]) -> bool:
        if p.rule not in self.rules:
            return False
        entries = self.rules[p.rule]
        return not entries or any(e.matches(p, titles) for e in entries)


def _fail(source: str, node, message: str) -> InputError:
    line = f":{node.start_mark.line + 1}:{node.start_mark.column + 1}" if node is not None else ""
    return InputError(f"{source}{line}: {message}")


def parse_exclusions(text: str, source: str) -> Exclusions:
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: not valid YAML: {exc}") from None
    doc = yaml.safe_load(text) if root is not None else None
    if doc is None:
        return Exclusions(source=source)
    if not isinstance(doc, dict) or set(doc) - {"exclusions"}:
        raise _fail(source, root, "expected one key, exclusions: {rule-id: {reason, entries: [...]}}")
    nodes = {k.value: v for k, v in root.value}
    table = doc.get("exclusions") or {}
    if not isinstance(table, dict):
        raise _fail(source, nodes.get("exclusions"), "exclusions must map rule ids to {reason, entries}")
    rule_nodes = {k.value: k for k, _ in nodes["exclusions"].value} if table else {}
    rules: dict[str, tuple[Entry, ...]] = {}
    for rule, spec in table.items():
        if rule not in RULES:
            raise _fail(source, rule_nodes.get(rule), f"unknown lint rule {rule!r} (docs/dashboards.md lists them)")
        spec = spec or {}
        entries = spec.get("entries") or [] if isinstance(spec, dict) else None
        if entries is None or not isinstance(entries, list) or not all(
                isinstance(e, dict) and set(e) <= {"dashboard", "panel", "reason"} for e in entries):
            raise _fail(source, rule_nodes.get(rule), f"{rule}: expected {{reason: ..., entries: "
                                                      f"[{{dashboard: uid or title, panel: title}}]}}")
        rules[rule] = tuple(Entry(None if e.get("dashboard") is None else str(e["dashboard"]),
                                  None if e.get("panel") is None else str(e["panel"])) for e in entries)
    return Exclusions(rules, source)


def load_exclusions(path: Path | None = None) -> Exclusions:
    """``path``, or ``.dashgen-lint.yaml`` in the current directory when there is one."""
    if path is None:
        path = Path(DEFAULT_FILE)
        if not path.is_file():
            return Exclusions()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the lint exclusions: {exc.strerror or exc}") from None
    return parse_exclusions(text, str(path))
