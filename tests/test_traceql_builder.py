"""The one TraceQL builder enforces the shared doc's rules (issue 3)."""

from __future__ import annotations

import dataclasses

import pytest

from dashgen.catalog import load_catalog
from dashgen.queries.traceql import Cond, QueryError, TraceQL, Var, check_query, escape_string, format_quantile
from traceql_grammar import parse_traceql


@pytest.fixture(scope="module")
def q():
    return TraceQL(load_catalog())


def test_quantiles_always_have_a_leading_zero():
    assert format_quantile(0.95) == "0.95"
    assert format_quantile(0.5) == "0.5"
    assert format_quantile(0.999) == "0.999"
    with pytest.raises(QueryError):
        format_quantile(1.0)


def test_no_select_in_metrics_queries_and_limits_on_by(q):
    st, fb = q.span("audio.stage"), q.span("audio.first_byte_ms")
    query = q.quantile([Cond(st, "!=", "")], fb, (0.95,), (st,))
    assert "select" not in query
    with pytest.raises(QueryError, match="at most 4"):
        q.quantile([], fb, (0.95,), (st, st, st, st, st))
    with pytest.raises(QueryError, match="no by"):
        q.metrics([], "histogram_over_time", fb, by=(st,))
    assert check_query("{ } | select(span.audio.stage) | rate()")
    assert any("leading zero" in p for p in check_query("{ } | quantile_over_time(span.audio.first_byte_ms, .95)"))
    assert any("heatmap" in p for p in check_query("{ } | histogram_over_time(span.x) by (span.y)"))


def test_attributes_must_exist_in_the_catalog(q):
    with pytest.raises(QueryError, match="not in the catalog"):
        q.span("audio.nope_ms")
    assert check_query('{ span.audio.nope = "x" }', load_catalog().span_attributes()) == [
        "attribute span.audio.nope is not in the catalog"]


@pytest.mark.parametrize("evil", ['x" } | rate() //', 'a\\"b', "back\\slash\\", 'both "\\" and \\\\ "'])
def test_catalog_strings_cannot_break_out(q, evil):
    """A catalog value holding " or \\ stays inside its string literal."""
    catalog = load_catalog()
    stage = dataclasses.replace(catalog.stages[0], id="asr")
    query = q.search([Cond(q.span("audio.stage"), "=", evil)], (q.span("audio.turn_id"),))
    result = parse_traceql([query])[0]
    assert result["ok"], result
    assert query.startswith('{ span.audio.stage = "') and query.endswith("} | select(span.audio.turn_id)")
    # every quote inside the literal is escaped: unescaping gives back exactly the value
    inner = escape_string(evil)[1:-1]
    assert inner.replace('\\\\', "\x00").replace('\\"', "").count('"') == 0
    assert stage.id == "asr"


def test_control_characters_are_refused(q):
    """Grafana's grammar has no escape for a newline: refuse rather than emit a broken query."""
    with pytest.raises(QueryError, match="control character"):
        q.search([Cond(q.span("audio.stage"), "=", "two\nlines")])


def test_variables_render_quoted(q):
    query = q.search([Cond(q.span("audio.session_id"), "=", Var("session"))])
    assert query == '{ span.audio.session_id = "$session" }'
    with pytest.raises(QueryError):
        Var('x" || true')


def test_a_variable_in_a_regex_is_refused():
    from dashgen.catalog import load_catalog
    from dashgen.queries.traceql import Cond, ConditionVar, QueryError, TraceQL, Var

    q = TraceQL(load_catalog())
    svc = q.resource("service.name")
    with pytest.raises(QueryError, match="regex"):
        q.rate([Cond(svc, "=~", Var("service"))])
    # a hidden variable writes the whole condition (the equality, or true with All)
    assert q.rate([ConditionVar("service_filter")]) == "{ ${service_filter:raw} } | rate()"
    with pytest.raises(QueryError):
        ConditionVar("service:raw")
