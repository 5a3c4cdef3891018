"""Catalog validation through the command line.

Acceptance (issue 2): "Catalog validation: unknown keys, wrong types, duplicate stage ids,
attribute names that are not valid TraceQL attribute names, unknown units, non-positive
thresholds all give `path/to/catalog.yaml:LINE:COL: what is wrong (how to fix it)` on
stderr, exit code 2, no traceback, and nothing written."

Each bad catalog is the bundled default with one edit; the expected line and column are
found in the edited text (the offending token), never hard-coded.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from conftest import DEFAULT_CATALOG, run_dashgen
from dashgen.catalog import TRACEQL_RESERVED_PREFIXES, Catalog, load_catalog, parse_catalog
from dashgen.errors import CatalogError
from traceql_grammar import parse_traceql

BASE = DEFAULT_CATALOG.read_text(encoding="utf-8")


def edit(old: str, new: str, count: int = 1) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, count)


def pos(text: str, needle: str, nth: int = 0, offset: int = 0) -> tuple[int, int]:
    """1-based (line, column) of ``needle``'s nth occurrence in ``text``, plus ``offset`` chars."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    at += offset
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


# (id, edited text, (needle, nth, offset) of the offending token, words the problem must contain)
CASES = [
    ("unknown-key", edit("  uid_prefix: voice\n", "  uid_prefix: voice\n  colour: red\n"),
     ("colour: red", 0, 0), ["unknown key 'colour'", "known keys"]),
    ("unknown-key-typo", edit("    first_byte: time from the first audio frame",
                              "    firstbyte: time from the first audio frame"),
     ("firstbyte:", 0, 0), ["unknown key 'firstbyte'", "did you mean 'first_byte'"]),
    ("wrong-type-list", edit("  tags: [voice-agent]", "  tags: voice-agent"),
     ("tags: voice-agent", 0, 6), ["grafana.tags must be a list", "got a string"]),
    ("wrong-type-bool", edit("        title: Jitter\n", "        title: Jitter\n        integer: sometimes\n"),
     ("sometimes", 0, 0), ["integer must be true or false"]),
    ("wrong-type-number", edit("value: 150", 'value: "150"'),
     ('"150"', 0, 0), ["value must be a number", "got a string"]),
    ("wrong-type-mapping", edit("  folder:\n    uid: voice-agent\n    title: Voice agent\n", "  folder: voice-agent\n"),
     ("folder: voice-agent", 0, 8), ["grafana.folder must be a mapping"]),
    ("duplicate-stage-id", edit("  - id: llm\n", "  - id: asr\n"),
     ("- id: asr", 1, 6), ["duplicate id 'asr' in stages", "first defined on line"]),
    ("duplicate-measurement-id", edit("      - id: total\n        attribute: audio.total_ms\n        title: LLM total",
                                      "      - id: first_byte\n        attribute: audio.total_ms\n        title: LLM total"),
     ("- id: first_byte", 2, 6), ["duplicate id 'first_byte' in stages[1].measurements"]),
    ("attribute-hyphen", edit("attribute: audio.jitter_ms", "attribute: audio.jitter-ms"),
     ("audio.jitter-ms", 0, 0), ["'audio.jitter-ms' is not valid", "dot-separated words"]),
    ("attribute-scoped", edit("attribute: audio.buffer_ms", "attribute: span.audio.buffer_ms"),
     ("span.audio.buffer_ms", 0, 0), ["'span.audio.buffer_ms' is not valid", "TraceQL reads those as keywords"]),
    ("attribute-keyword-prefix", edit("  session_attribute: audio.session_id", "  session_attribute: parent_session"),
     ("parent_session", 0, 0), ["convention.session_attribute 'parent_session' is not valid"]),
    ("attribute-empty-segment", edit("attribute: audio.cancel_ms", "attribute: audio..cancel_ms"),
     ("audio..cancel_ms", 0, 0), ["is not valid"]),
    ("unknown-unit", edit("        unit: percent", "        unit: msec"),
     ("msec", 0, 0), ["unit 'msec' is not one of", "did you mean 'ms'"]),
    ("threshold-zero", edit("value: 150", "value: 0"),
     ("value: 0", 0, 7), ["value must be positive, got 0"]),
    ("threshold-negative", edit("value: 350", "value: -350"),
     ("value: -350", 0, 7), ["value must be positive, got -350"]),
    ("bad-above-zero", edit("bad_above: 30", "bad_above: 0"),
     ("bad_above: 0", 0, 11), ["bad_above must be positive"]),
    ("duplicate-yaml-key", edit("  turn_span: voice.turn\n", "  turn_span: voice.turn\n  turn_span: voice.turn2\n"),
     ("turn_span: voice.turn2", 0, 0), ["duplicate key 'turn_span' in convention (first on line"]),
    ("missing-required", edit("        meaning: inter-arrival jitter of audio frames the client measured\n", ""),
     ("id: jitter", 0, 0), ["missing the required key 'meaning'"]),
    ("empty-stages", BASE[:BASE.index("\nstages:\n")] + "\nstages: []\n",  # stages is the last key
     ("[]", 0, 0), ["stages needs at least 1 item"]),
    ("yaml-syntax", edit("title: Voice agent (audio.* convention)", "title: Voice agent: (audio.* convention)"),
     (": (audio", 0, 0), ["invalid YAML: mapping values are not allowed here"]),
    ("yaml-tab", edit("  uid_prefix: voice", "\tuid_prefix: voice"),
     ("\tuid_prefix", 0, 0), ["invalid YAML"]),
    ("control-character", edit("title: Jitter\n", "title: Jit\x07ter\n"),
     ("\x07", 0, 0), ["control character U+0007"]),
    ("empty-file", "", ("", 0, 0), ["the catalog is empty"]),
    ("comments-only", "# nothing here\n\n", ("#", 0, 0), ["the catalog is empty"]),
]


