"""The metrics path end to end on a real Prometheus (Debian's ``prometheus`` package; scripts/test
installs it): simulated sessions -> the SDK's histograms and counters -> OpenMetrics -> promtool
blocks -> a local Prometheus with the generated rule files -> alerts, panels and values."""

from __future__ import annotations

import re
import shutil

import pytest

from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog
from dashgen.cli import main
from dashgen.queries import promql
from dashgen.telemetry import verify_metrics
from dashgen.telemetry.verify_metrics import Simulation, verify
from dashgen.voice.checks import parse_catalog
from voice_catalogs import rag_catalog_text


def test_prometheus_and_promtool_are_installed():
    assert shutil.which("prometheus") and shutil.which("promtool"), "run ./scripts/test (it installs prometheus)"


@pytest.fixture(scope="module")
def default():
    c = load_catalog("default")
    return c, build_artifacts(c)


@pytest.fixture(scope="module")
def normal(default):
    return verify(*default)


@pytest.fixture(scope="module")
def slow_tts(default):
    return verify(*default, incidents=("slow-tts",))


def test_normal_traffic_fires_nothing_and_every_check_passes(normal):
    assert normal.ok, "\n".join(normal.lines)
    assert normal.firing == []
    assert any(l.startswith("ok    rule groups loaded") for l in normal.lines)
    assert any(l.startswith("ok    panel ") for l in normal.lines)
    # the SLO dashboard reads Sloth's recordings, evaluated by the local Prometheus; absence panels stay empty
    assert any(l.startswith("ok    panel 'TTS: error budget remaining' returns data") for l in normal.lines)
    assert any(l.startswith("ok    panel 'TTS: no telemetry for 15m' shows no absence") for l in normal.lines)


def test_tts_p95_lands_within_a_bucket_of_the_simulated_p95(normal, slow_tts):
    for report in (normal, slow_tts):
        line = next(l for l in report.lines if " tts first_byte p95 over 5m" in l)
        assert line.startswith("ok    "), line
        got, want = map(float, re.search(r"Prometheus ([\d.]+) vs simulated ([\d.]+)", line).groups())
        assert 0.6 < got / want < 1.6, line


def test_slow_tts_fires_the_tts_page_and_nothing_else(slow_tts):
    assert slow_tts.ok, "\n".join(slow_tts.lines)
    names = {r.name: r.labels["severity"] for r in slow_tts.firing}
    assert all(r.stage == "tts" for r in slow_tts.firing), names
    # the one paging policy (voice.paging): the p95 page and the burn-rate page both fire (the routing
    # makes them one notification), nothing of another stage
    assert {n for n, sev in names.items() if sev == "page"} == {"VoiceTtsFirstByteP95High",
                                                               "VoiceTtsFirstByteSloBurnPage"}, names


@pytest.mark.parametrize("preset", ["pipecat", "livekit"])
def test_presets_pass_on_normal_traffic(preset):
    c = load_catalog(preset)
    report = verify(c, build_artifacts(c), sessions=120)
    assert report.ok and not report.firing, "\n".join(report.lines)


def test_a_catalog_with_a_custom_stage_passes():
    """A custom rag_retrieval stage (a p95 rule of its own) and a custom ASR measurement: simulate records
    them, so the rules and panels on them have data and the p95 lands within a bucket of the spans'."""
    c = parse_catalog(rag_catalog_text(), "rag.yaml")
    report = verify(c, build_artifacts(c), sessions=120)
    assert report.ok and not report.firing, "\n".join(report.lines)
    assert any(line.startswith("ok    ") and "rag_retrieval first_byte p95" in line for line in report.lines), report.lines


def test_a_metric_path_that_loses_the_stage_label_fails(default, monkeypatch):
    real = verify_metrics.simulate

    def broken(*args, **kwargs):
        sim = real(*args, **kwargs)
        return Simulation(sim.openmetrics.replace('audio_stage="tts"', 'audio_stage="speech"'), sim.spans, sim.end)

    monkeypatch.setattr(verify_metrics, "simulate", broken)
    report = verify(*default, sessions=60)
    assert not report.ok
    assert any("tts first_byte p95" in p for p in report.problems), report.problems
    assert any(p.startswith("panel 'SLO burn rate: 95% of time to first audio") for p in report.problems)


def test_openmetrics_names_are_what_the_rules_read(default):
    c, _ = default
    import time
    sim = verify_metrics.simulate(c, 20, 1, (), 10, time.time_ns())
    text = sim.openmetrics
    assert "# TYPE audio_stage_runs counter\n" in text and "# TYPE audio_first_byte_milliseconds histogram\n" in text
    assert re.search(r'^audio_stage_runs_total\{audio_stage="tts"\} \d+ \d+\.\d{3}$', text, re.M)
    # the interrupted label on the latencies the rules read without interrupted turns (voice.interrupted)
    assert re.search(r'^audio_first_byte_milliseconds_bucket\{audio_interrupted="false",audio_stage="tts",le="350"\} \d+ ',
                     text, re.M)
    assert text.endswith("# EOF\n")


def test_cli(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["verify-metrics", "--sessions", "60", "--incident", "slow-tts"])
    out = capsys.readouterr().out
    assert exc.value.code == 0, out
    assert out.startswith("verify-metrics: catalog preset:default, 60 sessions over 30 min, incident slow-tts\n")
    assert ("alerts firing at the end of the window: VoiceTtsFirstByteP95High (page), "
            "VoiceTtsFirstByteSloBurnPage (page)") in out


def test_cli_without_prometheus_says_how_to_install_it(capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SystemExit) as exc:
        main(["verify-metrics"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert "verify-metrics needs prometheus and promtool on PATH" in err and "apt-get install prometheus" in err


def test_interrupted_turns_with_huge_first_bytes_page_only_without_the_exclusion(default, monkeypatch):
    """interrupted-early: a quarter of the turns are interrupted before the first audio, their TTS first
    byte taken at the interruption (0.9-2.5 s). The rules leave them out (``audio_interrupted!="true"``,
    voice.interrupted): nothing of TTS fires, and the p95 Prometheus computes is within a bucket of the
    p95 of the uninterrupted turns. The same build without the matcher pages on the same traffic."""
    report = verify(*default, incidents=("interrupted-early",))
    assert report.ok, "\n".join(report.lines)
    assert not [r.name for r in report.firing if r.stage == "tts"], [r.name for r in report.firing]
    line = next(l for l in report.lines if " tts first_byte p95 over 5m" in l)
    assert line.startswith("ok    ") and float(re.search(r"simulated ([\d.]+)", line).group(1)) < 350, line
    rule = next(r for r in default[1].rules.rules if r.name == "VoiceTtsFirstByteP95High")
    assert 'audio_interrupted!="true"' in rule.expr
    assert "Interrupted turns (audio.interrupted = true" in rule.annotations["description"]

    monkeypatch.setattr(promql, "not_interrupted", lambda *a: ())
    c = default[0]
    unguarded = build_artifacts(c)
    assert "audio_interrupted" not in next(r for r in unguarded.rules.rules if r.name == "VoiceTtsFirstByteP95High").expr
    without = verify(c, unguarded, incidents=("interrupted-early",))
    assert "VoiceTtsFirstByteP95High" in {r.name for r in without.firing}, without.lines
