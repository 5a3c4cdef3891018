"""The README's repository layout shows the tree as it is: one line per package (issue 14).

Every path the table lists exists, and every package and top-level module of dashgen/ is
listed; every repository path the README and docs/ name in backticks exists too, so a moved
module cannot leave a stale pointer behind.
"""

from __future__ import annotations

import re

from conftest import REPO

START, END = "<!-- layout:start -->", "<!-- layout:end -->"
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
PATH_IN_TICKS = re.compile(r"`((?:dashgen|templates|tests|scripts|docs|bench)/[A-Za-z0-9_./-]*)`")


def layout_paths() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index(START):readme.index(END)]
    paths = []
    for row in table.splitlines()[3:]:
        first_cell = row.split("|")[1]
        paths += re.findall(r"`([^`]+)`", first_cell)
    return paths


def test_every_listed_path_exists():
    paths = layout_paths()
    assert len(paths) >= 15
    for path in paths:
        assert (REPO / path).exists(), f"README layout lists {path}, which does not exist"


def test_every_package_and_module_is_listed_once():
    listed = layout_paths()
    packages = sorted(f"dashgen/{p.parent.name}/" for p in (REPO / "dashgen").glob("*/__init__.py"))
    modules = sorted(f"dashgen/{p.name}" for p in (REPO / "dashgen").glob("*.py") if p.name != "__init__.py")
    assert len(packages) >= 9
    for entry in packages + modules:
        assert listed.count(entry) == 1, f"README layout must list {entry} exactly once"
    listed_under_dashgen = [p for p in listed if p.startswith("dashgen/")]
    assert sorted(listed_under_dashgen) == sorted(packages + modules)


def test_paths_named_in_the_docs_exist():
    for doc in DOCS:
        for path in PATH_IN_TICKS.findall(doc.read_text(encoding="utf-8")):
            assert (REPO / path).exists(), f"{doc.relative_to(REPO)} names {path}, which does not exist"


def test_docs_links_resolve():
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            assert (doc.parent / target).exists(), f"{doc.relative_to(REPO)} links to {target}, which does not exist"
