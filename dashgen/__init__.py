"""dashgen: Grafana dashboards and alert rules from a voice agent's stage catalog."""

__version__ = "0.1.0"
