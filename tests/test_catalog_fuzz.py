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
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import DEFAULT_CATALOG, clone_stages
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


# --- generated valid catalogs build; generated invalid ones fail at their line (issue 22) -------------
#
# A catalog is drawn from a preset (its convention), with 1 to a few stages copied from it (ids,
# spans and titles made distinct), the convention's optional attributes left out or kept, SLOs on
# or off, every severity page or ticket, stages in a turn or of the session, and the documented
# options drawn: Tempo rules, recording rules, the metric source, the guard, partial rate-alert and
# absence blocks, PromQL matchers, the Tempo version and range, the rule settings (team, receiver,
# interval, rate window, runbooks), the good-turn SLO (dropped or tuned), per stage its SLO's period
# and objective, flags and crowded measurements (past one dashboard's query budget), and per
# measurement its integer flag, quantiles and panels.
# Large catalogs (up to 300 stages) are drawn in few examples: a build is linear in stages.

import contextlib  # noqa: E402
import copy  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402

from dashgen.build import build_artifacts  # noqa: E402
from dashgen.catalog import PRESETS, preset_path  # noqa: E402
from dashgen.voice.checks import parse_catalog as load_checked  # noqa: E402  (what the CLI loads: meaning checks too)
from dashgen.catalog.spec import PANEL_KINDS  # noqa: E402
from dashgen.cli import main as dashgen_main  # noqa: E402
from dashgen.lint import lint_artifacts  # noqa: E402
from dashgen.lint.gate import refuse_lint_problems  # noqa: E402

PRESET_DOCS = {p: yaml.safe_load(preset_path(p).read_text(encoding="utf-8")) for p in PRESETS}


def _felt_stage(preset: str) -> str | None:
    """The stage whose measurement is the preset's caller-felt latency (the good-turn SLO judges by it)."""
    from dashgen.voice.good_turn import sli
    from dashgen.voice.checks import load_catalog

    good = sli(load_catalog(preset))
    return good.felt[0].id if good else None


FELT_STAGE = {p: _felt_stage(p) for p in PRESETS}
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)  # a failing build is shown as drawn: shrinking takes minutes
QUANTILE_SETS = [None, [0.5, 0.95, 0.99], [0.95], [0.5, 0.9, 0.95, 0.99]]


