"""Canonical bytes: the one JSON and YAML encoding of every file dashgen writes.

Sorted keys, 2-space indent, trailing newline, no stray nulls. The same definitions always give
the same bytes: no timestamps, no sets, no absolute paths, floats that are whole numbers written
as integers. ``None`` is dropped everywhere; ``NULL`` is the one null Grafana needs (the base
threshold step). A leaf: the generators (dashboards, alerts, collector) encode with it, and
``artifacts`` (the output tree, a layer up) re-exports it.
"""

from __future__ import annotations

import json
from typing import Any

import yaml


class _GrafanaNull:
    """Serialised as JSON null by ``to_plain``; everything else that is None is dropped."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NULL"


NULL = _GrafanaNull()


def to_plain(obj: Any) -> Any:
    """grafanalib objects -> plain JSON data, dropping None (but keeping NULL as null)."""
    while hasattr(obj, "to_json_data"):
        obj = obj.to_json_data()
    if obj is NULL:
        return None
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj if v is not None]
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        return obj
    if isinstance(obj, float):
        return int(obj) if obj.is_integer() else obj
    raise TypeError(f"cannot render {type(obj).__name__}")


def canonical_json(data: Any) -> str:
    return json.dumps(to_plain(data), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


# libyaml's emitter when pyyaml has it (10x faster; a test checks it writes the same bytes
# as the pure-Python one for every generated file, so output does not depend on the machine).
_BASE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_RESOLVED: dict[tuple, str] = {}


class _Dumper(_BASE_DUMPER):  # type: ignore[misc, valid-type]
    """Remembers implicit-tag resolution: the same keys and values recur thousands of times, and
    resolving each one (a regex per implicit type) is most of what dumping costs."""

    def resolve(self, kind, value, implicit):
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        key = (value, tuple(implicit) if implicit is not None else None)
        tag = _RESOLVED.get(key)
        if tag is None:
            tag = _RESOLVED[key] = super().resolve(kind, value, implicit)
        return tag


_DUMPER = _Dumper


def canonical_yaml(data: Any, dumper: type = _DUMPER) -> str:
    return yaml.dump(to_plain(data), Dumper=dumper, sort_keys=True, default_flow_style=False, allow_unicode=True,
                     width=100)


# libyaml's parser when pyyaml was built with it: ten times faster on rule files, which
# ``dashgen build`` lints before writing them (lint/gate.py). Same data as yaml.safe_load.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(path: str, text: str) -> Any:
    """A JSON or YAML artifact as data, by its suffix; raises ``ValueError``/``yaml.YAMLError``."""
    if path.endswith(".json"):
        return json.loads(text)
    if path.endswith((".yaml", ".yml")):
        return yaml.load(text, Loader=_YAML_LOADER)
    raise ValueError("not JSON or YAML")
