"""Preflight: what the Grafana instance is and can take, learned before anything is written.

Three reads, run in the first round together with the handlers' first reads
(Grafana's pkg/api/frontendsettings.go and Kubernetes-style ``GET /apis`` discovery):

- ``GET /api/health`` (no auth): reachable, database ok, the version;
- ``GET /api/frontend/settings``: the feature toggles that are on, and every datasource the
  caller may query, by name, with its plugin's capabilities (``meta.alerting``). The build's
  datasources are resolved by name from it: the build carries placeholder uids, the instance has
  its own (Grafana's ``pkg/api/frontendsettings.go`` keys this map by datasource name);
- ``GET /apis`` (unless ``--api legacy``): the App Platform API groups and their preferred
  versions, which Grafana serves for general use from 12.0 on.

What the instance *can take* is decided here from the toggles and the version, never from a
failed write: Grafana-managed recording rules need ``grafanaManagedRecordingRules``; Tempo-backed
alert rules need Grafana 12.1+ with ``tempoAlerting`` (Grafana's feature toggle registry, pkg/services/featuremgmt/registry.go).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import DashgenError, InputError
from .apps import AppsAPI
from .client import GrafanaClient, GrafanaError
from .handler import Read

RECORDING_TOGGLE = "grafanaManagedRecordingRules"
TEMPO_TOGGLE = "tempoAlerting"
TEMPO_ALERTING_SINCE = (12, 1)


def version_tuple(version: str) -> tuple[int, int]:
    """``"12.1.3-pre"`` -> ``(12, 1)``; ``(0, 0)`` when the instance did not say."""
    m = re.match(r"(\d+)\.(\d+)", version or "")
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


@dataclass
class Instance:
    """The instance as preflight found it. Filled in by the reads of :func:`preflight_reads`."""

    url: str
    version: str = ""
    toggles: dict[str, bool] = field(default_factory=dict)
    api_groups: dict[str, dict] = field(default_factory=dict)  # group name -> APIGroup (GET /apis)
    v2_version: str = ""  # the v2 dashboard version a v2 build is written in ("v2" on 13, "v2beta1" on 12)
    datasource_meta: dict[str, dict] = field(default_factory=dict)  # datasource name -> frontend settings entry
    datasources: dict[str, dict] = field(default_factory=dict)  # manifest key -> {uid, name, type}
    apps: AppsAPI | None = None  # where dashboards and folders go on the App Platform; None: legacy /api
    problems: list[BaseException] = field(default_factory=list)  # raised by raise_problems()

    def raise_problems(self) -> None:
        if self.problems:
            raise self.problems[0]

    @property
    def release(self) -> tuple[int, int]:
        return version_tuple(self.version)

    def toggle(self, name: str) -> bool:
        """A toggle that is absent or not exactly ``true`` is off (Grafana's pkg/api/frontendsettings.go lists only the toggles that are on)."""
        return self.toggles.get(name) is True

    def describe(self) -> str:
        return f"Grafana {self.version or '(version unknown)'} at {self.url}"

    @property
    def recording_rules(self) -> bool:
        return self.toggle(RECORDING_TOGGLE)

    def tempo_alerting(self, datasource_name: str) -> bool:
        meta = (self.datasource_meta.get(datasource_name) or {}).get("meta") or {}
        return self.release >= TEMPO_ALERTING_SINCE and (self.toggle(TEMPO_TOGGLE) or meta.get("alerting") is True)

    def datasource_uids(self, build_datasources: dict[str, dict]) -> tuple[dict[str, str], dict[str, str]]:
        """(placeholder uid -> live uid, placeholder uid -> datasource type) for every resolved datasource."""
        mapping = {build_datasources[k]["uid"]: r["uid"] for k, r in self.datasources.items()}
        types = {build_datasources[k]["uid"]: build_datasources[k]["type"] for k in self.datasources}
        return mapping, types


@dataclass
class _Failed:
    """A preflight read that failed: kept, so that the most telling problem is raised first."""

    error: GrafanaError | DashgenError


def _rejected(exc: GrafanaError) -> DashgenError:
    return DashgenError(f"Grafana rejected the credentials: {exc.message.split(': ', 1)[-1]} "
                        "(check GRAFANA_TOKEN/--token-file, GRAFANA_USER/GRAFANA_PASSWORD and --org-id)")


def preflight_reads(client: GrafanaClient, instance: Instance, datasources: dict[str, dict], *,
                    discover_apis: bool = True) -> list[Read]:
    """The preflight's reads. A failure is kept in ``instance.problems`` (health first: it explains
    the rest) rather than raised in the pool, so the workflow reports it before any other error."""

    def guarded(fn):  # noqa: ANN001, ANN202
        def run() -> Any:
            try:
                return fn()
            except (GrafanaError, DashgenError) as exc:
                return _Failed(exc)
        return run

    def keep_health(res: Any) -> None:
        if isinstance(res, _Failed):
            unreachable = getattr(res.error, "unreachable", False)
            instance.problems.insert(0, DashgenError(res.error.message if unreachable else
                                                     f"Grafana at {client.base_url} is not reachable or not healthy: "
                                                     f"{res.error.message}"))
            return
        if isinstance(res, dict):
            instance.version = str(res.get("version") or "")
            if res.get("database") not in (None, "ok"):
                instance.problems.insert(0, DashgenError(
                    f"Grafana at {client.base_url} reports database {res.get('database')!r}"))

    def keep_settings(res: Any) -> None:
        if isinstance(res, _Failed):
            rejected = isinstance(res.error, GrafanaError) and res.error.status in (401, 403)
            instance.problems.append(_rejected(res.error) if rejected else res.error)
        elif isinstance(res, dict):
            instance.toggles = {k: v for k, v in (res.get("featureToggles") or {}).items() if isinstance(k, str)}
            instance.datasource_meta = {k: v for k, v in (res.get("datasources") or {}).items() if isinstance(v, dict)}
            instance.version = instance.version or str((res.get("buildInfo") or {}).get("version") or "")
            for key, ds in datasources.items():
                try:
                    instance.datasources[key] = _resolve_ds(instance, ds)
                except DashgenError as exc:
                    instance.problems.append(exc)

    def keep_apis(res: Any) -> None:
        if isinstance(res, _Failed):
            instance.problems.append(res.error)
        else:
            instance.api_groups = api_groups_of(res)

    reads = [Read(guarded(lambda: client.call("GET", "/api/health")), keep_health),
             Read(guarded(lambda: client.call("GET", "/api/frontend/settings")), keep_settings)]
    if discover_apis:  # 11.x answers 404: no App Platform for general use
        reads.append(Read(guarded(lambda: discover(client)), keep_apis))
    return reads


def discover(client: GrafanaClient) -> Any:
    """``GET /apis``: the served API groups (404 on 11.x: no App Platform for general use)."""
    return client.call("GET", "/apis", allow_404=True)


def api_groups_of(doc: Any) -> dict[str, dict]:
    """An APIGroupList as {group name: APIGroup}."""
    groups = (doc or {}).get("groups") if isinstance(doc, dict) else None
    return {g["name"]: g for g in groups or [] if isinstance(g, dict) and g.get("name")}


def _resolve_ds(instance: Instance, ds: dict) -> dict:
    """The live datasource the build's ``ds`` names. One the instance lacks, or has with another
    type, is input (the catalog's ``grafana.datasources`` against this instance) decided at
    preflight with nothing written: exit 2, like every other input error."""
    live = instance.datasource_meta.get(ds["name"])
    if live is None:
        raise InputError(f"datasource {ds['name']!r} (type {ds['type']}) not found in Grafana at {instance.url}; "
                         "create it, or change its name in the catalog's grafana.datasources")
    if live.get("type") != ds["type"]:
        raise InputError(f"datasource {ds['name']!r} has type {live.get('type')!r} in Grafana at {instance.url}, "
                         f"expected {ds['type']!r}; point the catalog's grafana.datasources at a {ds['type']} datasource")
    return {"uid": live["uid"], "name": live.get("name") or ds["name"], "type": live["type"]}
