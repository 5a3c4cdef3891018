"""Generated dashboards against Grafana's own JSON schemas (read from ../shared/grafana-schemas).

Acceptance (issue 2): "Schemas: a test validates every generated dashboard (every bundled
preset) against grafana-12/ with no exception, and against grafana-11.6/ with only the
tolerated base-threshold null deviation."
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


@pytest.fixture(scope="module")
def schemas12(grafana_schemas) -> SchemaSet:
    return SchemaSet(grafana_schemas / "grafana-12")


@pytest.fixture(scope="module")
def schemas116(grafana_schemas) -> SchemaSet:
    return SchemaSet(grafana_schemas / "grafana-11.6")


def test_every_dashboard_is_valid_for_grafana_12(dashboards, schemas12):
    problems = [f"{name}: {p}" for name, d in dashboards for p in validate_dashboard(d, schemas12)]
    assert problems == []


def test_every_dashboard_is_valid_for_grafana_11_6_with_the_tolerated_null(dashboards, schemas116):
    problems = [f"{name}: {p}" for name, d in dashboards
                for p in validate_dashboard(d, schemas116, tolerate_null_threshold=True)]
    assert problems == []


def test_without_tolerance_11_6_flags_exactly_the_null_base_steps(dashboards, schemas116):
    """The tolerance hides one deviation and nothing else: without it, 11.6 reports exactly the
    base threshold steps' null values, one per panel that has thresholds."""
    for name, d in dashboards:
        expected = sorted(f"{d['uid']} panel {p['id']} ({p.get('title', '')})" for p in d["panels"]
                          if p.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps"))
        problems = validate_dashboard(d, schemas116)
        # each null step is reported against the panel (Panel schema) ...
        panel_level = [p for p in problems if p.where != d["uid"]]
        assert sorted(p.where for p in panel_level) == expected, (name, [str(p) for p in problems])
        for p in panel_level:
            assert p.path == "/fieldConfig/defaults/thresholds/steps/0/value", str(p)
            assert "None is not of type" in p.message, str(p)
        # ... and once more by the dashboard schema, as "panel i matches neither Panel nor RowPanel"
        with_steps = {f"/panels/{i}" for i, p in enumerate(d["panels"])
                      if p.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps")}
        assert {p.path for p in problems if p.where == d["uid"]} == with_steps, name
    assert any(validate_dashboard(d, schemas116) for _, d in dashboards)


def _first(d: dict, ptype: str) -> dict:
    for p in d["panels"]:
        if p.get("type") == ptype:
            return p
    raise AssertionError(f"no {ptype} panel")


@pytest.mark.parametrize("version", ["grafana-12", "grafana-11.6"])
def test_validator_catches_broken_panels(dashboards, grafana_schemas, version):
    schemas = SchemaSet(grafana_schemas / version)
    _, good = dashboards[0]
    assert validate_dashboard(good, schemas, tolerate_null_threshold=True) == []

    def broken(mutate) -> list[str]:
        d = copy.deepcopy(good)
        mutate(d)
        return [str(p) for p in validate_dashboard(d, schemas, tolerate_null_threshold=True)]

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
