"""Offline checks of the built output: dashboards, alert rules, Grafana's JSON schemas."""
