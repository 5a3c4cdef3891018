"""Alert rules from the catalog: the rule model, rule families, output forms, promtool tests."""
