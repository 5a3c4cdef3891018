"""The OpenTelemetry Collector side of dashgen: a ``signaltometrics`` bridge from spans to the
series the alert rules read (``bridge``), validated against the connector's config struct (``schema``)."""

from .bridge import PATH, collector_artifacts, entries, fragment

__all__ = ["PATH", "collector_artifacts", "entries", "fragment"]
