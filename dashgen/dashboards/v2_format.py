"""Which format a parsed dashboard file is in: a v2 object (``dashboard.grafana.app/v2...``) or a
classic dashboard.

Apart from ``dashboards/v2.py`` (the conversions) so that readers of classic dashboards (lint,
``dashgen.drawn``) can ask without loading the conversions: a classic build never needs them.
"""

from __future__ import annotations

from typing import Any

API_GROUP = "dashboard.grafana.app"


def is_v2(doc: Any) -> bool:
    """Whether a parsed dashboard file is a v2 object (rather than a classic dashboard)."""
    return isinstance(doc, dict) and str(doc.get("apiVersion", "")).startswith(f"{API_GROUP}/v2")
