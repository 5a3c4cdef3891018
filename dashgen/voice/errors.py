"""What a stage error is: the one definition every consumer reads.

A stage failed when its span's status is ERROR (the OpenTelemetry norm: an SDK or a framework sets
it when the stage raises) **or** when the catalog's ``convention.error_attribute`` is ``true`` on
the span (a convention that flags failures itself). Either alone is an error; neither is required.

Its readers, each in its own language:

- the dashboards' TraceQL (``queries.traceql.TraceQL.error_condition``):
  ``(status = error || span.<attribute> = true)``; ``status`` is a TraceQL intrinsic and ``error``
  its keyword (grafana/tempo ``pkg/traceql/lexer.go``: ``"status": STATUS``,
  ``"error": STATUS_ERROR``; an intrinsic since TraceQL's first release, Tempo 2.0,
  grafana.com/docs/tempo/v2.0.x/traceql, so within the catalog's oldest supported Tempo, 2.6;
  the alternatives are parenthesised, as ``expr.y`` gives ``&&`` and ``||`` one precedence);
- the Collector bridge's OTTL (``collector.bridge``): one condition per alternative, which the
  ``signaltometrics`` connector ORs (its README, "Conditions": "evaluated on the incoming data and
  are ORed together"): ``status.code == STATUS_CODE_ERROR`` and ``attributes["<attribute>"] == true``;
- the errors counter (``StageError.counter``, the catalog's ``alerting.counters.errors``) that the
  error-rate alerts and the ratio panel divide in PromQL, and that the bridge's entries and the SDK
  path (``telemetry.instrument``) increment on exactly these spans;
- ``telemetry.verify``, which checks spans against the same predicate (``failed``).

A stage with ``records_errors: false`` never marks a failure either way: it has no errors counter
and no error-rate alert (``counted``).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..records import dataclass  # dataclasses' decorator without generated code (start-up)
from ..catalog.model import Catalog, Stage

STATUS_CODE_ERROR = 2  # OTLP Status.StatusCode STATUS_CODE_ERROR (opentelemetry-proto trace.proto)


@dataclass(frozen=True)
class StageError:
    """The definition for one catalog: span status ERROR, or ``attribute`` == true when set."""

    attribute: str | None  # the catalog's error attribute, if its convention has one
    counter: str | None  # the Prometheus counter of stage errors (alerting.counters.errors), if alerting

    def failed(self, status_code: int, attributes: Mapping[str, object]) -> bool:
        """Whether a span with this status code and these attribute values is a stage error."""
        return status_code == STATUS_CODE_ERROR or (self.attribute is not None
                                                    and attributes.get(self.attribute) is True)

    def describe(self) -> str:
        """The definition in words, for panel descriptions and docs."""
        return "span status error" + (f" or {self.attribute} = true" if self.attribute else "")


def stage_error(catalog: Catalog) -> StageError:
    return StageError(catalog.error_attribute, catalog.alerting.errors_metric if catalog.alerting else None)


def is_counted(stage: Stage) -> bool:
    """Whether the stage's errors are counted (an errors counter, an error-rate alert): its spans
    mark failures (``records_errors``)."""
    return stage.records_errors


def counted(catalog: Catalog) -> list[Stage]:
    """The stages whose errors are counted (``is_counted``), in catalog order."""
    return [s for s in catalog.stages if is_counted(s)]
