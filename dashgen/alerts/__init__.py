"""Alert rules from the catalog, in three forms from one typed rule model.

``model``       Rule, Condition (a typed signal compared with a threshold in a unit), RuleSet
``family``      what the rule families share; ``latency``, ``ratios``, ``slo``, ``traces``: one
                family each (p95 per layer; error and produced-nothing ratios; SLO recording
                and burn-rate rules; opt-in TraceQL rules on Tempo)
``generate``    families in order -> RuleSet -> files of every output form
``grafana``     Grafana-managed rule groups (provisioning API bodies)
``provisioning``  Grafana's file-provisioning form
``prometheus``  Prometheus / Mimir rule files
``promtool``    ``promtool test rules`` unit tests generated from the same conditions

The burn-rate windows of each SLO period, like every other part of what the catalog means, are
read from ``dashgen.voice``; the catalog itself never imports this package.
"""
