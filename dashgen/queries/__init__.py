"""Query builders that check their own output: TraceQL for Tempo, PromQL for Prometheus."""
