"""``dashgen simulate`` and ``dashgen verify-traces``: close the seam between the application's spans
and the dashboards."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import catalog_option, require
from ..errors import DashgenError, InputError


def _traces_url(endpoint: str) -> str:
    if not endpoint.startswith(("http://", "https://")):
        raise InputError(f"--otlp-endpoint {endpoint!r} is not an http(s) URL (e.g. http://localhost:4318)")
    return endpoint if endpoint.rstrip("/").endswith("/v1/traces") else endpoint.rstrip("/") + "/v1/traces"


def traffic_options(sessions: int, min_sessions: int, window: float, min_window: float):
    """``--catalog --sessions --seed --incident --window``: what ``simulate`` and ``verify-metrics`` share."""
    options = [
        catalog_option,
        click.option("--sessions", "-n", type=click.IntRange(min_sessions, 100_000), default=sessions,
                     show_default=True, help="How many voice sessions (3-8 turns each)."),
        click.option("--seed", type=int, default=1, show_default=True,
                     help="RNG seed: the same seed gives the same sessions."),
        click.option("--incident", "incidents", multiple=True, metavar="NAME",
                     help="Inject an incident in the second half of the window (repeatable): slow-tts, "
                          "deep-client-buffer, asr-late-revisions, llm-tail, interrupted-early."),
        click.option("--window", "window_minutes", type=click.FloatRange(min_window, 1440), default=window,
                     show_default=True, help="Minutes of history the sessions are spread over, ending now."),
    ]

    def decorate(f):
        for option in reversed(options):
            f = option(f)
        return f
    return decorate


def check_incidents(incidents) -> None:
    from ..telemetry.simulate import INCIDENTS

    for name in incidents:
        if name not in INCIDENTS:
            raise InputError(f"--incident {name!r} is not known (one of: {', '.join(INCIDENTS)})")


@click.command("simulate")
@traffic_options(sessions=50, min_sessions=1, window=10.0, min_window=0.5)
@click.option("--service", default="voice-agent-sim", show_default=True, help="resource service.name of the spans.")
@click.option("--otlp-endpoint", metavar="URL", default=None,
              help="Send the spans with OTLP/HTTP (protobuf) to a collector or Tempo, e.g. http://localhost:4318 "
                   "(/v1/traces is added).")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the spans to FILE.json (the name must end in .json) as OTLP JSON instead "
                   "(dashgen verify-traces reads it).")
def simulate_command(catalog_ref, sessions, seed, incidents, window_minutes, service, otlp_endpoint, out_file):
    """Synthetic voice sessions, through the real instrumentation, to Tempo or a file.

    \b
    Every span is produced by dashgen.telemetry.instrument with the catalog's names and units, so every
    panel of the dashboards built from the same catalog has data. Realistic latencies (ASR first
    partial ~80 ms, LLM first token ~280 ms, TTS first audio ~170 ms, barge-in on 15% of turns),
    and named incidents starting half way through the window.

    \b
    Examples:
      dashgen simulate --otlp-endpoint http://localhost:4318
      dashgen simulate -c pipecat --sessions 200 --incident slow-tts --otlp-endpoint http://tempo:4318
      dashgen simulate --out traces.json && dashgen verify-traces traces.json
    """
    if (otlp_endpoint is None) == (out_file is None):
        raise InputError("give one of --otlp-endpoint URL (send to a collector or Tempo) or --out FILE.json")
    if out_file is not None and out_file.suffix.lower() != ".json":
        # Refused rather than renamed: a script that runs `simulate --out X && verify-traces X`
        # must find the file under the name it gave.
        raise InputError(f"--out {out_file}: the file name must end in .json (OTLP JSON; e.g. {out_file}.json)")
    require("simulate", "opentelemetry.sdk.trace", extra="otel")
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from ..telemetry.instrument import Instrumentation
    from ..telemetry.simulate import Simulator
    from .. import pipeline

    check_incidents(incidents)
    url = _traces_url(otlp_endpoint) if otlp_endpoint else None
    catalog = pipeline.load(pipeline.resolve(catalog_ref))
    memory = InMemorySpanExporter()
    tp = TracerProvider(resource=Resource.create({"service.name": service}))
    tp.add_span_processor(SimpleSpanProcessor(memory))
    inst = Instrumentation(catalog, tp, MeterProvider())
    result = Simulator(inst, seed=seed, incidents=incidents, window_minutes=window_minutes).run(sessions)
    spans = memory.get_finished_spans()
    if out_file is not None:
        from ..telemetry.otlp_json import encode_spans
        try:
            out_file.write_text(json.dumps(encode_spans(spans), separators=(",", ":")) + "\n", encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{out_file}: cannot write: {exc.strerror or exc}") from None
        where = str(out_file)
    else:
        require("simulate", "opentelemetry.exporter.otlp.proto.http.trace_exporter", extra="otel")
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        exporter = OTLPSpanExporter(endpoint=url, timeout=10)
        try:
            for i in range(0, len(spans), 512):
                if exporter.export(spans[i:i + 512]) is not SpanExportResult.SUCCESS:
                    raise DashgenError(f"{url}: the OTLP export failed after {i} of {len(spans)} spans "
                                       f"(is a collector or Tempo listening for OTLP/HTTP there?)")
        finally:
            exporter.shutdown()
        where = url
    stages = ", ".join(f"{n} {s}" for s, n in result.stage_spans.items())
    inc = f"; incident {', '.join(incidents)} in the second half ({result.incident_turns} turns)" if incidents else ""
    click.echo(f"dashgen: simulated {result.sessions} sessions, {result.turns} turns, {len(spans)} spans "
               f"({stages}; {result.errors} failed stage(s), {result.barge_ins} barge-ins{inc}) -> {where}")
    return 0


@click.command("verify-traces")
@catalog_option
@click.argument("trace_file", metavar="FILE.json", type=click.Path(dir_okay=False, path_type=Path))
def verify_traces_command(catalog_ref, trace_file):
    """Check exported spans against the catalog: what the dashboards query must be there.

    \b
    Reads an OTLP JSON export: a collector's file exporter (JSON Lines too) or Tempo's
    /api/traces/<id> (resourceSpans or batches). One line per rule with its count and an
    example span id; exit 1 when any rule is violated.

    \b
    Rules: stage spans found; the stage attribute; session and turn ids on every stage span;
    every stage span under a turn span; the required attributes per stage; integers where
    Tempo's quantiles need them (floats are dropped); values of at least 2, or -1 (nothing);
    every span name and attribute the catalog reads is in the file (a missing one with a close
    name in the file, a framework's rename, is named with that near-miss).

    \b
    Examples:
      dashgen simulate --out traces.json && dashgen verify-traces traces.json
      curl -s http://tempo:3200/api/traces/$TRACE_ID > t.json && dashgen verify-traces -c pipecat t.json
    """
    from ..telemetry.otlp_json import read_spans
    from ..telemetry.verify import verify
    from .. import pipeline

    catalog = pipeline.load(pipeline.resolve(catalog_ref))
    try:
        text = trace_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{trace_file}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{trace_file}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    report = verify(read_spans(text, str(trace_file)), catalog)
    pin = f" (pinned to {catalog.framework.name} {catalog.framework.version})" if catalog.framework else ""
    click.echo(f"verify-traces: {trace_file} against catalog {catalog.source}{pin}")
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        n = sum(report.count(r) for r in report.violations)
        click.echo(f"dashgen: {n} violation(s) in {len(report.violations)} rule(s)", err=True)
        return 1
    click.echo("dashgen: traces match the catalog")
    return 0


@click.command("verify-metrics")
@traffic_options(sessions=240, min_sessions=20, window=30.0, min_window=10)
def verify_metrics_command(catalog_ref, sessions, seed, incidents, window_minutes):
    """Run simulated traffic through the real metrics path and a real Prometheus.

    \b
    The simulator's sessions go through dashgen.telemetry.instrument's OpenTelemetry histograms and
    counters, sampled over simulated time into TSDB blocks (promtool), served by a local Prometheus
    with the generated rule files. Checked: the rule groups load; which alerts fire at the end of the
    window (none may without --incident); every PromQL panel returns data; each quantile and
    bad-event ratio the rules read lands where the simulator put the values. Needs prometheus and
    promtool on PATH. Exit 1 when a check fails.

    \b
    Examples:
      dashgen verify-metrics
      dashgen verify-metrics --incident slow-tts
    """
    require("verify-metrics", "opentelemetry.sdk.metrics", extra="otel")
    from ..telemetry.promserver import binaries
    from ..telemetry.verify_metrics import verify
    from .. import pipeline

    check_incidents(incidents)
    binaries()
    result = pipeline.run(pipeline.resolve(catalog_ref))  # the rules and panels build would write
    catalog = result.catalog
    report = verify(catalog, result, sessions=sessions, seed=seed, incidents=incidents,
                    window_minutes=window_minutes)
    inc = f", incident {', '.join(incidents)}" if incidents else ""
    click.echo(f"verify-metrics: catalog {catalog.source}, {sessions} sessions over {window_minutes:g} min{inc}")
    for line in report.lines:
        click.echo(line)
    if not report.ok:
        click.echo(f"dashgen: {len(report.problems)} check(s) failed", err=True)
        return 1
    click.echo("dashgen: metrics match the rules and panels")
    return 0
