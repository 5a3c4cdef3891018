"""What each pinned framework version emits, as data: ``presets/frameworks/<name>-<version>.yaml``.

A catalog pins the framework version it describes (``framework: {name, version}``); the file for
that version lists the span names the framework starts and, per span, the attributes it sets
there, each with the source file (repository, tag, path) it comes from. ``unemitted`` is the
contract: every span and attribute a catalog reads that its pinned version does not emit.
Frameworks rename names between releases without an error anywhere (LiveKit Agents 1.7 moved
its content-bearing attributes to ``lk.pii.*``): a dashboard reading the old name stays empty.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import yaml

from ..records import dataclass  # dataclasses' decorator without generated code (start-up)
from .conventions import UNITS, otlp_metric_name

FRAMEWORKS_DIR = Path(__file__).resolve().parent / "presets" / "frameworks"


@dataclass(frozen=True)
class SpanFacts:
    started: str  # the source file that starts the span
    attributes: Mapping[str, str]  # attribute -> the source file that sets it on this span
    error_status: str | None = None  # the source file that sets its status to ERROR, if any does


@dataclass(frozen=True)
class Framework:
    name: str  # the package, e.g. livekit-agents
    version: str  # "major.minor"
    releases: str  # the releases it covers, as a version specifier
    repo: str
    tag: str
    commit: str
    constants: str  # where the names are defined
    spans: Mapping[str, SpanFacts]
    renamed: Mapping[str, str]  # this version's name -> the previous version's name
    # the framework's own OpenTelemetry histograms, by Prometheus name -> (OTel name, labels, source file)
    metrics: Mapping[str, tuple[str, frozenset[str], str]]

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"

    def attributes(self) -> frozenset[str]:
        return frozenset(a for s in self.spans.values() for a in s.attributes)

    def source(self, path: str) -> str:
        """A source file as ``repo@tag:path``."""
        return f"{self.repo}@{self.tag}:{path}"


def known() -> tuple[str, ...]:
    """Every pinned framework version there is data for, as ``name-version``."""
    return tuple(sorted(p.stem for p in FRAMEWORKS_DIR.glob("*.yaml")))


@cache
def framework(name: str, version: str) -> Framework | None:
    path = FRAMEWORKS_DIR / f"{name}-{version}.yaml"
    if not path.is_file():
        return None
    # libyaml's parser when pyyaml has it (the same data as yaml.safe_load): the pure-Python one
    # took ~10 ms of a build of a preset that pins a framework version
    d = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    spans = {s: SpanFacts(f["started"], MappingProxyType(dict(f.get("attributes") or {})), f.get("error_status"))
             for s, f in d["spans"].items()}
    metrics = {otlp_metric_name(n, UNITS[m["unit"]].ucum, "histogram"): (n, frozenset(m["labels"]), m["source"])
               for n, m in (d.get("metrics") or {}).items()}
    return Framework(d["framework"], d["version"], d["releases"], d["repo"], d["tag"], d["commit"], d["constants"],
                     MappingProxyType(spans), MappingProxyType(dict(d.get("renamed") or {})), MappingProxyType(metrics))


def unemitted(catalog) -> list[str]:
    """Every span, attribute and framework metric ``catalog`` reads that its pinned framework version
    does not emit, as one line each (empty without a pin). A stage's measurements and flags must be set on the stage's
    own span; the convention's ids on any span (they may be inherited from an ancestor)."""
    pin = catalog.framework
    if pin is None:
        return []
    fw = framework(pin.name, pin.version)
    where = f"{fw.key} ({fw.repo}@{fw.tag})"
    out = []

    def span(name: str, reader: str) -> bool:
        if name not in fw.spans:
            out.append(f"{reader} reads span {name!r}, which {where} does not start")
            return False
        return True

    def attribute(name: str, reader: str, on: str | None = None) -> None:
        emitted = fw.spans[on].attributes if on else fw.attributes()
        if name not in emitted:
            was = {old: new for new, old in fw.renamed.items()}.get(name)
            hint = f" (renamed {name!r} -> {was!r} in {fw.version})" if was else ""
            out.append(f"{reader} reads attribute {name!r}, which {where} does not set"
                       f"{f' on {on!r} spans' if on else ''}{hint}")

    span(catalog.turn_span, "convention.turn_span")
    if catalog.session_span:
        span(catalog.session_span, "convention.session_span")
    for st in catalog.stages:
        for m in st.measurements:
            if m.metric.source == "framework" and m.metric.name not in fw.metrics:
                out.append(f"{st.id}.{m.id} reads metric {m.metric.name!r}, which {where} does not record")
            elif m.metric.source == "framework" and set(m.metric.labels) - fw.metrics[m.metric.name][1]:
                out.append(f"{st.id}.{m.id} reads labels {sorted(set(m.metric.labels) - fw.metrics[m.metric.name][1])}"
                           f" of {m.metric.name!r}, which {where} does not set")
        if span(st.span, f"stage {st.id}"):
            for m in st.measurements:
                attribute(m.attribute, f"{st.id}.{m.id}", st.span)
            for f in st.flags:
                attribute(f.attribute, f"{st.id}.{f.id}", st.span)
    for key in ("session_attribute", "turn_attribute", "stage_attribute", "error_attribute"):
        if getattr(catalog, key):
            attribute(getattr(catalog, key), f"convention.{key}")
    for name in catalog.extra_attributes:
        attribute(name, "convention.attributes")
    return out


def recorded_rename(framework_name: str, a: str, b: str) -> str | None:
    """``"<framework> <version> renamed 'old' to 'new'"`` when a version of ``framework_name`` records
    renaming one of ``a``, ``b`` to the other, else None."""
    for key in known():
        name, _, version = key.rpartition("-")
        fw = framework(name, version) if name == framework_name else None
        for new, old in (fw.renamed.items() if fw else ()):
            if {new, old} == {a, b}:
                return f"{fw.name} {fw.version} renamed {old!r} to {new!r}"
    return None
