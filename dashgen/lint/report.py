"""What every lint checker reads and writes: the built files, parsed once, and the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..catalog.model import Catalog


@dataclass(frozen=True)
class LintInput:
    artifacts: dict[str, str]  # {relative path: content}: a fresh build or what is on disk
    dashboards: dict[str, dict]  # dashboards/**/*.json that parse, by path
    catalog: Catalog | None  # None: lint files without their catalog (fewer checks)
    schemas_dir: Path | None = None  # Grafana's JSON schemas (foundation-sdk form), when given
    tolerate_null_threshold: bool = False  # the 11.6 schemas type the base step as a number
    v2_objects: dict[str, dict] = field(default_factory=dict)  # dashboards that are v2 objects, as written


@dataclass
class LintReport:
    problems: list[str] = field(default_factory=list)
    stats: list = field(default_factory=list)  # DashboardStats per dashboard
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems
