"""The ``signaltometrics`` connector's configuration, as a schema dashgen validates its fragment against.

Transcribed from the connector's own source in open-telemetry/opentelemetry-collector-contrib,
``connector/signaltometricsconnector/config/config.go`` at commit 07d3f1b892d3aac123491b39fd77303f5a28e09b
(``Config``, ``MetricInfo``, ``Attribute``, ``Histogram``, ``ExponentialHistogram``, ``Sum``, ``Gauge``
and ``validateMetricInfo``), plus ``sum.monotonic`` from ``config/config.schema.yaml`` at
14c63937397c19fe030eb0cd153a92dd54cc0282 (PR #45865, March 2026). ``Config.Unmarshal`` decodes with
``confmap.WithIgnoreUnused()``, so a collector that predates ``monotonic`` ignores the key instead of
failing; the same leniency would also swallow a misspelt key, which is why this schema rejects every
key the struct does not have.

``validate`` returns the problems the connector's ``Validate`` would report (and that one
leniency), worded as its errors are; OTTL is parsed by the collector, and by the tests' grammar.
"""

from __future__ import annotations

from typing import Any

SOURCE = ("open-telemetry/opentelemetry-collector-contrib "
          "connector/signaltometricsconnector/config/config.go@07d3f1b892d3aac123491b39fd77303f5a28e09b")

# struct -> {mapstructure key: type}; a type is a Python type, a struct name, or ("list", type).
STRUCTS: dict[str, dict[str, Any]] = {
    "Config": {"spans": ("list", "MetricInfo"), "datapoints": ("list", "MetricInfo"),
               "logs": ("list", "MetricInfo"), "profiles": ("list", "MetricInfo")},
    "MetricInfo": {"name": str, "description": str, "unit": str,
                   "include_resource_attributes": ("list", "Attribute"), "attributes": ("list", "Attribute"),
                   "conditions": ("list", str), "histogram": "Histogram",
                   "exponential_histogram": "ExponentialHistogram", "sum": "Sum", "gauge": "Gauge"},
    "Attribute": {"key": str, "optional": bool, "default_value": "any"},
    "Histogram": {"buckets": ("list", float), "count": str, "value": str},
    "ExponentialHistogram": {"max_size": int, "count": str, "value": str},
    "Sum": {"value": str, "monotonic": bool},
    "Gauge": {"value": str},
}
METRIC_KINDS = ("histogram", "exponential_histogram", "sum", "gauge")


def _check_type(value: Any, typ: Any, where: str, problems: list[str]) -> None:
    if typ == "any":
        if not isinstance(value, (str, int, float, bool)):
            problems.append(f"{where}: default_value must be a scalar")
        return
    if isinstance(typ, tuple):
        if not isinstance(value, list):
            problems.append(f"{where}: must be a list")
            return
        for i, item in enumerate(value):
            _check_type(item, typ[1], f"{where}[{i}]", problems)
        return
    if isinstance(typ, str):
        _check_struct(value, typ, where, problems)
        return
    ok = (isinstance(value, (int, float)) and not isinstance(value, bool) if typ is float
          else isinstance(value, int) and not isinstance(value, bool) if typ is int
          else isinstance(value, typ))
    if not ok:
        problems.append(f"{where}: must be {typ.__name__}, not {type(value).__name__}")


def _check_struct(value: Any, struct: str, where: str, problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"{where}: must be a mapping ({struct})")
        return
    fields = STRUCTS[struct]
    for key, item in value.items():
        if key not in fields:
            problems.append(f"{where}.{key}: {struct} has no field {key!r} (fields: {', '.join(fields)})")
        else:
            _check_type(item, fields[key], f"{where}.{key}", problems)


def _metric_info(mi: dict, where: str, problems: list[str]) -> None:
    """``validateMetricInfo``: what config.go checks beyond the types."""
    if not mi.get("name"):
        problems.append(f"{where}: missing required metric name configuration")
    seen = set()
    for attr in mi.get("attributes") or []:
        if not attr.get("key"):
            problems.append(f"{where}: attribute key missing")
        if attr.get("default_value") is not None and attr.get("optional"):
            problems.append(f"{where}: only one of default_value or optional should be set")
        if attr.get("key") in seen:
            problems.append(f"{where}: duplicate key found in attributes config: {attr.get('key')}")
        seen.add(attr.get("key"))
    kinds = [k for k in METRIC_KINDS if mi.get(k) is not None]
    if len(kinds) != 1:
        problems.append(f"{where}: exactly one of the metrics must be defined, {len(kinds)} found")
    for kind in kinds:
        if not (mi[kind] or {}).get("value"):
            problems.append(f"{where}.{kind}: value OTTL statement is required")
    hist = mi.get("histogram")
    if isinstance(hist, dict) and "buckets" in hist:
        buckets = hist["buckets"]
        if not buckets:
            problems.append(f"{where}.histogram: histogram buckets missing")
        elif list(buckets) != sorted(set(buckets)):
            # OTLP's explicit bounds must increase (the data model); the connector does not check it
            problems.append(f"{where}.histogram.buckets: must be strictly increasing")


def validate(config: Any) -> list[str]:
    """Problems of one connector's configuration (the mapping under ``signaltometrics[/name]:``)."""
    problems: list[str] = []
    _check_struct(config, "Config", "signaltometrics", problems)
    if problems:
        return problems
    if not any(config.get(k) for k in STRUCTS["Config"]):
        return ["signaltometrics: no configuration provided, at least one should be specified"]
    for signal in STRUCTS["Config"]:
        for i, mi in enumerate(config.get(signal) or []):
            _metric_info(mi, f"signaltometrics.{signal}[{i}]", problems)
    return problems
