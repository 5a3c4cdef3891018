"""LLM time to first token per provider: a dashboard of our own, built with dashgen's kit.

dashgen runs this file at build time (the catalog's ``definitions:`` names it) and calls
``dashboards(kit)``. Everything comes from the catalog through the kit: the stage, its
measurement and p95 limit, the TraceQL builder (which accepts only attributes the catalog
declares: gen_ai.provider.name is in convention.attributes), the Prometheus histogram the
alert rules use, datasource variables, uid, tags and links.
"""

from dashgen.api import Cond, Kit, Row, StatPanel, TextPanel, TimeSeriesPanel, rename

# Grafana names a Tempo metrics series by its labels ({p=0.95, span.gen_ai.provider.name="openai"}):
# the providers we run get readable names (a new provider shows under its label set until added here).
PROVIDERS = ("openai", "anthropic", "google")


def dashboards(kit: Kit) -> list:
    llm = kit.stage("llm")
    first_token = kit.measurement("llm", "first_byte")
    provider = kit.traceql.span("gen_ai.provider.name")
    spans = kit.stage_filter(llm) + kit.measured(first_token, llm)
    if kit.catalog.error_attribute:  # a failed request's first token says nothing about latency
        spans.append(Cond(kit.traceql.span(kit.catalog.error_attribute), "!=", True))
    limit = first_token.threshold(0.95)

    per_provider = TimeSeriesPanel(
        key="llm-first-token-p95-by-provider",
        title="Time to first token p95, by provider",
        description=(f"p95 of {first_token.title.lower()} per LLM provider, from the {llm.span} spans in Tempo. "
                     f"The dashed line is the catalog's limit ({limit.value:g} {first_token.unit}). A provider "
                     f"alone above it is that provider's incident, not ours."),
        targets=[kit.tempo_metrics(kit.traceql.quantile(spans, kit.traceql.span(first_token.attribute), (0.95,),
                                                        by=(provider,)))],
        unit=first_token.grafana_unit, thresholdSteps=kit.steps(first_token), thresholdsStyle="dashed", w=16,
        overrides=[rename({"p": 0.95, str(provider): p}, f"{p} p95") for p in PROVIDERS])

    share = TimeSeriesPanel(
        key="llm-requests-by-provider",
        title="LLM requests per second, by provider",
        description="How the load splits between providers: read the p95 beside it against it (a failover "
                    "moves load and latency together).",
        targets=[kit.tempo_metrics(kit.traceql.rate(kit.stage_filter(llm), by=(provider,)))],
        unit="cps", stacking="normal", fillOpacity=40, w=8,  # spans counted per second, not HTTP requests
        overrides=[rename({str(provider): p}, p) for p in PROVIDERS])

    metric = first_token.metric
    prom_p95 = TimeSeriesPanel(
        key="llm-first-token-p95-prometheus",
        title="Time to first token p95 (Prometheus histogram)",
        description=(f"The same p95 from the {metric.name} histogram the alert rules evaluate (5m window): "
                     f"what pages. Tempo's quantiles above are coarser (power-of-two buckets) but split by "
                     f"provider."),
        targets=[kit.prom(kit.promql.quantile(metric.name, metric.label, llm.id, 0.95, "5m"), legend="p95")],
        unit=first_token.grafana_unit, thresholdSteps=kit.steps(first_token), thresholdsStyle="dashed", w=16)

    now = StatPanel(
        key="llm-first-token-p95-now",
        title="p95 now (Prometheus)",
        description=f"The latest p95 of {first_token.title.lower()}: red above the catalog's page limit.",
        targets=[kit.prom(kit.promql.quantile(metric.name, metric.label, llm.id, 0.95, "5m"), legend="p95")],
        unit=first_token.grafana_unit, thresholdSteps=kit.steps(first_token), w=8)

    about = TextPanel(
        key="about", title="About this dashboard", h=3, w=24,
        description="What this dashboard is for.",
        content=(f"Built by `examples/definitions/llm_providers.py` from the catalog's `{llm.id}` stage. "
                 f"Slow turns: the [LLM dashboard](/d/{kit.uid(llm.id)})."))

    return [kit.dashboard(
        "llm-providers", "LLM providers",
        "Time to first token per LLM provider (Tempo) next to the histogram the alerts use (Prometheus).",
        [about, Row(key="row-tempo", title="Per provider (Tempo)"), per_provider, share,
         Row(key="row-prometheus", title="What the alerts see (Prometheus)"), prom_p95, now])]
