"""A strict, in-memory emulator of the Grafana HTTP API that dashgen plan and push talk to.

It serves what dashgen uses of Grafana 11.6, 12.x and 13.x: the legacy ``/api`` endpoints
(health, frontend settings with the feature toggles and datasources, search, dashboards by uid,
folders), the alerting provisioning API (``/api/v1/provisioning/...``: rule groups and alert
rules), and on 12 and 13 the App Platform (``GET /apis`` discovery, ``dashboard.grafana.app``
and ``folder.grafana.app``, manager annotations, ``resourceVersion`` locking, dashboards re-saved
as v2). The shapes follow Grafana's HTTP API reference
(https://grafana.com/docs/grafana/latest/developers/http_api/) and its alerting provisioning
API (https://grafana.com/docs/grafana/latest/developers/http_api/alerting_provisioning/).
``grafana_version`` ("11.6.0", "12.2.0", "13.0.0", ...) and ``feature_toggles`` pick the
instance: stock (every experimental toggle off) unless told otherwise. This is a REAL HTTP
server (``ThreadingHTTPServer`` on 127.0.0.1, a random port unless given one), so the client
goes through sockets, keep-alive, timeouts and dropped connections exactly as in production.

``dashgen sandbox`` (dashgen/sandbox/serve.py) serves one to try plan and push without a
Grafana; the test suite runs every push scenario against it. What it does not model is listed
in docs/sandbox.md: it stores and validates, it never evaluates a query or an alert rule.

Strictness: auth is checked before anything else, validation happens in the order the
contract gives, and error bodies have the contract's shapes. It is never looser than
Grafana: when unsure, it rejects.

Test-side API (Python, on the emulator object):
  * state: ``datasources``, ``dashboards``, ``folders``, ``rules`` (dicts), ``add_datasource``,
    ``add_folder``, ``add_dashboard`` (foreign or provisioned dashboards), ``human_edit``.
  * faults: ``fail_next`` (status / Retry-After / drop / lose for the next N matching requests),
    ``fail_fraction`` (a seeded fraction of requests), ``latency`` (seconds from a request's arrival
    to its answer; the emulator's own work happens within it, as a server's does),
    ``before_save`` (one-shot hook run just before a dashboard save is applied: simulate an
    edit between dashgen's read and its write), ``echo_auth_in_errors``.
  * records: ``requests`` (every request: method, path, query, headers, body, status, fault),
    ``writes()``, ``reads()``, ``mutations`` and ``duplicates()``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import random
import re
import secrets
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

UID_RE = re.compile(r"^[a-zA-Z0-9_-]*$")
METRIC_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
RECORDING_IGNORED = {"condition": "", "noDataState": "", "execErrState": "", "for": "0s"}
DURATION_RE = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")
NO_DATA_STATES = {"Alerting", "NoData", "OK", "KeepLast"}
EXEC_ERR_STATES = {"OK", "Alerting", "Error", "KeepLast"}
WRITE_METHODS = {"POST", "PUT", "DELETE", "PATCH"}


def make_token() -> str:
    """A service-account token in Grafana's format: glsa_<32 chars>_<8 hex>."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    body = "".join(secrets.choice(alphabet) for _ in range(32))
    return f"glsa_{body}_{secrets.token_hex(4)}"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def version_tuple(version: str) -> tuple[int, int]:
    """"12.1.3-pre" -> (12, 1)."""
    m = re.match(r"(\d+)\.(\d+)", version)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str
    status: int | None = None  # None when the connection was dropped before a response
    fault: str | None = None  # "status", "drop", "lose"
    applied: bool = False  # a write that changed state


@dataclass
class Fault:
    status: int | None = None
    retry_after: str | None = None
    drop: bool = False  # close the socket without processing or answering
    lose: bool = False  # process the request, then close the socket without answering
    match: Callable[[str, str], bool] | None = None  # (method, path) -> bool


@dataclass
class _Dash:
    id: int
    uid: str
    data: dict
    folder_uid: str | None
    version: int
    created: str
    updated: str
    created_by: str
    updated_by: str
    provisioned: bool = False
    versions: list[dict] = field(default_factory=list)
    # App Platform view of the same row (Grafana's legacy storage of the dashboard app): the two APIs share one store
    annotations: dict[str, str] = field(default_factory=dict)  # manager/source annotations a client set
    resource_version: str = ""
    k8s_uid: str = field(default_factory=lambda: secrets.token_urlsafe(33)[:44])
    stored: str = "v1"  # the API version of the last write: "v1" (classic JSON) or "v2beta1"/"v2"
    v2spec: dict | None = None  # the stored spec when ``stored`` is a v2 version


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Grafana-emulator"

    def setup(self) -> None:
        super().setup()
        # Like Go's net/http (Grafana): no Nagle delay on small responses.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
        pass

    def _any(self) -> None:
        self.server.emu._serve(self)  # type: ignore[attr-defined]

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any


