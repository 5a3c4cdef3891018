"""The Grafana App Platform (``/apis``), as far as dashgen uses it: which API a push goes
through, object paths, and the manager annotations that carry ownership.

Facts from Grafana's source (``pkg/apimachinery/utils/meta.go`` and the apps'
manifests): dashboards and folders are served for general use from 12.0 (``v1beta1``) and
13.0 (``v1``), the preferred version is read from ``GET /apis`` rather than hard-coded (an
operator can change it), ``metadata.name`` is the classic uid, the namespace is ``default``
for org 1 and ``org-<id>`` otherwise, and a resource is managed only when it carries a
``grafana.app/managerId``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError

DASHBOARD_GROUP = "dashboard.grafana.app"
FOLDER_GROUP = "folder.grafana.app"
STABLE = ("v1", "v1beta1")  # never depend on alpha versions

ANN = "grafana.app/"
FOLDER = ANN + "folder"
MESSAGE = ANN + "message"
MANAGED_BY = ANN + "managedBy"
MANAGER_ID = ANN + "managerId"
SOURCE_PATH = ANN + "sourcePath"
SOURCE_CHECKSUM = ANN + "sourceChecksum"
UPDATED_BY = ANN + "updatedBy"
UPDATED_AT = ANN + "updatedTimestamp"
MANAGER_KIND = "dashgen"  # grafana.app/managedBy; the identity (managerId) names the catalog


@dataclass(frozen=True)
class AppsAPI:
    """Where dashboards and folders live on this instance's App Platform."""

    namespace: str
    dashboard_version: str
    folder_version: str

    @property
    def dashboard_api_version(self) -> str:
        return f"{DASHBOARD_GROUP}/{self.dashboard_version}"

    @property
    def folder_api_version(self) -> str:
        return f"{FOLDER_GROUP}/{self.folder_version}"

    def dashboards(self, name: str | None = None, version: str | None = None) -> str:
        path = f"/apis/{DASHBOARD_GROUP}/{version or self.dashboard_version}/namespaces/{self.namespace}/dashboards"
        return f"{path}/{name}" if name else path

    def folders(self, name: str | None = None) -> str:
        path = f"/apis/{FOLDER_GROUP}/{self.folder_version}/namespaces/{self.namespace}/folders"
        return f"{path}/{name}" if name else path


def stable_version(group: dict | None) -> str | None:
    """The group's preferred version when it is stable, else its first stable served version."""
    if not group:
        return None
    served = [v.get("version") for v in group.get("versions") or [] if isinstance(v, dict)]
    preferred = (group.get("preferredVersion") or {}).get("version")
    if preferred in STABLE and preferred in served:
        return preferred
    return next((v for v in STABLE if v in served), None)


# Grafana 13 serves v2 (and v2beta1), 12.1+ v2beta1 (grafana/grafana apps/dashboard/kinds/manifest.cue)
V2_VERSIONS = ("v2", "v2beta1")


def v2_version(group: dict | None) -> str | None:
    """The v2 dashboard version to write on this instance: ``v2`` where served, else ``v2beta1``."""
    served = {v.get("version") for v in (group or {}).get("versions") or [] if isinstance(v, dict)}
    return next((v for v in V2_VERSIONS if v in served), None)


def choose_api(requested: str, api_groups: dict[str, dict], describe: str, org_id: int | None) -> AppsAPI | None:
    """The App Platform API to push through, or None for the legacy ``/api`` endpoints.

    ``auto`` takes the App Platform where the instance serves both dashboards and folders in a
    stable version; ``apps`` on an instance that does not is refused before any write (exit 2)."""
    if requested == "legacy":
        return None
    dashboard, folder = stable_version(api_groups.get(DASHBOARD_GROUP)), stable_version(api_groups.get(FOLDER_GROUP))
    if dashboard and folder:
        return AppsAPI("default" if org_id in (None, 1) else f"org-{org_id}", dashboard, folder)
    if requested == "apps":
        raise InputError(f"--api apps: {describe} does not serve {DASHBOARD_GROUP} and {FOLDER_GROUP} in a stable "
                         "version (the App Platform needs Grafana 12 or later); use --api legacy or --api auto")
    return None


def manager_of(annotations: dict | None) -> tuple[str, str] | None:
    """(kind, identity) of the tool that manages a resource; None when no managerId (not managed)."""
    ann = annotations or {}
    if not ann.get(MANAGER_ID):
        return None
    return str(ann.get(MANAGED_BY) or ""), str(ann[MANAGER_ID])


def describe_manager(manager: tuple[str, str]) -> str:
    kind, identity = manager
    return f"{kind or 'an unknown tool'} {identity!r}"
