"""Detection times: how long after a step in the traffic each paging rule pages, measured with
promtool on the built Prometheus rules (which are the Grafana-managed rules' expressions too).

For every measurement a page watches (``promtool_scenarios.watched``), after 6 good hours the
share of events just above the limit steps to 2x, 5x, 10x and 20x the error budget (the SLO's,
else ``1 - q`` of the p95), or the traffic shifts so the p95 reads 10% or 50% above the limit.
One promtool run evaluates every scenario (one test group per column); each asks, at the end, for the first time every page
alert was firing (``min_over_time(timestamp(ALERTS{alertstate="firing"})[...])``) and expects
nothing, so promtool reports what it got: that report is the measurement (``parse``).
``scripts/detection_times.py`` writes the table into docs/alerts.md; a test keeps it there.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from ..canonical import canonical_yaml
from .model import RuleSet
from .promtool import pages_file
from .promtool_scenarios import HISTORY, PER_MIN, Watched, mix_at, quantile_mix, traffic, watched
from .promtool_series import STEP

BURNS = (2, 5, 10, 20)
BREACHES = (1.1, 1.5)
AFTER = 4 * 60  # minutes watched after the step: every finite time to page of these steps is shorter
START, END = "<!-- detection-times:start -->", "<!-- detection-times:end -->"
_SAMPLE = re.compile(r'\{([^{}]*)\}\s*([-+0-9.eE]+)')  # one reported sample: labels, value


def scenarios(w: Watched) -> list[dict[float, float]]:
    """The traffic mix after the step, per column (``columns``), on ``w``."""
    bks = list(w.measurement.metric.buckets)
    budget = round(1 - w.stage.slo.objective, 12) if w.burn is not None else 1 - _q(w)
    return ([mix_at(bks, w.limit, min(1.0, k * budget)) for k in BURNS]
            + [quantile_mix(bks, w.limit, _q(w), f) for f in BREACHES])


def _q(w: Watched) -> float:
    return w.quantile.when[0][0].signal.q if w.quantile is not None else 0.95


def columns() -> list[str]:
    return [f"{k}x burn" for k in BURNS] + [f"p95 +{round((f - 1) * 100)}%" for f in BREACHES]


def probe_file(rs: RuleSet, rule_files: list[str]) -> str:
    """One test group per column; each steps every watched measurement at once (their series and
    rules are apart by stage), so promtool evaluates the rules once per column, not per rule."""
    team, end, ws = rs.catalog.alerting.team, HISTORY + AFTER, watched(rs)
    tests = []
    for j, col in enumerate(columns()):
        series = []
        for w in ws:
            good = mix_at(list(w.measurement.metric.buckets), w.limit, 0)
            series += traffic(w, [(HISTORY, PER_MIN, good), (AFTER, PER_MIN, scenarios(w)[j])])
        tests.append({
            "name": f"probe {j}: {col}", "interval": STEP, "input_series": series,
            "promql_expr_test": [{
                "expr": f'label_replace(min_over_time(timestamp(ALERTS{{alertstate="firing", severity="page", '
                        f'team="{team}"}})[{end}m:1m]), "probe", "{j}", "", "")',
                "eval_time": f"{end}m", "exp_samples": []}]})
    return canonical_yaml({"rule_files": rule_files, "evaluation_interval": rs.catalog.alerting.interval,
                           "tests": tests})


def parse(output: str) -> dict[tuple[str, str], float]:
    """``{(probe key, alertname): first firing, seconds}`` from promtool's report."""
    out = {}
    for labels, value in _SAMPLE.findall(output):
        lb = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        if "probe" not in lb:
            continue
        out[(lb["probe"], lb["alertname"])] = float(value)
    return out


def measure(rs: RuleSet, rule_dir: Path, promtool: str = "promtool") -> dict[str, dict[str, float | None]]:
    """``{alert name: {column: minutes to page or None}}`` for every paging rule, measured on its
    built expression (``promtool.pages_file``) in ``rule_dir``, a scratch directory."""
    ws = watched(rs)
    name, text = pages_file(rs, {r.name for w in ws for r in w.pages})
    (rule_dir / name).write_text(text, encoding="utf-8")
    (rule_dir / "detection.test.yaml").write_text(probe_file(rs, [name]), encoding="utf-8")
    proc = subprocess.run([promtool, "test", "rules", "detection.test.yaml"], cwd=rule_dir,
                          capture_output=True, text=True, timeout=600)
    got = parse(proc.stdout + proc.stderr)
    if "FAILED" not in proc.stdout + proc.stderr and proc.returncode != 0:
        raise RuntimeError(proc.stdout + proc.stderr)
    return {rule.name: {col: (None if (at := got.get((str(j), rule.name))) is None else at / 60 - HISTORY)
                        for j, col in enumerate(columns())}
            for w in ws for rule in w.pages}


def _duration(m: float | None) -> str:
    if m is None:
        return "never"
    m = round(m)
    return f"{m // 60}h {m % 60:02d}m" if m >= 60 else f"{m}m"


def render(table: dict[str, dict[str, float | None]]) -> str:
    cols = columns()
    lines = ["| paging rule | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for name, row in table.items():
        lines.append(f"| `{name}` | " + " | ".join(_duration(row.get(c)) for c in cols) + " |")
    return "\n".join(lines)


def replace_block(doc: str, table: str) -> str:
    """``doc`` with the text between the markers replaced by ``table``."""
    head, sep, rest = doc.partition(START)
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise ValueError(f"the document has no {START} ... {END} block")
    return f"{head}{START}\n{table}\n{END}{tail}"
