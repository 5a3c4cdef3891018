"""Helpers for push tests and the push benchmark: a synthetic build output and a CLI runner."""

from __future__ import annotations

import contextlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

FOLDER = "voice-agent"
GROUP = "voice-latency"


def dashboard_json(i: int, *, folder: str = FOLDER, variant: str = "") -> dict:
    uid = f"voice-{i:03d}"
    return {
        "uid": uid,
        "title": f"Voice stage {i:03d}{variant}",
        "tags": ["dashgen", "voice"],
        "schemaVersion": 41,
        "editable": True,
        "timezone": "browser",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": [
            {"type": "datasource", "name": "tempo", "label": "Tempo", "query": "tempo",
             "current": {"text": "Tempo", "value": "tempo"}, "hide": 0, "options": [], "refresh": 1},
            {"type": "datasource", "name": "prometheus", "label": "Prometheus", "query": "prometheus",
             "current": {"text": "Prometheus", "value": "prometheus"}, "hide": 0, "options": [], "refresh": 1},
        ]},
        "panels": [
            {"id": 1, "type": "timeseries", "title": f"stage {i} p95{variant}",
             "datasource": {"type": "prometheus", "uid": "${prometheus}"},
             "targets": [{"refId": "A", "expr": f'histogram_quantile(0.95, sum by (le) (rate(stage_{i}_seconds_bucket[5m])))'}],
             "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8}},
            {"id": 2, "type": "table", "title": "slow traces",
             "datasource": {"type": "tempo", "uid": "${tempo}"},
             "targets": [{"refId": "A", "queryType": "traceql", "query": '{ name = "tts" && duration > 350ms }'}],
             "gridPos": {"x": 12, "y": 0, "w": 12, "h": 8}},
        ],
    }


def rule(uid: str, title: str, ds: str, expr: str, threshold: float = 350) -> dict:
    return {
        "uid": uid, "title": title, "condition": "C", "for": "5m", "noDataState": "NoData",
        "execErrState": "Error", "isPaused": False, "labels": {"severity": "page"},
        "annotations": {"summary": title, "__dashboardUid__": "voice-000", "__panelId__": "1"},
        "data": [
            {"refId": "A", "relativeTimeRange": {"from": 600, "to": 0}, "datasourceUid": ds,
             "model": {"refId": "A", "expr": expr}},
            {"refId": "B", "datasourceUid": "__expr__",
             "model": {"refId": "B", "type": "reduce", "expression": "A", "reducer": "last"}},
            {"refId": "C", "datasourceUid": "__expr__",
             "model": {"refId": "C", "type": "threshold", "expression": "B",
                       "conditions": [{"evaluator": {"type": "gt", "params": [threshold]}}]}},
        ],
    }


def group_json(*, folder: str = FOLDER, name: str = GROUP, rules: int = 2, threshold: float = 350,
               tempo: bool = False) -> dict:
    """A rule group on Prometheus; ``tempo``: the second rule queries Tempo (a catalog with
    ``alerting.tempo_rules`` builds such rules; Grafana takes them from 12.1 with ``tempoAlerting``)."""
    second = (rule("slow-turns-tempo", "Slow turns in Tempo", "tempo", '{ name = "turn" && duration > 2s } | rate()', threshold)
              if tempo else
              rule("llm-error-rate", "LLM error rate above 350 per mille", "prometheus",
                   "1000 * sum(rate(llm_errors_total[5m])) / sum(rate(llm_requests_total[5m]))", threshold))
    rs = [rule("tts-first-byte-p95", "TTS first byte p95 above 350 ms", "prometheus",
               "histogram_quantile(0.95, sum by (le) (rate(tts_first_byte_seconds_bucket[5m])))", threshold), second]
    return {"title": name, "folderUid": folder, "interval": 60, "rules": rs[:rules]}


def recording_group_json(*, folder: str = FOLDER, name: str = "voice-slo-recording") -> dict:
    """A group of Grafana-managed recording rules, as the build makes for an SLO."""
    r = rule("tts-bad-ratio-5m", "TTS bad event ratio over 5m", "prometheus",
             "1 - sum(rate(tts_first_byte_seconds_bucket{le=\"0.35\"}[5m])) / sum(rate(tts_first_byte_seconds_count[5m]))")
    r["data"], r["condition"], r["for"] = r["data"][:1], "A", "0s"
    r["record"] = {"metric": "slo:bad_event_ratio:rate5m", "from": "A"}
    return {"title": name, "folderUid": folder, "interval": 60, "rules": [r]}


def write_build(root: Path, n: int = 5, *, variant: str = "", groups: list[dict] | None = None,
                only: list[int] | None = None) -> Path:
    """Write a synthetic `dashgen build` output with ``n`` dashboards and one rule group."""
    root = Path(root)
    (root / "dashboards" / FOLDER).mkdir(parents=True, exist_ok=True)
    for old in (root / "dashboards" / FOLDER).glob("*.json"):
        old.unlink()
    manifest = {
        "folders": [{"uid": FOLDER, "title": "Voice agent"}],
        "datasources": {
            "tempo": {"type": "tempo", "name": "Tempo", "uid": "tempo", "variable": "tempo"},
            "prometheus": {"type": "prometheus", "name": "Prometheus", "uid": "prometheus", "variable": "prometheus"},
        },
        "owner_tag": "dashgen",
        "catalog": "voice-test",
    }
    (root / "dashboards" / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    for i in (only if only is not None else range(n)):
        (root / "dashboards" / FOLDER / f"voice-{i:03d}.json").write_text(json.dumps(dashboard_json(i, variant=variant), indent=2))
    gdir = root / "alerts" / "grafana" / FOLDER
    gdir.mkdir(parents=True, exist_ok=True)
    for old in gdir.glob("*.json"):
        old.unlink()
    for g in (groups if groups is not None else [group_json()]):
        (gdir / f"{g['title']}.json").write_text(json.dumps(g, indent=2))
    return root


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def all(self) -> str:
        return self.out + self.err


def run_cli(args: list[str], env: dict[str, str] | None = None) -> CliResult:
    """Run ``dashgen`` in-process through its real entry point (main), capturing output and exit code."""
    from dashgen.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in (env or {})}
    for k in ("GRAFANA_URL", "GRAFANA_TOKEN", "GRAFANA_USER", "GRAFANA_PASSWORD", "GRAFANA_ORG_ID"):
        saved.setdefault(k, os.environ.get(k))
        os.environ.pop(k, None)
    os.environ.update(env or {})
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(args)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return CliResult(code, out.getvalue(), err.getvalue())
