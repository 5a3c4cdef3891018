"""The one TraceQL query builder. Definitions never concatenate query strings themselves.

Each piece is assembled in plain Python by the function that validates and escapes its
parts (a template engine added nothing but start-up time to one-line queries; measured in
the PR that removed ``templates/traceql``). It enforces the TraceQL rules Tempo's query engine
needs for metrics queries on voice spans (grafana/tempo ``pkg/traceql``):

- no ``select`` in metrics queries (it turns off Tempo's fast path);
- quantiles written ``0.95``, never ``.95``;
- at most 4 ``by`` attributes on quantile/histogram functions, at most 5 elsewhere;
- no ``by()`` on heatmap (``histogram_over_time``) queries;
- one attribute per metrics function, never an expression;
- string values escaped, so a value holding ``"`` or ``\\`` cannot break out of its string;
- every attribute used exists in the catalog.

``check_query`` re-checks a finished query string (``dashgen lint`` runs it on the output).
"""

from __future__ import annotations

import re

from ..records import dataclass  # dataclasses' decorator without generated code (start-up)
from ..catalog.conventions import format_number
from ..catalog.model import Catalog, Measurement, Stage
from ..voice.errors import stage_error
from ..voice.interrupted import interruption

INTRINSICS = frozenset({"name", "duration", "status", "kind", "statusMessage", "rootName", "rootServiceName", "traceDuration"})
QUANTILE_FUNCTIONS = frozenset({"quantile_over_time", "histogram_over_time"})
ATTRIBUTE_FUNCTIONS = frozenset({"quantile_over_time", "histogram_over_time", "min_over_time", "max_over_time",
                                 "avg_over_time", "sum_over_time"})
NO_ARG_FUNCTIONS = frozenset({"rate", "count_over_time"})
METRICS_FUNCTIONS = ATTRIBUTE_FUNCTIONS | NO_ARG_FUNCTIONS
OPERATORS = frozenset({"=", "!=", ">", ">=", "<", "<=", "=~", "!~"})
REGEX_OPERATORS = frozenset({"=~", "!~"})
VARIABLE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(:[a-z]+)?")


class QueryError(ValueError):
    """A query the builder refuses to write (a bug in a definition or a bad catalog value)."""


@dataclass(frozen=True)
class Attr:
    """A TraceQL attribute reference: ``span.x``, ``resource.x`` or an intrinsic like ``duration``."""

    scope: str  # "span" | "resource" | "intrinsic"
    name: str

    def __str__(self) -> str:
        return self.name if self.scope == "intrinsic" else f"{self.scope}.{self.name}"


@dataclass(frozen=True)
class Var:
    """A Grafana dashboard variable used as a string value: renders as ``"$name"``."""

    name: str

    def __post_init__(self):
        if not VARIABLE_RE.fullmatch(self.name):
            raise QueryError(f"bad variable name {self.name!r}")


@dataclass(frozen=True)
class ConditionVar:
    """A whole condition written by a Grafana variable: ``${name:raw}``.

    The variable (``dashboards/model_views.py``, ``ConditionVariable``) is hidden, and its one
    value is the TraceQL equality for the service chosen (``attribute = "value"``, the value
    quoted by Grafana), or ``true`` with All. So Tempo receives ``attribute = "x"`` for a service
    and ``true`` for All: no condition on the attribute at all (grafana/tempo
    ``pkg/traceql/ast_conditions.go``: a static adds no fetch condition). Never a regex.
    """

    name: str

    def __post_init__(self):
        if not VARIABLE_RE.fullmatch(self.name) or ":" in self.name:
            raise QueryError(f"bad variable name {self.name!r}")

    def render(self) -> str:
        return "${" + self.name + ":raw}"


@dataclass(frozen=True)
class Keyword:
    """An unquoted TraceQL enum value: ``status = error``, ``kind = server``."""

    word: str

    def __post_init__(self):
        if self.word not in KEYWORDS:
            raise QueryError(f"unknown TraceQL keyword {self.word!r}")


KEYWORDS = frozenset({"error", "ok", "unset", "server", "client", "producer", "consumer", "internal", "unspecified"})


def escape_string(value: str) -> str:
    """A TraceQL double-quoted string literal holding exactly ``value``."""
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        # Grafana's TraceQL grammar has no escapes for control characters (\n is a syntax error).
        raise QueryError(f"control character in TraceQL string value {value!r}")
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{out}"'


def literal(value) -> str:
    if isinstance(value, Keyword):
        return value.word
    if isinstance(value, Var):
        return '"${' + value.name + '}"' if ":" in value.name else f'"${value.name}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise QueryError("non-finite number in a query")
        return format_number(value)
    if isinstance(value, str):
        return escape_string(value)
    raise QueryError(f"unsupported literal {value!r}")


def format_quantile(q: float) -> str:
    """``0.95`` exactly as TraceQL wants it: a leading zero, never ``.95``."""
    q = float(q)
    if not 0 < q < 1:
        raise QueryError(f"quantile {q} is not between 0 and 1")
    text = format_number(q)
    if text.startswith("."):
        text = "0" + text
    return text


