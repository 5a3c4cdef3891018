"""Generated dashboards against Grafana's own JSON schemas for 11.6, 12 and 13.

The schemas are generated from Grafana's npm packages of each release (``@grafana/schema``),
by the code behind ``dashgen lint --grafana`` (the ``grafana_schemas`` fixture).
Acceptance (issue 2): "a test validates every generated dashboard (every bundled preset)
against Grafana's schemas with no exception"; issue 20: for 11.6, 12 and 13, from a package registry.
"""

from __future__ import annotations

import copy
import json

import pytest

from conftest import REPO
from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog
from dashgen.lint.schemas import SchemaSet, validate_dashboard

PRESET_FILES = sorted((REPO / "dashgen" / "catalog" / "presets").glob("*.yaml"))


@pytest.fixture(scope="module")
def dashboards() -> list[tuple[str, dict]]:
    out = []
    for path in PRESET_FILES:
        for version in (41, 42):
            arts = build_artifacts(load_catalog(str(path)), version).artifacts
            out += [(f"{path.stem}/v{version}/{rel}", json.loads(c)) for rel, c in arts.items()
                    if rel.startswith("dashboards/") and rel.endswith(".json")]
    assert out
    return out


VERSIONS = ("grafana-11.6", "grafana-12", "grafana-13")


@pytest.fixture(scope="module")
def schema_sets(grafana_schemas) -> dict[str, SchemaSet]:
    return {v: SchemaSet(grafana_schemas / v) for v in VERSIONS}


@pytest.mark.parametrize("version", VERSIONS)
def test_every_dashboard_is_valid_for_grafana(dashboards, schema_sets, version):
    problems = [f"{name}: {p}" for name, d in dashboards for p in validate_dashboard(d, schema_sets[version])]
    assert problems == []


def test_the_schemas_come_from_grafanas_packages_of_that_release(grafana_schemas):
    """Each folder names the npm packages it was generated from, of the Grafana release it is for,
    and the schemaVersion that release writes (read from its defaultDashboard)."""
    for version, written in (("11.6", 41), ("12", 42), ("13", 42)):
        info = json.loads((grafana_schemas / f"grafana-{version}" / "SOURCES.json").read_text())
        schema_pkg = [p for p in info["packages"].values() if p.startswith("@grafana/schema@")]
        assert schema_pkg and schema_pkg[0].split("@")[-1].startswith(f"{version}."), info
        assert info["schemaVersion"] == written, info


def test_the_base_threshold_step_may_be_null_but_not_a_string(dashboards, schema_sets):
    """Grafana writes the base step (-Infinity) as null; its dashboard kind types the value
    ``number | null`` in every release, so null passes, and anything else that is not a number fails."""
    name, d = next((n, d) for n, d in dashboards if any(_steps(p) for p in d["panels"]))
    panel = next(p for p in d["panels"] if _steps(p))
    assert _steps(panel)[0]["value"] is None, name
    for version, schemas in schema_sets.items():
        bad = copy.deepcopy(d)
        _steps(next(p for p in bad["panels"] if p["id"] == panel["id"]))[0]["value"] = "-Infinity"
        problems = validate_dashboard(bad, schemas)
        assert any(p.path == "/fieldConfig/defaults/thresholds/steps/0/value" for p in problems), (version, problems)


def test_the_11_6_null_tolerance_hides_exactly_that_deviation(tmp_path, dashboards):
    """For a schema folder typing the base step as a number only (the foundation-sdk 11.6 files a user
    may pass with --schemas): without the tolerance each null base step is reported; with it, none."""
    folder = tmp_path / "strict"
    folder.mkdir()
    def obj(**props) -> dict:
        return {"type": "object", "properties": props}

    step = obj(value={"type": "number"})  # number only, as the foundation-sdk 11.6 file has it
    panel = obj(fieldConfig=obj(defaults=obj(thresholds=obj(steps={"type": "array", "items": step}))))
    (folder / "dashboard.jsonschema.json").write_text(json.dumps({"definitions": {
        "Dashboard": obj(panels={"type": "array"}), "RowPanel": {"type": "object"}, "Panel": panel}}))
    strict = SchemaSet(folder)
    name, d = next((n, d) for n, d in dashboards if any(_steps(p) for p in d["panels"]))
    expected = sorted(f"{d['uid']} panel {p['id']} ({p.get('title', '')})" for p in d["panels"] if _steps(p))
    flagged = [p for p in validate_dashboard(d, strict) if p.path == "/fieldConfig/defaults/thresholds/steps/0/value"]
    assert sorted(p.where for p in flagged) == expected, name
    assert not [p for p in validate_dashboard(d, strict, tolerate_null_threshold=True) if "steps" in p.path]


