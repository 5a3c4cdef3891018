"""``dashgen sandbox``: one emulator on 127.0.0.1 until Ctrl-C or SIGTERM, state in memory only."""

from __future__ import annotations

import os
import re
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .emulator import GrafanaEmulator

VERSION_RE = re.compile(r"^(1[1-3])\.(\d+)(\.\d+)?$")
# The datasources every sandbox starts with: the names the bundled catalogs use (grafana.datasources).
STOCK_DATASOURCES = (("Prometheus", "prometheus"), ("Tempo", "tempo"))


class SandboxInputError(ValueError):
    """A sandbox option that cannot make an instance (the command line turns it into exit 2)."""


def grafana_version(text: str) -> str:
    """"12.2" -> "12.2.0"; the emulator models 11.6 and later (11.x, 12.x, 13.x)."""
    m = VERSION_RE.match(text.strip())
    if not m or (int(m.group(1)), int(m.group(2))) < (11, 6):
        raise SandboxInputError(f"--grafana-version {text!r}: give MAJOR.MINOR[.PATCH] from 11.6 to 13.x, e.g. 12.2")
    return f"{m.group(1)}.{m.group(2)}{m.group(3) or '.0'}"


def datasource(text: str) -> tuple[str, str]:
    """"Mimir=prometheus" -> ("Mimir", "prometheus")."""
    name, sep, kind = text.partition("=")
    if not sep or not name.strip() or kind.strip() not in ("prometheus", "tempo"):
        raise SandboxInputError(f"--datasource {text!r}: give NAME=prometheus or NAME=tempo, e.g. Mimir=prometheus")
    return name.strip(), kind.strip()


@dataclass(frozen=True)
class Sandbox:
    url: str
    token: str
    emulator: GrafanaEmulator

    def env_lines(self) -> list[str]:
        return [f"GRAFANA_URL={self.url}", f"GRAFANA_TOKEN={self.token}"]


def start(version: str, toggles: list[str], port: int, datasources: list[tuple[str, str]]) -> Sandbox:
    """An emulator of Grafana ``version`` with ``toggles`` on, serving on 127.0.0.1:``port``."""
    emu = GrafanaEmulator(grafana_version=version, feature_toggles={t: True for t in toggles})
    for i, (name, kind) in enumerate(datasources):
        emu.remove_datasource(name)
        emu.add_datasource(name, kind, f"sandbox-{kind}-{i}")
    try:
        emu.start(port)
    except OSError as exc:
        raise SandboxInputError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc} "
                                f"(choose another --port, or 0 for any free one)") from None
    return Sandbox(emu.url, emu.token, emu)


def write_env_file(path: Path, sandbox: Sandbox) -> None:
    """``GRAFANA_URL=...`` and ``GRAFANA_TOKEN=...`` lines, written whole (renamed into place), mode 0600."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(sandbox.env_lines()) + "\n")
    os.replace(tmp, path)


class StopSignals:
    """SIGINT and SIGTERM set an event instead of ending the process: installed before the sandbox
    announces itself, so a signal sent as soon as it listens still stops it cleanly."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous = {s: signal.signal(s, lambda *_: self.event.set()) for s in (signal.SIGINT, signal.SIGTERM)}

    def wait(self, sandbox: Sandbox, on_stop: Callable[[], None]) -> None:
        """Block until a signal came, then stop the server (the state is gone with it)."""
        try:
            while not self.event.wait(3600):
                pass
        finally:
            for s, handler in self._previous.items():
                signal.signal(s, handler)
            sandbox.emulator.stop()
            on_stop()
