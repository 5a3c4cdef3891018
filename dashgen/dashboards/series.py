"""How Grafana names the series of a TraceQL metrics query, and how a panel renames them.

Grafana's Tempo backend turns each Tempo series into one frame (grafana/grafana
``pkg/tsdb/tempo/traceql/metrics.go``, ``TransformMetricsResponse`` and
``transformLabelsAndGetName``): with one label the series is named by its bare value
(``0.95``, ``asr``), with more by ``{k=v, k=v}`` with string values quoted
(``{p=0.95, span.audio.stage="asr"}``), key order sorted in newer builds and random
(Go map order) in older ones. The name goes into the value field's ``config.displayName``
and the frame's refId, so a panel's ``defaults.displayName`` is ignored (Grafana keeps a
data-source value over a panel default: ``setFieldConfigDefaults`` in
``packages/grafana-data/src/field/fieldOverrides.ts``) and ``byFrameRefID`` with a query's
refId matches nothing. Only a field override replaces the name.

Tempo's label keys: ``p`` (a float) on every quantile series (``pkg/traceql/engine_metrics.go``),
each ``by()`` attribute as written, and ``__name__`` = the function on an ungrouped
aggregate (``rate()`` is named ``rate``).

So every renamed series gets a ``byRegexp`` override whose pattern accepts the label
order either way (one lookahead per label); ``byRegexp`` tests the display name
(``nameMatcher.ts``). Grafana's own CUE types a matcher's ``options`` and an override
value as any value (``MatcherConfig.options?: _``, ``DynamicConfigValue.value?: _``); the
published JSON schemas' ``object`` is stricter than Grafana (see lint/schemas.py).
"""

from __future__ import annotations

import re

from ..catalog.model import quantile_label


def _bare(v) -> str:
    """A label value as Grafana names a one-label series: strings as they are, booleans ``true``/``false``
    (``strconv.FormatBool`` in ``metricsValueToString``), numbers bare (``0.95``)."""
    if isinstance(v, str):
        return v
    return ("true" if v else "false") if isinstance(v, bool) else f"{v:g}"


def _value(v) -> str:
    """A label value as Grafana prints it among several: strings quoted, booleans and numbers bare."""
    return f'"{v}"' if isinstance(v, str) else _bare(v)


def tempo_series_name(labels: dict) -> str:
    """The name Grafana gives a Tempo series with these labels (keys sorted, as newer Grafana does)."""
    if len(labels) == 1:
        return _bare(next(iter(labels.values())))
    return "{" + ", ".join(f"{k}={_value(v)}" for k, v in sorted(labels.items())) + "}"


def series_pattern(labels: dict) -> str:
    """A ``byRegexp`` pattern that matches the series with exactly these labels, in any key order.

    With one label, Grafana names the series by its bare value; an ungrouped quantile may also
    carry ``__name__`` (``{__name__=quantile_over_time, p=0.95}``), which the braces form accepts.
    """
    looks = "".join(f"(?=.*[{{ ]{re.escape(k)}={re.escape(_value(v))}[,}}])" for k, v in sorted(labels.items()))
    braces = looks + r"\{[^{}]*\}"  # the lookaheads first: each label follows "{" or " "
    if len(labels) == 1:
        bare = re.escape(_bare(next(iter(labels.values()))))
        return f"/^(?:{bare}|{braces})$/"
    return f"/^{braces}$/"


def rename(labels: dict, display: str) -> dict:
    """A field override giving the series with ``labels`` the display name ``display``."""
    return {"matcher": {"id": "byRegexp", "options": series_pattern(labels)},
            "properties": [{"id": "displayName", "value": display}]}


def rename_quantiles(quantiles, display: str = "{q}", **labels) -> list[dict]:
    """One override per quantile: ``display`` with ``{q}`` replaced by ``p95``..."""
    return [rename({"p": q, **labels}, display.replace("{q}", quantile_label(q))) for q in quantiles]


def rename_function(function: str, display: str) -> dict:
    """The one series of an ungrouped aggregate (``rate()``, ``avg_over_time()``): Tempo labels it
    ``__name__=<function>``, so Grafana names it ``rate``, ``avg_over_time``..."""
    return rename({"__name__": function}, display)
