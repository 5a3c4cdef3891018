"""`dashgen lint --schemas` also validates the Grafana-managed alert rule groups."""

from __future__ import annotations

import json

import pytest

from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog
from dashgen.lint import lint_artifacts


@pytest.mark.parametrize("version", ["grafana-13", "grafana-12", "grafana-11.6"])
def test_built_rule_groups_pass_and_a_broken_one_is_named(grafana_schemas, version):
    catalog = load_catalog()
    artifacts = dict(build_artifacts(catalog).artifacts)
    groups = [rel for rel in artifacts if rel.startswith("alerts/grafana/")]
    assert groups
    assert lint_artifacts(artifacts, catalog, grafana_schemas / version).ok
    rel = groups[0]
    group = json.loads(artifacts[rel])
    del group["rules"][0]["title"]
    artifacts[rel] = json.dumps(group)
    problems = [str(p) for p in lint_artifacts(artifacts, catalog, grafana_schemas / version).problems]
    assert any(p.startswith(f"{rel}: schema:") and "'title' is a required property" in p for p in problems), problems
