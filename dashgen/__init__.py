"""dashgen: Grafana dashboards and alert rules from a voice agent's stage catalog."""

# The release's version: pyproject.toml reads it from here ([tool.hatch.version]).
__version__ = "0.1.0"

# The distribution's name on a package index (`pip install voice-dashgen`); the command and the
# import package are `dashgen`. "dashgen" on PyPI is another, unrelated project.
DISTRIBUTION = "voice-dashgen"
