"""One definition of a stage error (span status ERROR, or the catalog's error attribute), read alike
by the overview's TraceQL panel, the Collector bridge's errors counter and the error-rate alert.

Each reader is run, not pattern-matched: the panel's spanset filter and the bridge's OTTL
conditions are evaluated on spans by small evaluators written here (the subset dashgen writes;
anything else is an error, never a silent pass), and the alert's PromQL is asked by a real
Prometheus holding the counters the bridge derives from those spans.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog
from dashgen.collector import PATH
from dashgen.collector.bridge import CONNECTOR
from dashgen.voice.errors import counted, stage_error

from otlp_names import prometheus_label, prometheus_name
from ottl_grammar import tokenize
from prom_backfill import T0, firing, prometheus, scoped
from traceql_grammar import AllValue, assert_traceql_parses

CATALOGS = ("default", "pipecat", "livekit")
SERVICE = "voice-agent"
# that one service chosen: the hidden condition variable holds the equality
CHOSEN = {"service": SERVICE, "service_filter": f'resource.service.name = "{SERVICE}"'}


@pytest.fixture(scope="module", params=CATALOGS)
def built(request):
    return build_artifacts(load_catalog(request.param))


def make_span(catalog, stage, *, status="unset", flagged=None) -> dict:
    """A stage span as Tempo and the Collector see it; ``flagged`` sets the error attribute."""
    attrs = {catalog.session_attribute: "s1", catalog.turn_attribute: "t1"}
    if catalog.stage_attribute:
        attrs[catalog.stage_attribute] = stage.id
    if flagged is not None and catalog.error_attribute:
        attrs[catalog.error_attribute] = flagged
    return {"name": stage.span, "status": status, "span": attrs, "resource": {"service.name": SERVICE}}


def kinds_of_span(catalog, stage) -> dict[str, tuple[dict, bool]]:
    """name -> (span, is it an error by the definition)."""
    out = {"status error only": (make_span(catalog, stage, status="error"), True),
           "ok": (make_span(catalog, stage, status="ok", flagged=False), False),
           "unset": (make_span(catalog, stage), False)}
    if catalog.error_attribute:
        out["attribute only"] = (make_span(catalog, stage, flagged=True), True)
        out["both"] = (make_span(catalog, stage, status="error", flagged=True), True)
    return out


# --- TraceQL: a spanset-filter evaluator ----------------------------------------------------------
_TQL = re.compile(r'\s*(?:(?P<str>"(?:\\.|[^"\\])*")|(?P<op>&&|\|\||!=|=~|!~|>=|<=|=|>|<|\(|\))'
                  r'|(?P<num>-?\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))')


def _tql_tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text.rstrip()):
        m = _TQL.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"TraceQL the test cannot read at {text[pos:]!r}")
        out.append((m.lastgroup, m.group(m.lastgroup)))
        pos = m.end()
    return out


def spanset_filter(query: str) -> str:
    return query[query.index("{") + 1: query.index("}")]


def traceql_matches(query: str, span: dict, variables: dict[str, str]) -> bool:
    """``variables`` as Grafana interpolates them (traceql_grammar: ``${service_filter:raw}``...):
    here one chosen service, the one the spans come from."""
    from traceql_grammar import substitute_variables

    query, _ = substitute_variables(query, variables)
    toks, i = _tql_tokens(spanset_filter(query)), 0

    def value(tok):
        kind, text = tok
        if kind == "str":
            s = json.loads(text)
            for k, v in variables.items():
                s = s.replace("${" + k + "}", v).replace("$" + k, v)
            return s
        if kind == "num":
            return float(text)
        if text in ("true", "false"):
            return text == "true"
        return ("keyword", text)

    def field(text):
        if text in ("name", "status"):
            return span[text] if text == "name" else ("keyword", span["status"])
        scope, _, key = text.partition(".")
        if scope not in ("span", "resource"):
            raise ValueError(f"field {text!r}")
        return span[scope].get(key)

    def compare(left, op, right) -> bool:
        if left is None:  # a missing attribute matches nothing in Tempo
            return False
        if op in ("=~", "!~"):
            hit = re.fullmatch(right, left) is not None
            return hit if op == "=~" else not hit
        if op in ("=", "!="):
            same = (left == right) if type(left) is type(right) or {type(left), type(right)} <= {int, float} else False
            return same if op == "=" else (not same and type(left) is type(right))
        return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]

    def chain(op: str, operand, combine):
        """``operand (op operand)*``; every operand is read (no short circuit) so the parse completes."""
        nonlocal i
        result = operand()
        while i < len(toks) and toks[i] == ("op", op):
            i += 1
            result = combine(result, operand())
        return result

    # Tempo's grammar (pkg/traceql/expr.y: "%left <binOp> AND OR") gives && and || one precedence,
    # read left to right; dashgen parenthesises alternatives, and a filter mixing them unparenthesised
    # is refused here rather than guessed
    depth, seen = 0, [set()]
    for tok in toks:
        if tok == ("op", "("):
            depth, seen = depth + 1, seen + [set()]
        elif tok == ("op", ")"):
            depth, seen = depth - 1, seen[:-1]
        elif tok in (("op", "&&"), ("op", "||")):
            seen[depth].add(tok[1])
            if len(seen[depth]) > 1:
                raise ValueError(f"&& and || mixed without parentheses: {query}")

    def expr():
        return chain("||", conj, lambda a, b: a or b)

    def conj():
        return chain("&&", atom, lambda a, b: a and b)

    def atom():
        nonlocal i
        if toks[i] == ("op", "("):
            i += 1
            result = expr()
            assert toks[i] == ("op", ")"), toks[i:]
            i += 1
            return result
        (kind, name), (_, op), right = toks[i], toks[i + 1], toks[i + 2]
        assert kind == "word", toks[i:]
        i += 3
        return compare(field(name), op, value(right))

    result = expr()
    assert i == len(toks), f"unread: {toks[i:]}"
    return result


def overview_error_query(built) -> str | None:
    """The overview's errors-per-second query; None when the overview has no such panel (no stage's
    spans mark a failure: voice.errors.counted)."""
    for rel, text in built.artifacts.items():
        if rel.endswith("-overview.json"):
            for p in json.loads(text)["panels"]:
                if p.get("title") == "Errors per second by stage":
                    (target,) = p["targets"]
                    return target["query"]
    return None


def test_the_error_panel_counts_a_span_whose_status_alone_says_error(built):
    """Every failed span of a stage whose spans mark failures, by status alone or by the error
    attribute, and nothing of the stages whose spans never do (records_errors: false), as the error
    ratio and the alerts count them; no panel at all when no stage marks failures (LiveKit)."""
    catalog = built.rules.catalog
    query = overview_error_query(built)
    counting = {s.id for s in counted(catalog)}
    assert (query is None) == (not counting), (catalog.name, query)
    if query is None:
        return
    assert_traceql_parses([query], {"service": AllValue("All : true"), "service_filter": "true"})
    assert catalog.service_attribute == "resource.service.name"
    for stage in catalog.stages:
        for what, (span, is_error) in kinds_of_span(catalog, stage).items():
            assert traceql_matches(query, span, CHOSEN) is (is_error and stage.id in counting), (stage.id, what, query)


def test_the_span_evaluator_can_say_no():
    """The evaluator is not a yes-machine: the pre-definition query (attribute only) misses a
    status-only error."""
    catalog = load_catalog("default")
    stage = catalog.stages[0]
    old = '{ span.audio.stage != "" && span.audio.error = true } | rate() by (span.audio.stage)'
    assert not traceql_matches(old, make_span(catalog, stage, status="error"), {})
    assert traceql_matches(old, make_span(catalog, stage, flagged=True), {})
    with pytest.raises(ValueError, match="mixed"):  # Tempo would read it left to right: never guessed
        traceql_matches('{ name = "x" && status = error || span.audio.error = true }', make_span(catalog, stage), {})


# --- OTTL: a condition evaluator ------------------------------------------------------------------
STATUS_CODES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}


def ottl_matches(condition: str, span: dict) -> bool:
    toks, i = tokenize(condition), 0

    def operand():
        nonlocal i
        kind, text = toks[i]
        i += 1
        if kind == "String":
            return json.loads(text)
        if kind in ("Int", "Float"):
            return float(text)
        if kind == "Boolean":
            return text == "true"
        if kind == "Uppercase":
            return float(STATUS_CODES[text])
        if kind == "Lowercase" and text == "name":
            return span["name"]
        if kind == "Lowercase" and text == "status":
            assert toks[i:i + 2] == [("Punct", "."), ("Lowercase", "code")], toks[i:]
            i += 2
            return float({"unset": 0, "ok": 1, "error": 2}[span["status"]])
        if kind == "Lowercase" and text == "attributes":
            assert toks[i][1] == "[" and toks[i + 2][1] == "]", toks[i:]
            key = json.loads(toks[i + 1][1])
            i += 3
            v = span["span"].get(key)
            return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
        raise ValueError(f"OTTL the test cannot read: {toks[i - 1:]}")

    def comparison() -> bool:
        nonlocal i
        left = operand()
        op = toks[i][1]
        i += 1
        right = operand()
        if left is None or right is None or type(left) is not type(right):  # OTTL: nil/mixed types never equal
            return op == "!="
        return {"==": left == right, "!=": left != right, ">": left > right, ">=": left >= right,
                "<": left < right, "<=": left <= right}[op]

    result = comparison()
    while i < len(toks):
        kind, _ = toks[i]
        i += 1
        if kind == "OpAnd":
            result = comparison() and result
        else:
            raise ValueError(f"OTTL the test cannot read: {toks[i - 1:]}")
    return result


def connector(built) -> dict:
    return yaml.safe_load(built.artifacts[PATH])["connectors"][CONNECTOR]


def counts(entry: dict, span: dict) -> bool:
    """signaltometrics ORs an entry's conditions."""
    return any(ottl_matches(c, span) for c in entry["conditions"])


