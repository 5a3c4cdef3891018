"""A local, in-memory Grafana to try ``dashgen plan`` and ``push`` against (``dashgen sandbox``).

``emulator.GrafanaEmulator`` is the strict emulator of Grafana's HTTP API that dashgen's own push
tests run against; ``serve.serve`` runs one on the loopback interface until it is stopped. It
imports nothing else of dashgen: it stands in for the far side of the wire.
"""

from .emulator import GrafanaEmulator, make_token

__all__ = ["GrafanaEmulator", "make_token"]
