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
    '{ span.audio.stage =~ "$stage" && ${service_filter:raw} }'
    ' | count_over_time() by (span.audio.stage, resource.service.name)',
    '{ ${service_filter:raw} && span.audio.session_id = "$session"'
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
    q = '{ span.audio.stage = "$stage" && ${service_filter:raw} } | rate() by (span.$group)'
    parsed, missing = substitute_variables(q, {"group": "audio.stage"})
    assert parsed == (
        '{ span.audio.stage = "tts" && resource.service.name = "voice-agent" }'
        " | rate() by (span.audio.stage)"
    )
    assert missing == []
    assert substitute_variables("$__interval ${stage:regex}", {"stage": "a.b"})[0] == "1m a\\.b"
    assert substitute_variables("$stage", {"stage": "asr"})[0] == "asr"
    # the Tempo datasource's pipe format where the query names none: several values become a regex
    assert substitute_variables('"$stage"', {"stage": ["asr", "tts"]})[0] == '"asr|tts"'
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

def _service_variables(dashboard: dict) -> tuple[dict, dict]:
    """(the service variable a person picks with, the hidden variable holding the condition)."""
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    (hidden,) = [v for v in variables.values() if "${service:" in str(v.get("query"))]
    return variables["service"], hidden


# What Tempo's tag-values API might answer for resource.service.name: ordinary names, one with a
# quote (Grafana's doublequote escapes it), and names the condition variable could not hold (a
# comma splits a custom variable's query, " : " is its text/value separator, "\" a TraceQL escape)
TEMPO_SERVICES = ["voice-agent", 'say "hi"', "a,b", "x : y", "back\\slash"]


def _condition(hidden: dict, service_value) -> str:
    """The hidden variable's value once the service is chosen: its query interpolated and read as
    options (CustomVariable.transformCsvStringToOptions); the old value is not among them, so the
    first (getStateUpdateGivenNewOptions -> getDefaultSingleState)."""
    from grafana_interpolation import custom_options

    options = custom_options(hidden["query"], {"service": service_value})
    assert len(options) == 1, options  # exactly one: the whole condition
    return options[0][1]


def _sent(query: str, service_value, condition: str) -> str:
    from traceql_grammar import substitute_variables

    text, missing = substitute_variables(query, {"service": service_value, "service_filter": condition})
    assert not missing, missing
    return text


@pytest.mark.parametrize("preset", ["default", "livekit", "pipecat"])
def test_no_service_condition_reaches_tempo_with_all_and_an_equality_with_a_service_chosen(preset):
    """Every Tempo query of every dashboard, interpolated as Grafana interpolates it (grafana/scenes,
    tests/grafana_interpolation.py) from the dashboards' own variables, then parsed with Grafana's
    TraceQL grammar: All sends no service condition at all, a service an equality on its quoted
    name; never a regex."""
    import json

    from grafana_interpolation import AllValue, query_variable_values

    from dashgen.build import build_artifacts
    from dashgen.catalog import load_catalog
    from dashgen.drawn import read_dashboard
    from dashgen.lint.dashboards import tempo_queries
    from dashgen.queries.traceql import variable_in_regex

    catalog = load_catalog(preset)
    attr = catalog.service_attribute
    sent_all, sent_one, sent_quoted = [], [], []
    for path, body in sorted(build_artifacts(catalog).artifacts.items()):
        if not (path.startswith("dashboards/") and path.endswith(".json")):
            continue
        d = json.loads(body)
        queries = [t.get("query", "") for _p, t in tempo_queries(read_dashboard(d)) if "service" in t.get("query", "")]
        if not queries:
            continue
        assert not [q for q in queries if variable_in_regex(q)]
        service, hidden = _service_variables(d)
        assert service["type"] == "query" and service["multi"] is False and service["includeAll"]
        assert service["current"]["value"] == "$__all" and hidden["hide"] == 2 and hidden["skipUrlSync"]
        # what the service variable offers: what Tempo knows, less the names the condition cannot hold
        names = query_variable_values(TEMPO_SERVICES, service["regex"])
        assert names == ["voice-agent", 'say "hi"']
        every = _condition(hidden, AllValue(service["allValue"]))
        one, quoted = _condition(hidden, names[0]), _condition(hidden, names[1])
        assert (every, one, quoted) == ("true", f'{attr} = "voice-agent"', f'{attr} = "say \\"hi\\""')
        for q in queries:
            sent_all.append(_sent(q, AllValue(service["allValue"]), every))
            sent_one.append(_sent(q, names[0], one))
            sent_quoted.append(_sent(q, names[1], quoted))
    assert sent_all, "no query filters by service"
    filters = [re.split(r"(?<!\|)\|(?!\|)", q)[0] for q in sent_all]  # the spanset filters, up to the pipeline
    assert not [f for f in filters if attr in f], "a service condition reaches Tempo with All"
    assert all(f'{attr} = "voice-agent"' in q for q in sent_one)
    assert all(f'{attr} = "say \\"hi\\""' in q for q in sent_quoted)
    assert not [q for q in sent_all + sent_one + sent_quoted if re.search(re.escape(attr) + r"\s*!?=~", q)]
    assert_traceql_parses(sent_all + sent_one + sent_quoted)


