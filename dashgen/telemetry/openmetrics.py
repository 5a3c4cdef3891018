"""OpenTelemetry SDK metrics, sampled over simulated time, as OpenMetrics text with timestamps.

``promtool tsdb create-blocks-from openmetrics`` turns the text into TSDB blocks, so a real
Prometheus holds what an application instrumented with ``dashgen.telemetry.instrument`` would
have been scraped for over the simulated window. Names go through the same OTLP -> Prometheus
translation as Prometheus' own OTLP receiver (``conventions.otlp_metric_name``): what lands in the
TSDB is what the SDK's metrics are called there, not what the rules hope for.

Format (OpenMetrics 1.0): one ``# TYPE`` line per family, then the family's samples, every
sample with a timestamp in seconds, ``# EOF`` at the end; counters as ``<family>_total``,
histograms as cumulative ``_bucket{le}`` (with ``+Inf``), ``_count`` and ``_sum``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..catalog.conventions import label_name, otlp_metric_name
from ..queries.promql import number


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs) -> str:
    inner = ",".join(f'{k}="{_escape(str(v))}"' for k, v in pairs)
    return "{" + inner + "}" if inner else ""


@dataclass
class Family:
    name: str  # without _total
    kind: str  # "counter" | "histogram"
    samples: dict[tuple, list[tuple[float, float]]] = field(default_factory=dict)  # (suffix, labels) -> [(ts, v)]

    def add(self, suffix: str, labels: tuple, ts: float, value: float) -> None:
        self.samples.setdefault((suffix, labels), []).append((ts, value))


class OpenMetricsRecorder:
    """Samples a metric reader's cumulative state at chosen times (``sample``); ``text()`` renders it."""

    def __init__(self, reader):
        self.reader = reader  # an opentelemetry.sdk.metrics.export.InMemoryMetricReader
        self.families: dict[str, Family] = {}
        self.last_ts = float("-inf")

    def sample(self, ts_seconds: float) -> None:
        ts = max(ts_seconds, self.last_ts + 0.001)  # strictly increasing per series
        self.last_ts = ts
        data = self.reader.get_metrics_data()
        for rm in data.resource_metrics if data else ():
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    self._metric(metric, ts)

    def _metric(self, metric, ts: float) -> None:
        points = metric.data.data_points
        if hasattr(metric.data, "is_monotonic"):
            kind = "counter" if metric.data.is_monotonic else "updown"
        else:
            kind = "histogram"
        name = otlp_metric_name(metric.name, metric.unit or "", kind)
        if kind == "counter":
            fam = self.families.setdefault(name, Family(name.removesuffix("_total"), "counter"))
        else:
            fam = self.families.setdefault(name, Family(name, "histogram" if kind == "histogram" else "gauge"))
        for p in points:
            labels = tuple(sorted((label_name(k), v) for k, v in (p.attributes or {}).items()))
            if kind == "histogram":
                running = 0
                for bound, n in zip(list(p.explicit_bounds) + [float("inf")], p.bucket_counts):
                    running += n
                    le = "+Inf" if bound == float("inf") else number(bound)
                    fam.add("_bucket", labels + (("le", le),), ts, running)
                fam.add("_count", labels, ts, p.count)
                fam.add("_sum", labels, ts, p.sum)
            else:
                fam.add("_total" if kind == "counter" else "", labels, ts, p.value)

    def text(self) -> str:
        lines = []
        for fam in sorted(self.families.values(), key=lambda f: f.name):
            lines.append(f"# TYPE {fam.name} {fam.kind}")
            for (suffix, labels), points in sorted(fam.samples.items()):
                series = fam.name + suffix + _labels(labels)
                lines += [f"{series} {number(v)} {ts:.3f}" for ts, v in points]
        lines.append("# EOF")
        return "\n".join(lines) + "\n"