def assert_one_catalog_error(proc, name: str, line: int, col: int, words: list[str]) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    message = lines[0]
    m = re.fullmatch(re.escape(name) + r":(\d+):(\d+): (.+) \((.+)\)", message)
    assert m, message
    assert (int(m.group(1)), int(m.group(2))) == (line, col), message
    for w in words:
        assert w in message, (w, message)
    return message


@pytest.fixture(scope="module")
def bad_builds(tmp_path_factory):
    """Run ``dashgen build -c bad.yaml -o outdir`` for every case, concurrently (CLI start-up dominates)."""
    base = tmp_path_factory.mktemp("bad")  # mktemp itself is not thread-safe

    def run(case):
        work = base / case[0]
        work.mkdir()
        (work / "bad.yaml").write_text(case[1], encoding="utf-8")
        return case[0], (work, run_dashgen("build", "-c", "bad.yaml", "-o", "outdir", cwd=work))

    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(pool.map(run, CASES))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_catalog_is_one_located_line_exit_2_and_writes_nothing(bad_builds, case):
    name, text, (needle, nth, offset), words = case
    work, proc = bad_builds[name]
    line, col = pos(text, needle, nth, offset) if needle else (1, 1)
    assert_one_catalog_error(proc, "bad.yaml", line, col, words)
    assert proc.stdout == ""
    assert not (work / "outdir").exists()
    assert sorted(p.name for p in work.iterdir()) == ["bad.yaml"]


def test_catalog_error_names_the_path_as_given(tmp_path):
    (tmp_path / "cfg").mkdir()
    text = edit("        unit: percent", "        unit: msec")
    (tmp_path / "cfg" / "my-catalog.yaml").write_text(text, encoding="utf-8")
    proc = run_dashgen("build", "-c", "cfg/my-catalog.yaml", "-o", "out", cwd=tmp_path)
    assert_one_catalog_error(proc, "cfg/my-catalog.yaml", *pos(text, "msec"), ["msec"])
    proc = run_dashgen("catalog", "validate", "cfg/my-catalog.yaml", cwd=tmp_path)
    assert_one_catalog_error(proc, "cfg/my-catalog.yaml", *pos(text, "msec"), ["msec"])


def test_non_utf8_file_is_located(tmp_path):
    data = BASE.replace("title: Jitter", "title: Jitt\udce9r").encode("utf-8", "surrogateescape")
    (tmp_path / "latin1.yaml").write_bytes(data)
    line, col = pos(BASE.replace("title: Jitter", "title: Jitt#r"), "Jitt#r", 0, 4)
    proc = run_dashgen("build", "-c", "latin1.yaml", "-o", "outdir", cwd=tmp_path)
    assert_one_catalog_error(proc, "latin1.yaml", line, col, ["not UTF-8", "0xe9"])
    assert not (tmp_path / "outdir").exists()


