"""Check TraceQL queries against Grafana's own lezer grammar (@grafana/lezer-traceql).

Usage from tests::

    from traceql_grammar import parse_traceql, assert_traceql_parses

    assert_traceql_parses([panel["targets"][0]["query"] for panel in panels])
    results = parse_traceql(["{ span.x = $stage }"], variables={"stage": "asr"})

Grafana template variables (``$name``, ``${name}``, ``${name:format}``) are interpolated as Grafana does
(tests/grafana_interpolation.py) with sample values (DEFAULT_VARIABLES, extended/overridden by
``variables=``); a variable with no value is reported as an error. All queries go to ONE ``node tests/traceql/parse.mjs``
process. The grammar's node_modules come from ``./scripts/test`` (npm ci); if they are
missing this raises instead of skipping, so a missing grammar fails the tests.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from grafana_interpolation import AllValue, interpolate  # noqa: F401  (AllValue: for the tests' use)

TRACEQL_DIR = Path(__file__).resolve().parent / "traceql"
PARSE_SCRIPT = TRACEQL_DIR / "parse.mjs"
GRAMMAR_PACKAGE = TRACEQL_DIR / "node_modules" / "@grafana" / "lezer-traceql" / "package.json"

# Sample values for the dashboard variables and Grafana's global variables: one service chosen, and
# the hidden condition variable holding its equality (dashboards/model_views.py, ConditionVariable).
DEFAULT_VARIABLES: dict[str, object] = {
    "session": "sess_8f21c0",
    "turn": "3",
    "service": "voice-agent",
    "service_filter": 'resource.service.name = "voice-agent"',
    "stage": "tts",
    "__interval": "1m",
    "__interval_ms": "60000",
    "__rate_interval": "4m",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
    "__from": "1700000000000",
    "__to": "1700003600000",
}

# The format Grafana's Tempo datasource passes for an expression that names none
# (public/app/plugins/datasource/tempo/datasource.ts: templateSrv.replace(query, scopedVars, VariableFormatID.Pipe))
TEMPO_FORMAT = "pipe"


class TraceQLGrammarUnavailable(RuntimeError):
    """The grammar (node or tests/traceql/node_modules) is not installed."""


def substitute_variables(query: str, variables: dict[str, object] | None = None) -> tuple[str, list[str]]:
    """Return (query as Grafana's Tempo datasource sends it, names of variables that had no value):
    grafana/scenes' interpolation (tests/grafana_interpolation.py) with the Tempo datasource's
    default format."""
    return interpolate(query, {**DEFAULT_VARIABLES, **(variables or {})}, TEMPO_FORMAT)


def _run_parser(queries: list[str]) -> list[dict]:
    node = shutil.which("node")
    if node is None:
        raise TraceQLGrammarUnavailable(
            "node is not on PATH: the TraceQL grammar check needs Node.js. Run ./scripts/test "
            "(it installs the test prerequisites)."
        )
    if not GRAMMAR_PACKAGE.is_file():
        raise TraceQLGrammarUnavailable(
            f"TraceQL grammar not installed ({GRAMMAR_PACKAGE} missing). Run the test setup: "
            "./scripts/test (or: npm ci --prefix tests/traceql)."
        )
    proc = subprocess.run(
        [node, str(PARSE_SCRIPT)],
        input=json.dumps(queries),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{PARSE_SCRIPT.name} failed (exit {proc.returncode}):\n{proc.stderr}")
    results = json.loads(proc.stdout)
    if len(results) != len(queries):
        raise RuntimeError(f"{PARSE_SCRIPT.name} returned {len(results)} results for {len(queries)} queries")
    return results


def parse_traceql(queries: list[str], variables: dict[str, str] | None = None) -> list[dict]:
    """Parse each query with the lezer-traceql grammar, in one node process.

    Returns one dict per query, in order::

        {"ok": bool,
         "query": original query, "parsed": query after variable substitution,
         "errors": [{"from": int, "to": int, "context": str, "message": str}],
         "tree": lezer tree string, ⚠ marks error nodes}

    ``from``/``to`` are offsets into ``parsed``; ``context`` shows the error span as ⟦...⟧.
    """
    if isinstance(queries, str):
        raise TypeError("parse_traceql takes a list of queries, not a single string")
    queries = list(queries)
    substituted = [substitute_variables(q, variables) for q in queries]
    results = _run_parser([s for s, _ in substituted]) if queries else []
    out = []
    for query, (parsed, missing), res in zip(queries, substituted, results):
        errors = [{**e, "message": "syntax error"} for e in res["errors"]]
        for name in missing:
            errors.append({
                "from": 0, "to": 0, "context": parsed,
                "message": f"unresolved Grafana variable ${name} (pass variables={{{name!r}: ...}})",
            })
        out.append({"ok": not errors, "query": query, "parsed": parsed,
                    "errors": errors, "tree": res.get("tree", "")})
    return out


def format_failures(results: list[dict]) -> str:
    lines = []
    for r in results:
        if r["ok"]:
            continue
        lines.append(f"- {r['query']}")
        if r["parsed"] != r["query"]:
            lines.append(f"    parsed as: {r['parsed']}")
        for e in r["errors"]:
            lines.append(f"    {e['message']} at {e['from']}-{e['to']}: {e['context']}")
    return "\n".join(lines)


def assert_traceql_parses(queries: list[str], variables: dict[str, str] | None = None) -> list[dict]:
    """Raise AssertionError listing every query the grammar rejects; return the results."""
    results = parse_traceql(queries, variables)
    bad = [r for r in results if not r["ok"]]
    if bad:
        raise AssertionError(
            f"{len(bad)} of {len(results)} TraceQL queries do not parse:\n" + format_failures(results)
        )
    return results