class GrafanaEmulator:
    def __init__(self, *, grafana_version: str = "11.6.0", org_id: int = 1,
                 feature_toggles: dict[str, bool] | None = None):
        self.grafana_version = grafana_version
        self.version = version_tuple(grafana_version)
        self.feature_toggles: dict[str, bool] = dict(feature_toggles or {})
        self.org_id = org_id
        self.token = make_token()
        # token -> (org id, service-account login)
        self.tokens: dict[str, tuple[int, str]] = {self.token: (org_id, "sa-1-dashgen")}
        self.users: dict[str, tuple[str, int]] = {"admin": ("admin-password", org_id)}
        self.lock = threading.RLock()
        self.datasources: dict[str, dict] = {}
        self.dashboards: dict[str, _Dash] = {}
        self.folders: dict[str, dict] = {}
        self.rules: dict[str, dict] = {}
        self.group_intervals: dict[tuple[str, str], int] = {}
        self.requests: list[Recorded] = []
        self.mutations: list[tuple[str, str, str]] = []  # (kind, key, content digest)
        self.latency = 0.0
        self.recording_rules_enabled = True  # grafana.ini [recording_rules] enabled: refuses them even with the toggle
        self.database_ok = True
        self.echo_auth_in_errors = False
        self._faults: deque[Fault] = deque()
        self._fraction: tuple[float, random.Random, list[Fault], Callable | None] | None = None
        self._before_save: dict[str, Callable[[], None]] = {}
        self._next_id = 1
        self._rv = 1741315830000
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.add_datasource("Prometheus", "prometheus", "PBFA97CFB590B2093")
        self.add_datasource("Tempo", "tempo", "P214B5B846CF3925F")

    # ------------------------------------------------------------------ lifecycle
    def start(self, port: int = 0) -> "GrafanaEmulator":
        """Serve on 127.0.0.1 (loopback only) at ``port``, a free one when 0."""
        server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        server.daemon_threads = True
        server.request_queue_size = 256
        server.emu = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "GrafanaEmulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # ------------------------------------------------------------------ state helpers
    def _next_rv(self) -> str:
        """An opaque resourceVersion, new on every stored write."""
        with self.lock:
            self._rv += 1
            return str(self._rv)

    def _id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    def add_datasource(self, name: str, type_: str, uid: str) -> dict:
        ds = {"id": self._id(), "uid": uid, "orgId": self.org_id, "name": name, "type": type_,
              "access": "proxy", "url": f"http://{type_}:1234", "isDefault": False, "jsonData": {},
              "version": 1, "readOnly": False, "basicAuth": False}
        self.datasources[uid] = ds
        return ds

    def remove_datasource(self, name: str) -> None:
        for uid, ds in list(self.datasources.items()):
            if ds["name"] == name:
                del self.datasources[uid]

    def add_folder(self, uid: str, title: str, parent_uid: str | None = None) -> dict:
        with self.lock:
            f = {"id": self._id(), "uid": uid, "orgId": self.org_id, "title": title,
                 "url": f"/dashboards/f/{uid}/{_slug(title)}", "version": 1,
                 "created": _now(), "updated": _now(), "createdBy": "admin", "updatedBy": "admin"}
            if parent_uid:
                f["parentUid"] = parent_uid
            self.folders[uid] = f
            return f

    def add_dashboard(self, dashboard: dict, folder_uid: str | None = None, *, user: str = "bob",
                      provisioned: bool = False, annotations: dict[str, str] | None = None) -> _Dash:
        """Create a dashboard as another user, tool (``annotations``: its manager) or file provisioning would."""
        with self.lock:
            data = copy.deepcopy(dashboard)
            uid = data["uid"]
            now = _now()
            d = _Dash(self._id(), uid, data, folder_uid, 1, now, now, user, user, provisioned)
            d.resource_version = self._next_rv()
            d.annotations = dict(annotations or {})
            d.versions.append({"version": 1, "created": now, "createdBy": user, "message": ""})
            self.dashboards[uid] = d
            return d

    def human_edit(self, uid: str, *, user: str = "alice",
                   mutate: Callable[[dict], None] | None = None) -> _Dash:
        """A human saves the dashboard in the UI: content changes, version+1, updatedBy=user."""
        with self.lock:
            d = self.dashboards[uid]
            if mutate is None:
                def mutate(dash: dict) -> None:
                    dash.setdefault("panels", []).append(
                        {"id": 999, "type": "text", "title": "added by hand", "gridPos": {"x": 0, "y": 99, "w": 24, "h": 3}})
            mutate(d.data)
            d.version += 1
            d.resource_version = self._next_rv()
            d.stored, d.v2spec = "v1", None
            d.updated = _now()
            d.updated_by = user
            d.versions.append({"version": d.version, "created": d.updated, "createdBy": user, "message": "edited in the UI"})
            return d

    def before_save(self, uid: str, fn: Callable[[], None]) -> None:
        """Run ``fn`` once, just before the next save of ``uid`` is applied."""
        self._before_save[uid] = fn

    # ------------------------------------------------------------------ faults
    def fail_next(self, count: int = 1, status: int | None = 503, *, retry_after: str | None = None,
                  drop: bool = False, lose: bool = False,
                  match: Callable[[str, str], bool] | None = None) -> None:
        for _ in range(count):
            self._faults.append(Fault(None if (drop or lose) else status, retry_after, drop, lose, match))

    def fail_fraction(self, fraction: float, *, seed: int = 0, faults: list[Fault] | None = None,
                      match: Callable[[str, str], bool] | None = None) -> None:
        """Inject a fault into ``fraction`` of requests (seeded RNG). Default mix: 429/502/503/504/drop/lose."""
        if fraction <= 0:
            self._fraction = None
            return
        faults = faults or [Fault(429, retry_after="0"), Fault(502), Fault(503), Fault(504),
                            Fault(drop=True), Fault(lose=True)]
        self._fraction = (fraction, random.Random(seed), faults, match)

    def clear_faults(self) -> None:
        self._faults.clear()
        self._fraction = None

    def _pick_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for i, f in enumerate(self._faults):
                if f.match is None or f.match(method, path):
                    del self._faults[i]
                    return f
            if self._fraction:
                fraction, rng, faults, match = self._fraction
                if (match is None or match(method, path)) and rng.random() < fraction:
                    return rng.choice(faults)
        return None

    # ------------------------------------------------------------------ records
    def reset_records(self) -> None:
        with self.lock:
            self.requests.clear()
            self.mutations.clear()

    def writes(self) -> list[Recorded]:
        """Requests that changed state (including those whose response was then lost)."""
        return [r for r in self.requests if r.applied]

    def reads(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "GET"]

    def duplicates(self) -> list[tuple[str, str]]:
        """Writes that applied the same content to the same resource as the previous write did."""
        last: dict[tuple[str, str], str] = {}
        dups = []
        for kind, key, digest in self.mutations:
            if last.get((kind, key)) == digest:
                dups.append((kind, key))
            last[(kind, key)] = digest
        return dups

    # ------------------------------------------------------------------ HTTP plumbing
    def _serve(self, h: _Handler) -> None:
        split = urlsplit(h.path)
        path = unquote(split.path)
        query = parse_qs(split.query, keep_blank_values=True)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        rec = Recorded(h.command, path, query, {k: v for k, v in h.headers.items()}, raw.decode("utf-8", "replace"))
        with self.lock:
            self.requests.append(rec)
        arrived = time.monotonic()
        fault = self._pick_fault(h.command, path)
        if fault and fault.drop:
            self._wait(arrived)
            rec.fault = "drop"
            self._drop(h)
            return
        if fault and fault.status:
            rec.fault = "status"
            rec.status = fault.status
            body = {"message": {429: "Too Many Requests", 502: "Bad Gateway", 503: "Service Unavailable",
                                504: "Gateway Timeout"}.get(fault.status, "error")}
            if self.echo_auth_in_errors:
                body["request_authorization"] = h.headers.get("Authorization", "")
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            self._wait(arrived)
            self._send(h, fault.status, body, headers)
            return
        try:
            status, body, headers = self._route(h.command, path, query, raw, h.headers, rec)
        except Exception as exc:  # an emulator bug must be loud, not a hang
            status, body, headers = 500, {"message": f"emulator error: {exc!r}"}, {}
        if status >= 400 and self.echo_auth_in_errors and isinstance(body, dict):
            body["request_authorization"] = h.headers.get("Authorization", "")
        rec.status = status
        self._wait(arrived)
        if fault and fault.lose:
            rec.fault = "lose"
            rec.status = None
            self._drop(h)
            return
        self._send(h, status, body, headers)

    def _wait(self, arrived: float) -> None:
        """Answer ``latency`` seconds after the request arrived (a real server's work is inside its latency)."""
        left = self.latency - (time.monotonic() - arrived)
        if left > 0:
            time.sleep(left)

    @staticmethod
    def _drop(h: _Handler) -> None:
        h.close_connection = True
        try:
            h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    @staticmethod
    def _send(h: _Handler, status: int, body: Any, headers: dict[str, str]) -> None:
        if body is None:
            payload = b""
        elif isinstance(body, bytes):
            payload = body
        else:
            payload = json.dumps(body).encode()
        h.send_response(status)
        if payload:
            h.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(payload)))
        h._headers_buffer.append(b"\r\n" + payload)  # headers and body in one send
        h.flush_headers()

    # ------------------------------------------------------------------ auth
    def _auth(self, headers: Any) -> tuple[int, dict] | str:
        auth = headers.get("Authorization")
        org_header = headers.get("X-Grafana-Org-Id")

        def err(msg: str, mid: str) -> tuple[int, dict]:
            return 401, {"message": msg, "messageId": mid, "statusCode": 401, "traceID": ""}

        if not auth:
            return err("Unauthorized", "auth.unauthorized")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer "):]
            if token not in self.tokens:
                return err("Invalid API key", "api-key.invalid")
            org, login = self.tokens[token]
            if org_header and org_header.strip() != str(org):
                return err("API key does not belong to the requested organization", "api-key.organization-mismatch")
            return login
        if auth.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except Exception:
                return err("Invalid Basic Auth Header", "auth.unauthorized")
            if self.users.get(user, (None,))[0] != password:
                return err("Invalid username or password", "password-auth.failed")
            if org_header and org_header.strip() != str(self.users[user][1]):
                return err("User is not a member of the requested organization", "auth.unauthorized")
            return user
        return err("Unauthorized", "auth.unauthorized")

    # ------------------------------------------------------------------ routing
    def _route(self, method: str, path: str, q: dict, raw: bytes, headers: Any, rec: Recorded
               ) -> tuple[int, Any, dict[str, str]]:
        if path == "/api/health" and method == "GET":
            if not self.database_ok:
                return 503, {"database": "failing", "version": self.grafana_version, "commit": "abc123"}, {}
            return 200, {"database": "ok", "version": self.grafana_version, "commit": "abc123"}, {}
        who = self._auth(headers)
        if isinstance(who, tuple):
            return who[0], who[1], {}
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return 400, {"message": "bad request data", "traceID": ""}, {}
        parts = [p for p in path.split("/") if p]
        with self.lock:
            out = self._dispatch(method, parts, q, body, headers, who, rec)
        status, resp = out[0], out[1]
        return status, resp, (out[2] if len(out) > 2 else {})

    def _dispatch(self, method: str, p: list[str], q: dict, body: Any, headers: Any, who: str, rec: Recorded):
        n = len(p)
        if p[:2] == ["api", "datasources"] and n == 4 and method == "GET" and p[2] in ("uid", "name"):
            key = p[3]
            for ds in self.datasources.values():
                if (p[2] == "uid" and ds["uid"] == key) or (p[2] == "name" and ds["name"] == key):
                    return 200, ds
            return 404, {"message": "Data source not found", "traceID": ""}
        if p == ["api", "frontend", "settings"] and method == "GET":
            return 200, self._frontend_settings()
        if p == ["apis"] and method == "GET":
            return self._api_groups()
        if p == ["api", "dashboards", "db"] and method == "POST":
            return self._save_dashboard(body, who, rec)
        if p[:3] == ["api", "dashboards", "uid"] and n >= 4:
            uid = p[3]
            if n == 4 and method == "GET":
                return self._get_dashboard(uid)
            if n == 4 and method == "DELETE":
                return self._delete_dashboard(uid, rec)
            if n == 5 and p[4] == "versions" and method == "GET":
                d = self.dashboards.get(uid)
                if not d:
                    return 404, {"message": "Dashboard not found"}
                versions = [dict(v, id=i + 1, uid=uid, parentVersion=max(v["version"] - 1, 0))
                            for i, v in enumerate(reversed(d.versions))]
                return 200, {"continueToken": "", "versions": versions}
        if p == ["api", "search"] and method == "GET":
            return self._search(q)
        if p[:2] == ["api", "folders"]:
            return self._folders(method, p[2] if n > 2 else None, q, body, who, rec)
        if p[:3] == ["api", "v1", "provisioning"]:
            return self._provisioning(method, p[3:], q, body, headers, rec)
        if p[0] == "apis" and n >= 2:
            return self._apis(method, p[1:], q, body, headers, who, rec)
        return 404, {"message": "Not found"}

    # ------------------------------------------------------------------ discovery
    def toggle(self, name: str) -> bool:
        return self.feature_toggles.get(name) is True

    def _frontend_settings(self) -> dict:
        """The parts of ``GET /api/frontend/settings`` a client reads (Grafana's pkg/api/frontendsettings.go): the
        toggles that are on, and every datasource by name with its plugin's capabilities."""
        tempo_alerting = self.version >= (12, 1) and self.toggle("tempoAlerting")
        datasources = {}
        for ds in self.datasources.values():
            alerting = ds["type"] != "tempo" or tempo_alerting
            datasources[ds["name"]] = {"id": ds["id"], "uid": ds["uid"], "type": ds["type"], "name": ds["name"],
                                       "isDefault": ds["isDefault"], "access": ds["access"], "url": ds["url"],
                                       "meta": {"id": ds["type"], "type": "datasource", "alerting": alerting,
                                                "backend": True, "metrics": True}}
        return {"buildInfo": {"version": self.grafana_version, "commit": "abc123", "edition": "Open Source",
                              "env": "production"},
                "featureToggles": {k: True for k, v in sorted(self.feature_toggles.items()) if v is True},
                "datasources": datasources, "appSubUrl": "", "unifiedAlertingEnabled": True}

    def served_groups(self) -> dict[str, tuple[list[str], str]]:
        """API group -> (served versions, preferred version), as Grafana 12.x and 13.x serve them."""
        if self.version < (12, 0):
            return {}
        if self.version < (13, 0):
            v2 = "v2alpha1" if self.version < (12, 1) else "v2beta1"
            return {"dashboard.grafana.app": (["v1beta1", "v0alpha1", v2], "v1beta1"),
                    "folder.grafana.app": (["v1beta1"], "v1beta1")}
        return {"dashboard.grafana.app": (["v1", "v1beta1", "v0alpha1", "v2", "v2beta1"], "v1"),
                "folder.grafana.app": (["v1", "v1beta1"], "v1")}

    def _api_groups(self):
        groups = self.served_groups()
        if not groups:  # 11.x: the App Platform is not for general use
            return 404, {"message": "Not found"}
        return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            {"name": name, "versions": [{"groupVersion": f"{name}/{v}", "version": v} for v in versions],
             "preferredVersion": {"groupVersion": f"{name}/{pref}", "version": pref}}
            for name, (versions, pref) in groups.items()]}

    # ------------------------------------------------------------------ dashboards
    def _meta(self, d: _Dash) -> dict:
        meta = {"type": "db", "canSave": True, "canEdit": True, "canAdmin": True, "canStar": True,
                "canDelete": True, "slug": _slug(d.data.get("title", "")),
                "url": f"/d/{d.uid}/{_slug(d.data.get('title', ''))}", "expires": "0001-01-01T00:00:00Z",
                "created": d.created, "updated": d.updated, "updatedBy": d.updated_by,
                "createdBy": d.created_by, "version": d.version, "hasAcl": False, "isFolder": False,
                "folderId": 0, "folderUid": d.folder_uid or "", "folderTitle": "General", "folderUrl": "",
                "provisioned": d.provisioned, "provisionedExternalId": "x.json" if d.provisioned else ""}
        if d.folder_uid and d.folder_uid in self.folders:
            f = self.folders[d.folder_uid]
            meta.update(folderId=f["id"], folderTitle=f["title"], folderUrl=f["url"])
        return meta

    def _stored(self, d: _Dash) -> dict:
        data = copy.deepcopy(d.data)
        data["id"] = d.id
        data["uid"] = d.uid
        data["version"] = d.version
        return data

    def _get_dashboard(self, uid: str):
        d = self.dashboards.get(uid)
        if not d:
            return 404, {"message": "Dashboard not found", "traceID": ""}
        if d.stored.startswith("v2"):  # Grafana's pkg/api/dashboard.go answers 406 for a v2 dashboard
            return 406, {"message": "dashboard api version not supported, use /apis/dashboard.grafana.app/"
                                    f"{d.stored}/namespaces/{self.namespace()}/dashboards/{uid} instead"}
        return 200, {"dashboard": self._stored(d), "meta": self._meta(d)}

    def _save_dashboard(self, body: Any, who: str, rec: Recorded):
        if not isinstance(body, dict) or not isinstance(body.get("dashboard"), dict):
            return 400, {"message": "bad request data", "traceID": ""}
        dash = copy.deepcopy(body["dashboard"])
        if "elements" in dash or "layout" in dash or str(dash.get("apiVersion", "")).startswith("dashboard.grafana.app/"):
            return 400, {"message": "v2 dashboards cannot be saved through /api/dashboards/db: use "
                                    "/apis/dashboard.grafana.app/v2 (a v2 spec has elements and a layout, not panels)"}
        title = dash.get("title")
        if not isinstance(title, str) or not title.strip():
            return 400, {"status": "empty-name", "message": "Dashboard title cannot be empty"}
        if len(title) > 5000:
            return 400, {"status": "title-too-long", "message": "Dashboard title cannot be more than 5000 characters"}
        message = body.get("message") or ""
        if len(message) > 500:
            return 400, {"message": "message too long, max 500 characters"}
        uid = dash.get("uid") or ""
        if not isinstance(uid, str) or not UID_RE.match(uid):
            return 400, {"message": "uid contains illegal characters"}
        if len(uid) > 40:
            return 400, {"message": "uid too long, max 40 characters"}
        dash_id = dash.get("id")
        if dash_id:
            if not any(d.id == dash_id for d in self.dashboards.values()):
                return 404, {"status": "not-found", "message": "Dashboard not found"}
            if not uid:
                uid = next(d.uid for d in self.dashboards.values() if d.id == dash_id)
        folder_uid = body.get("folderUid") or None
        if folder_uid and folder_uid not in self.folders:
            msg = "folder not found" if self.version >= (12, 0) else "Folder not found"
            return 400, {"message": msg}
        if uid in self._before_save:
            self._before_save.pop(uid)()
        existing = self.dashboards.get(uid) if uid else None
        if existing and existing.provisioned:
            return 400, {"message": "Cannot save provisioned dashboard"}
        if existing and dash.get("version") != existing.version and not body.get("overwrite"):
            return 412, {"status": "version-mismatch", "message": "The dashboard has been changed by someone else"}
        if not uid:
            uid = secrets.token_hex(7)
        now = _now()
        for key in ("id", "version"):
            dash.pop(key, None)
        dash["uid"] = uid
        if existing:
            existing.data, existing.folder_uid = dash, folder_uid
            existing.version += 1
            existing.resource_version = self._next_rv()
            existing.stored, existing.v2spec = "v1", None  # a v1 write stores v1 again (section 6)
            existing.updated, existing.updated_by = now, who
            d = existing
        else:
            d = _Dash(self._id(), uid, dash, folder_uid, 1, now, now, who, who)
            d.resource_version = self._next_rv()
            self.dashboards[uid] = d
        d.versions.append({"version": d.version, "created": now, "createdBy": who, "message": message})
        rec.applied = True
        self.mutations.append(("dashboard", uid, _digest([dash, folder_uid])))
        return 200, {"id": d.id, "uid": uid, "url": f"/d/{uid}/{_slug(title)}", "status": "success",
                     "version": d.version, "slug": _slug(title), "folderUid": folder_uid or ""}

    def _delete_dashboard(self, uid: str, rec: Recorded):
        d = self.dashboards.get(uid)
        if not d:
            return 404, {"message": "Dashboard not found", "traceID": ""}
        if d.provisioned:
            return 400, {"message": "provisioned dashboard cannot be deleted"}
        del self.dashboards[uid]
        rec.applied = True
        self.mutations.append(("dashboard", uid, "deleted"))
        title = d.data.get("title", "")
        return 200, {"title": title, "message": f"Dashboard {title} deleted", "uid": uid}

    def _search(self, q: dict):
        try:
            limit = int(q.get("limit", ["1000"])[0] or 1000)
            page = int(q.get("page", ["1"])[0] or 1)
        except ValueError:
            return 400, {"message": "bad request data"}
        if limit > 5000:
            return 422, {"message": "Limit is above maximum allowed (5000), use page to get more results"}
        types = q.get("type", [])
        tags = [t for t in q.get("tag", []) if t]
        folder_uids = [f for f in q.get("folderUIDs", []) if f]
        dash_uids = [u for u in q.get("dashboardUIDs", []) if u]
        query = (q.get("query", [""])[0] or "").lower()
        hits: list[dict] = []
        if "dash-db" not in types and not tags and not dash_uids:
            for f in sorted(self.folders.values(), key=lambda f: f["title"].lower()):
                if query and query not in f["title"].lower():
                    continue
                if folder_uids and (f.get("parentUid") or "general") not in folder_uids:
                    continue
                hits.append({"id": f["id"], "uid": f["uid"], "orgId": self.org_id, "title": f["title"],
                             "uri": f"db/{_slug(f['title'])}", "url": f["url"], "slug": "", "type": "dash-folder",
                             "tags": [], "isStarred": False})
        if "dash-folder" not in types or "dash-db" in types:
            dashes = []
            for d in self.dashboards.values():
                dtags = d.data.get("tags") or []
                if any(t not in dtags for t in tags):
                    continue
                if folder_uids and (d.folder_uid or "general") not in folder_uids:
                    continue
                if dash_uids and d.uid not in dash_uids:
                    continue
                if query and query not in d.data.get("title", "").lower():
                    continue
                dashes.append(d)
            for d in sorted(dashes, key=lambda d: d.data.get("title", "").lower()):
                hit = {"id": d.id, "uid": d.uid, "orgId": self.org_id, "title": d.data.get("title", ""),
                       "uri": f"db/{_slug(d.data.get('title', ''))}", "url": f"/d/{d.uid}/{_slug(d.data.get('title', ''))}",
                       "slug": "", "type": "dash-db", "tags": list(d.data.get("tags") or []), "isStarred": False}
                if d.folder_uid and d.folder_uid in self.folders:
                    f = self.folders[d.folder_uid]
                    hit.update(folderId=f["id"], folderUid=f["uid"], folderTitle=f["title"], folderUrl=f["url"])
                hits.append(hit)
        start = (page - 1) * limit
        return 200, hits[start:start + limit]

    # ------------------------------------------------------------------ folders
    def _depth(self, uid: str | None) -> int:
        depth = 0
        while uid:
            depth += 1
            uid = self.folders.get(uid, {}).get("parentUid")
        return depth

    def _folders(self, method: str, uid: str | None, q: dict, body: Any, who: str, rec: Recorded):
        not_found = (404, {"status": "not-found", "message": "folder not found"})
        if uid is None and method == "GET":
            parent = (q.get("parentUid", [""])[0]) or None
            return 200, [{"id": f["id"], "uid": f["uid"], "title": f["title"], **({"parentUid": f["parentUid"]} if f.get("parentUid") else {})}
                         for f in self.folders.values() if f.get("parentUid") == parent]
        if uid is None and method == "POST":
            if not isinstance(body, dict):
                return 400, {"message": "bad request data"}
            title = (body.get("title") or "").strip()
            if not title:
                return 400, {"message": "folder title cannot be empty"}
            new_uid = body.get("uid") or secrets.token_hex(7)
            if not UID_RE.match(new_uid):
                return 400, {"message": "uid contains illegal characters"}
            if len(new_uid) > 40:
                return 400, {"message": "uid too long, max 40 characters"}
            parent = body.get("parentUid") or None
            if parent and parent not in self.folders:
                return 404, {"status": "not-found", "message": "folder not found"}
            if self._depth(parent) >= 4:
                return 400, {"messageId": "folder.maximum-depth-reached", "message": "Maximum nested folder depth reached", "statusCode": 400}
            if any(f["title"] == title and f.get("parentUid") == parent for f in self.folders.values()):
                return 409, {"message": "a folder with the same name already exists in the current location"}
            if new_uid in self.folders or new_uid in self.dashboards:
                return 412, {"status": "version-mismatch", "message": "the folder has been changed by someone else"}
            f = self.add_folder(new_uid, title, parent)
            f.update(createdBy=who, updatedBy=who)
            if body.get("description"):
                f["description"] = body["description"]
            rec.applied = True
            self.mutations.append(("folder", new_uid, _digest([title, parent])))
            return 200, dict(f)
        if uid is None:
            return 404, {"message": "Not found"}
        f = self.folders.get(uid)
        if method == "GET":
            return (200, {k: v for k, v in f.items() if k not in ("annotations", "rv")}) if f else not_found
        if method == "PUT":
            if not f:
                return not_found
            if not isinstance(body, dict) or not (body.get("title") or "").strip():
                return 400, {"message": "folder title cannot be empty"}
            if body.get("version") != f["version"] and not body.get("overwrite"):
                return 412, {"status": "version-mismatch", "message": "the folder has been changed by someone else"}
            f.update(title=body["title"].strip(), version=f["version"] + 1, updated=_now(), updatedBy=who)
            rec.applied = True
            self.mutations.append(("folder", uid, _digest([f["title"], f.get("parentUid")])))
            return 200, dict(f)
        if method == "DELETE":
            if not f:
                return not_found
            force_rules = (q.get("forceDeleteRules", ["false"])[0]).lower() == "true"
            has_rules = any(r["folderUID"] == uid for r in self.rules.values())
            if has_rules and not force_rules:
                return 400, {"message": "folder cannot be deleted: folder contains alert rules"}
            for d in [d for d in self.dashboards.values() if d.folder_uid == uid]:
                del self.dashboards[d.uid]
            for r in [r for r in self.rules.values() if r["folderUID"] == uid]:
                del self.rules[r["uid"]]
            del self.folders[uid]
            rec.applied = True
            self.mutations.append(("folder", uid, "deleted"))
            return 200, {"message": "Folder deleted", "id": f["id"], "title": f["title"]}
        return 404, {"message": "Not found"}

    # ------------------------------------------------------------------ alerting provisioning
    def _group_body(self, folder: str, group: str) -> dict | None:
        rules = [copy.deepcopy(r) for r in self.rules.values() if r["folderUID"] == folder and r["ruleGroup"] == group]
        if not rules:
            return None
        rules.sort(key=lambda r: r["_order"])
        for r in rules:
            r.pop("_order", None)
        return {"title": group, "folderUid": folder, "interval": self.group_intervals.get((folder, group), 60),
                "rules": rules}

    def _validate_rule(self, r: Any, folder: str, group: str) -> str | None:
        if not isinstance(r, dict):
            return "invalid alert rule: bad request data"
        title = r.get("title") or ""
        if not title.strip():
            return "invalid alert rule: title is empty"
        if len(title) > 190:
            return "invalid alert rule: title is too long (max 190 characters)"
        uid = r.get("uid") or ""
        if not UID_RE.match(uid) or len(uid) > 40:
            return f"invalid alert rule: cannot create rule with UID '{uid}': UID is invalid"
        # recording rules (pkg/services/ngalert/api/api_provisioning.go): refused unless the toggle is on; then the metric
        # must be a Prometheus name and `from` a query, and the alerting-only fields are ignored
        record = r.get("record")
        if record is not None and not (self.toggle("grafanaManagedRecordingRules") and self.recording_rules_enabled):
            return "invalid alert rule: recording rules cannot be created on this instance"
        if record is None and not r.get("condition"):
            return "invalid alert rule: condition is required"
        data = r.get("data")
        if not data:
            return "invalid alert rule: no queries or expressions are found"
        refs = set()
        for q in data:
            if not isinstance(q, dict) or not q.get("refId") or not q.get("datasourceUid") or not isinstance(q.get("model"), dict):
                return "invalid alert rule: invalid query: refId, datasourceUid and model are required"
            refs.add(q["refId"])
            if q["datasourceUid"] != "__expr__":
                rtr = q.get("relativeTimeRange") or {}
                if not (int(rtr.get("from", 0)) > int(rtr.get("to", 0))):
                    return f"invalid alert rule: invalid relative time range [From: {rtr.get('from', 0)}, To: {rtr.get('to', 0)}]"
                if q["datasourceUid"] not in self.datasources:
                    return f"invalid alert rule: failed to build query '{q['refId']}': data source not found"
        if record is not None:
            if not isinstance(record, dict) or not METRIC_RE.match(str(record.get("metric") or "")):
                return "invalid alert rule: metric name for recording rule must be a valid Prometheus metric name"
            if record.get("from") not in refs:
                return f"invalid alert rule: recording rule 'from' {record.get('from')!r} does not name a query"
        else:
            if r["condition"] not in refs:
                return f"invalid alert rule: condition {r['condition']} does not exist, must be one of {sorted(refs)}"
            if r.get("noDataState") not in NO_DATA_STATES:
                return f"invalid alert rule: unknown no data state '{r.get('noDataState')}'"
            if r.get("execErrState") not in EXEC_ERR_STATES:
                return f"invalid alert rule: unknown exec error state '{r.get('execErrState')}'"
            if not isinstance(r.get("for"), str) or not DURATION_RE.match(r["for"]):
                return f"invalid alert rule: invalid duration for 'for': {r.get('for')!r}"
        if r.get("folderUID") not in (None, "", folder) or r.get("ruleGroup") not in (None, "", group):
            return "invalid alert rule: rule folderUID and ruleGroup must match the group"
        return None

    def _provisioning(self, method: str, p: list[str], q: dict, body: Any, headers: Any, rec: Recorded):
        provenance = "" if headers.get("X-Disable-Provenance") is not None else "api"
        mismatch = (409, {"message": "provenance mismatch: the rule was provisioned with another provenance",
                          "messageId": "alerting.provenanceMismatch", "statusCode": 409, "traceID": ""})
        if len(p) == 4 and p[0] == "folder" and p[2] == "rule-groups":
            folder, group = p[1], p[3]
            if method == "GET":
                g = self._group_body(folder, group)
                return (200, g) if g else (404, {"message": "rule group does not exist", "traceID": ""})
            if method != "PUT":
                return 404, {"message": "Not found"}
            if not isinstance(body, dict):
                return 400, {"message": "bad request data"}
            if folder not in self.folders:
                return 400, {"message": "invalid alert rule: folder does not exist"}
            if not (1 <= len(group) <= 190):
                return 400, {"message": "invalid alert rule: rule group name must be 1-190 characters"}
            interval = body.get("interval")
            if not isinstance(interval, int) or interval <= 0 or interval % 10:
                return 400, {"message": f"invalid alert rule: interval ({interval}s) should be non-zero and divided exactly by scheduler interval: 10"}
            rules = body.get("rules") or []
            seen_titles: set[str] = set()
            for r in rules:
                err = self._validate_rule(r, folder, group)
                if err:
                    return 400, {"message": err}
                if r["title"] in seen_titles or any(
                        o["folderUID"] == folder and o["title"] == r["title"] and o["uid"] != r.get("uid")
                        and o["ruleGroup"] != group for o in self.rules.values()):
                    return 400, {"message": f"[alerting.alert-rule.conflict] failed to update rule group: rule title '{r['title']}' already exists in folder"}
                seen_titles.add(r["title"])
            existing = [r for r in self.rules.values() if r["folderUID"] == folder and r["ruleGroup"] == group]
            incoming_uids = {r.get("uid") for r in rules}
            touched = existing + [self.rules[u] for u in incoming_uids if u in self.rules]
            if any(r.get("provenance", "") != provenance for r in touched):
                return mismatch
            before = self._group_body(folder, group)
            for r in existing:
                if r["uid"] not in incoming_uids:
                    del self.rules[r["uid"]]
            for i, r in enumerate(rules):
                stored = copy.deepcopy(r)
                stored["uid"] = stored.get("uid") or secrets.token_hex(7)
                old = self.rules.get(stored["uid"])
                stored.update(folderUID=folder, ruleGroup=group, orgID=self.org_id, provenance=provenance,
                              id=old["id"] if old else self._id(), updated=_now(), _order=i)
                if stored.get("record") is not None:
                    stored.update(RECORDING_IGNORED)
                    stored.pop("notification_settings", None)
                for qd in stored["data"]:
                    qd["model"].setdefault("intervalMs", 1000)
                    qd["model"].setdefault("maxDataPoints", 43200)
                self.rules[stored["uid"]] = stored
            self.group_intervals[(folder, group)] = interval
            rec.applied = True
            after = self._group_body(folder, group)
            for g in (before, after):
                if g:
                    for r in g["rules"]:
                        r.pop("updated", None)
            self.mutations.append(("rule-group", f"{folder}/{group}", _digest(after)))
            return 200, body
        if p == ["alert-rules"] and method == "GET":  # every rule of the organisation; none is 200 []
            out = []
            for r in sorted(self.rules.values(), key=lambda r: (r["folderUID"], r["ruleGroup"], r["_order"])):
                r = copy.deepcopy(r)
                r.pop("_order", None)
                out.append(r)
            return 200, out
        if len(p) == 2 and p[0] == "alert-rules" and p[1] == "export" and method == "GET":
            folder = q.get("folderUid", [""])[0]
            group = q.get("group", [""])[0]
            fmt = q.get("format", ["yaml"])[0]
            groups: dict[tuple[str, str], list] = {}
            for r in sorted(self.rules.values(), key=lambda r: r["_order"]):
                if folder and r["folderUID"] != folder or group and r["ruleGroup"] != group:
                    continue
                groups.setdefault((r["folderUID"], r["ruleGroup"]), []).append(
                    {k: copy.deepcopy(r.get(k)) for k in ("uid", "title", "condition", "data", "noDataState",
                                                          "execErrState", "for", "annotations", "labels", "isPaused")
                     if k in r})
            if not groups:
                return 404, b""
            doc = {"apiVersion": 1, "groups": [
                {"orgId": self.org_id, "name": g, "folder": self.folders.get(f, {}).get("title", f),
                 "interval": f"{self.group_intervals.get((f, g), 60)}s", "rules": rs}
                for (f, g), rs in groups.items()]}
            if fmt == "json":
                return 200, doc
            return 200, yaml.safe_dump(doc).encode(), {"Content-Type": "text/yaml"}
        if len(p) == 2 and p[0] == "alert-rules":
            uid = p[1]
            r = self.rules.get(uid)
            if method == "GET":
                if not r:
                    return 404, b""
                out = copy.deepcopy(r)
                out.pop("_order", None)
                return 200, out
            if method == "DELETE":
                if r:
                    if r.get("provenance", "") != provenance:
                        return mismatch
                    del self.rules[uid]
                    rec.applied = True
                    self.mutations.append(("rule", uid, "deleted"))
                return 204, None
        return 404, {"message": "Not found"}

    # ------------------------------------------------------------------ App Platform (/apis)
    # The App Platform: Kubernetes-style objects over the same store as /api.
    MANAGER_KEYS = ("grafana.app/managedBy", "grafana.app/managerId")
    SERVER_ANNOTATIONS = ("grafana.app/createdBy", "grafana.app/updatedBy", "grafana.app/updatedTimestamp")

    @staticmethod
    def _k8s_status(code: int, reason: str, message: str, details: dict | None = None) -> tuple[int, dict]:
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
                "reason": reason, "code": code}
        if details is not None:
            body["details"] = details
        return code, body

    def namespace(self) -> str:
        return "default" if self.org_id == 1 else f"org-{self.org_id}"

    @staticmethod
    def _identity(who: str) -> str:
        return f"service-account:{who}" if who.startswith("sa-") else f"user:{who}"

    def ui_save_v2(self, uid: str, *, user: str = "carol", mutate: Callable[[dict], None] | None = None) -> _Dash:
        """A person re-saves the dashboard in the dynamic-dashboards editor: stored as v2 from now on
        (section 6). ``mutate`` changes the classic view of it (default: retitle the first panel)."""
        with self.lock:
            d = self.dashboards[uid]
            if mutate is None:
                def mutate(dash: dict) -> None:
                    first = next(p for p in dash["panels"] if p.get("type") != "row")
                    first["title"] = first.get("title", "") + " (edited)"
            mutate(d.data)
            d.stored = "v2" if self.version >= (13, 0) else "v2beta1"
            d.v2spec = self._to_v2(d.data, d.stored)
            d.version += 1
            d.resource_version = self._next_rv()
            d.updated, d.updated_by = _now(), user
            d.versions.append({"version": d.version, "created": d.updated, "createdBy": user, "message": ""})
            return d

    @staticmethod
    def _to_v2(classic: dict, version: str = "v2") -> dict:
        """The v2 spec Grafana's converter makes of a classic dashboard (``dashboards/v2.py`` follows
        grafana/grafana ``apps/dashboard/pkg/migration/conversion``)."""
        from ..dashboards.v2 import to_v2

        return to_v2({**classic, "uid": classic.get("uid") or "x"}, f"dashboard.grafana.app/{version}")["spec"]

    @staticmethod
    def _to_classic(uid: str, spec: dict, version: str) -> dict:
        from ..dashboards.v2 import to_classic

        d = to_classic({"apiVersion": f"dashboard.grafana.app/{version}", "metadata": {"name": uid}, "spec": spec})
        d.pop("schemaVersion", None)
        return d

    V2_SPEC_KEYS = frozenset({"annotations", "cursorSync", "description", "editable", "elements", "layout", "links",
                              "liveNow", "preload", "revision", "tags", "timeSettings", "title", "variables",
                              "preferences"})
    V2_LAYOUTS = ("GridLayout", "RowsLayout", "AutoGridLayout", "TabsLayout")

    def _v2_problem(self, spec: dict, version: str) -> str | None:
        """What Grafana's v2 schema refuses in ``spec`` (the checks a push can trip), or None.

        Required fields and unknown top-level keys (additionalProperties: false), element and
        layout kinds, every layout item naming an element, the query and visualization kinds of
        the version (v2beta1 and v2 write ``DataQuery``/``VizConfig``; v2 names a transformation
        ``Transformation`` with its id as ``group``, v2beta1 by its id)."""
        unknown = set(spec) - self.V2_SPEC_KEYS
        if unknown:
            return f'.spec: unknown field "{sorted(unknown)[0]}"'
        for key in ("title", "elements", "layout", "variables", "annotations", "links", "timeSettings", "tags",
                    "cursorSync", "preload"):
            if key not in spec:
                return f'.spec.{key}: Required value'
        elements = spec["elements"]
        if not isinstance(elements, dict):
            return ".spec.elements: must be an object"
        for name, el in elements.items():
            kind = (el or {}).get("kind")
            if kind not in ("Panel", "LibraryPanel"):
                return f".spec.elements.{name}.kind: Unsupported value: {kind!r}"
            if kind == "LibraryPanel":
                continue
            es = el.get("spec") or {}
            for key in ("id", "title", "description", "links", "data", "vizConfig"):
                if key not in es:
                    return f".spec.elements.{name}.spec.{key}: Required value"
            if (es["vizConfig"] or {}).get("kind") != "VizConfig" or not es["vizConfig"].get("group"):
                return f".spec.elements.{name}.spec.vizConfig: kind VizConfig with the panel type as group"
            data = (es["data"] or {}).get("spec") or {}
            for q in data.get("queries") or []:
                dq = ((q or {}).get("spec") or {}).get("query") or {}
                if dq.get("kind") != "DataQuery" or "version" not in dq or "group" not in dq:
                    return f".spec.elements.{name}: a panel query must be a DataQuery with group and version"
            for t in data.get("transformations") or []:
                if version == "v2" and (t.get("kind") != "Transformation" or not t.get("group")):
                    return f".spec.elements.{name}: a v2 transformation is kind Transformation with its id as group"
                if version != "v2" and t.get("kind") in ("", "Transformation", None):
                    return f".spec.elements.{name}: a v2beta1 transformation's kind is its id"
        referenced: list[str] = []

        def walk(layout: Any, where: str) -> str | None:
            kind = (layout or {}).get("kind")
            if kind not in self.V2_LAYOUTS:
                return f"{where}.kind: Unsupported value: {kind!r}"
            ls = layout.get("spec") or {}
            if kind in ("GridLayout", "AutoGridLayout"):
                for item in ls.get("items") or []:
                    referenced.append(((item.get("spec") or {}).get("element") or {}).get("name", ""))
                return None
            for i, sub in enumerate(ls.get("rows" if kind == "RowsLayout" else "tabs") or []):
                bad = walk((sub.get("spec") or {}).get("layout"), f"{where}.{i}.layout")
                if bad:
                    return bad
            return None

        bad = walk(spec["layout"], ".spec.layout")
        if bad:
            return bad
        missing = [n for n in referenced if n not in elements]
        if missing:
            return f".spec.layout: element {missing[0]!r} is not in .spec.elements"
        ts = spec["timeSettings"] or {}
        if not ts.get("from") or not ts.get("to"):
            return ".spec.timeSettings: from and to are required"
        return None

    def _apis(self, method: str, p: list[str], q: dict, body: Any, headers: Any, who: str, rec: Recorded):
        not_served = self._k8s_status(404, "NotFound", "the server could not find the requested resource")
        group = p[0]
        served = self.served_groups().get(group)
        if served is None or len(p) < 2 or p[1] not in served[0]:
            return not_served
        version = p[1]
        if len(p) < 5 or p[2] != "namespaces" or len(p) > 6:
            return not_served
        ns, resource, name = p[3], p[4], (p[5] if len(p) == 6 else None)
        if ns != self.namespace():
            return self._k8s_status(403, "Forbidden", f"namespace {ns!r} is not your organisation")
        api_version = f"{group}/{version}"
        if group == "dashboard.grafana.app" and resource == "dashboards":
            return self._k8s_dashboards(method, api_version, version, name, q, body, who, rec)
        if group == "folder.grafana.app" and resource == "folders":
            return self._k8s_folders(method, api_version, name, body, who, rec)
        return not_served

    def _dash_object(self, d: _Dash, api_version: str, version: str) -> dict:
        ann = dict(d.annotations)
        if d.folder_uid:
            ann["grafana.app/folder"] = d.folder_uid
        ann["grafana.app/createdBy"] = self._identity(d.created_by)
        ann["grafana.app/updatedBy"] = self._identity(d.updated_by)
        if d.version > 1:
            ann["grafana.app/updatedTimestamp"] = d.updated.split(".")[0] + "Z"
        status: dict = {}
        v2_family = version.startswith("v2")
        if v2_family:
            spec = copy.deepcopy(d.v2spec) if d.stored.startswith("v2") else self._to_v2(d.data, version)
            if not d.stored.startswith("v2"):
                status = {"conversion": {"failed": False, "storedVersion": d.stored}}
        else:
            spec = {k: copy.deepcopy(v) for k, v in d.data.items() if k not in ("id", "uid", "version")}
            if d.stored.startswith("v2"):
                status = {"conversion": {"failed": False, "storedVersion": d.stored}}
        return {"apiVersion": api_version, "kind": "Dashboard",
                "metadata": {"name": d.uid, "namespace": self.namespace(), "uid": d.k8s_uid,
                             "resourceVersion": d.resource_version, "generation": d.version,
                             "creationTimestamp": d.created.split(".")[0] + "Z",
                             "labels": {"grafana.app/deprecatedInternalID": str(d.id)}, "annotations": ann},
                "spec": spec, "status": status}

    def _check_envelope(self, body: Any, api_version: str, kind: str, name: str | None):
        if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict) or not isinstance(body.get("spec"), dict):
            return self._k8s_status(400, "BadRequest", "the body of the request was in an unknown format")
        if body.get("apiVersion") != api_version:
            return self._k8s_status(400, "BadRequest", f"the API version in the data ({body.get('apiVersion')}) does not "
                                                       f"match the expected API version ({api_version})")
        if body.get("kind") != kind:
            return self._k8s_status(400, "BadRequest", f"the kind in the data ({body.get('kind')}) does not match {kind}")
        meta = body["metadata"]
        if meta.get("namespace") not in (None, "", self.namespace()):
            return self._k8s_status(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request")
        if name is not None and meta.get("name") != name:
            return self._k8s_status(400, "BadRequest", "the name of the object does not match the name on the URL")
        return None

    def _manager_refusal(self, old: dict[str, str], new: dict[str, str]):
        """Grafana 13 refuses a write that changes the manager; 12 only guards Git Sync (section 5)."""
        (ok, oi), (nk, ni) = ((old.get(k, "") for k in self.MANAGER_KEYS)), ((new.get(k, "") for k in self.MANAGER_KEYS))
        if not oi or (ok, oi) == (nk, ni):
            return None
        if ok == "repo" and (nk, ni) != (ok, oi):
            return self._k8s_status(403, "Forbidden", "Can not remove resource manager from resource")
        if self.version < (13, 0) or not ni:
            return None
        if nk != ok:
            return self._k8s_status(403, "Forbidden", f'Cannot change resource manager kind from "{ok}" (identity "{oi}") to '
                                                      f'"{nk}" (identity "{ni}"); remove the existing manager first, then add the new one',
                                    {"causes": [{"reason": "ResourceManagerKindConflict"}]})
        return self._k8s_status(403, "Forbidden", "Cannot change resource manager identity; remove the existing manager "
                                                  "first, then add the new one")

    def _k8s_dashboards(self, method: str, api_version: str, version: str, name: str | None, q: dict, body: Any,
                        who: str, rec: Recorded):
        def missing(n: str):
            return self._k8s_status(404, "NotFound", f'dashboards.dashboard.grafana.app "{n}" not found',
                                    {"name": n, "group": "dashboard.grafana.app", "kind": "dashboards"})
        if name is not None and method == "GET":
            d = self.dashboards.get(name)
            return (200, self._dash_object(d, api_version, version)) if d else missing(name)
        if name is not None and method == "DELETE":
            d = self.dashboards.get(name)
            if not d:
                return missing(name)
            if d.provisioned and q.get("gracePeriodSeconds", [""])[0] != "0":
                return self._k8s_status(400, "BadRequest", "provisioned dashboard cannot be deleted")
            del self.dashboards[name]
            rec.applied = True
            self.mutations.append(("dashboard", name, "deleted"))
            return 200, {"kind": "Status", "apiVersion": "v1", "status": "Success", "metadata": {},
                         "details": {"name": name, "group": "dashboard.grafana.app", "kind": "dashboards", "uid": d.k8s_uid}}
        if method not in ("POST", "PUT") or (method == "POST") != (name is None):
            return self._k8s_status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        bad = self._check_envelope(body, api_version, "Dashboard", name)
        if bad:
            return bad
        v2 = version.startswith("v2")
        if v2:
            if version not in ("v2", "v2beta1"):
                return self._k8s_status(400, "BadRequest", f"this emulator writes v2 and v2beta1 dashboards, not {version}")
            problem = self._v2_problem(body["spec"], version)
            if problem:
                return self._k8s_status(422, "Invalid", f'Dashboard.dashboard.grafana.app "{body["metadata"].get("name")}" '
                                                        f"is invalid: {problem}")
        meta, spec = body["metadata"], copy.deepcopy(body["spec"])
        uid = meta.get("name") or ""
        if method == "POST":
            if not uid and meta.get("generateName"):
                uid = meta["generateName"] + secrets.token_hex(3)[:5]
            if not uid:
                return self._k8s_status(422, "Invalid", "metadata.name: Required value: name or generateName is required")
            if meta.get("resourceVersion"):
                return self._k8s_status(500, "InternalError", "resourceVersion should not be set on objects to be created")
            if uid in self.dashboards:
                return self._k8s_status(409, "AlreadyExists", f'dashboards.dashboard.grafana.app "{uid}" already exists')
        title = spec.get("title")
        ann = {k: str(v) for k, v in (meta.get("annotations") or {}).items()}
        message = ann.pop("grafana.app/message", "")
        for problem, ok in (("Dashboard title cannot be empty", isinstance(title, str) and title.strip()),
                            ("Dashboard title cannot contain more than 5 000 characters", len(str(title)) <= 5000),
                            ("message too long, max 500 characters", len(message) <= 500),
                            ("uid contains illegal characters", UID_RE.match(uid)),
                            ("uid too long, max 40 characters", len(uid) <= 40)):
            if not ok:
                return self._k8s_status(400, "BadRequest", problem)
        folder = ann.pop("grafana.app/folder", "") or None
        if folder and folder not in self.folders:
            return self._k8s_status(404, "NotFound", f'folders.folder.grafana.app "{folder}" not found')
        for k in self.SERVER_ANNOTATIONS:
            ann.pop(k, None)
        if uid in self._before_save:
            self._before_save.pop(uid)()
        existing = self.dashboards.get(uid)
        if method == "PUT":
            if not existing:
                return missing(uid)
            if meta.get("resourceVersion") and meta["resourceVersion"] != existing.resource_version:
                return self._k8s_status(409, "Conflict", f'Operation cannot be fulfilled on dashboards.dashboard.grafana.app "{uid}": '
                                                         "the object has been modified; please apply your changes to the latest version and try again")
            refused = self._manager_refusal(existing.annotations, ann)
            if refused:
                return refused
        v2spec = None
        if v2:  # stored as written; the classic views (legacy API, v1 reads, search) are converted from it
            v2spec, spec = spec, self._to_classic(uid, spec, version)
        for key in ("id", "uid", "version"):
            spec.pop(key, None)
        spec["uid"] = uid
        stored = version if v2 else "v1"
        now = _now()
        if existing:
            changed = (spec != existing.data or folder != existing.folder_uid or existing.stored != stored
                       or v2spec != existing.v2spec)
            existing.data, existing.folder_uid, existing.annotations = spec, folder, ann
            existing.stored, existing.v2spec = stored, v2spec
            existing.resource_version = self._next_rv()
            if changed:
                existing.version += 1
                existing.updated, existing.updated_by = now, who
                existing.versions.append({"version": existing.version, "created": now, "createdBy": who, "message": message})
            d = existing
        else:
            d = _Dash(self._id(), uid, spec, folder, 1, now, now, who, who)
            d.resource_version, d.annotations = self._next_rv(), ann
            d.stored, d.v2spec = stored, v2spec
            d.versions.append({"version": 1, "created": now, "createdBy": who, "message": message})
            self.dashboards[uid] = d
        rec.applied = True
        self.mutations.append(("dashboard", uid, _digest([v2spec or spec, folder, ann])))
        return (201 if method == "POST" else 200), self._dash_object(d, api_version, version)

    def _folder_object(self, f: dict, api_version: str) -> dict:
        ann = dict(f.get("annotations") or {})
        if f.get("parentUid"):
            ann["grafana.app/folder"] = f["parentUid"]
        spec = {"title": f["title"], **({"description": f["description"]} if f.get("description") else {})}
        return {"apiVersion": api_version, "kind": "Folder",
                "metadata": {"name": f["uid"], "namespace": self.namespace(), "resourceVersion": str(f.get("rv", "1")),
                             "generation": f["version"], "annotations": ann}, "spec": spec}

    def _k8s_folders(self, method: str, api_version: str, name: str | None, body: Any, who: str, rec: Recorded):
        if name is not None and method == "GET":
            f = self.folders.get(name)
            return (200, self._folder_object(f, api_version)) if f else self._k8s_status(
                404, "NotFound", f'folders.folder.grafana.app "{name}" not found')
        if method != "POST" or name is not None:
            return self._k8s_status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        bad = self._check_envelope(body, api_version, "Folder", None)
        if bad:
            return bad
        meta, spec = body["metadata"], body["spec"]
        uid, title = meta.get("name") or "", (spec.get("title") or "").strip()
        ann = {k: str(v) for k, v in (meta.get("annotations") or {}).items()}
        parent = ann.pop("grafana.app/folder", "") or None

        def invalid(message: str, errid: str):
            return self._k8s_status(400, "BadRequest", message, {"uid": errid})
        if not uid:
            return self._k8s_status(422, "Invalid", "metadata.name: Required value: name or generateName is required")
        if meta.get("resourceVersion"):
            return self._k8s_status(500, "InternalError", "resourceVersion should not be set on objects to be created")
        if not title:
            return invalid("folder title cannot be empty", "folder.title-empty")
        if uid.lower() in ("general", "sharedwithme") or title == "General":
            return invalid("a folder with that name already exists", "folder.name-exists")
        if not UID_RE.match(uid):
            return invalid("uid contains illegal characters", "folder.invalid-uid-chars")
        if len(uid) > 40:
            return invalid("uid too long, max 40 characters", "folder.uid-too-long")
        if parent and parent not in self.folders:
            return self._k8s_status(404, "NotFound", f'folders.folder.grafana.app "{parent}" not found')
        if self._depth(parent) >= 4:
            return invalid("folder max depth exceeded, max depth is 4", "folder.maximum-depth-reached")
        if uid in self.folders:
            return self._k8s_status(409, "AlreadyExists", f'folders.folder.grafana.app "{uid}" already exists')
        f = self.add_folder(uid, title, parent)
        f.update(createdBy=who, updatedBy=who, annotations=ann, rv=self._next_rv())
        if spec.get("description"):
            f["description"] = spec["description"]
        rec.applied = True
        self.mutations.append(("folder", uid, _digest([title, parent])))
        return 201, self._folder_object(f, api_version)
