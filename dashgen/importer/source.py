"""Reading what ``dashgen import`` imports: a dashboard JSON file, a Grafana export, a v2 object,
or a dashboard read from a Grafana by uid. Every refusal is one ``InputError`` line (exit 2).

What counts as a dashboard: a JSON object with a ``title`` and ``panels`` or legacy ``rows``
(the API's ``{"dashboard": {...}, "meta": {...}}`` envelope is opened first), whose
``schemaVersion`` is one Grafana still migrates. Grafana's backend migrator takes every version
from 0 up to its latest, 43 at the time of writing (``apps/dashboard/pkg/migration/schemaversion/``
in grafana/grafana: ``migrations.go`` and one ``vN.go`` per step, ``v2.go`` to ``v43.go``); a larger
or non-integer version is a schema this importer does not know, and is refused rather than
guessed at.
"""

from __future__ import annotations

import json

from ..errors import InputError

LATEST_SCHEMA_VERSION = 43
V2_API_PREFIX = "dashboard.grafana.app/v2"


def read_file(path: str) -> dict:
    """The classic dashboard model in the JSON file ``path``."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text (export the dashboard as JSON from Grafana)") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise InputError(f"{path}: unreadable JSON: nested too deeply to be a dashboard") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}:{exc.colno}: unreadable JSON: {exc.msg} (export the "
                         f"dashboard again, or fix the file)") from None
    return classic(data, path)


def read_grafana(client, uid: str) -> dict:
    """The dashboard ``uid`` as a Grafana serves it (``GET /api/dashboards/uid/<uid>``), through
    the client ``dashgen push`` uses (GRAFANA_URL, GRAFANA_TOKEN)."""
    from urllib.parse import quote

    from ..grafana.client import GrafanaError

    where = f"{client.base_url}/d/{uid}"
    try:
        data = client.call("GET", f"/api/dashboards/uid/{quote(uid, safe='')}", allow_404=True)
    except GrafanaError as exc:
        raise InputError(f"{where}: {exc.message}") from None
    if data is None:
        raise InputError(f"{where}: no such dashboard (check the uid, and that the token's organisation has it)")
    return classic(data, where)


def classic(data, where: str) -> dict:
    """``data`` as a classic dashboard model, or one line saying why it is not one."""
    if isinstance(data, dict) and isinstance(data.get("dashboard"), dict) and "panels" not in data:
        data = data["dashboard"]  # the HTTP API's envelope: {"dashboard": ..., "meta": ...}
    if is_v2_object(data):
        data = _from_v2(data, where)
    if not isinstance(data, dict) or not (isinstance(data.get("panels"), list) or isinstance(data.get("rows"), list)):
        what = type(data).__name__ if not isinstance(data, dict) else "an object without panels or rows"
        raise InputError(f"{where}: not a Grafana dashboard (it is {what}; export one from Grafana's "
                         f"Share > Export, or its JSON model)")
    version = data.get("schemaVersion", 0)
    if not isinstance(version, int) or isinstance(version, bool) or not 0 <= version <= LATEST_SCHEMA_VERSION:
        raise InputError(f"{where}: unknown dashboard schemaVersion {version!r} (Grafana migrates 0 to "
                         f"{LATEST_SCHEMA_VERSION}; export it from a Grafana that wrote it)")
    return data


def _v2():
    """``(is_v2, to_classic)`` of dashgen's v2 model, or None in a dashgen without it."""
    try:
        from ..dashboards.v2 import is_v2, to_classic
    except ImportError:
        return None
    return is_v2, to_classic


def is_v2_object(data) -> bool:
    v2 = _v2()
    if v2 is None:  # still recognised, to be refused by name rather than as "not a dashboard"
        return isinstance(data, dict) and str(data.get("apiVersion", "")).startswith(V2_API_PREFIX)
    return bool(v2[0](data))


def _from_v2(data: dict, where: str) -> dict:
    v2 = _v2()
    if v2 is None:
        raise InputError(f"{where}: a v2 dashboard ({data.get('apiVersion')}), which this dashgen cannot read "
                         f"yet (export it from Grafana as classic JSON)")
    try:
        return v2[1](data)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{where}: not a v2 dashboard dashgen can read: {exc}") from None