@dataclass(frozen=True)
class Cond:
    attr: Attr
    op: str
    value: object

    def render(self) -> str:
        if self.op not in OPERATORS:
            raise QueryError(f"unknown operator {self.op!r}")
        if self.op in REGEX_OPERATORS and isinstance(self.value, Var):
            # Grafana expands a variable into a regex as every chosen value joined by "|" (the
            # Tempo datasource interpolates with the pipe format); Tempo matches it per span
            raise QueryError(f"a variable in a regex ({self.attr} {self.op} ${self.value.name}): compare with = instead")
        # the value is already a TraceQL literal (escaped string, number, bool, "$var")
        return f"{self.attr} {self.op} {literal(self.value)}"


@dataclass(frozen=True)
class AnyOf:
    """Alternatives inside one spanset filter: ``(a || b)``, parenthesised so that a surrounding
    ``&&`` cannot split them (grafana/tempo ``pkg/traceql/expr.y``: ``%left <binOp> AND OR``, one
    precedence read left to right, so ``x && a || b`` would mean ``(x && a) || b``)."""

    conds: tuple[Cond, ...]

    def render(self) -> str:
        if len(self.conds) == 1:
            return self.conds[0].render()
        return "(" + " || ".join(c.render() for c in self.conds) + ")"


class TraceQL:
    """Builds TraceQL for one catalog; every attribute goes through ``span``/``resource``."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self._known = catalog.span_attributes()

    # attributes -----------------------------------------------------------------------------
    def span(self, name: str) -> Attr:
        if name not in self._known:
            raise QueryError(f"span attribute {name!r} is not in the catalog")
        return Attr("span", name)

    def resource(self, name: str) -> Attr:
        svc = self.catalog.service_attribute
        if not svc or svc != f"resource.{name}":
            raise QueryError(f"resource attribute {name!r} is not in the catalog")
        return Attr("resource", name)

    def scoped(self, scoped_name: str) -> Attr:
        scope, _, name = scoped_name.partition(".")
        return self.span(name) if scope == "span" else self.resource(name)

    @staticmethod
    def intrinsic(name: str) -> Attr:
        if name not in INTRINSICS:
            raise QueryError(f"unknown intrinsic {name!r}")
        return Attr("intrinsic", name)

    def error_condition(self) -> AnyOf:
        """A stage error (``voice.errors``): ``(status = error || span.<attribute> = true)``, or
        ``status = error`` alone when the catalog has no error attribute."""
        attribute = stage_error(self.catalog).attribute
        status = Cond(self.intrinsic("status"), "=", Keyword("error"))
        return AnyOf((status, Cond(self.span(attribute), "=", True)) if attribute else (status,))

    def stage_cond(self, stage: Stage) -> Cond:
        """The condition selecting one stage's spans: its stage attribute, else its span name."""
        sa = self.catalog.stage_attribute
        if sa:
            return Cond(self.span(sa), "=", stage.id)
        return Cond(self.intrinsic("name"), "=", stage.span)

    def not_interrupted(self, pairs: list[tuple[Stage, Measurement]] | tuple) -> list[Cond | AnyOf]:
        """Leave interrupted turns out of a latency query over these ``(stage, measurement)`` pairs
        (``voice.interrupted``): ``span.<attribute> != true`` when each of them leaves them out;
        ``(span.<attribute> != true || <stage>...)`` when some stage's spans keep them (a barge-in,
        whose every sample is an interruption, or a stage whose spans do not carry the attribute:
        on those, Tempo would compare a missing attribute as false and drop every span)."""
        intr = interruption(self.catalog)
        if not any(intr.excludes(s, m) for s, m in pairs):
            return []
        cond = Cond(self.span(intr.attribute), "!=", True)
        kept = tuple(self.stage_cond(s) for s, m in pairs if not intr.excludes(s, m))
        return [AnyOf((cond, *kept))] if kept else [cond]

    # building blocks --------------------------------------------------------------------------
    def spanset(self, *conds: Cond | AnyOf | ConditionVar) -> str:
        """One spanset filter: ``{ cond && cond }`` (``{ }`` matches every span)."""
        return "{ " + " && ".join(c.render() for c in conds) + " }" if conds else "{ }"

    def _check_by(self, function: str, by: tuple[Attr, ...]) -> None:
        if function == "histogram_over_time" and by:
            raise QueryError("no by() on heatmap (histogram_over_time) queries")
        limit = 4 if function in QUANTILE_FUNCTIONS else 5
        if len(by) > limit:
            raise QueryError(f"{function} takes at most {limit} by() attributes, got {len(by)}")

    def metrics(self, conds: tuple[Cond, ...] | list[Cond], function: str, attr: Attr | None = None,
                quantiles: tuple[float, ...] = (), by: tuple[Attr, ...] = ()) -> str:
        if function not in METRICS_FUNCTIONS:
            raise QueryError(f"unknown metrics function {function!r}")
        by = tuple(by)
        self._check_by(function, by)
        args: list[str] = []
        if function in ATTRIBUTE_FUNCTIONS:
            if attr is None:
                raise QueryError(f"{function} needs one attribute")
            args.append(str(attr))
        elif attr is not None:
            raise QueryError(f"{function} takes no attribute")
        if function == "quantile_over_time":
            if not quantiles:
                raise QueryError("quantile_over_time needs at least one quantile")
            args.extend(format_quantile(q) for q in quantiles)
        elif quantiles:
            raise QueryError(f"{function} takes no quantiles")
        # never a select() here: it turns off Tempo's fast path
        query = f"{self.spanset(*conds)} | {function}({', '.join(args)})"
        if by:
            query += f" by ({', '.join(map(str, by))})"
        return assert_query(query, self._known)

    def quantile(self, conds, attr: Attr, quantiles=(0.95,), by=()) -> str:
        return self.metrics(conds, "quantile_over_time", attr, tuple(quantiles), tuple(by))

    def histogram(self, conds, attr: Attr) -> str:
        return self.metrics(conds, "histogram_over_time", attr)

    def rate(self, conds, by=()) -> str:
        return self.metrics(conds, "rate", by=tuple(by))

    def count(self, conds, by=()) -> str:
        return self.metrics(conds, "count_over_time", by=tuple(by))

    def avg(self, conds, attr: Attr, by=()) -> str:
        return self.metrics(conds, "avg_over_time", attr, by=tuple(by))

    def max(self, conds, attr: Attr, by=()) -> str:
        return self.metrics(conds, "max_over_time", attr, by=tuple(by))

    def search(self, conds, select: tuple[Attr, ...] = (), structural: tuple[str, tuple[Cond, ...]] | None = None) -> str:
        struct = ""
        if structural:
            op, inner = structural
            if op not in (">>", ">", "~", "<<", "<"):
                raise QueryError(f"unknown structural operator {op!r}")
            struct = f"{op} {self.spanset(*inner)}"
        query = self.spanset(*conds) + (f" {struct}" if struct else "")
        if select:  # a search for tables: select() names the attribute columns
            query += f" | select({', '.join(map(str, select))})"
        return assert_query(query, self._known)


