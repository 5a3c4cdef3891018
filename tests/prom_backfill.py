"""Counter samples into a real Prometheus, for tests that ask what the built rules answer.

The samples are written here as OpenMetrics text by hand (one ``# TYPE`` line per family, samples
in seconds, ``# EOF``), never by dashgen's own recorder, then backfilled with
``promtool tsdb create-blocks-from openmetrics`` and served by a throw-away ``prometheus`` on
127.0.0.1 (``dashgen.telemetry.promserver``: the process harness only). A backfilled series has no
staleness marker, so it stays visible for Prometheus' 5 minute look-back after its last sample,
as a scraped series does for one scrape after its target stops exposing it.
"""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from pathlib import Path

from dashgen.telemetry.promserver import PrometheusServer, create_blocks

# A whole hour, two days back: inside the server's 30 day retention, and every sample in the past.
T0 = (int(time.time()) // 3600 - 48) * 3600

Series = dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[float, float]]]  # (name, labels) -> [(t, v)]


def openmetrics(series: Series) -> str:
    """Counters only: ``name`` ends in ``_total``, the family is the name without it."""
    lines, families = [], {}
    for (name, labels), samples in sorted(series.items()):
        assert name.endswith("_total"), name
        families.setdefault(name[: -len("_total")], []).append((name, labels, samples))
    for family, members in sorted(families.items()):
        lines.append(f"# TYPE {family} counter")
        for name, labels, samples in members:
            inner = ",".join(f'{k}="{v}"' for k, v in labels)
            for t, v in samples:
                lines.append(f"{name}{{{inner}}} {v:g} {t:.3f}")
    return "\n".join(lines) + "\n# EOF\n"


@contextmanager
def prometheus(series: Series, workdir: Path):
    """A server holding ``series``; ``prom.query(expr, at)`` asks it."""
    workdir.mkdir(parents=True, exist_ok=True)
    create_blocks(openmetrics(series), workdir / "data")
    with PrometheusServer(workdir / "data", [], workdir) as prom:
        yield prom


def firing(prom, expr: str, at: float) -> bool:
    """An alert expression holds (returns any series) at ``at``."""
    return bool(prom.query(expr, at))


def scoped(expr: str, label: str, value: str) -> str:
    """``expr`` with ``label="value"`` added to every selector, so one server holds several scenarios
    and each is asked through the rule's own expression."""
    out = re.sub(r"(\{[^{}]*)\}", lambda m: m.group(1) + ("," if m.group(1) != "{" else "") + f'{label}="{value}"}}',
                 expr)
    assert out.count(f'{label}="{value}"') == expr.count("{"), expr
    return out