def counter_entry(built, name: str, stage) -> dict:
    (entry,) = [e for e in connector(built)["spans"]
                if e["name"] == name and e["attributes"][0]["default_value"] == stage.id]
    return entry


def test_the_bridge_counts_a_span_whose_status_alone_says_error(built):
    catalog = built.rules.catalog
    a = catalog.alerting
    quiet = [s for s in catalog.stages if s not in counted(catalog)]  # records_errors: false
    assert not [e for e in connector(built)["spans"] if e["name"] == a.errors_metric
                and e["attributes"][0]["default_value"] in {s.id for s in quiet}]
    for stage in counted(catalog):
        errors, runs = counter_entry(built, a.errors_metric, stage), counter_entry(built, a.runs_metric, stage)
        for what, (span, is_error) in kinds_of_span(catalog, stage).items():
            assert counts(errors, span) is is_error, (stage.id, what, errors["conditions"])
            assert counts(runs, span), (stage.id, what)
            other = next((s for s in catalog.stages if s.span != stage.span), None)
            if other is not None:  # another stage's error is not this stage's
                assert not counts(errors, kinds_of_span(catalog, other)["status error only"][0])


def test_the_definition_is_one_predicate_the_readers_agree_with(built):
    """voice.errors' predicate, the panel and the bridge give the same answer on every kind of span."""
    catalog = built.rules.catalog
    definition, query = stage_error(catalog), overview_error_query(built)
    assert (query is None) == (not counted(catalog))
    for stage in counted(catalog):
        errors = counter_entry(built, catalog.alerting.errors_metric, stage)
        for what, (span, _) in kinds_of_span(catalog, stage).items():
            code = {"unset": 0, "ok": 1, "error": 2}[span["status"]]
            truth = definition.failed(code, span["span"])
            assert truth == counts(errors, span) == traceql_matches(query, span, CHOSEN), (stage.id, what)


