"""A real, throw-away Prometheus: TSDB blocks from OpenMetrics text, a server on a free local port.

``promtool tsdb create-blocks-from openmetrics`` writes the blocks (Prometheus' documented
backfilling path); ``prometheus`` then serves them with the generated rule files loaded (so a rule
file Prometheus rejects fails here too). The server listens on 127.0.0.1 only, is wrapped in
``timeout`` where coreutils has it (it stops by itself even if this process dies), and is stopped
on exit of the ``with`` block.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from ..errors import DashgenError, InputError

INSTALL_HINT = "install Prometheus (Debian: apt-get install prometheus; macOS: brew install prometheus)"
LIFETIME_SECONDS = 600  # the server's own upper bound


def binaries() -> tuple[str, str]:
    found = shutil.which("prometheus"), shutil.which("promtool")
    if not all(found):
        missing = [n for n, p in zip(("prometheus", "promtool"), found) if not p]
        raise InputError(f"verify-metrics needs {' and '.join(missing)} on PATH ({INSTALL_HINT})")
    return found  # type: ignore[return-value]


def create_blocks(openmetrics: str, data_dir: Path) -> None:
    """Backfill ``openmetrics`` into TSDB blocks under ``data_dir``."""
    _, promtool = binaries()
    data_dir.mkdir(parents=True, exist_ok=True)
    source = data_dir.parent / "metrics.om"
    source.write_text(openmetrics, encoding="utf-8")
    r = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data_dir)],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise DashgenError(f"promtool could not import the simulated metrics: {(r.stderr or r.stdout).strip()[-800:]}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrometheusServer:
    """``with PrometheusServer(data_dir, rule_files) as prom: prom.query(expr, at)``."""

    def __init__(self, data_dir: Path, rule_files: list[Path], workdir: Path):
        self.data_dir, self.rule_files, self.workdir = data_dir, rule_files, workdir
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> "PrometheusServer":
        prometheus, _ = binaries()
        config = self.workdir / "prometheus.yml"
        config.write_text(json.dumps({"global": {"evaluation_interval": "1m"},
                                      "rule_files": [str(p.resolve()) for p in self.rule_files]}), encoding="utf-8")
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        cmd = [prometheus, f"--config.file={config}", f"--storage.tsdb.path={self.data_dir}",
               f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=30d"]
        if shutil.which("timeout"):
            cmd = [shutil.which("timeout"), str(LIFETIME_SECONDS)] + cmd
        self.log = open(self.workdir / "prometheus.log", "w", encoding="utf-8")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.workdir)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        tail = (self.workdir / "prometheus.log").read_text(encoding="utf-8", errors="replace")[-1500:]
        raise DashgenError(f"Prometheus did not become ready:\n{tail}")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        if getattr(self, "log", None):
            self.log.close()

    def api(self, path: str, **params) -> object:
        url = f"{self.url}/api/v1/{path}" + ("?" + urllib.parse.urlencode(params) if params else "")
        try:
            with urllib.request.urlopen(url, timeout=60) as r:
                body = json.load(r)
        except urllib.error.HTTPError as exc:
            body = json.load(exc)
        if body.get("status") != "success":
            raise DashgenError(f"Prometheus {path} failed: {body.get('errorType')}: {body.get('error')} "
                               f"({params.get('query', '')})")
        return body["data"]

    def query(self, expr: str, at: float) -> list[dict]:
        return self.api("query", query=expr, time=f"{at:.3f}")["result"]

    def query_range(self, expr: str, start: float, end: float, step: int) -> list[dict]:
        return self.api("query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=str(step))["result"]
