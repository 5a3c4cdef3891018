"""The framework presets read only series that exist.

For the LiveKit and Pipecat presets, every series an alert rule (any form) or a PromQL panel
reads must be produced by someone:

- the framework itself: a metric in ``FRAMEWORK_METRICS`` below (its Prometheus name and
  labels, recorded from the framework's source), with no label the framework does not set;
- the generated Collector bridge: a histogram or counter the catalog marks ``source: bridge``,
  derived from a span and attribute the framework really emits (``FRAMEWORK_SPANS``); an error
  counter only for spans whose status the framework sets to ERROR (``ERROR_SPANS``);
- the SLO recording rules of the same build (``slo:*``).

A preset whose alert reads a series nobody produces fails, and the mutated presets at the end
prove the check can fail. The three tables come from the package's record of what each preset's
pinned framework version emits (dashgen/catalog/presets/frameworks/: LiveKit Agents at tags
livekit-agents@1.6.0 and @1.7.0, Pipecat at v1.7.0, each name with its source file); the research
notes are in docs/presets.md and docs/frameworks.md.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog, parse_catalog, preset_path
from dashgen.catalog.frameworks import framework, unemitted
from dashgen.catalog.model import Catalog
from dashgen.voice.good_turn import sli
from dashgen.voice.interrupted import interruption

# What the pinned framework version emits: the package's record of it, each name with its source file
# (dashgen/catalog/presets/frameworks/<framework>-<version>.yaml; tests/test_framework_contracts.py).
FRAMEWORK_PRESETS = ("livekit", "livekit-1.6", "pipecat")


def _pinned(preset: str):
    pin = load_catalog(preset).framework
    return framework(pin.name, pin.version)


# Prometheus names of the framework's own metrics (OpenTelemetry -> Prometheus: dots as _, unit
# "s" -> _seconds, histograms as _bucket/_count/_sum with le) -> the labels they carry.
FRAMEWORK_METRICS = {p: {name: set(labels) for name, (_, labels, _) in _pinned(p).metrics.items()}
                     for p in FRAMEWORK_PRESETS}

# Span names -> the attributes the pinned framework version sets on them, and the spans whose status it
# sets to ERROR on failure.
FRAMEWORK_SPANS = {p: {s: set(f.attributes) for s, f in _pinned(p).spans.items()} for p in FRAMEWORK_PRESETS}
ERROR_SPANS = {p: {s for s, f in _pinned(p).spans.items() if f.error_status} for p in FRAMEWORK_PRESETS}

SELECTOR_RE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\[|([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}")
GROUPING_RE = re.compile(r"\b(?:by|on|ignoring|without)\s*\(([^)]*)\)")
FUNCTIONS = {"rate", "sum", "max", "min", "histogram_quantile", "sum_over_time", "count_over_time", "clamp_min",
             "vector", "by", "on", "without", "ignoring", "group_left"}


def queries(built) -> list[tuple[str, str]]:
    """``(where, PromQL)`` of every Prometheus query the build contains: rules in every form, panels."""
    out = []
    for rel, content in built.artifacts.items():
        if rel.startswith("alerts/prometheus/"):
            out += [(rel, r["expr"]) for g in yaml.safe_load(content)["groups"] for r in g["rules"]]
        elif rel.startswith("alerts/grafana/"):
            out += [(rel, q["model"]["expr"]) for r in json.loads(content)["rules"] for q in r["data"]
                    if q["model"].get("datasource", {}).get("type") == "prometheus"]
        elif rel.startswith("dashboards/") and rel.endswith(".json"):
            out += [(rel, t["expr"]) for p in json.loads(content)["panels"] for t in p.get("targets", [])
                    if (t.get("datasource") or {}).get("type") == "prometheus"]
    return out


def selectors(expr: str) -> list[tuple[str, dict[str, str]]]:
    """``(metric, {label: value matched})`` of every series selector in ``expr``."""
    out = []
    for m in SELECTOR_RE.finditer(expr):
        name, matchers = (m.group(1), m.group(2) or "") if m.group(1) else (m.group(3), "{" + m.group(4) + "}")
        if name in FUNCTIONS:
            continue
        out.append((name, dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"([^"]*)"', matchers))))
    return out


def unproduced(catalog: Catalog, preset: str) -> list[str]:
    """Every series read by ``catalog``'s build that neither the framework, the bridge nor the build's own
    recording rules produce, as ``where: what`` lines."""
    built = build_artifacts(catalog)
    recorded = {r.records.metric for r in built.rules.rules if r.records is not None}
    metrics: dict[str, list] = {}
    for s in catalog.stages:
        for m in s.measurements:
            metrics.setdefault(m.metric.name, []).append((s, m))
    a = catalog.alerting
    counters = {a.runs_metric: "runs", a.errors_metric: "errors", a.nothing_metric: "nothing"}
    spans, framework = FRAMEWORK_SPANS[preset], FRAMEWORK_METRICS[preset]
    problems = []
    for where, expr in queries(built):
        grouping = {x.strip() for g in GROUPING_RE.findall(expr) for x in g.split(",") if x.strip()}
        for name, labels in selectors(expr):
            base = re.sub(r"_(bucket|count|sum)$", "", name)
            if name in recorded:
                continue
            if base in metrics:
                # the stage the selector picks (its stage label), or every stage recorded as this histogram
                # (the catalog checks that one histogram has one stage label)
                label = metrics[base][0][1].metric.label
                picked = [(s, m) for s, m in metrics[base] if label is None or labels.get(label, s.id) == s.id]
                m = metrics[base][0][1]
                if m.metric.source == "framework":
                    if base not in framework:
                        problems.append(f"{where}: {name}: {preset} has no such metric")
                    elif (set(labels) | grouping) - framework[base] - {"le", "sloth_id", "sloth_service", "sloth_slo",
                                                                  "sloth_window"}:
                        problems.append(f"{where}: {name}: {preset} sets no label "
                                        f"{sorted((set(labels) | grouping) - framework[base] - {'le'})}")
                elif m.metric.source == "bridge":
                    problems += [f"{where}: {name}: {preset} puts no {m.attribute} on a {s.span!r} span"
                                 for s, m in picked if m.attribute not in spans.get(s.span, ())]
                else:
                    problems.append(f"{where}: {name}: recorded by the application's SDK, which {preset} is not")
            elif catalog.good_turn and name in (catalog.good_turn.turns_metric, catalog.good_turn.good_metric):
                # the bridge counts turn spans: by the verdict on them, else (a framework that only traces)
                # by the caller-felt latency the turn span itself carries (collector.bridge.good_turn_entries)
                felt = sli(catalog).felt
                if a.source != "bridge":
                    problems.append(f"{where}: {name}: recorded by the application's SDK, which {preset} is not")
                elif felt[0].span != catalog.turn_span or felt[1].attribute not in spans.get(catalog.turn_span, ()):
                    problems.append(f"{where}: {name}: {preset} puts no {felt[1].attribute} on its turn span")
            elif name in counters and a.source == "bridge":
                read = [s for s in catalog.stages if f'"{s.id}"' in expr] or list(catalog.stages)
                for s in read:
                    if s.span not in spans:
                        problems.append(f"{where}: {name}: {preset} has no {s.span!r} span to count")
                    if counters[name] == "errors" and s.span not in ERROR_SPANS[preset]:
                        problems.append(f"{where}: {name}: {preset} never sets ERROR on {s.span!r} spans")
            else:
                problems.append(f"{where}: {name}: nobody produces it")
    return problems


@pytest.mark.parametrize("preset", FRAMEWORK_PRESETS)
def test_every_series_a_preset_reads_is_produced(preset):
    catalog = load_catalog(preset)
    assert unproduced(catalog, preset) == []
    built = build_artifacts(catalog)
    exprs = [e for _, e in queries(built)]
    assert any("histogram_quantile" in e for e in exprs) and any("slo:sli_error:ratio_rate" in e for e in exprs)


def unmarked(c: Catalog, preset: str) -> list[str]:
    """The attribute that marks an interrupted turn, on every span it is read on (voice.interrupted),
    against what the pinned framework version sets on that span."""
    spans, intr = FRAMEWORK_SPANS[preset], interruption(c)
    return [f"convention: no {intr.attribute} on {s.span!r}" for s in c.stages
            if intr.carried_by(s) and any(intr.excludes(s, m) for m in s.measurements)
            and intr.attribute not in spans.get(s.span, ())]


def test_presets_measure_what_the_frameworks_record_and_nothing_else():
    # the spans and attributes the catalog reads (dashboards, TraceQL), against the pinned version's record
    # (dashgen.catalog.frameworks.unemitted; every preset: tests/test_framework_contracts.py)
    for preset in ("livekit", "pipecat"):
        assert unemitted(load_catalog(preset)) == []
    lk, pc = "livekit-agents-1.7 (livekit/agents@livekit-agents@1.7.0)", "pipecat-1.7 (pipecat-ai/pipecat@v1.7.0)"
    # the old LiveKit preset's spans: llm_request carries no ttft, agent_turn no interruption delay
    assert unemitted(_mutated("livekit", "span: llm_node", "span: llm_request")) == [
        f"llm.first_byte reads attribute 'lk.response.ttft', which {lk} does not set on 'llm_request' spans"]
    assert unemitted(_mutated("livekit", "span: user_speaking", "span: agent_speaking")) == [
        f"user_speaking.detection_delay reads attribute 'lk.interruption.detection_delay', which {lk} does not set "
        f"on 'agent_speaking' spans"]
    assert unemitted(_mutated("livekit", "span: user_speaking", "span: user_interrupting")) == [
        f"stage user_speaking reads span 'user_interrupting', which {lk} does not start"]
    assert unemitted(_mutated("pipecat", "  attribute: turn.was_interrupted", "  attribute: turn.interrupted")) == [
        f"turn.interrupted reads attribute 'turn.interrupted', which {pc} does not set on 'turn' spans"]
    # the attribute that marks an interrupted turn is the framework's, on the span it sets it on
    for preset in FRAMEWORK_PRESETS:
        assert unmarked(load_catalog(preset), preset) == []
    assert unmarked(_mutated("pipecat", "interrupted_attribute: turn.was_interrupted",
                             "interrupted_attribute: turn.interrupted"), "pipecat") == [
        "convention: no turn.interrupted on 'turn'"]
    assert unmarked(_mutated("livekit", "interrupted_on_stage_spans: false", "interrupted_on_stage_spans: true"),
                    "livekit") == [f"convention: no lk.interrupted on {s!r}" for s in ("user_turn", "llm_node", "tts_node")]
    # what the old presets ignored: Pipecat's turn latency and interruptions, LiveKit's end-of-utterance
    # and transcription delays (read from LiveKit's own histograms)
    pipecat, livekit = load_catalog("pipecat"), load_catalog("livekit")
    assert {m.attribute for m in pipecat.stage("turn").measurements} == {"turn.user_bot_latency_seconds"}
    assert [f.attribute for f in pipecat.stage("turn").flags] == ["turn.was_interrupted"]
    user_turn = {m.attribute: m.metric for m in livekit.stage("user_turn").measurements}
    assert {a: (m.name, m.source, m.label) for a, m in user_turn.items()} == {
        "lk.transcription_delay": ("lk_agents_turn_transcription_delay_seconds", "framework", None),
        "lk.end_of_turn_delay": ("lk_agents_turn_end_of_turn_delay_seconds", "framework", None)}


def test_livekit_alerts_select_its_histograms_by_name_without_a_stage_label():
    built = build_artifacts(load_catalog("livekit"))
    latency = yaml.safe_load(built.artifacts["alerts/prometheus/livekit-latency.yaml"])["groups"][0]["rules"]
    tts = next(r for r in latency if r["labels"]["stage"] == "tts")
    # guarded by the histogram's own count, summed as the quantile is: a p95 needs at least 1/(1-0.95) = 20
    # events in its window (voice/paging.py), more than alerting.min_events (10)
    assert tts["expr"] == ("((histogram_quantile(0.95, sum by (le) (rate(lk_agents_turn_tts_ttfb_seconds_bucket[5m])))) "
                           "and (sum(increase(lk_agents_turn_tts_ttfb_seconds_count[5m])) >= 20)) > 0.35")
    assert "stage=" not in "".join(r["expr"] for r in latency)
    # no stage span of LiveKit's says ERROR, so there is no error-rate alert to fire on nothing
    assert not any(rel.endswith("livekit-errors.yaml") for rel in built.artifacts)


def _mutated(preset: str, old: str, new: str) -> Catalog:
    text = preset_path(preset).read_text(encoding="utf-8")
    assert old in text, old
    return parse_catalog(text.replace(old, new, 1), f"{preset}-mutated.yaml")


@pytest.mark.parametrize("preset, old, new, complaint", [
    # the old LiveKit preset's invented histogram name
    ("livekit", "source: framework, name: lk_agents_turn_llm_ttft_seconds",
     "source: framework, name: lk_response_ttft_seconds", "livekit has no such metric"),
    # a label LiveKit never sets
    ("livekit", "{source: framework, name: lk_agents_turn_tts_ttfb_seconds,",
     "{source: framework, label: stage, name: lk_agents_turn_tts_ttfb_seconds,", "livekit sets no label ['stage']"),
    # an error-rate alert on a span LiveKit never marks ERROR
    ("livekit", "description: The tts_node span (voice/generation.py); past 350 ms the pause before the agent "
                "speaks feels long.\n    records_errors: false",
     "description: The tts_node span.\n    records_errors: true", "never sets ERROR on 'tts_node' spans"),
    # Pipecat records no metrics: a histogram the preset claims it does is read from nowhere
    ("pipecat", "metric: &ttfb_metric\n", "metric: &ttfb_metric\n          source: sdk\n",
     "recorded by the application's SDK, which pipecat is not"),
    ("pipecat", "span: stt", "span: stt_request", "puts no metrics.ttfb on a 'stt_request' span"),
    # the old Pipecat preset's error alerts on every stage: only llm spans say ERROR
    ("pipecat", "Started and ended by hand, without an error status.\n    records_errors: false",
     "Started and ended by hand.", "never sets ERROR on 'tts' spans"),
])
def test_a_preset_reading_a_series_nobody_produces_fails(preset, old, new, complaint):
    problems = unproduced(_mutated(preset, old, new), preset)
    assert any(complaint in p for p in problems), problems


def test_good_turn_counters_need_the_felt_latency_on_the_turn_span():
    """LiveKit only traces: its good-turn counters come from the bridge, which can judge a turn span only by
    the latency the turn span carries. Judged by a latency on another span, nobody would count them."""
    moved = _mutated("livekit", "good_turn:\n", "good_turn:\n  latency: llm.first_byte\n")
    problems = unproduced(moved, "livekit")
    assert problems and all("livekit puts no lk.response.ttft on its turn span" in p for p in problems), problems
