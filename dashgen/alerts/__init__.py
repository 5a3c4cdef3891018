"""Alert rules from the catalog, in three forms from one typed rule model.

``model``       Rule, Condition (a typed signal compared with a threshold in a unit), RuleSet
``windows/``    burn-rate window pairs as data (``google-30d.yaml``)
``family``      what the rule families share; ``latency``, ``ratios``, ``slo``, ``traces``: one
                family each (p95 per layer; error and produced-nothing ratios; SLO recording
                and burn-rate rules; opt-in TraceQL rules on Tempo)
``generate``    families in order -> RuleSet -> files of every output form
``grafana``     Grafana-managed rule groups (provisioning API bodies)
``provisioning``  Grafana's file-provisioning form
``prometheus``  Prometheus / Mimir rule files
``promtool``    ``promtool test rules`` unit tests generated from the same conditions

Nothing is imported here: the catalog reads ``windows`` while it is itself being imported.
"""
