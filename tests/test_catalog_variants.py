"""Catalog variants a team would write (issue 22): documented options toggled, optional keys
dropped, stages dropped or cloned. Each builds, or fails with a catalog error at its line; the
build's lint gate refuses none of them (a generator must never write what its own gate rejects).
Before, 13 of 24 such variants of the bundled catalog were refused by the gate."""

from __future__ import annotations

import copy
import json
import re

import pytest
import yaml

from conftest import clone_stages
from dashgen.build import build_artifacts
from dashgen.catalog import PRESETS, preset_path
from dashgen.voice.checks import parse_catalog  # what the CLI loads: the meaning checks too
from dashgen.errors import CatalogError, InputError
from dashgen.lint.gate import refuse_lint_problems

DOCS = {p: yaml.safe_load(preset_path(p).read_text(encoding="utf-8")) for p in PRESETS}
LOCATED = re.compile(r"variant\.yaml:(\d+):(\d+): \S.*")


def _measurements(doc):
    return [m for s in doc["stages"] for m in s["measurements"]]


def _clone(doc, n):
    doc["stages"] = clone_stages(doc["stages"], n * len(doc["stages"]))


def _set(path, value):
    def edit(doc):
        holder = doc
        for part in path[:-1]:
            holder = holder.setdefault(part, {})
        holder[path[-1]] = value
    return edit


def _drop(path):
    def edit(doc):
        holder = doc
        for part in path[:-1]:
            holder = holder.get(part) or {}
        holder.pop(path[-1], None)
    return edit


def _each_measurement(**values):
    return lambda doc: [m.update(values) for m in _measurements(doc)]


VARIANTS = {
    "tempo rules": _set(("alerting", "tempo_rules"), True),
    "tempo rules, stages x3": lambda d: (_set(("alerting", "tempo_rules"), True)(d), _clone(d, 3)),
    "stages x8": lambda d: _clone(d, 8),
    "no stage attribute": _drop(("convention", "stage_attribute")),
    "no service attribute": _drop(("convention", "service_attribute")),
    "no error attribute": _drop(("convention", "error_attribute")),
    "no SLOs": lambda d: [s.pop("slo", None) for s in d["stages"]],
    "all tickets": lambda d: [t.update(severity="ticket") for m in _measurements(d) for t in m.get("thresholds", [])],
    "all floats": _each_measurement(integer=False),
    "all integers": _each_measurement(integer=True),
    "average panels": _each_measurement(panels=["quantiles", "average"]),
    "one quantile": _each_measurement(quantiles=[0.95]),
    "bridge source": _set(("alerting", "source"), "bridge"),
    "recording rules required": _set(("alerting", "grafana_recording_rules"), True),
    "recording rules off": _set(("alerting", "grafana_recording_rules"), False),
    "partial rate alerts": lambda d: d.setdefault("alerting", {}).update(error_rate={"for": "10m"},
                                                                         nothing_rate={"above": 0.1}),
    "no alerting block": _drop(("alerting",)),
    "no tempo block": _drop(("tempo",)),
    "tempo 2.6": _set(("tempo", "version"), "2.6"),
    "matchers": _set(("prometheus", "matchers"), [{"label": "env", "value": "prod"}]),
    "first stage only": lambda d: d.update(stages=d["stages"][:1]),
    "last stage only": lambda d: d.update(stages=d["stages"][-1:]),
    # one stage and no good-turn SLO, which reads the caller-felt latency of stages dropped here
    "first stage only, no good turn": lambda d: (d.update(stages=d["stages"][:1]), d.pop("good_turn", None)),
    "last stage only, no good turn": lambda d: (d.update(stages=d["stages"][-1:]), d.pop("good_turn", None)),
    "datasource variables renamed": lambda d: (
        d["grafana"]["datasources"]["tempo"].update(variable="traces", uid="tempo-prod", name="Tempo prod"),
        d["grafana"]["datasources"]["prometheus"].update(variable="metrics", uid="mimir", name="Mimir")),
    "session id on a session span only": lambda d: d["convention"].update(session_on_stage_spans=False,
                                                                          session_span=d["convention"].get(
                                                                              "session_span", "voice.session")),
    "interrupted on the turn span only": _set(("convention", "interrupted_on_stage_spans"), False),
    "own stage label and counters": lambda d: d.setdefault("alerting", {}).update(
        stage_label="stage", counters={"runs": "x_runs_total", "errors": "x_errors_total", "nothing": "x_nothing_total"}),
    "stages reversed": lambda d: d["stages"].reverse(),
    "every panel kind": lambda d: [m.update(panels=["quantiles", "average", "heatmap"] + (["bad_rate"] if "bad_above" in m
                                                                                          else []))
                                   for m in _measurements(d)],
    "titles in other scripts": lambda d: [s.update(title=f"Étape {s['title']}") for s in d["stages"]],
    "first byte float on one stage": lambda d: next(m for s in d["stages"][1:] for m in s["measurements"]
                                                    if m["id"] == "first_byte").update(integer=False)
    if any(m["id"] == "first_byte" for s in d["stages"][1:] for m in s["measurements"]) else None,
}


