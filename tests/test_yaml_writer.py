"""canonical_yaml writes block YAML directly for the common case (issue 22: build time): the bytes
must be libyaml's for any data, folding, quoting and indentation included; what the direct writer
does not handle goes through libyaml whole."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO
from dashgen import canonical
from dashgen.build import build_artifacts
from dashgen.canonical import canonical_yaml, to_plain
from dashgen.catalog import load_catalog

# words that make YAML quote, fold or resolve to another type, among ordinary ones
WORDS = st.sampled_from([
    "rate", "p95", "audio_stage", "sum by (le)", "a: b", "#x", "x #y", "x#y", "-", "- x", "-x", "?", "? x", ":",
    "x:", ":x", "'", "it's", '"q"', "yes", "no", "on", "null", "~", "true", "1", "1.5", "1e3", "0x1f", "2024-01-01",
    "12:30", "---", "...", "&a", "*a", "!t", "|", ">", "%", "@", "`", "[x]", "{x}", "x,y", "", " ", "  ",
    "{audio_stage=\"asr\"}[5m]", "https://runbooks.example.com/voice#asr", "é", "—", "\t", "\n", "x\ny", "\u2028",
    "word" * 30,
])
TEXT = st.lists(WORDS, max_size=40).map(" ".join) | st.text(max_size=150) | WORDS
SCALARS = (TEXT | st.integers(min_value=-10**20, max_value=10**20) | st.booleans() | st.none()
           | st.floats(allow_nan=True, allow_infinity=True))
KEYS = TEXT.filter(lambda k: k is not None)
DATA = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(KEYS, inner, max_size=6),
                    max_leaves=60)
DOCUMENTS = st.dictionaries(KEYS, DATA, min_size=1, max_size=6) | st.lists(DATA, min_size=1, max_size=5)


def libyaml(data) -> str:
    return canonical._libyaml(to_plain(data))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_direct_writer_writes_libyaml_bytes(data):
    assert canonical_yaml(data) == libyaml(data)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(WORDS, min_size=1, max_size=60).map(" ".join), min_size=1, max_size=4),
       st.integers(min_value=0, max_value=6))
def test_long_lines_fold_where_libyaml_folds(texts, depth):
    """Plain and quoted one-line strings past the width, at any indentation, as values and items."""
    doc: object = {"description": texts[0], "items": texts, "quoted": [f"'{t}'" for t in texts]}
    for level in range(depth):
        doc = {f"level{level}": doc} if level % 2 else [doc, {"x": texts[-1]}]
    assert canonical_yaml(doc) == libyaml(doc)


def test_the_built_files_take_the_direct_path():
    """The rule files and the Collector fragment are what the direct writer handles (only the small
    notification policy, a list of lists, goes through libyaml)."""
    direct = through_libyaml = 0
    presets = sorted((REPO / "dashgen" / "catalog" / "presets").glob("*.yaml"))
    for arts in (build_artifacts(load_catalog(str(p))).artifacts for p in presets):
        for rel, content in arts.items():
            if rel.endswith(".yaml"):
                data = yaml.safe_load(content)
                try:
                    assert canonical._block(data) == content, rel
                    direct += 1
                except canonical._Unusual:
                    assert canonical._libyaml(data) == content, rel
                    through_libyaml += 1
    assert direct > 4 * through_libyaml > 0
