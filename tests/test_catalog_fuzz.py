"""Property-based fuzz of catalog parsing.

Acceptance (issue 2): "A property-based fuzz (hypothesis) of at least 500 generated
documents, valid and broken YAML alike: never a traceback."

Every document either loads as a ``Catalog`` or raises ``CatalogError`` whose text is
``fuzz.yaml:LINE:COL: problem`` (one such line per problem when there are several); any other exception fails the test. Documents are
mutations of the bundled default catalog (keys deleted, duplicated and retyped, random
scalars, truncation, random bytes and indentation) and arbitrary text.
"""

from __future__ import annotations

import re

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DEFAULT_CATALOG
from dashgen.catalog import Catalog, parse_catalog
from dashgen.errors import CatalogError, CatalogErrors

BASE = DEFAULT_CATALOG.read_text(encoding="utf-8")
BASE_LINES = BASE.splitlines(keepends=True)
ERROR_RE = re.compile(r"fuzz\.yaml:(\d+):(\d+): \S.*")
KEY_LINE = re.compile(r"^(\s*(?:- )?)([A-Za-z_]+):(.*)$")
KEY_LINES = [i for i, line in enumerate(BASE_LINES) if KEY_LINE.match(line.rstrip("\n"))]

SCALARS = st.one_of(
    st.sampled_from(["", "~", "null", "true", "no", "0", "-1", "1e400", "1.0e400", ".nan", "-.inf", "0x1F", "0o17",
                     "1_000", "1:30", "2024-01-01", "[]", "{}", "[1, 2", "{a: 1", "'quoted'", '"esc\\x41"',
                     "!!int abc", "!!bool maybe", "!!float x", "!!binary ~~~", "!!timestamp 2024-99-99",
                     "!custom tag", "!!python/object:os.system x", "&anchor 1", "*anchor", "*missing",
                     "<<: *a", "? complex", "|\n  block", ">-\n  folded", "9" * 5000, "-" + "9" * 40,
                     "ms", "msec", "audio.first-byte", "span.audio.x", "parent_id", "a..b", "0.95", "1", "0.0"]),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=20),
)


@st.composite
def mutated(draw) -> str:
    lines = list(BASE_LINES)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "duplicate", "retype", "indent", "truncate", "bytes", "swap"]))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "retype":
            keyed = [j for j in KEY_LINES if j < len(lines) and KEY_LINE.match(lines[j].rstrip("\n"))]
            if keyed:
                j = draw(st.sampled_from(keyed))
                m = KEY_LINE.match(lines[j].rstrip("\n"))
                lines[j] = f"{m.group(1)}{m.group(2)}: {draw(SCALARS)}\n"
        elif op == "indent":
            lines[i] = draw(st.sampled_from(["", " ", "   ", "\t", "      "])) + lines[i].lstrip(" ")
        elif op == "truncate":
            text = "".join(lines)
            cut = draw(st.integers(0, len(text)))
            lines = [text[:cut]]
        elif op == "bytes":
            pos = draw(st.integers(0, len(lines[i])))
            junk = draw(st.binary(min_size=1, max_size=6)).decode("latin-1")
            lines[i] = lines[i][:pos] + junk + lines[i][pos:]
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)


DEEP = st.sampled_from([3, 60, 400, 1100]).map(lambda n: "stages: " + "[" * n)
DOCUMENTS = st.one_of(mutated(), mutated(), mutated(), st.text(max_size=300), DEEP,
                      st.just(BASE), st.just("catalog: 1\n---\ncatalog: 1\n"), st.just("\x00"))

SEEN = {"total": 0, "valid": 0, "errors": 0}


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(DOCUMENTS)
def parse_catalog_never_crashes(text):
    SEEN["total"] += 1
    try:
        catalog = parse_catalog(text, "fuzz.yaml")
    except CatalogError as exc:
        SEEN["errors"] += 1
        # One line per problem (several when there are several), each located in the text.
        errors = getattr(exc, "errors", [exc])
        assert str(exc).split("\n")[:CatalogErrors.LIMIT] == [str(e) for e in errors[:CatalogErrors.LIMIT]]
        for err in errors:
            message = str(err)
            assert ERROR_RE.fullmatch(message), message
            assert "\n" not in message, f"a catalog error must be one line: {message!r}"
            line, col = map(int, ERROR_RE.fullmatch(message).groups())
            assert 1 <= line <= max(1, text.count("\n") + 2) and col >= 1, message
    else:
        SEEN["valid"] += 1
        assert isinstance(catalog, Catalog)


def test_parse_catalog_never_crashes_on_enough_documents():
    """The fuzz, then its count, in one test (so it holds wherever pytest-xdist runs it): at least
    500 documents, valid and broken ones."""
    parse_catalog_never_crashes()
    assert SEEN["total"] >= 500, SEEN
    assert SEEN["valid"] >= 1 and SEEN["errors"] >= 400, SEEN


def test_default_catalog_is_valid_yaml_and_catalog():
    assert isinstance(parse_catalog(BASE, "fuzz.yaml"), Catalog)
    assert yaml.safe_load(BASE)["catalog"] == 1
