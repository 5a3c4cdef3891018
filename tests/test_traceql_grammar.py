"""The TraceQL grammar checker must both accept valid queries and reject broken ones.

Grammar findings (@grafana/lezer-traceql 1.0.0, checked by experiment):
- Numbers: `0.95` and integers parse; a leading-dot float `.95` and exponents `1.5e3`
  do NOT. Quantile args accept several values: quantile_over_time(x, 0.5, 0.95, 0.99).
- Metrics functions take a bare attribute/intrinsic only: `avg_over_time(span.a + span.b)`
  is rejected; rate()/count_over_time() take no argument.
- `by (...)` needs at least one field, parentheses required; several fields are fine.
- A comparison after a metrics function (`| rate() > 5`) is rejected; `| count() > 2`
  (spanset aggregate) and `| topk(5)` / `| bottomk(3)` are accepted.
- `with(...)`: only the query hint `with(most_recent=true|false)` at the end is accepted;
  `with(exemplars=true)`, `with(sample=0.1)` are rejected.
- The grammar itself accepts `$var` / `"${var}"` as template variables, so the helper
  substitutes known variables first and reports unknown ones itself.
"""
import re

import pytest

from traceql_grammar import (
    DEFAULT_VARIABLES,
    assert_traceql_parses,
    parse_traceql,
    substitute_variables,
)

VALID = [
    '{ span.audio.stage != "" && span.audio.first_byte_ms >= 0 }'
    ' | quantile_over_time(span.audio.first_byte_ms, 0.95) by (span.audio.stage)',
    '{ span.audio.stage != "" } | quantile_over_time(span.audio.first_byte_ms, 0.5, 0.95, 0.99)'
    ' by (span.audio.stage)',
    '{ span.audio.session_id = "sess_8f21c0" } | select(span.audio.stage, span.audio.turn_id)',
    '{ name = "audio.tts" } | histogram_over_time(span.audio.tts_max_gap_ms)',
    '{ } | rate() by (span.audio.stage)',
    '{ resource.service.name =~ "$service" && span.audio.stage = "$stage" }'
    ' | count_over_time() by (span.audio.stage, resource.service.name)',
    '{ resource.service.name = "${service}" && span.audio.session_id = "$session"'
    ' && span.audio.turn_id = $turn } | select(span.audio.stage)',
    '{ span.audio.stage = "tts" } | avg_over_time(span.audio.first_byte_ms) by (span.audio.stage)',
    '{ duration > 500ms } | rate() by (span.audio.stage) | topk(5)',
    '{ status = error } | rate() with(most_recent=true)',
]

INVALID = {
    "unbalanced brace": '{ span.audio.stage = "tts" ',
    "extra closing brace": '{ span.audio.stage = "tts" }}',
    "unclosed by()": '{ } | rate() by (span.audio.stage',
    "stray quote": '{ span.audio.stage = "tts" }"',
    "unterminated string": '{ span.audio.stage = "tts }',
    "arithmetic in metrics arg": '{ } | avg_over_time(span.a + span.b)',
    "arithmetic in quantile arg": '{ } | quantile_over_time(span.a + span.b, 0.95)',
    "leading-dot float": '{ } | quantile_over_time(span.audio.first_byte_ms, .95)',
    "unknown function": '{ } | p95(span.audio.first_byte_ms)',
    "by without parens": '{ } | rate() by span.audio.stage',
    "double equals": '{ span.audio.stage == "tts" }',
    "unknown hint": '{ } | rate() with(exemplars=true)',
    "empty query": '',
}


def test_valid_queries_parse():
    results = assert_traceql_parses(VALID)
    assert all(r["ok"] and not r["errors"] for r in results)
    assert "MetricsOperationQuantile" in results[0]["tree"]


@pytest.fixture(scope="module")
def invalid_results():
    # one node run for all cases; parametrized below only for readable reports
    return dict(zip(INVALID, parse_traceql(list(INVALID.values()))))


@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_queries_fail(name, invalid_results):
    result = invalid_results[name]
    assert not result["ok"], f"grammar unexpectedly accepted {INVALID[name]!r}"
    assert result["errors"] and "⚠" in result["tree"]


def test_batch_keeps_order_and_reports_positions():
    queries = [VALID[0], INVALID["stray quote"], VALID[3]]
    results = parse_traceql(queries)
    assert [r["ok"] for r in results] == [True, False, True]
    (err,) = results[1]["errors"]
    assert err["from"] == len(INVALID["stray quote"]) - 1
    assert '⟦"⟧' in err["context"]


def test_assertion_lists_each_failing_query():
    with pytest.raises(AssertionError) as exc:
        assert_traceql_parses([VALID[0], INVALID["unbalanced brace"], INVALID["double equals"]])
    msg = str(exc.value)
    assert "2 of 3" in msg
    assert INVALID["unbalanced brace"] in msg and INVALID["double equals"] in msg
    assert "⟦" in msg  # error snippet


def test_variables_substituted_and_extendable():
    q = '{ resource.service.name =~ "${service}" && span.audio.stage = "$stage" } | rate() by (span.$group)'
    parsed, missing = substitute_variables(q, {"group": "audio.stage"})
    assert parsed == (
        '{ resource.service.name =~ "voice-agent" && span.audio.stage = "tts" }'
        " | rate() by (span.audio.stage)"
    )
    assert missing == []
    assert substitute_variables("$__interval ${service:regex}")[0] == "1m voice-agent"
    assert substitute_variables("$stage", {"stage": "asr"})[0] == "asr"
    assert DEFAULT_VARIABLES["session"] == "sess_8f21c0"