# ------------------------------------------------------------------------------------------------
# Checking finished query strings (lint, and the builder's own last line of defence).

_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"')
_ATTR_RE = re.compile(r"(?<![\w.$])(span|resource)\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)")
_FUNC_RE = re.compile(r"\b(" + "|".join(sorted(METRICS_FUNCTIONS)) + r")\s*\(")
_BY_RE = re.compile(r"\)\s*by\s*\(([^)]*)\)")


def _strip_strings(query: str) -> str:
    return _STRING_RE.sub('""', query)


_VARIABLE_REGEX_RE = re.compile(r'(=~|!~)\s*"(?:[^"\\]|\\.)*\$')


def variable_in_regex(query: str) -> bool:
    """A regex matcher whose pattern holds a Grafana variable (``=~ "$service"``, ``!~ "${x}"``)."""
    return bool(_VARIABLE_REGEX_RE.search(query))


def check_query(query: str, known_attributes: frozenset[str] | None = None,
                service_attribute: str | None = None) -> list[str]:
    """Problems with a finished TraceQL query; the builder raises on any, lint reports them."""
    problems: list[str] = []
    bare = _strip_strings(query)
    if bare.count('"') % 2:
        problems.append("unterminated string")
    if bare.count("{") != bare.count("}") or bare.count("(") != bare.count(")"):
        problems.append("unbalanced braces or parentheses")
    funcs = _FUNC_RE.findall(bare)
    if len(funcs) > 1:
        problems.append("more than one metrics function")
    if funcs:
        fn = funcs[0]
        if re.search(r"\|\s*select\s*\(", bare):
            problems.append("select() in a metrics query (drop it: it turns off Tempo's fast path)")
        if re.search(r"(?<![\d])\.\d", bare):
            problems.append("quantile written without a leading zero (write 0.95, not .95)")
        m = _BY_RE.search(bare)
        n_by = len([a for a in m.group(1).split(",") if a.strip()]) if m else 0
        if fn == "histogram_over_time" and m:
            problems.append("by() on a heatmap (histogram_over_time) query")
        limit = 4 if fn in QUANTILE_FUNCTIONS else 5
        if n_by > limit:
            problems.append(f"{n_by} by() attributes on {fn} (at most {limit})")
        arg = re.search(re.escape(fn) + r"\s*\(([^)]*)\)", bare)
        if arg and re.search(r"[+\-*/]", arg.group(1).split(",")[0]):
            problems.append(f"{fn} takes one attribute, not an expression")
    if known_attributes is not None:
        for scope, name in _ATTR_RE.findall(bare):
            if scope == "span" and name not in known_attributes:
                problems.append(f"attribute span.{name} is not in the catalog")
            if scope == "resource" and service_attribute is not None and f"resource.{name}" != service_attribute:
                problems.append(f"attribute resource.{name} is not in the catalog")
    return problems


def assert_query(query: str, known: frozenset[str]) -> str:
    problems = check_query(query, known)
    if problems:
        raise QueryError(f"{query}: {'; '.join(problems)}")
    return query
