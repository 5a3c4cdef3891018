"""The catalog reference (docs/catalog.md) is generated from the catalog spec.

Acceptance (issue 2): "generate the catalog reference table between the
<!-- catalog-reference:start --> / <!-- catalog-reference:end --> markers from the spec docs
... a test asserting the table equals the generated one (so a new catalog key without docs
fails the test)". Issue 12 moved it from the README to docs/catalog.md.
Regenerate with: python -m dashgen.catalog.docs --write
"""

from __future__ import annotations

import pytest

from conftest import REPO
from dashgen.catalog import CATALOG_SPEC
from dashgen.catalog.docs import DOCUMENT, MissingDocs, reference_table, replace_table, table_in
from dashgen.catalog.yamlspec import Field, Map, Str, iter_fields


def test_catalog_reference_is_up_to_date():
    assert DOCUMENT == REPO / "docs" / "catalog.md"
    text = DOCUMENT.read_text(encoding="utf-8")
    assert table_in(text) == reference_table(), "docs/catalog.md is stale: run python -m dashgen.catalog.docs --write"


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
    assert table_in(new) == reference_table() and new.startswith("intro\n") and new.endswith("rest\n")