@st.composite
def valid_catalogs(draw, stages=st.integers(1, 6)) -> dict:
    preset = draw(st.sampled_from(PRESETS))
    doc = copy.deepcopy(PRESET_DOCS[preset])
    doc["stages"] = clone_stages(doc["stages"], draw(stages))
    conv = doc["convention"]
    for key in ("stage_attribute", "service_attribute", "error_attribute"):
        if key in conv and draw(st.booleans()):
            del conv[key]
    slos = draw(st.booleans())
    severity = st.sampled_from(["page", "ticket"])
    for s in doc["stages"]:
        if not slos:
            s.pop("slo", None)
        if s["span"] != conv["turn_span"] and draw(st.integers(0, 3)) == 0:
            s["in_turn"] = draw(st.booleans())  # a stage of the session, outside any turn, or said in one
        for m in s["measurements"]:
            for t in m.get("thresholds", []):
                t["severity"] = draw(severity)
            if draw(st.integers(0, 3)) == 0:  # a few measurements get options of their own
                m["integer"] = draw(st.booleans())
                quantiles = draw(st.sampled_from(QUANTILE_SETS))
                if quantiles:
                    m["quantiles"] = quantiles
                kinds = [k for k in PANEL_KINDS if k != "bad_rate" or m.get("bad_above") is not None]
                m["panels"] = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=2, unique=True))
        if s.get("slo") and draw(st.integers(0, 3)) == 0:  # an SLO of its own period and objective
            s["slo"].update(window=draw(st.sampled_from(["28d", "30d"])),
                            objective=draw(st.sampled_from([0.95, 0.99, 0.999])))
        if draw(st.integers(0, 5)) == 0:  # a boolean attribute of the stage's own
            s["flags"] = [{"id": "cached", "attribute": f"app.{s['id']}.cached", "title": "Cached",
                           "meaning": "served from a cache"}]
        if draw(st.integers(0, 7)) == 0:  # a crowded stage: its measurements copied (past one dashboard's budget)
            s["measurements"] += [{**copy.deepcopy(m), "id": f"{m['id']}_{i}", "attribute": f"{m['attribute']}_{i}",
                                   "title": f"{m['title']} {i}"}
                                  for i in range(1, draw(st.integers(2, 5))) for m in s["measurements"]]
    if "good_turn" in doc and FELT_STAGE[preset] not in {s["id"] for s in doc["stages"]}:
        del doc["good_turn"]  # its caller-felt latency is on a stage not drawn: the SLO cannot be judged
    elif "good_turn" in doc and draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            del doc["good_turn"]
        else:
            doc["good_turn"].update(objective=draw(st.sampled_from([0.95, 0.99])),
                                    window=draw(st.sampled_from(["28d", "30d"])),
                                    barge_in_silence_ms=draw(st.sampled_from([100, 300])))
    alerting = doc.setdefault("alerting", {})
    for key, values in (("team", ["voice", "sre-platform"]), ("receiver", ["oncall-voice"]),
                        ("interval", ["30s", "1m", "2m"]), ("rate_window", ["2m", "5m", "10m"]),
                        ("runbook_url", ["https://wiki.example.org/runbooks/voice"])):
        if draw(st.integers(0, 3)) == 0:
            alerting[key] = draw(st.sampled_from(values))
    if draw(st.integers(0, 3)) == 0:  # the team's own datasource variable names
        doc["grafana"]["datasources"]["tempo"]["variable"] = "traces"
        doc["grafana"]["datasources"]["prometheus"]["variable"] = "metrics"
    alerting["tempo_rules"] = draw(st.booleans())
    alerting["grafana_recording_rules"] = draw(st.sampled_from(["auto", True, False]))
    alerting["source"] = draw(st.sampled_from(["sdk", "bridge"]))
    alerting["min_events"] = draw(st.sampled_from([0, 10, 50]))
    for block, keys in (("error_rate", {"above": st.sampled_from([0.01, 0.1]), "for": st.sampled_from(["2m", "15m"]),
                                        "severity": severity}),
                        ("nothing_rate", {"above": st.sampled_from([0.02, 0.2]), "for": st.sampled_from(["5m", "30m"]),
                                          "severity": severity}),
                        ("absence", {"for": st.sampled_from(["10m", "1h"]), "severity": severity})):
        written = draw(st.lists(st.sampled_from(sorted(keys)), unique=True, max_size=3))
        if written or draw(st.booleans()):
            alerting[block] = {k: draw(keys[k]) for k in written}  # a partial block, maybe empty
        else:
            alerting.pop(block, None)
    doc["tempo"] = {"version": draw(st.sampled_from(["2.7", "2.8", "3.0"])),
                    "metrics_max_range": draw(st.sampled_from(["1h", "3h"]))}
    if draw(st.booleans()):
        doc["prometheus"] = {"matchers": [{"label": "env", "value": "prod"}]}
    return doc


def _dump(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=False, width=120)


def _build_and_lint(text: str):
    catalog = load_checked(text, "generated.yaml")
    built = build_artifacts(catalog)
    report = lint_artifacts(built.artifacts, catalog)
    assert report.ok, report.problems[:5]
    refuse_lint_problems(built.artifacts, built.dashboards, catalog)  # what build runs: raises when refused
    return catalog, built


