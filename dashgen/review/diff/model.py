"""The diff model: :class:`Change` lines grouped in :class:`Section`s, and the :class:`Diff` summary.

Kinds (``Change.kind``) are stable identifiers: tests and JSON users key on them; the
wording is in ``text`` and the layout in ``templates/diff/``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field


@dataclass
class Change:
    """One reviewer-sized change. ``text`` is the whole worded line: ``subject: detail``."""

    category: str  # dashboard | panel | query | threshold | unit | variable | alert | file
    kind: str  # e.g. panel-moved, threshold-changed, alert-for (stable: tests and JSON users key on it)
    subject: str  # who changed: a panel title, "variable $service", "alert tts-first-byte-p95"
    detail: str  # what changed: "threshold 350 -> 300 ms"
    before: str | None = None  # a block to show before/after (queries, descriptions), else None
    after: str | None = None
    lang: str = ""  # the language of before/after: traceql, promql, text
    count: int = 1  # how many things the line stands for (a collapsed "N panels moved" line)

    @property
    def text(self) -> str:
        return f"{self.subject}: {self.detail}" if self.subject else self.detail

    @property
    def has_block(self) -> bool:
        return self.before is not None or self.after is not None

    def to_json(self) -> dict:
        d = asdict(self)
        d["text"] = self.text
        return d


@dataclass
class Section:
    """The changes of one dashboard, one alert rule group or file, or one other file."""

    kind: str  # dashboard | grafana-rules | prometheus-rules | file
    key: str  # dashboard uid, rule group "folder/group", or the file path
    title: str
    status: str  # added | removed | changed | renamed
    path: str
    changes: list[Change] = field(default_factory=list)
    old_title: str | None = None  # for a renamed dashboard

    @property
    def heading(self) -> str:
        if self.kind == "dashboard":
            return f"dashboard {self.title} ({self.key})"
        if self.kind == "grafana-rules":
            return f"alert rule group {self.title}"
        if self.kind == "prometheus-rules":
            return f"Prometheus rules {self.path}"
        return f"file {self.path}"

    def to_json(self) -> dict:
        return {"kind": self.kind, "key": self.key, "title": self.title, "status": self.status, "path": self.path,
                "old_title": self.old_title, "heading": self.heading,
                "changes": [c.to_json() for c in self.changes]}


# Summary labels: kind -> (singular, plural), in the order the summary lists them.
_SUMMARY_KINDS = [
    ("panel-added", "panel added", "panels added"),
    ("panel-removed", "panel removed", "panels removed"),
    ("panel-retitled", "panel retitled", "panels retitled"),
    ("panel-moved", "panel moved", "panels moved"),
    ("panel-resized", "panel resized", "panels resized"),
    ("panel-type", "panel type changed", "panel types changed"),
    ("query-changed", "query changed", "queries changed"),
    ("query-added", "query added", "queries added"),
    ("query-removed", "query removed", "queries removed"),
    ("threshold", "threshold changed", "thresholds changed"),
    ("unit-changed", "unit changed", "units changed"),
    ("variable", "variable changed", "variables changed"),
]


@dataclass
class Diff:
    sections: list[Section]
    base_label: str = "base"
    head_label: str = "head"

    @property
    def changed(self) -> bool:
        return bool(self.sections)

    @property
    def changes(self) -> list[Change]:
        return [c for s in self.sections for c in s.changes]

    def counts(self) -> Counter:
        """Counts behind the summary line (``kind`` counts plus dashboard and rule totals)."""
        n: Counter = Counter()
        for s in self.sections:
            if s.kind == "dashboard":
                n[f"dashboards-{s.status}"] += 1
        for c in self.changes:
            n["panel-moved" if c.kind == "panel-moved-many" else c.kind] += c.count
            if c.category == "threshold":
                n["threshold"] += 1
        n["variable"] = len({(s.key, c.subject) for s in self.sections for c in s.changes if c.category == "variable"})
        rules: dict[str, set] = defaultdict(set)
        for c in self.changes:
            if c.category == "alert" and c.subject:
                state = "added" if c.kind == "alert-added" else "removed" if c.kind == "alert-removed" else "changed"
                rules[state].add(c.subject)
        rules["changed"] -= rules["added"] | rules["removed"]
        for state, subjects in rules.items():
            n[f"rules-{state}"] = len(subjects)
        return n

    def summary(self) -> str:
        """One line: what changed, in counts a reviewer can take in at a glance."""
        if not self.changed:
            return "no changes to dashboards or alert rules"
        n = self.counts()
        parts = []

        def phrase(prefix: str, one: str, many: str, states: tuple[str, ...]) -> None:
            found = [(st, n[f"{prefix}-{st}"]) for st in states if n[f"{prefix}-{st}"]]
            if found:
                (st0, n0), rest = found[0], found[1:]
                parts.append(", ".join([f"{n0} {one if n0 == 1 else many} {st0}"] + [f"{k} {st}" for st, k in rest]))

        phrase("dashboards", "dashboard", "dashboards", ("added", "removed", "renamed", "changed"))
        for kind, one, many in _SUMMARY_KINDS:
            if n[kind]:
                parts.append(f"{n[kind]} {one if n[kind] == 1 else many}")
        phrase("rules", "alert rule", "alert rules", ("added", "removed", "changed"))
        files = sum(1 for s in self.sections if s.kind == "file")
        if files:
            parts.append(f"{files} other {'file' if files == 1 else 'files'} changed")
        if not parts:
            parts.append(f"{len(self.changes)} other {'change' if len(self.changes) == 1 else 'changes'}")
        return "; ".join(parts)

    def to_json(self) -> dict:
        return {"base": self.base_label, "head": self.head_label, "changed": self.changed,
                "summary": self.summary(), "counts": dict(sorted(self.counts().items())),
                "sections": [s.to_json() for s in self.sections]}
