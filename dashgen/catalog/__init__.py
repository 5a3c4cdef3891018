"""The stage catalog: YAML in, a validated, frozen :class:`Catalog` out.

``spec`` declares every key (and generates the README's reference), ``model`` holds the
frozen dataclasses, ``load`` finds and parses a catalog with located errors, ``conventions``
is the one home of units, names, buckets, uids, durations and number formats, and
``presets/`` holds the bundled catalogs.
"""

from __future__ import annotations

from .conventions import quantile_label
from .load import PRESET_NAMES, PRESETS, load_catalog, parse_catalog, preset_path, resolve_catalog_source
from .model import Catalog, Datasource, Measurement, Stage, Threshold
from .spec import CATALOG_SPEC, TRACEQL_RESERVED_PREFIXES

__all__ = ["CATALOG_SPEC", "PRESET_NAMES", "PRESETS", "TRACEQL_RESERVED_PREFIXES", "Catalog", "Datasource",
           "Measurement", "Stage", "Threshold", "load_catalog", "parse_catalog", "preset_path",
           "resolve_catalog_source", "quantile_label"]