def test_several_services_would_break_the_condition_so_the_variable_takes_one():
    """Why the service variable is single-value: several chosen reach the hidden variable's query
    as "a","b" (doublequote of a list), and the comma splits it into options that are no condition."""
    from grafana_interpolation import custom_options

    hidden = {"query": "${service:doublequote} : resource.service.name = ${service:doublequote}"}
    assert custom_options(hidden["query"], {"service": "a"}) == [('"a"', 'resource.service.name = "a"')]
    broken = custom_options(hidden["query"], {"service": ["a", "b"]})
    assert [value for _, value in broken] != ['resource.service.name = "a"'] and len(broken) == 3


def test_links_carry_the_chosen_service_to_the_target_dashboard():
    """A data link's URL is interpolated URI-encoded (fieldOverrides.ts getLinksSupplier), which
    would send All as the custom all value; the links carry ${service:queryparam} instead, the
    variable's URL state ($__all for All), which the target's URL sync reads back."""
    import json
    from urllib.parse import parse_qs, urlsplit

    from grafana_interpolation import AllValue, interpolate

    from dashgen.build import build_artifacts
    from dashgen.catalog import load_catalog

    urls = [u for path, body in build_artifacts(load_catalog()).artifacts.items()
            if path.startswith("dashboards/") and path.endswith(".json")
            for u in re.findall(r'"url": "([^"]*)"', body)]
    with_service = [u for u in urls if "service" in u]
    assert with_service and all("${service:queryparam}" in u for u in with_service)
    assert not [u for u in with_service if re.search(r"\$\{?service(\}|[^:_\w])", u)]
    for url in with_service:
        for value, expected in (("voice-agent", ["voice-agent"]), (AllValue("All : true"), ["$__all"])):
            sent, _ = interpolate(url, {"service": value, "tempo": "tempo", "prometheus": "prometheus"})
            assert parse_qs(urlsplit(sent).query)["var-service"] == expected, sent


def test_a_matcher_label_may_not_take_the_hidden_condition_variable_s_name(tmp_path):
    """The hidden condition variable is a dashboard variable too: a prometheus.matchers label of
    that name would shadow it (a textbox variable of the same name)."""
    import yaml

    from dashgen.catalog import load_catalog
    from dashgen.catalog.load import preset_path
    from dashgen.dashboards.kit import SERVICE_FILTER
    from dashgen.errors import CatalogError

    doc = yaml.safe_load(preset_path("default").read_text(encoding="utf-8"))
    doc.setdefault("prometheus", {})["matchers"] = [{"label": SERVICE_FILTER, "value": "x"}]
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(CatalogError, match=f"'{SERVICE_FILTER}' would name a dashboard variable"):
        load_catalog(str(tmp_path / "c.yaml"))


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
    assert_traceql_parses([substitute_variables(x, {"service_filter": "true"})[0] for x in with_exclusion])
    if preset == "default":  # one query over every stage: the barge-in's spans are all interruptions, kept
        assert any(f'({exclusion} || span.audio.stage = "barge_in")' in x for x in with_exclusion)
