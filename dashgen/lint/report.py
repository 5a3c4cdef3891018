"""What every lint checker reads and writes: the built files, parsed once, and typed problems."""

from __future__ import annotations

from dataclasses import field
from pathlib import Path

from ..records import dataclass  # dataclasses' decorator without generated code (start-up)
from ..catalog.model import Catalog
from ..drawn import DrawnDashboard, read_dashboard
from .rules import ERROR, RULES, WARNING


@dataclass(frozen=True)
class Location:
    """Where a problem is: the file, and inside it the dashboard, panel or other item."""

    file: str  # the output-relative path, e.g. dashboards/voice-agent/voice-tts.json
    dashboard: str | None = None  # the dashboard's uid
    panel: str | None = None  # the panel's title
    item: str | None = None  # anything else: "rule 'x'", "variable 'session'", "group 'g'"
    line: int | None = None
    col: int | None = None
    catalog: str | None = None  # the catalog place it comes from: "catalog.yaml:12:5: stage llm"

    def __str__(self) -> str:
        out = (f"{self.catalog}: " if self.catalog else "") + self.file + (f":{self.line}" if self.line is not None else "") + (
            f":{self.col}" if self.col is not None else "")
        if self.panel is not None:
            out += f": panel {self.panel!r}"
        if self.item:
            out += f": {self.item}"
        return out

    def as_dict(self) -> dict:
        return {k: v for k, v in (("file", self.file), ("dashboard", self.dashboard), ("panel", self.panel),
                                  ("item", self.item), ("line", self.line), ("col", self.col),
                                  ("catalog", self.catalog)) if v is not None}


@dataclass(frozen=True)
class Problem:
    rule: str  # a stable id from lint/rules.py
    severity: str  # "error" (certainly wrong: build refuses) or "warning" (house style: printed)
    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def as_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "location": self.location.as_dict(),
                "message": self.message}


def problem(rule: str, where: Location, message: str) -> Problem:
    """A problem of ``rule``, at the severity the rule table gives it."""
    return Problem(rule, RULES[rule].severity, where, message)


@dataclass(frozen=True)
class LintInput:
    artifacts: dict[str, str]  # {relative path: content}: a fresh build or what is on disk
    dashboards: dict[str, dict]  # dashboards/**/*.json that parse, by path
    catalog: Catalog | None  # None: lint files without their catalog (fewer checks)
    schemas_dir: Path | None = None  # Grafana's JSON schemas (foundation-sdk form), when given
    tolerate_null_threshold: bool = False  # the 11.6 schemas type the base step as a number
    v2_objects: dict[str, dict] = field(default_factory=dict)  # dashboards that are v2 objects, as written
    drawn: dict[str, DrawnDashboard] = field(default_factory=dict)  # the dashboards as Grafana reads them

    def __post_init__(self):
        if not self.drawn:
            self.drawn.update({rel: read_dashboard(d) for rel, d in self.dashboards.items()})


@dataclass
class LintReport:
    problems: list[Problem] = field(default_factory=list)
    stats: list = field(default_factory=list)  # DashboardStats per dashboard
    extra: dict[str, int] = field(default_factory=dict)
    excluded: list[Problem] = field(default_factory=list)  # silenced by an exclusion

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def ok(self) -> bool:
        """No error (warnings never fail lint, build or plan)."""
        return not self.errors
