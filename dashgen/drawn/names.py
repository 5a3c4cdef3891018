"""Series and display names as Grafana shows them.

- ``pkg/tsdb/tempo/traceql/metrics.go`` (``transformLabelsAndGetName``): the Tempo backend names a
  TraceQL metrics series by its labels and sets that name as the field's ``config.displayName``;
- ``packages/grafana-data/src/field/fieldState.ts`` (``calculateFieldDisplayName``): the name
  without overrides: the datasource's displayName, else ``displayNameFromDS``, else the labels;
- ``packages/grafana-data/src/field/fieldOverrides.ts``: ``defaults.displayName`` fills only what
  the datasource left unset, so it never renames a Tempo series; overrides do, the last match winning;
- ``packages/grafana-data/src/transformations/matchers/nameMatcher.ts``: ``byName``, ``byRegexp``
  (``stringToJsRegex``), ``byFrameRefID``, ``byNames``.

tests/test_series_names.py checks :func:`display_names` against ``@grafana/data`` itself.
"""

from __future__ import annotations

import re

from ..records import dataclass  # dataclasses' decorator without generated code (start-up)
from .fields import defaults, overrides


def _go_value(value) -> str:
    """A label value as Go's ``%v`` prints it in the Tempo backend: strings quoted, numbers bare."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def tempo_series_name(labels: list[tuple[str, object]]) -> str:
    """The name Grafana's Tempo backend gives a metrics series (``pkg/tsdb/tempo/traceql/metrics.go``,
    ``transformLabelsAndGetName``): one label, its bare value; more, ``{k=v, ...}`` with string
    values quoted, in the order given (newer Grafana sorts the keys, older ones keep Go's map order).
    """
    if len(labels) == 1:
        return str(labels[0][1])
    return "{" + ", ".join(f"{k}={_go_value(v)}" for k, v in labels) + "}"


@dataclass(frozen=True)
class Frame:
    """One series as the datasource hands it to the panel."""

    name: str  # the value field's name (Tempo: the series name; Prometheus: "Value")
    labels: tuple[tuple[str, object], ...]
    ref_id: str
    ds_display_name: str | None  # config.displayName set by the datasource (Tempo always sets it)
    display_name_from_ds: str | None = None  # Prometheus: the rendered legendFormat


def tempo_frame(labels: list[tuple[str, object]]) -> Frame:
    name = tempo_series_name(labels)
    return Frame(name, tuple(labels), name, name)


def prometheus_frame(labels: list[tuple[str, object]], legend: str | None, ref_id: str) -> Frame:
    """Grafana's Prometheus backend: a "Value" field with the series labels; a legendFormat
    (``{{label}}`` substituted) becomes ``displayNameFromDS``, which a panel default can override."""
    shown = None
    if legend and legend != "__auto":
        shown = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: str(dict(labels).get(m.group(1), "")), legend)
    return Frame("Value", tuple(labels), ref_id, None, shown)


def js_regex(pattern: str) -> re.Pattern:
    """``stringToJsRegex``: ``/body/flags`` as written; anything else anchored as ``^...$``."""
    m = re.fullmatch(r"/(.*)/([gimsuy]*)", pattern, re.S)
    if not m:
        return re.compile(f"^{pattern}$")
    flags = (re.I if "i" in m.group(2) else 0) | (re.M if "m" in m.group(2) else 0) | (re.S if "s" in m.group(2) else 0)
    return re.compile(m.group(1), flags)


def field_name(frame: Frame, frames: list[Frame]) -> str:
    """The name a field has before overrides: what transformations (``reduceRow`` include lists,
    ``organize``, ``byName`` in a ``joinByField``) see."""
    return _base_name(frame, frames)


def _base_name(frame: Frame, frames: list[Frame]) -> str:
    """``calculateFieldDisplayName`` (``packages/grafana-data/src/field/fieldState.ts``) before
    overrides: the datasource's displayName, else displayNameFromDS, else the labels (only the value
    when every frame has the same single label key)."""
    if frame.ds_display_name:
        return frame.ds_display_name
    if frame.display_name_from_ds:
        return frame.display_name_from_ds
    keys = {tuple(k for k, _ in f.labels) for f in frames}
    if len(keys) == 1 and len(next(iter(keys))) == 1 and frame.labels:
        return str(frame.labels[0][1])
    parts = [] if frame.name == "Value" else [frame.name]
    if frame.labels:
        parts.append("{" + ", ".join(f'{k}="{v}"' for k, v in frame.labels) + "}")
    return " ".join(parts) or frame.name


def _matches(matcher: dict, frame: Frame, shown: str) -> bool:
    """``nameMatcher.ts``: byName compares the field name or its display name; byRegexp tests
    the display name; byFrameRefID the frame's refId (the series name, for Tempo frames)."""
    kind, opt = matcher.get("id"), matcher.get("options")
    if kind == "byName":
        return opt in (frame.name, shown)
    if kind == "byRegexp" and isinstance(opt, str):
        return bool(js_regex(opt).search(shown))
    if kind == "byFrameRefID":
        return opt == frame.ref_id
    if kind == "byNames" and isinstance(opt, dict):
        return frame.name in opt.get("names", []) or shown in opt.get("names", [])
    return False


def display_names(panel: dict, frames: list[Frame]) -> list[str]:
    """The names Grafana shows for ``frames`` on ``panel``.

    ``defaults.displayName`` applies only where the datasource set none: panel defaults fill a
    config value only when it is unset (``fieldOverrides.ts`` ``setFieldConfigDefaults``), and
    the Tempo backend sets ``DisplayName``. Overrides then apply in order, the last match winning.
    """
    default = defaults(panel).get("displayName")
    out = []
    for f in frames:
        shown = _base_name(f, frames)
        name = f.ds_display_name or default or shown
        for o in overrides(panel):
            if _matches(o.get("matcher") or {}, f, shown):
                for prop in o.get("properties") or []:
                    if prop.get("id") == "displayName" and prop.get("value"):
                        name = prop["value"]
        out.append(name)
    return out


def overrides_setting(panel: dict, prop: str) -> int:
    """How many overrides set ``prop`` (e.g. ``displayName``) for some field."""
    return sum(1 for o in overrides(panel) for p in o.get("properties") or []
               if isinstance(p, dict) and p.get("id") == prop)