def test_missing_file_is_exit_2_one_line(tmp_path):
    proc = run_dashgen("build", "-c", "nope.yaml", "-o", "outdir", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [proc.stderr.strip()] and "nope.yaml: no such catalog file" in proc.stderr
    assert not (tmp_path / "outdir").exists()
    proc = run_dashgen("build", "-c", str(tmp_path), "-o", "outdir", cwd=tmp_path)
    assert proc.returncode == 2 and "is a directory" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_catalog_leaves_existing_output_untouched(tmp_path):
    assert run_dashgen("build", "-c", "default", "-o", "out", cwd=tmp_path).returncode == 0
    before = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert before
    (tmp_path / "bad.yaml").write_text(edit("value: 150", "value: 0"), encoding="utf-8")
    proc = run_dashgen("build", "-c", "bad.yaml", "-o", "out", cwd=tmp_path)
    assert proc.returncode == 2
    after = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert after == before


# In-process checks of the model ------------------------------------------------------------------

def test_default_catalog_loads_into_the_model():
    c = load_catalog("default")
    assert isinstance(c, Catalog) and c.source == "preset:default"
    assert [s.id for s in c.stages] == ["asr", "llm", "tts", "client", "barge_in"]
    tts = c.stage("tts")
    fb = tts.measurement("first_byte")
    assert (fb.attribute, fb.unit, fb.grafana_unit, fb.nothing_value) == ("audio.first_byte_ms", "ms", "ms", -1)
    assert [(t.quantile, t.value, t.severity, t.for_) for t in fb.thresholds] == [(0.95, 350, "page", "10m")]
    assert c.loc("stages", 2, "id").line == pos(BASE, "- id: tts")[0]


def test_defaults_are_filled_in():
    c = parse_catalog(BASE, "x.yaml")
    total = c.stage("asr").measurement("total")
    assert total.thresholds == () and total.bad_above is None and total.integer is True
    t = parse_catalog(edit("{quantile: 0.95, value: 150, severity: page, for: 10m}", "{value: 150}"), "x.yaml")
    th = t.stage("asr").measurement("first_byte").thresholds[0]
    assert (th.quantile, th.severity, th.for_) == (0.95, "page", "5m")


@pytest.mark.parametrize("value", ["true", "1.0", "2", '"1"'])
def test_catalog_version_must_be_exactly_1(value):
    with pytest.raises(CatalogError, match=r"^x\.yaml:\d+:10: catalog .* is not one of 1"):
        parse_catalog(edit("catalog: 1\n", f"catalog: {value}\n"), "x.yaml")


# Valid TraceQL attribute names: whatever the catalog accepts, Grafana's grammar parses ---------

WORD = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
SEGMENT = st.from_regex(r"[A-Za-z0-9_]{1,6}", fullmatch=True)
NAMES = st.builds(lambda first, rest: ".".join([first, *rest]),
                  st.one_of(WORD, st.sampled_from(TRACEQL_RESERVED_PREFIXES).flatmap(
                      lambda p: st.sampled_from([p, p + "_id", p + "s", p.capitalize(), "x" + p]))),
                  st.lists(SEGMENT, max_size=3))


@settings(max_examples=4, deadline=None, phases=[Phase.explicit, Phase.generate])  # a node run per example
@given(st.lists(NAMES, min_size=40, max_size=60, unique=True))
def test_every_accepted_attribute_name_parses_in_grafanas_grammar(names):
    """The catalog accepts an attribute name only if Grafana's TraceQL grammar parses it."""
    accepted = []
    for name in names:
        try:
            parse_catalog(edit("attribute: audio.jitter_ms", f'attribute: "{name}"'), "x.yaml")  # "on" is a bool
        except CatalogError as exc:
            assert "attribute" in str(exc) and "is not valid" in str(exc), str(exc)
        else:
            accepted.append(name)
    queries = [f"{{ span.{n} >= 0 }} | quantile_over_time(span.{n}, 0.95) by (span.{n})" for n in accepted]
    results = parse_traceql(queries)
    assert [r["query"] for r in results if not r["ok"]] == []
    # and what the catalog rejects really is rejected by the grammar (the rule is not too strict)
    rejected = [n for n in names if n not in accepted and re.fullmatch(r"[A-Za-z_]\w*(\.\w+)*", n)]
    if rejected:
        assert all(not r["ok"] for r in parse_traceql([f"{{ span.{n} >= 0 }}" for n in rejected])), rejected


def test_session_on_an_ancestor_needs_its_span_name(tmp_path):
    """session_on_stage_spans: false without session_span is a located error, not a guess later."""
    from dashgen.catalog import parse_catalog, preset_path
    from dashgen.errors import CatalogError

    text = preset_path("pipecat").read_text(encoding="utf-8").replace("  session_span: conversation\n", "")
    with pytest.raises(CatalogError) as err:
        parse_catalog(text, "pipecat-copy.yaml")
    assert re.match(r"^pipecat-copy\.yaml:\d+:\d+: session_on_stage_spans is false but no convention\.session_span",
                    str(err.value))
    assert "add session_span" in str(err.value)


def test_stage_titles_must_differ_before_any_parenthesis():
    """Alert and panel titles use the short title ('TTS'): two stages sharing it are refused up front."""
    from dashgen.catalog import parse_catalog, preset_path
    from dashgen.errors import CatalogError

    text = preset_path("default").read_text(encoding="utf-8").replace("title: LLM (reply generation)", "title: TTS (other)")
    with pytest.raises(CatalogError) as err:
        parse_catalog(text, "dup.yaml")
    line = text.splitlines().index("    title: TTS (text to speech)") + 1
    assert str(err.value).startswith(f"dup.yaml:{line}:12: stage title 'TTS (text to speech)' reads like 'TTS (other)'")