def test_unresolved_variable_is_an_error():
    (result,) = parse_traceql(['{ span.audio.stage = "$nosuchvar" }'])
    assert not result["ok"]
    assert "$nosuchvar" in result["errors"][0]["message"]
    with pytest.raises(AssertionError, match="nosuchvar"):
        assert_traceql_parses(['{ span.audio.stage = "$nosuchvar" }'])


def test_empty_batch():
    assert parse_traceql([]) == []


def test_missing_grammar_raises_not_skips(monkeypatch, tmp_path):
    import traceql_grammar

    monkeypatch.setattr(traceql_grammar, "GRAMMAR_PACKAGE", tmp_path / "missing" / "package.json")
    with pytest.raises(traceql_grammar.TraceQLGrammarUnavailable, match="scripts/test"):
        parse_traceql(["{ }"])


# ------------------------------------------------------------------------------------------------
# The service filter: what Grafana sends to Tempo for every generated query (docs/dashboards.md,
# "The service filter"), chosen service and All, parsed with Grafana's grammar.

def _generated_tempo_queries(preset: str) -> list[str]:
    import json

    from dashgen.build import build_artifacts
    from dashgen.catalog import load_catalog
    from dashgen.drawn import read_dashboard
    from dashgen.lint.dashboards import tempo_queries

    arts = build_artifacts(load_catalog(preset)).artifacts
    out = []
    for path, body in sorted(arts.items()):
        if path.startswith("dashboards/") and path.endswith(".json"):
            d = read_dashboard(json.loads(body))
            out += [t.get("query", "") for _p, t in tempo_queries(d)]
    return [q for q in out if q]


@pytest.mark.parametrize("preset", ["default", "livekit", "pipecat"])
def test_service_filter_is_an_equality_chosen_or_all(preset):
    from traceql_grammar import AllValue

    from dashgen.queries.traceql import variable_in_regex

    queries = _generated_tempo_queries(preset)
    with_service = [q for q in queries if "$service" in q or "${service" in q]
    assert with_service, "no query filters by service"
    assert not [q for q in queries if variable_in_regex(q)]
    assert all("${service:doublequote}" in q and "=~ \"$service\"" not in q for q in with_service)
    chosen = [substitute_variables(q, {"service": 'voice "agent"'})[0] for q in with_service]
    every = [substitute_variables(q, {"service": AllValue("resource.service.name")})[0] for q in with_service]
    # one service: an equality on the escaped literal
    assert all('resource.service.name = "voice \\"agent\\""' in q for q in chosen)
    # All: the attribute compared with itself, no value and no regex on the service
    assert all("resource.service.name = resource.service.name" in q for q in every)
    assert not [q for q in every if re.search(r'resource\.service\.name\s*=~', q)]
    assert_traceql_parses(chosen + every)


def test_the_all_value_the_dashboards_carry_is_the_one_the_queries_compare():
    import json

    from dashgen.build import build_artifacts
    from dashgen.catalog import load_catalog

    arts = build_artifacts(load_catalog()).artifacts
    overview = json.loads(next(b for p, b in arts.items() if p.endswith("voice-overview.json")))
    (var,) = [v for v in overview["templating"]["list"] if v["name"] == "service"]
    assert var["multi"] is False and var["includeAll"] and var["current"]["value"] == "$__all"
    assert var["allValue"] == var["query"]["label"] == "resource.service.name"


@pytest.mark.parametrize("preset", ["default", "livekit", "pipecat"])
def test_latency_queries_leave_interrupted_turns_out_and_parse(preset):
    """Every Tempo query over a latency that leaves interrupted turns out (voice.interrupted) carries
    ``span.<attribute> != true``; a latency on spans that lack the attribute never does (Tempo would
    compare the missing attribute as false and drop every span); all of them parse in Grafana's grammar."""
    from dashgen.catalog import load_catalog
    from dashgen.queries.traceql import TraceQL
    from dashgen.voice.interrupted import interruption

    catalog = load_catalog(preset)
    intr, q = interruption(catalog), TraceQL(catalog)
    exclusion = f"span.{intr.attribute} != true"
    queries = _generated_tempo_queries(preset)
    excluded, kept = 0, 0
    for s in catalog.stages:
        for m in s.measurements:
            reading = [x for x in queries if q.stage_cond(s).render() in x and f"_over_time(span.{m.attribute}" in x]
            if intr.excludes(s, m):
                assert reading and all(exclusion in x for x in reading), (s.id, m.id, reading)
                excluded += 1
            elif intr.watched(s, m) or s.id in intr.barge_in:
                # no exclusion, or one this stage's spans escape: (... != true || <this stage>)
                escape = " || " + q.stage_cond(s).render()
                assert not [x for x in reading if exclusion in x and escape not in x], (s.id, m.id)
                kept += 1
    assert excluded and kept
    with_exclusion = [x for x in queries if exclusion in x]
    assert_traceql_parses([substitute_variables(x)[0] for x in with_exclusion])
    if preset == "default":  # one query over every stage: the barge-in's spans are all interruptions, kept
        assert any(f'({exclusion} || span.audio.stage = "barge_in")' in x for x in with_exclusion)
