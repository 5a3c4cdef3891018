"""The catalog reference in docs/catalog.md, generated from the catalog spec's docs.

    python -m dashgen.catalog.docs            # print the table
    python -m dashgen.catalog.docs --write    # replace it in docs/catalog.md between the markers

A test compares the document's table with ``reference_table()``, so a catalog key without
docs (or a document not regenerated) fails the suite. The spec is the one home of what each
key means; the table is a view of it, kept in a document of its own so the README stays short.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .spec import CATALOG_SPEC
from .yamlspec import BLOCK_DEFAULTS, Field, ListOf, Map, iter_fields

START = "<!-- catalog-reference:start -->"
END = "<!-- catalog-reference:end -->"
# In the checkout only (docs/ is not part of the wheel): --write is a maintainer's command.
DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "catalog.md"


class MissingDocs(ValueError):
    pass


def _default(f: Field) -> str:
    if f.required:
        return ""
    d = f.default
    if d is BLOCK_DEFAULTS:
        return "each key's default"
    if d is None or d == "" or d == [] or isinstance(f.spec, (Map, ListOf)) and not d:
        return ""
    if isinstance(d, bool):
        return f"`{str(d).lower()}`"
    return f"`{d}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;")


def reference_table(spec=CATALOG_SPEC) -> str:
    """``| key | required | default | meaning |`` rows for every catalog key, in spec order."""
    rows = ["| key | required | default | meaning |", "|---|---|---|---|"]
    missing = []
    for key, f in iter_fields(spec):
        meaning = f.doc or f.spec.doc
        if not meaning.strip():
            missing.append(key)
            continue
        rows.append(f"| `{key}` | {'yes' if f.required else 'no'} | {_cell(_default(f))} | {_cell(meaning)} |")
    if missing:
        raise MissingDocs(f"catalog keys without docs: {', '.join(missing)} (give their Field a doc=)")
    return "\n".join(rows) + "\n"


def table_in(document: str) -> str:
    """The text between the document's markers."""
    start, end = document.index(START) + len(START), document.index(END)
    return document[start:end].lstrip("\n")


def replace_table(document: str, table: str) -> str:
    start, end = document.index(START) + len(START), document.index(END)
    return document[:start] + "\n" + table + document[end:]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    table = reference_table()
    if argv == ["--write"]:
        path = DOCUMENT
        path.write_text(replace_table(path.read_text(encoding="utf-8"), table), encoding="utf-8")
        print(f"wrote the catalog reference into {path}")
    else:
        sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
