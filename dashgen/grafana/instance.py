"""Preflight: what the Grafana instance is, learned before anything is written.

Health (``GET /api/health``, no auth) and every datasource the build refers to, resolved by name
(``GET /api/datasources/name/<name>``): the build carries placeholder uids, the instance has its
own. The reads are plain :class:`~dashgen.grafana.handler.Read` jobs, so the workflow runs them in
the same first round as the handlers' first reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ..errors import DashgenError
from .client import GrafanaClient, GrafanaError
from .handler import Read


@dataclass
class Instance:
    """The instance as preflight found it. Filled in by :func:`preflight_reads`."""

    url: str
    version: str = ""
    datasources: dict[str, dict] = field(default_factory=dict)  # manifest key -> {uid, name, type}
    problems: list[BaseException] = field(default_factory=list)  # raised by raise_problems()

    def raise_problems(self) -> None:
        if self.problems:
            raise self.problems[0]

    def datasource_uids(self, build_datasources: dict[str, dict]) -> tuple[dict[str, str], dict[str, str]]:
        """(placeholder uid -> live uid, placeholder uid -> datasource type) for every resolved datasource."""
        mapping = {build_datasources[k]["uid"]: r["uid"] for k, r in self.datasources.items()}
        types = {build_datasources[k]["uid"]: build_datasources[k]["type"] for k in self.datasources}
        return mapping, types


def preflight_reads(client: GrafanaClient, instance: Instance, datasources: dict[str, dict]) -> list[Read]:
    """The preflight's reads. A failure is kept in ``instance.problems`` (health first: it explains
    the rest) rather than raised in the pool, so the workflow reports it before any other error."""

    def guarded(fn):  # noqa: ANN001, ANN202
        def run() -> Any:
            try:
                return fn()
            except (GrafanaError, DashgenError) as exc:
                return exc
        return run

    def keep_health(res: Any) -> None:
        if isinstance(res, BaseException):
            instance.problems.insert(0, DashgenError(
                f"Grafana at {client.base_url} is not reachable or not healthy: {res.message}"))
            return
        if isinstance(res, dict):
            instance.version = str(res.get("version") or "")
            if res.get("database") not in (None, "ok"):
                instance.problems.insert(0, DashgenError(
                    f"Grafana at {client.base_url} reports database {res.get('database')!r}"))

    def keep_ds(key: str) -> Any:
        def keep(res: Any) -> None:
            if isinstance(res, BaseException):
                instance.problems.append(res)
            else:
                instance.datasources[key] = res
        return keep

    reads = [Read(guarded(lambda: client.call("GET", "/api/health")), keep_health)]
    reads += [Read(guarded(lambda ds=ds: _resolve_ds(client, ds)), keep_ds(key)) for key, ds in datasources.items()]
    return reads


def _resolve_ds(client: GrafanaClient, ds: dict) -> dict:
    try:
        live = client.call("GET", f"/api/datasources/name/{quote(ds['name'], safe='')}", allow_404=True)
    except GrafanaError as exc:
        if exc.status in (401, 403):
            raise DashgenError(f"Grafana rejected the credentials: {exc.message.split(': ', 1)[-1]} "
                               "(check GRAFANA_TOKEN/--token-file, GRAFANA_USER/GRAFANA_PASSWORD and --org-id)") from None
        raise
    if live is None:
        raise DashgenError(f"datasource {ds['name']!r} (type {ds['type']}) not found in Grafana at {client.base_url}; "
                           "create it, or change its name in the catalog")
    if live.get("type") != ds["type"]:
        raise DashgenError(f"datasource {ds['name']!r} has type {live.get('type')!r}, expected {ds['type']!r}")
    return {"uid": live["uid"], "name": live["name"], "type": live["type"]}