# --- the alert: bridge counters in a real Prometheus ----------------------------------------------
def test_the_error_rate_alert_fires_on_status_only_errors_counted_by_the_bridge(tmp_path):
    """Ten spans a minute for 40 minutes, 30% of them ERROR by status alone: the bridge's counters
    (each span through the entries' OTTL, named by the OTLP -> Prometheus translation) make the
    stage's error-rate rule fire; the same traffic without errors fires nothing."""
    built = build_artifacts(load_catalog("default"))
    catalog = built.rules.catalog
    stage = next(s for s in counted(catalog))
    entries = [counter_entry(built, name, stage) for name in (catalog.alerting.runs_metric, catalog.alerting.errors_metric)]
    rules = [r for rel, text in built.artifacts.items() if rel.startswith("alerts/prometheus/")
             for g in yaml.safe_load(text)["groups"] for r in g["rules"]
             if r.get("labels", {}).get("stage") == stage.id and "ErrorRate" in r.get("alert", "")]
    (rule,) = rules
    series: dict = {}
    for scenario, status in (("failing", "error"), ("healthy", "unset")):
        totals = {e["name"]: 0 for e in entries}
        for minute in range(40):
            for k in range(10):
                span = make_span(catalog, stage, status=status if k < 3 else "unset")
                for e in entries:
                    totals[e["name"]] += counts(e, span)
            for e in entries:
                if not totals[e["name"]]:  # the connector emits a series once a span matched
                    continue
                name = prometheus_name(e["name"], e["unit"], "counter")
                labels = ((prometheus_label(e["attributes"][0]["key"]), stage.id), ("scenario", scenario))
                series.setdefault((name, labels), []).append((T0 + 60 * minute, totals[e["name"]]))
    with prometheus(series, tmp_path) as prom:
        at = T0 + 35 * 60
        # the rule sums by stage; each scenario is asked through a matcher added to every selector
        for scenario, expect in (("failing", True), ("healthy", False)):
            expr = scoped(rule["expr"], "scenario", scenario)
            assert firing(prom, expr, at) is expect, (scenario, expr)
