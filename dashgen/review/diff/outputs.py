"""Two build outputs in, one :class:`Diff` out: dashboards, rules, then every other file."""

from __future__ import annotations

import yaml

from ...artifacts import MANIFEST, parse
from .dashboards import dashboard_sections, load_dashboards
from .leaves import leaf_changes, without
from .model import Change, Diff, Section
from .rules import grafana_rule_sections, prometheus_sections


def diff_outputs(base: dict[str, str], head: dict[str, str], base_label: str = "base",
                 head_label: str = "head") -> Diff:
    """Compare two build outputs (``{relative path: content}``) the way a reviewer reads them."""
    covered: set[str] = set()  # the files a dashboard or rule section speaks for
    dash_b, dash_a = load_dashboards(base, covered), load_dashboards(head, covered)
    dash_sections = dashboard_sections(dash_b, dash_a)
    rule_sections = grafana_rule_sections(base, head, dash_a, covered)
    prom_sections = prometheus_sections(base, head, covered)
    file_sections = _file_sections(base, head, covered)
    # A covered file that changed without any worded change would be a silent difference: say so.
    worded = {s.path for s in dash_sections + rule_sections + prom_sections}
    for path in sorted(covered):
        if base.get(path) != head.get(path) and path not in worded:
            if path in base and path in head and _same_parsed(path, base[path], head[path]):
                continue  # formatting only (key order, whitespace): nothing for a reviewer
            if any(s.path == path for s in file_sections):
                continue
            # e.g. a rule group file whose rules moved to another file: the rule sections
            # name the rules; the file itself still came or went.
            if path.startswith("alerts/") and (path not in head or path not in base):
                file_sections.append(_file_presence(path, added=path not in base))
    return Diff(dash_sections + rule_sections + prom_sections + file_sections, base_label, head_label)


def _file_presence(path: str, added: bool) -> Section:
    word = "added" if added else "removed"
    return Section("file", path, path, word, path, [Change("file", f"file-{word}", "", f"file {word}")])


def _file_sections(base: dict[str, str], head: dict[str, str], covered: set[str]) -> list[Section]:
    """Files no dashboard or rule section speaks for (the manifest, unknown files): their JSON paths."""
    sections = []
    for path in sorted(set(base) | set(head)):
        if path in covered or base.get(path) == head.get(path):
            continue
        if path not in base or path not in head:
            sections.append(_file_presence(path, added=path not in base))
            continue
        try:
            db, da = parse(path, base[path]), parse(path, head[path])
        except (ValueError, yaml.YAMLError):
            sections.append(Section("file", path, path, "changed", path,
                                    [Change("file", "file-changed", "", "changed (not parsed)", base[path], head[path], "text")]))
            continue
        if path == MANIFEST and isinstance(db, dict) and isinstance(da, dict):
            db, da = without(db, "dashboards"), without(da, "dashboards")  # the dashboards sections say it
        changes = leaf_changes(db, da, "file", "file-changed", "")
        if changes:
            sections.append(Section("file", path, path, "changed", path, changes))
    return sections


def _same_parsed(path: str, a: str, b: str) -> bool:
    try:
        return parse(path, a) == parse(path, b)
    except (ValueError, yaml.YAMLError):
        return False
