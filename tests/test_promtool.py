"""The Prometheus rule files, proven with the real promtool.

``promtool check rules`` on every generated rule file, and ``promtool test rules`` on the unit
tests ``dashgen.alerts.promtool`` generates from the catalog: every paging alert fires when the
series sits above its threshold for longer than ``for`` and stays silent below it; a fast SLO
burn pages within its window, a slow one only opens a ticket. A wrong expectation must make
promtool fail, or the passing runs would prove nothing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from dashgen.alerts.generate import rule_set
from dashgen.alerts.promtool import PAGES_SUFFIX, count_assertions, promtool_tests
from dashgen.alerts.promtool_series import SIDE_BY_SIDE
from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog, parse_catalog, preset_path

PROMTOOL = shutil.which("promtool")


def variant_catalog():
    """The default catalog with a stricter, shorter SLO and a 30 s interval: burn rates 13.44/5.6/2.8/0.93;
    every query scoped to env="prod", cluster="eu-1" (prometheus.matchers)."""
    text = preset_path("default").read_text(encoding="utf-8")
    text += "\nprometheus:\n  matchers:\n    - {label: env, value: prod}\n    - {label: cluster, value: eu-1}\n"
    text = text.replace("objective: 0.95, threshold: 350, window: 30d", "objective: 0.999, threshold: 350, window: 28d")
    text = text.replace("  interval: 1m\n", "  interval: 30s\n", 1)
    text = text.replace("error_rate: {above: 0.05, for: 5m, severity: page}", "error_rate: {above: 0.2, for: 3m}")
    assert "0.999" in text and "interval: 30s" in text and "above: 0.2" in text
    return parse_catalog(text, "variant.yaml")


CATALOGS = {"default": load_catalog, "variant": variant_catalog,
            # seconds as floats, thresholds between bucket boundaries (interpolated), one SLO each;
            # LiveKit's histograms have no stage label and its spans never say ERROR (no error group)
            "pipecat": lambda: load_catalog("pipecat"), "livekit": lambda: load_catalog("livekit")}
# the rule groups each catalog has in the Prometheus form (every catalog here has an SLO)
GROUPS = {"default": ["absence", "errors", "latency", "slo-burn", "slo-recording"], "variant": None, "pipecat": None,
          "livekit": ["absence", "latency", "slo-burn", "slo-recording"]}


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    assert PROMTOOL, "promtool not on PATH: run ./scripts/test (installs Debian's prometheus package)"
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=900)


def _rule_dir_of(catalog, out: Path) -> Path:
    built = build_artifacts(catalog)
    for rel, content in built.artifacts.items():
        if rel.startswith("alerts/prometheus/"):
            (out / Path(rel).name).write_text(content, encoding="utf-8")
    for test_name, content in promtool_tests(built.rules).items():
        (out / test_name).write_text(content, encoding="utf-8")
    return out


def write_rule_dir(name: str, out: Path) -> Path:
    return _rule_dir_of(CATALOGS[name](), out)


@pytest.fixture(scope="module", params=sorted(CATALOGS))
def rule_dir(request, tmp_path_factory) -> Path:
    return write_rule_dir(request.param, tmp_path_factory.mktemp(f"rules-{request.param}"))


@pytest.fixture(scope="module")
def default_rule_dir(tmp_path_factory) -> Path:
    return write_rule_dir("default", tmp_path_factory.mktemp("rules-default"))


def groups_of(d: Path) -> list[str]:
    name = d.name.removeprefix("rules-").rstrip("0123456789")
    return GROUPS[name] or GROUPS["default"]


def rule_files(d: Path) -> list[Path]:
    """The built rule files (not the tests, nor the page alerts the scenarios read: the same rules)."""
    return sorted(p for p in d.glob("*.yaml") if not p.name.endswith((".test.yaml", PAGES_SUFFIX)))


def test_promtool_check_rules_accepts_every_rule_file(rule_dir):
    files = rule_files(rule_dir)
    assert [f.name.split("-", 1)[1] for f in files] == [f"{g}.yaml" for g in groups_of(rule_dir)]
    for f in files:
        proc = promtool("check", "rules", f.name, cwd=rule_dir)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        n_rules = sum(len(g["rules"]) for g in yaml.safe_load(f.read_text())["groups"])
        assert f"SUCCESS: {n_rules} rules found" in proc.stdout + proc.stderr


def test_promtool_unit_tests_pass(rule_dir):
    tests = sorted(rule_dir.glob("*.test.yaml"))
    # one test file per alert group, the cross-rule paging cases and the traffic scenarios (every
    # catalog here has an SLO and a paging p95)
    assert [t.name.split("-", 1)[1] for t in tests] == sorted(
        [f"{g}.test.yaml" for g in groups_of(rule_dir) if g != "slo-recording"]
        + ["paging.test.yaml", "scenarios.test.yaml"])
    proc = promtool("test", "rules", *(t.name for t in tests), cwd=rule_dir)  # one run for every file
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    for t in tests:
        assert re.search(rf"Unit Testing:\s+{re.escape(t.name)}\s+SUCCESS", out), out
    assert "FAILED" not in out


def test_scenarios_show_what_pages_for_tts_asr_and_barge_in(default_rule_dir):
    """What the practice asks of its pages, per layer: a sustained p95 breach (12% of events just
    above the limit) pages within 30 minutes; healthy traffic (1% above) and one slow minute page
    nobody at any time; 1 event a minute, half slow after 6 good hours, pages through the burn rate.
    (They pass in test_promtool_unit_tests_pass.)"""
    doc = yaml.safe_load(next(default_rule_dir.glob("*scenarios.test.yaml")).read_text())
    names = [n for c in doc["tests"] for n in c["name"].split(SIDE_BY_SIDE)]  # stages side by side
    for stage, m in (("tts", "first_byte"), ("asr", "first_byte"), ("barge_in", "silence")):
        mine = [n for n in names if n.startswith(f"{stage} {m}:")]
        assert any("sustained p95 breach (12% just above" in n and "pages within 30m" in n for n in mine), mine
        assert any("healthy traffic (1% above" in n and "pages nobody at any time" in n for n in mine), mine
        assert any("one slow minute" in n for n in mine), mine
        assert any("1 event a minute, 50% slow after 6h good, pages through the burn rate" in n for n in mine), mine
    low = next(c for c in doc["tests"] if "barge_in silence: 1 event a minute" in c["name"])
    firing = [a for a in low["alert_rule_test"] if a["exp_alerts"]]
    assert firing and all(a["alertname"].endswith("SloBurnPage") for a in firing)  # no p95 page, only burns
    firing = [a for a in firing if "BargeIn" in a["alertname"]]
    assert [a["alertname"] for a in firing] == ["VoiceBargeInSilenceSloBurnPage"]
    assert int(firing[0]["eval_time"].rstrip("m")) <= 10 * 60 + 30  # within 4h30 of the step, after 6h


def test_every_alert_is_shown_firing_and_silent(rule_dir):
    """Each Prometheus alert appears in a firing expectation and in a silent one."""
    alerts = {r["alert"] for f in rule_files(rule_dir) for g in yaml.safe_load(f.read_text())["groups"]
              for r in g["rules"] if "alert" in r}
    firing, silent = set(), set()
    for t in rule_dir.glob("*.test.yaml"):
        for case in yaml.safe_load(t.read_text())["tests"]:
            for a in case.get("alert_rule_test", []):
                (firing if a["exp_alerts"] else silent).add(a["alertname"])
    assert alerts and firing == alerts and silent == alerts


def test_burn_tests_page_fast_and_ticket_slow(rule_dir):
    doc = yaml.safe_load(next(rule_dir.glob("*slo-burn.test.yaml")).read_text())
    names = [c["name"] for c in doc["tests"]]
    assert any("fast burn" in n and "SloBurnPage" in n for n in names)
    assert any("slow burn" in n and "SloBurnTicket" in n for n in names)
    for case in doc["tests"]:
        if "slow burn" in case["name"]:
            pages = [a for a in case["alert_rule_test"] if a["alertname"].endswith("Page")]
            tickets = [a for a in case["alert_rule_test"] if a["alertname"].endswith("Ticket")]
            assert pages and all(a["exp_alerts"] == [] for a in pages)
            assert tickets and all(a["exp_alerts"] for a in tickets)


def test_a_wrong_expectation_makes_promtool_fail(default_rule_dir, tmp_path):
    """Expect the TTS p95 alert to fire where its generated test says it must stay silent."""
    for f in rule_files(default_rule_dir):
        shutil.copy(f, tmp_path / f.name)
    src = next(default_rule_dir.glob("*latency.test.yaml"))
    doc = yaml.safe_load(src.read_text())
    firing = next(c for c in doc["tests"] if "Tts" in c["name"] and "fires" in c["name"])
    silent = next(c for c in doc["tests"] if "Tts" in c["name"] and "silent" in c["name"])
    expected = next(a["exp_alerts"] for a in firing["alert_rule_test"] if a["exp_alerts"])
    silent["alert_rule_test"][0]["exp_alerts"] = expected
    (tmp_path / src.name).write_text(yaml.safe_dump(doc), encoding="utf-8")
    proc = promtool("test", "rules", src.name, cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "FAILED" in out and silent["name"] in out


def keep_cases(test: Path, words: str) -> str:
    """Rewrites the promtool test file ``test`` to hold only its cases whose name holds ``words`` (the
    case a mutation must fail: the whole file, unmutated, runs in test_promtool_unit_tests_pass);
    returns its name."""
    doc = yaml.safe_load(test.read_text())
    doc["tests"] = [c for c in doc["tests"] if words in c["name"]]
    assert doc["tests"], words
    test.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return test.name


def copy_edited(rule_dir: Path, out: Path, group: str, old: str, new: str, count: int) -> Path:
    """The rule files of ``rule_dir`` in ``out``, ``old`` replaced by ``new`` (``count`` times) in ``group``'s,
    with the group's generated test file beside them; returns the test file's name."""
    for f in rule_files(rule_dir):
        text = f.read_text()
        if f.name.endswith(f"-{group}.yaml"):
            assert text.count(old) == count
            text = text.replace(old, new)
        (out / f.name).write_text(text, encoding="utf-8")
    test = next(rule_dir.glob(f"*{'slo-burn' if group == 'slo-recording' else group}.test.yaml"))
    shutil.copy(test, out / test.name)
    return test


def test_a_moved_threshold_makes_promtool_fail(default_rule_dir, tmp_path):
    """The quantile tests sit 10% either side of the limit: a rule at 355 ms instead of 350 fails them."""
    src = copy_edited(default_rule_dir, tmp_path, "latency", "> 350\n", "> 355\n", 1)
    proc = promtool("test", "rules", src.name, cwd=tmp_path)
    assert proc.returncode != 0 and "FAILED" in proc.stdout + proc.stderr


def test_count_of_generated_promtool_tests():
    rs = rule_set(load_catalog())
    totals = [count_assertions(yaml.safe_load(c)) for n, c in promtool_tests(rs).items() if n.endswith(".test.yaml")]
    cases, assertions = sum(t[0] for t in totals), sum(t[1] for t in totals)
    # latency: 4 quantile alerts x 2 cases x 2 checks; errors: 10 ratio alerts x 2 cases x 2 checks and
    # x 2 no-data cases x 2 checks; absence: 5 missing-telemetry rules x (1 + 2 checks), turns stopped
    # 2 + 2; slo-burn: 3 stage SLOs x (fast: 3 checks, slow: 4) and the good-turn SLO's the same plus a
    # healthy case (page and ticket silent at 3 times), side by side in 3 cases (a fast and a slow burn;
    # the healthy turns alone, on the same counters); paging, over the 12 page alerts (3 p95, 5 error
    # rates, 4 burn pages): tiny traffic on the 3 SLO stages side by side at 4 times (the same checks,
    # asked once), per stage SLO a 2x burn (the burn page silent twice, the p95 page firing) and the
    # 14.4x page, side by side in 2 cases; scenarios, per paging measurement (3): sustained breach 2
    # checks, low traffic 3 (healthy traffic and one slow minute are one query over the whole run), the
    # measurements side by side
    assert (cases, assertions) == (8 + 20 + 20 + 12 + 3 + 3 + 4,
                                   16 + 40 + 40 + 19 + 3 * 7 + 7 + 6 + (4 * 12 + 3 * (3 + 1)) + 3 * (2 + 3))


def _case_names(d: Path, suffix: str) -> list[str]:
    return [c["name"] for c in yaml.safe_load(next(d.glob(f"*{suffix}")).read_text())["tests"]]


def test_no_data_is_silent_and_absence_has_its_own_rules(default_rule_dir):
    """Point 7: the ratio rules are proven silent without data; the absence rules fire on it."""
    errors = _case_names(default_rule_dir, "errors.test.yaml")
    assert sum("no data at all stays silent" in n for n in errors) == 10
    assert sum("series yet (none happened) stays silent" in n for n in errors) == 10
    absence = _case_names(default_rule_dir, "absence.test.yaml")
    assert sum("never reported fires" in n for n in absence) == 5
    assert sum("stops reporting fires" in n for n in absence) == 5
    assert any("turns stopping after traffic fire" in n for n in absence)
    rules = yaml.safe_load(next(default_rule_dir.glob("*-absence.yaml")).read_text())["groups"][0]["rules"]
    assert {r["labels"]["severity"] for r in rules} == {"ticket"}


def test_tiny_traffic_would_page_without_the_guard(tmp_path):
    """Point 9: with alerting.min_events 0, the two-events case pages, so promtool fails it."""
    text = preset_path("default").read_text(encoding="utf-8").replace("  tempo_rules: false\n",
                                                                     "  tempo_rules: false\n  min_events: 0\n")
    d = _rule_dir_of(parse_catalog(text, "noguard.yaml"), tmp_path)
    proc = promtool("test", "rules", keep_cases(next(d.glob("*paging.test.yaml")), "two events in 12 minutes"), cwd=d)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "two events in 12 minutes" in out and "SloBurnPage" in out, out


def test_a_demoted_p95_would_fail_the_scenarios(tmp_path, monkeypatch):
    """Rules that demote every p95 to a ticket (what alerts/latency.py used to do where an SLO exists)
    fail the scenarios the catalog asks for: nobody would be paged for a slow layer."""
    from dashgen.alerts.promtool import pages_file
    from dashgen.voice import paging

    d = _rule_dir_of(load_catalog(), tmp_path)
    monkeypatch.setattr(paging, "threshold_severity", lambda t: "ticket")
    name, demoted = pages_file(build_artifacts(load_catalog()).rules)
    assert (d / name).read_text() != demoted
    (d / name).write_text(demoted, encoding="utf-8")
    proc = promtool("test", "rules", keep_cases(next(d.glob("*scenarios.test.yaml")), "sustained p95 breach"), cwd=d)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "sustained p95 breach" in out, out


def test_p95_rules_page_beside_the_burn_rates():
    rs = rule_set(load_catalog())
    latency_rules = {r.name: r.labels["severity"] for r in rs.rules if r.group == "latency"}
    assert latency_rules == {"VoiceAsrFirstByteP95High": "page", "VoiceLlmFirstByteP95High": "ticket",
                             "VoiceTtsFirstByteP95High": "page", "VoiceBargeInSilenceP95High": "page"}
    burn = {r.name: r.labels["severity"] for r in rs.rules if r.group == "slo-burn"}
    assert burn["VoiceTtsFirstByteSloBurnPage"] == "page"


def test_scoped_catalog_series_and_queries_carry_the_matchers(tmp_path):
    """Point 11: every rule expression and every synthetic series carry env and cluster."""
    d = write_rule_dir("variant", tmp_path)
    for f in rule_files(d):
        for g in yaml.safe_load(f.read_text())["groups"]:
            for r in g["rules"]:
                for sel in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*\{[^}]*\}", r["expr"]):
                    if not sel.startswith("slo:"):  # a recorded SLO ratio: its recording rule was scoped
                        assert 'env="prod"' in sel and 'cluster="eu-1"' in sel, (r.get("alert"), sel)
    for t in d.glob("*.test.yaml"):
        for case in yaml.safe_load(t.read_text())["tests"]:
            for series in case["input_series"]:
                assert 'env="prod"' in series["series"] and 'cluster="eu-1"' in series["series"], series


def test_a_wrong_sloth_recording_makes_promtool_fail(default_rule_dir, tmp_path):
    """The burn tests also read the Sloth meta recordings: a wrong error budget (0.5 for 0.05) fails them
    (the budget itself, and the current burn rate divided by it)."""
    # four SLOs with a 5% budget: the three stages' and the good-turn SLO
    src = copy_edited(default_rule_dir, tmp_path, "slo-recording", "expr: vector(0.05)\n", "expr: vector(0.5)\n", 4)
    doc = yaml.safe_load(src.read_text())
    burn_now = [s for c in doc["tests"] for t in c.get("promql_expr_test", []) for s in t["exp_samples"]
                if s["labels"].startswith("slo:current_burn_rate:ratio")]
    assert {s["value"] for s in burn_now} == {0, 20}  # 0 before the burn, 1 / 0.05 during it
    proc = promtool("test", "rules", keep_cases(tmp_path / src.name, "fast burn"), cwd=tmp_path)  # they read them
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "slo:error_budget:ratio" in out and "slo:current_burn_rate:ratio" in out, out
