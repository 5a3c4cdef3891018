"""The README's catalog reference, generated from the catalog spec's docs.

    python -m dashgen.catalog.docs            # print the table
    python -m dashgen.catalog.docs --write    # replace it in README.md between the markers

A test compares the README's table with ``reference_table()``, so a catalog key without
docs (or a README not regenerated) fails the suite.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .spec import CATALOG_SPEC
from .yamlspec import Field, ListOf, Map, iter_fields

START = "<!-- catalog-reference:start -->"
END = "<!-- catalog-reference:end -->"


class MissingDocs(ValueError):
    pass


def _default(f: Field) -> str:
    if f.required:
        return ""
    d = f.default
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


def readme_table(readme: str) -> str:
    """The text between the README's markers."""
    start, end = readme.index(START) + len(START), readme.index(END)
    return readme[start:end].lstrip("\n")


def replace_table(readme: str, table: str) -> str:
    start, end = readme.index(START) + len(START), readme.index(END)
    return readme[:start] + "\n" + table + readme[end:]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    table = reference_table()
    if argv == ["--write"]:
        path = Path(__file__).resolve().parents[2] / "README.md"
        path.write_text(replace_table(path.read_text(encoding="utf-8"), table), encoding="utf-8")
        print(f"wrote the catalog reference into {path}")
    else:
        sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