def _steps(panel: dict) -> list:
    return panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps") or []


def _first(d: dict, ptype: str) -> dict:
    for p in d["panels"]:
        if p.get("type") == ptype:
            return p
    raise AssertionError(f"no {ptype} panel")


@pytest.mark.parametrize("version", VERSIONS)
def test_validator_catches_broken_panels(dashboards, grafana_schemas, version):
    schemas = SchemaSet(grafana_schemas / version)
    _, good = dashboards[0]
    assert validate_dashboard(good, schemas) == []

    def broken(mutate) -> list[str]:
        d = copy.deepcopy(good)
        mutate(d)
        return [str(p) for p in validate_dashboard(d, schemas)]

    ts = lambda d: _first(d, "timeseries")  # noqa: E731
    # unknown key in a panel's options (validated against timeseries.jsonschema.json Options)
    problems = broken(lambda d: ts(d)["options"].update(bogusOption=True))
    assert any("options" in p and "bogusOption" in p for p in problems), problems
    # wrong type in fieldConfig.defaults.custom (timeseries FieldConfig)
    problems = broken(lambda d: ts(d)["fieldConfig"]["defaults"]["custom"].update(lineWidth="thick"))
    assert any("fieldConfig.defaults.custom" in p and "lineWidth" in p for p in problems), problems
    # a legacy key on the panel itself (Panel is strict)
    problems = broken(lambda d: ts(d).update(span=6))
    assert any("'span'" in p for p in problems), problems
    # a Tempo target with a wrong type (tempo query schema)
    problems = broken(lambda d: ts(d)["targets"][0].update(limit="twenty"))
    assert any("target" in p and "limit" in p for p in problems), problems
    # an unknown unit
    problems = broken(lambda d: ts(d)["fieldConfig"]["defaults"].update(unit="msec"))
    assert any("'msec' is not a Grafana unit" in p for p in problems), problems
    # a dashboard-level type error
    problems = broken(lambda d: d.update(schemaVersion="41"))
    assert any("schemaVersion" in p for p in problems), problems


def test_missing_schema_folder_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no dashboard.jsonschema.json"):
        SchemaSet(tmp_path)


@pytest.mark.parametrize("version", ["grafana-12", "grafana-13"])
def test_the_v2_dashboard_spec_is_there_and_strict(grafana_schemas, version):
    """The v2 dashboard (App Platform ``spec``: elements + layout) of 12 and 13, for the v2 output to
    come: an empty dashboard passes, a missing layout or an unknown key fails."""
    schemas = SchemaSet(grafana_schemas / version)
    v = schemas.validator("dashboardv2", "Dashboard")
    assert v is not None
    spec = {"title": "t", "tags": [], "links": [], "annotations": [], "variables": [], "elements": {},
            "cursorSync": "Off", "preload": False, "timeSettings": {"from": "now-3h", "to": "now", "autoRefresh": "", "autoRefreshIntervals": [],
                             "hideTimepicker": False, "fiscalYearStartMonth": 0},
            "layout": {"kind": "GridLayout", "spec": {"items": []}}}
    assert [e.message for e in v.iter_errors(spec)] == []
    assert any("'layout' is a required property" in e.message
               for e in v.iter_errors({k: x for k, x in spec.items() if k != "layout"}))
    assert any("rows" in e.message for e in v.iter_errors({**spec, "rows": []}))
