"""Sloth's own backend finds dashgen's SLOs (issue 21 section 6).

The queries below are the ones Sloth's UI backend runs to list SLOs, copied from slok/sloth
``internal/http/backend/storage/prometheus/cache.go`` (its hydraters), and the label sets it
expects are written out by hand from that file: the info series ``sloth_slo_info`` with a
``sloth_objective`` it parses as a float (in percent, as ``metadata_rules_v1`` writes it), the
period in days, and the current burn rate, whose labels that the info series lacks (besides
Sloth's own) Sloth takes for grouping labels, one SLO per value. promtool evaluates the built
rule files on a steady 40%-bad traffic; the alerts carry ``sloth_severity`` as Sloth's do.
"""

from __future__ import annotations

import shutil
import subprocess

import yaml

from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog

PROMTOOL = shutil.which("promtool")
# labels Sloth never groups by (cache.go, NonGroupingLabels), besides those of the info series
SLOTH_OWN = {"sloth_slo", "sloth_id", "sloth_service", "sloth_window", "sloth_severity", "sloth_version",
             "sloth_mode", "sloth_spec", "sloth_objective"}
SLOS = {  # sloth_id -> (stage, histogram, threshold)
    "voice-asr-first-byte": ("asr", "audio_first_byte_milliseconds", "150"),
    "voice-tts-first-byte": ("tts", "audio_first_byte_milliseconds", "350"),
    "voice-barge-in-silence": ("barge_in", "audio_silence_milliseconds", "200"),
    "voice-good-turn": (None, None, None),  # the good-turn SLO: turn counters, no stage label
}


def info(sloth_id: str) -> dict[str, str]:
    stage = SLOS[sloth_id][0]
    return {**({"audio_stage": stage} if stage else {}), "sloth_id": sloth_id, "sloth_mode": "dashgen", "sloth_objective": "95",
            "sloth_service": "voice", "sloth_slo": sloth_id.removeprefix("voice-"), "sloth_spec": "dashgen/catalog/v1",
            "team": "voice"}


def current_burn(sloth_id: str) -> dict[str, str]:
    stage = SLOS[sloth_id][0]
    return {**({"audio_stage": stage} if stage else {}), "sloth_id": sloth_id, "sloth_service": "voice",
            "sloth_slo": sloth_id.removeprefix("voice-"), "sloth_window": "5m", "team": "voice"}


def labels(d: dict[str, str], name: str = "") -> str:
    return name + "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(d.items())) + "}"


def test_sloths_backend_queries_find_every_slo_ungrouped(tmp_path):
    assert PROMTOOL, "promtool not on PATH: run ./scripts/test"
    built = build_artifacts(load_catalog("default"))
    rule_files = []
    for rel, content in built.artifacts.items():
        if rel.startswith("alerts/prometheus/") and "slo-" in rel:
            (tmp_path / rel.rsplit("/", 1)[1]).write_text(content, encoding="utf-8")
            rule_files.append(rel.rsplit("/", 1)[1])
    series = []
    series += [{"series": "audio_turns_judged_total", "values": "0+100x180"},
               {"series": "audio_turns_good_total", "values": "0+60x180"}]
    for stage, metric, le in [v for v in SLOS.values() if v[0]]:
        series += [{"series": f'{metric}_bucket{{audio_stage="{stage}", le="{le}"}}', "values": "0+60x180"},
                   {"series": f'{metric}_count{{audio_stage="{stage}"}}', "values": "0+100x180"}]
    ids = sorted(SLOS)
    tests = {"rule_files": sorted(rule_files), "evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": series,
        "promql_expr_test": [
            {"expr": 'sloth_slo_info{sloth_id!=""}', "eval_time": "2h",
             "exp_samples": [{"labels": labels(info(i), "sloth_slo_info"), "value": 1} for i in ids]},
            {"expr": 'max(slo:time_period:days{sloth_id!=""}) by (sloth_id)', "eval_time": "2h",
             "exp_samples": [{"labels": labels({"sloth_id": i}), "value": 30} for i in ids]},
            # the current burn rate and the budget left, with their labels (x 0 + 1: not their values)
            {"expr": 'slo:current_burn_rate:ratio{sloth_id!=""} * 0 + 1', "eval_time": "2h",
             "exp_samples": [{"labels": labels(current_burn(i)), "value": 1} for i in ids]},
            {"expr": 'slo:period_error_budget_remaining:ratio{sloth_id!=""} * 0 + 1', "eval_time": "2h",
             "exp_samples": [{"labels": labels({**current_burn(i), "sloth_window": "30d"}), "value": 1}
                             for i in ids]},
        ]}]}
    (tmp_path / "sloth.test.yaml").write_text(yaml.safe_dump(tests, sort_keys=False), encoding="utf-8")
    proc = subprocess.run([PROMTOOL, "test", "rules", "sloth.test.yaml"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Sloth's grouping: labels of the current burn rate neither in the info series nor Sloth's own
    for i in ids:
        assert set(current_burn(i)) - set(info(i)) - SLOTH_OWN == set()
        float(info(i)["sloth_objective"])  # what cache.go does with it (an error there stops the listing)


def test_burn_alerts_carry_sloth_severity_and_keep_the_sloth_ids():
    built = build_artifacts(load_catalog("default"))
    doc = yaml.safe_load(built.artifacts["alerts/prometheus/voice-slo-burn.yaml"])
    rules = [r for g in doc["groups"] for r in g["rules"]]
    assert len(rules) == 2 * len(SLOS)
    for r in rules:
        severity = "page" if r["alert"].endswith("Page") else "ticket"
        assert r["labels"]["sloth_severity"] == severity == r["labels"]["severity"]
        # Sloth's backend reads ALERTS{sloth_id!=""}: the alert carries the SLO's ids as labels
        assert r["labels"]["sloth_id"] in SLOS and r["labels"]["sloth_service"] == "voice"
