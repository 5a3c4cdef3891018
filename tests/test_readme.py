"""The README's catalog reference is generated from the catalog spec.

Acceptance (issue 2): "README: generate the catalog reference table between the
<!-- catalog-reference:start --> / <!-- catalog-reference:end --> markers from the spec docs
... a test asserting the README's table equals the generated one (so a new catalog key
without docs fails the test)". Regenerate with: python -m dashgen.catalog.docs --write
"""

from __future__ import annotations

import pytest

from conftest import REPO
from dashgen.catalog import CATALOG_SPEC
from dashgen.catalog.docs import MissingDocs, readme_table, reference_table, replace_table
from dashgen.catalog.yamlspec import Field, Map, Str, iter_fields


def test_readme_catalog_reference_is_up_to_date():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert readme_table(readme) == reference_table(), "README is stale: run python -m dashgen.catalog.docs --write"


def test_every_catalog_key_has_a_row():
    table = reference_table()
    keys = [k for k, _ in iter_fields(CATALOG_SPEC)]
    assert len(keys) >= 40
    for key in keys:
        assert f"| `{key}` |" in table, key
    assert len(table.splitlines()) == len(keys) + 2


def test_a_key_without_docs_fails():
    spec = Map(fields={**CATALOG_SPEC.fields, "undocumented": Field(Str())})
    with pytest.raises(MissingDocs, match="undocumented"):
        reference_table(spec)


def test_replace_table_round_trip():
    readme = "intro\n<!-- catalog-reference:start -->\nold\n<!-- catalog-reference:end -->\nrest\n"
    new = replace_table(readme, reference_table())
    assert readme_table(new) == reference_table() and new.startswith("intro\n") and new.endswith("rest\n")