FAST = settings(max_examples=12, deadline=None, derandomize=True, phases=NO_SHRINK,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FAST
@given(valid_catalogs())
def test_generated_valid_catalogs_build_and_pass_lint(doc):
    catalog, built = _build_and_lint(_dump(doc))
    dashboards = [json.loads(t) for p, t in built.artifacts.items() if p.startswith("dashboards/")
                  and p.endswith(".json")]
    assert len(dashboards) >= len(catalog.stages) + 3
    assert all(len(d["panels"]) <= 150 for d in dashboards)


# One large catalog (a build of 300 stages takes seconds): the small ones above cover the options.
@settings(max_examples=1, deadline=None, derandomize=True, phases=NO_SHRINK, suppress_health_check=list(HealthCheck))
@given(valid_catalogs(stages=st.integers(200, 300)))
def test_a_generated_large_catalog_builds_and_passes_lint(doc):
    catalog, built = _build_and_lint(_dump(doc))
    assert len(catalog.stages) >= 200


@settings(max_examples=3, deadline=None, derandomize=True, phases=NO_SHRINK, suppress_health_check=list(HealthCheck))
@given(doc=valid_catalogs(stages=st.integers(1, 3)))
def test_generated_valid_catalogs_match_grafanas_schemas(doc, grafana_schemas):
    from dashgen.lint.schemas import SchemaSet, validate_dashboard

    _, built = _build_and_lint(_dump(doc))
    schemas = SchemaSet(grafana_schemas / "grafana-12")
    problems = [f"{p}: {x}" for p, t in built.artifacts.items() if p.startswith("dashboards/") and p.endswith(".json")
                for x in validate_dashboard(json.loads(t), schemas)]
    assert problems == []


# Edits that make a valid catalog invalid: (what, edit(doc) -> the offending scalar written in the text)
def _first_measurement(doc):
    return doc["stages"][0]["measurements"][0]


BREAKS = {
    "negative threshold": lambda d: _first_measurement(d).setdefault("thresholds", []).append({"value": -7})
    or "-7",
    "unknown unit": lambda d: _first_measurement(d).update(unit="msec") or "msec",
    "unknown key": lambda d: d["stages"][-1].update(colour="red") or "colour",
    "bad severity": lambda d: d["alerting"].update(error_rate={"severity": "pager"}) or "pager",
    "ratio above 1": lambda d: d["alerting"].update(nothing_rate={"above": 2}) or "above: 2",
    "duplicate stage": lambda d: d["stages"].append(copy.deepcopy(d["stages"][0])) or None,
    "bad attribute": lambda d: _first_measurement(d).update(attribute="span.parent_id") or "span.parent_id",
    "old tempo": lambda d: d["tempo"].update(version="2.4") or "version: '2.4'",
    "reserved stage id": lambda d: d["stages"][-1].update(id="session") or "id: session",
    "bad duration": lambda d: d["alerting"].update(absence={"for": "soon"}) or "soon",
}


def _run_cli(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            dashgen_main(list(argv))
        except SystemExit as exc:
            return exc.code, err.getvalue()
    return 0, err.getvalue()


@settings(max_examples=20, deadline=None, derandomize=True, phases=NO_SHRINK, suppress_health_check=list(HealthCheck))
@given(doc=valid_catalogs(stages=st.integers(1, 4)), what=st.sampled_from(sorted(BREAKS)))
def test_generated_invalid_catalogs_fail_at_their_line_with_exit_2(tmp_path_factory, doc, what):
    needle = BREAKS[what](doc)
    text = _dump(doc)
    work = tmp_path_factory.mktemp("invalid")
    (work / "bad.yaml").write_text(text, encoding="utf-8")
    code, err = _run_cli("build", "-c", str(work / "bad.yaml"), "-o", str(work / "out"))
    assert code == 2, (what, err)
    assert "Traceback" not in err and "internal error" not in err, err
    assert not (work / "out").exists()
    lines = err.strip().splitlines()
    located = [re.fullmatch(re.escape(str(work / "bad.yaml")) + r":(\d+):(\d+): \S.*", line) for line in lines]
    assert lines and all(located), (what, err)
    if needle:  # the first error is on the line of what the edit wrote
        wanted = {i + 1 for i, line in enumerate(text.splitlines()) if needle in line}
        assert {int(m.group(1)) for m in located} & wanted, (what, needle, err, sorted(wanted))
