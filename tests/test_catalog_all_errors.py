"""Every independent catalog mistake in one run (issue 12, point 5).

A catalog with several mistakes lists each at its ``file:line:col``, in file order, capped
and counted; a mistake is reported once, not again by every check that depends on it; a tab
in the indentation says "use spaces". Expected positions are found in the edited text.
"""

from __future__ import annotations

import re

import pytest

from conftest import DEFAULT_CATALOG, run_dashgen
from dashgen.catalog import parse_catalog
from dashgen.errors import CatalogError, CatalogErrors

BASE = DEFAULT_CATALOG.read_text(encoding="utf-8")
LINE_RE = re.compile(r"bad\.yaml:(\d+):(\d+): (.+) \((.+)\)")


def edits(*pairs: tuple[str, str]) -> str:
    text = BASE
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def pos(text: str, needle: str, offset: int = 0) -> tuple[int, int]:
    at = text.index(needle) + offset
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


def errors_of(text: str) -> list[CatalogError]:
    with pytest.raises(CatalogError) as err:
        parse_catalog(text, "bad.yaml")
    return getattr(err.value, "errors", [err.value])


def test_several_independent_mistakes_are_each_listed_with_their_location(tmp_path):
    text = edits(("  uid_prefix: voice\n", "  uid_prefix: voice\n  colour: red\n"),  # unknown key
                 ("value: 150", "value: 0"),                                          # schema: a number
                 ("        unit: percent", "        unit: msec"),                     # schema: an enum
                 ("  - id: llm\n", "  - id: asr\n"),                                  # across items
                 ("objective: 0.95, threshold: 350", "objective: 0.95, threshold: 360"))  # on the model
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    proc = run_dashgen("build", "-c", "bad.yaml", "-o", "out", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]  # nothing written
    lines = proc.stderr.splitlines()
    found = [(int(m.group(1)), int(m.group(2)), m.group(3)) for m in map(LINE_RE.fullmatch, lines) if m]
    assert len(found) == len(lines) == 5, proc.stderr
    expected = [(pos(text, "colour: red"), "unknown key 'colour'"),
                (pos(text, "value: 0", 7), "value must be positive"),
                (pos(text, "msec"), "unit 'msec' is not one of"),
                (pos(text, "- id: asr\n    span: audio.llm", 6), "duplicate id 'asr' in stages"),
                (pos(text, "threshold: 360", 11), "slo.threshold 360 is not a bucket boundary")]
    for (line, col, problem), ((eline, ecol), words) in zip(found, expected):
        assert (line, col) == (eline, ecol) and words in problem, (line, col, problem)
    # catalog validate says the same
    assert run_dashgen("catalog", "validate", "bad.yaml", cwd=tmp_path).stderr == proc.stderr


def test_a_mistake_is_reported_once_not_by_the_checks_that_depend_on_it():
    # A misspelt required key is not also "missing"; a wrong unit does not make its
    # histogram checks complain; a broken stage does not stop other stages' SLO checks.
    text = edits(("    first_byte: time from the first audio frame", "    firstbyte: time from the first audio frame"),
                 ("threshold: 200, window: 30d", "threshold: 210, window: 30d"))
    problems = [e.problem for e in errors_of(text)]
    assert len(problems) == 2, problems
    assert "unknown key 'firstbyte'" in problems[0] and "is missing" not in " ".join(problems)
    assert "slo.threshold 210 is not a bucket boundary" in problems[1]


def test_a_mistake_behind_a_yaml_alias_is_reported_once():
    """``metric: *first_byte_metric`` is used by five measurements; its bad bucket is one mistake."""
    text = edits(("buckets: [0, 25, 50, 100, 150,", "buckets: [0, 25, fifty, 100, 150,"))
    errs = errors_of(text)
    assert [(e.line, e.col) for e in errs] == [pos(text, "fifty")], [str(e) for e in errs]


def test_the_list_is_capped_and_counted(tmp_path):
    extra = "".join(f"  colour{i}: red\n" for i in range(25))
    text = edits(("  uid_prefix: voice\n", "  uid_prefix: voice\n" + extra))
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    proc = run_dashgen("build", "-c", "bad.yaml", "-o", "out", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == CatalogErrors.LIMIT + 1, proc.stderr
    assert all(LINE_RE.fullmatch(line) for line in lines[:-1])
    assert [int(LINE_RE.fullmatch(line).group(1)) for line in lines[:-1]] == \
        [pos(text, f"colour{i}:")[0] for i in range(CatalogErrors.LIMIT)]
    assert lines[-1] == "bad.yaml: ... and 5 more (25 problems in all)"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("old, new, needle", [
    ("  uid_prefix: voice", "\tuid_prefix: voice", "\tuid_prefix"),              # a tab as the indentation
    ("    span: audio.asr\n", "    span: audio.asr\n  \t\n", "\t\n"),                         # a tab among the spaces
])
def test_a_tab_says_use_spaces(tmp_path, old, new, needle):
    text = edits((old, new))
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    proc = run_dashgen("build", "-c", "bad.yaml", "-o", "out", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    m = LINE_RE.fullmatch(proc.stderr.strip())
    assert m and (int(m.group(1)), int(m.group(2))) == pos(text, needle), proc.stderr
    assert m.group(3).startswith("invalid YAML") and m.group(4) == "use spaces, not tabs, to indent YAML"


def test_other_syntax_errors_keep_the_generic_fix():
    text = edits(("title: Voice agent (audio.* convention)", "title: Voice agent: (audio.* convention)"))
    assert errors_of(text)[0].fix == "fix the YAML syntax at that spot"