def _outcome(text: str) -> str:
    """'built', or the located catalog error; anything else fails the test."""
    try:
        catalog = parse_catalog(text, "variant.yaml")
    except CatalogError as exc:
        for line in str(exc).splitlines()[:-1] if str(exc).endswith("(dashgen lint lists them all)") \
                else str(exc).splitlines():
            assert LOCATED.fullmatch(line), line
        return "catalog error"
    built = build_artifacts(catalog)
    try:
        refuse_lint_problems(built.artifacts, built.dashboards, catalog)
    except InputError as exc:  # pragma: no cover - the failure this test exists for
        pytest.fail(f"the gate refused a valid catalog: {exc}")
    return "built"


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_variant_builds_or_fails_at_its_line(preset, name):
    doc = copy.deepcopy(DOCS[preset])
    VARIANTS[name](doc)
    outcome = _outcome(yaml.safe_dump(doc, sort_keys=False))
    # the variants that must build, whatever the preset: nothing in them is wrong
    if name in ("tempo rules", "tempo rules, stages x3", "stages x8", "no SLOs", "all tickets", "matchers",
                "partial rate alerts", "first stage only, no good turn", "last stage only, no good turn",
                "first byte float on one stage", "datasource variables renamed", "session id on a session span only",
                "interrupted on the turn span only", "own stage label and counters", "stages reversed",
                "every panel kind", "titles in other scripts"):
        assert outcome == "built", (preset, name)


def test_tempo_26_with_an_average_is_refused_at_the_measurement():
    doc = copy.deepcopy(DOCS["default"])
    doc["tempo"]["version"] = "2.6"
    text = yaml.safe_dump(doc, sort_keys=False)
    with pytest.raises(CatalogError) as exc:
        parse_catalog(text, "variant.yaml")
    line = int(LOCATED.fullmatch(str(exc.value)).group(1))
    lines = text.splitlines()  # client.buffer_depth's panels: [quantiles, average], written as a block list
    assert "panels:" in lines[line - 1] or "panels:" in lines[line - 2] and lines[line - 1].strip().startswith("- ")
    assert 'set tempo.version: "2.7"' in str(exc.value) and "drop average" in str(exc.value)


def test_a_gate_problem_on_the_overview_names_the_catalog_entry_of_its_panel():
    """Should the generator ever write a panel lint rejects, the refusal names the catalog line
    of what the panel shows, not only the dashboard file (here: a TraceQL metrics query that
    selects, which Tempo refuses)."""
    text = preset_path("default").read_text(encoding="utf-8")
    catalog = parse_catalog(text, "variant.yaml")
    built = build_artifacts(catalog)
    path = next(p for p in built.artifacts if p.endswith("-overview.json"))
    overview = json.loads(built.artifacts[path])
    panel = next(p for p in overview["panels"] if p["title"] == "First byte p95 by stage")
    panel["targets"][0]["query"] += " | select(span.audio.turn_id)"
    broken = dict(built.artifacts, **{path: json.dumps(overview)})
    with pytest.raises(InputError) as exc:
        refuse_lint_problems(broken, built.dashboards, catalog)
    line = str(exc.value).splitlines()[1]
    loc = catalog.loc("stages", 0, "measurements", 0)
    assert line.startswith(f"variant.yaml:{loc.line}:{loc.col}: asr.first_byte: {path}: panel "
                           f"'First byte p95 by stage'"), line
    assert "[traceql]" in line or "select" in line, line
