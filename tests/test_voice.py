"""What the catalog means (dashgen.voice): burn-rate windows by SLO period, pages that can fire,
stage roles and the critical path, custom stages simulated and verified."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from conftest import DEFAULT_CATALOG
from dashgen.build import build_artifacts
from dashgen.catalog import parse_catalog as parse_form
from dashgen.cli import main
from dashgen.errors import CatalogError
from dashgen.voice import burn_rates as br
from dashgen.voice.checks import parse_catalog
from dashgen.voice.roles import on_critical_path, response_chain, role
from voice_catalogs import rag_catalog_text

TTS_SLO = "slo: {measurement: first_byte, objective: 0.95, threshold: 350, window: 30d}"


def default_text() -> str:
    text = DEFAULT_CATALOG.read_text(encoding="utf-8")
    assert TTS_SLO in text
    return text


def with_tts_slo(objective: str, window: str = "30d") -> str:
    return default_text().replace(TTS_SLO, f"slo: {{measurement: first_byte, objective: {objective}, threshold: 350, "
                                           f"window: {window}}}")


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


# --- burn-rate windows by SLO period ---------------------------------------------------------------

# The SRE workbook's table ("Alerting on SLOs", recommended parameters): burn rates for a 30-day
# SLO; Sloth's google-28d set keeps the budget shares, so over 28 days each rate is 28/30 of it.
WORKBOOK_30D = [("page", "1h", "5m", 14.4), ("page", "6h", "30m", 6.0), ("ticket", "1d", "2h", 3.0),
                ("ticket", "3d", "6h", 1.0)]


def test_each_supported_period_has_its_window_set():
    assert br.supported_periods() == ["28d", "30d"]
    assert {ws.name for ws in br.window_sets().values()} == {"google-28d", "google-30d"}
    for period, scale in (("30d", 1.0), ("28d", 28 / 30)):
        c = parse_catalog(with_tts_slo("0.95", period), "x.yaml")
        got = br.burn_rates(c.stage("tts").slo)
        assert [(s, lg, sh) for s, lg, sh, _ in got] == [(s, lg, sh) for s, lg, sh, _ in WORKBOOK_30D]
        assert [r for *_, r in got] == pytest.approx([r * scale for *_, r in WORKBOOK_30D], abs=1e-4)


def test_the_built_rules_burn_at_the_rates_of_the_slo_period():
    for period, fastest in (("30d", "14.4"), ("28d", "13.44")):
        built = build_artifacts(parse_catalog(with_tts_slo("0.999", period), "x.yaml"))
        burn = yaml.safe_load(built.artifacts["alerts/prometheus/voice-slo-burn.yaml"])
        page = next(r for g in burn["groups"] for r in g["rules"] if r["alert"] == "VoiceTtsFirstByteSloBurnPage")
        # the fast pair's threshold is rate x budget = fastest x 0.001
        assert f"> {float(fastest) * 0.001:g}" in page["expr"].replace("\n", " "), page["expr"]


@pytest.mark.parametrize("window", ["7d", "14d", "90d", "3d"])
def test_a_period_without_a_window_set_is_a_located_error(window, capsys, tmp_path):
    text = with_tts_slo("0.95", window)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if f"window: {window}}}" in l)
    with pytest.raises(CatalogError) as exc:
        parse_catalog(text, "x.yaml")
    assert exc.value.line == line and "\n" not in str(exc.value)
    assert str(exc.value).startswith(f"x.yaml:{line}:")
    assert f"stages[2].slo.window {window} has no burn-rate window set" in str(exc.value)
    assert str(exc.value).endswith("(use window: 28d or 30d)")
    # the catalog's form alone is fine: the refusal is about meaning, at the same line through the CLI
    assert parse_form(text, "x.yaml").stage("tts").slo.window == window
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    for argv in (["catalog", "validate", str(path)], ["build", "-c", str(path), "-o", str(tmp_path / "out")]):
        code, out, err = run(argv, capsys)
        assert code == 2 and err.count("\n") == 1 and err.startswith(f"{path}:{line}:"), (argv, err)
    assert not (tmp_path / "out").exists()


# --- a page that can never fire ----------------------------------------------------------------------

def _page_limits(built) -> list[float]:
    """The thresholds the built SLO page compares the bad-event ratios with (every pair, both windows)."""
    burn = yaml.safe_load(built.artifacts["alerts/prometheus/voice-slo-burn.yaml"])
    page = next(r for g in burn["groups"] for r in g["rules"] if r["alert"] == "VoiceTtsFirstByteSloBurnPage")
    return [float(x) for x in re.findall(r">\s*([0-9.e-]+)", page["expr"])]


@pytest.mark.parametrize("objective", ["0.9", "0.93", "0.9305", "0.5", "0.01"])
def test_an_objective_no_page_window_can_reach_is_a_located_error(objective, capsys, tmp_path):
    text = with_tts_slo(objective)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if f"objective: {objective}," in l)
    col = text.splitlines()[line - 1].index(f"{objective},") + 1
    with pytest.raises(CatalogError) as exc:
        parse_catalog(text, "x.yaml")
    msg = str(exc.value)
    assert msg.startswith(f"x.yaml:{line}:{col}: stages[2].slo.objective {objective} ") and "could never fire" in msg
    assert msg.endswith("(use an objective above 0.9306, i.e. 1 - 1/14.4)"), msg
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    code, _, err = run(["catalog", "validate", str(path)], capsys)
    assert code == 2 and err.count("\n") == 1 and err.startswith(f"{path}:{line}:{col}:"), err


@pytest.mark.parametrize("objective", ["0.9306", "0.95", "0.999"])
def test_an_accepted_objective_gives_pages_that_can_fire(objective):
    built = build_artifacts(parse_catalog(with_tts_slo(objective), "x.yaml"))
    limits = _page_limits(built)
    assert len(limits) == 4 and all(0 < x < 1 for x in limits), limits


def test_the_refusal_matches_the_rule_threshold_on_both_sides_of_the_boundary():
    """Independent of the check's arithmetic: an objective is refused exactly when the 14.4x pair's
    threshold (14.4 x budget, as the built rule compares it) would be 1 or more."""
    for i in range(9300, 9320):
        objective = f"0.{i}"
        reachable = 14.4 * (1 - float(objective)) < 1
        try:
            built = build_artifacts(parse_catalog(with_tts_slo(objective), "x.yaml"))
        except CatalogError as exc:
            assert not reachable and "could never fire" in str(exc), objective
        else:
            assert reachable and max(_page_limits(built)) < 1, objective


# --- stage roles and the critical path ---------------------------------------------------------------

def test_the_presets_declare_every_stage_role():
    for name in ("default", "pipecat", "livekit"):
        doc = yaml.safe_load((DEFAULT_CATALOG.parent / f"{name}.yaml").read_text(encoding="utf-8"))
        assert all("role" in s and "critical_path" in s for s in doc["stages"]), name


def test_roles_come_from_the_catalog_not_from_ids():
    text = default_text().replace("  - id: asr\n    span: audio.asr\n", "  - id: stt\n    span: audio.asr\n", 1)
    c = parse_catalog(text, "x.yaml")
    assert role(c.stage("stt"), c) == "speech_to_text" and on_critical_path(c.stage("stt"), c)
    # a stage named like a role, without one, is custom and off the critical path
    undeclared = re.sub(r"    role: \w+\n    critical_path: \w+\n", "", default_text())
    # without a playback stage there is no caller-felt latency for the good-turn SLI to judge by
    undeclared = undeclared[: undeclared.index("\n# The good-turn SLI")] + "\n"
    c = parse_catalog(undeclared, "x.yaml")
    assert {role(s, c) for s in c.stages} == {"custom"} and response_chain(c) == []


@pytest.mark.parametrize("edit, message", [
    (("    span: audio.llm\n    role: generation\n", "    span: audio.llm\n    role: turn\n"),
     r"stage llm has role turn but its span 'audio.llm' is not the turn span 'voice.turn'"),
    (("    role: generation\n", "    role: talking\n"), r"stages\[1\]\.role 'talking' is not one of"),
])
def test_a_role_that_contradicts_the_spans_is_refused(edit, message):
    text = default_text()
    assert edit[0] in text
    with pytest.raises(CatalogError, match=r"^x.yaml:\d+:\d+: " + message):
        parse_catalog(text.replace(*edit, 1), "x.yaml")


def _response_bars(built) -> dict | None:
    session = json.loads(built.artifacts["dashboards/voice-agent/voice-session.json"])
    return next((p for p in session["panels"] if p.get("title", "").startswith("Per turn:")), None)


def test_a_custom_stage_on_the_critical_path_is_in_the_per_turn_bars():
    bars = _response_bars(build_artifacts(parse_catalog(rag_catalog_text(), "rag.yaml")))
    assert bars is not None
    keep = bars["transformations"][0]["options"]["filters"][0]["config"]["options"]["value"]
    # the parts in catalog (pipeline) order, then the whole the remainder is taken from (client's first byte)
    assert keep == "^(asr|rag_retrieval|llm|tts|client)$"
    parts = next(t for t in bars["transformations"] if t["id"] == "calculateField")["options"]["reduce"]["include"]
    assert parts == ["asr", "rag_retrieval", "llm", "tts"]
    assert "RAG_RETRIEVAL time to first document" in bars["title"]
    # off the critical path (custom stages are, by default): not a step of the bars
    bars = _response_bars(build_artifacts(parse_catalog(rag_catalog_text(critical_path=False), "rag.yaml")))
    assert bars["transformations"][0]["options"]["filters"][0]["config"]["options"]["value"] == "^(asr|llm|tts|client)$"


def test_simulate_emits_every_measurement_and_verify_traces_passes_on_custom_stages(tmp_path, capsys):
    path = tmp_path / "rag.yaml"
    path.write_text(rag_catalog_text(), encoding="utf-8")
    out = tmp_path / "traces.json"
    code, _, err = run(["simulate", "-c", str(path), "--sessions", "10", "--seed", "4", "--out", str(out)], capsys)
    assert code == 0, err
    spans = [s for rs in json.loads(out.read_text())["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    keys = {a["key"] for s in spans for a in s["attributes"]}
    assert {"audio.rag_documents", "audio.asr_confidence_pct"} <= keys
    assert any(s["name"] == "audio.rag_retrieval" for s in spans)
    code, stdout, err = run(["verify-traces", "-c", str(path), str(out)], capsys)
    assert code == 0, stdout + err
    assert "rag_retrieval" in stdout
