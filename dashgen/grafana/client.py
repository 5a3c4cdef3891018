"""A small, careful HTTP client for the Grafana API (https://grafana.com/docs/grafana/latest/developers/http_api/).

* one ``requests.Session`` (connection pool sized for the worker pool), JSON in and out;
* auth: a service-account token (``Authorization: Bearer``) or basic auth, ``X-Grafana-Org-Id``;
* retries with exponential backoff and full jitter on 429 (honouring ``Retry-After``), 502, 503,
  504 and connection errors, at most ``retries`` times; other 4xx are never retried;
* but a host that does not resolve, or refuses the connection, before it ever answered is not
  retried: no backoff turns a typo in GRAFANA_URL or a stopped server into a success, so it
  fails at once with one line naming the host and the cause;
* writes whose outcome is unknown (dropped connection, 5xx from a proxy) are only retried after a
  caller-supplied ``reconcile`` re-read says the write did not land, so nothing is duplicated;
* TLS verified by default (``ca_cert`` to add a CA, ``insecure_skip_verify`` to opt out), and
  credentials are never sent over plain http to a non-loopback host unless ``allow_insecure_http``;
* secrets never appear in a message, log, exception or repr: every text relayed from the server
  is passed through :meth:`GrafanaClient.redact`.
"""

from __future__ import annotations

import ipaddress
import json
import random
import socket
import threading
import time
from typing import Any, Callable
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from ..errors import DashgenError, InputError

RETRY_STATUSES = {429, 502, 503, 504}
UNKNOWN_OUTCOME_STATUSES = {502, 503, 504}  # a proxy may have forwarded the write


class GrafanaError(DashgenError):
    """An HTTP error from Grafana (after retries). ``status`` is None for transport errors;
    ``unreachable`` is set when the instance never answered (its message names host and cause)."""

    def __init__(self, message: str, status: int | None = None, body: Any = None, method: str = "", path: str = "",
                 unreachable: bool = False):
        super().__init__(message)
        self.status, self.body, self.method, self.path = status, body, method, path
        self.unreachable = unreachable


def _unreachable_cause(exc: BaseException) -> str | None:
    """Why a connection could not even be opened, when that is final: the name does not resolve, or
    nothing listens. requests wraps urllib3's NameResolutionError / NewConnectionError, which keep
    the socket error as their ``__cause__``."""
    seen: list[BaseException] = []
    todo: list[Any] = [exc]
    while todo:
        e = todo.pop()
        if not isinstance(e, BaseException) or any(e is s for s in seen):
            continue
        seen.append(e)
        if isinstance(e, socket.gaierror) or type(e).__name__ == "NameResolutionError":
            return "the host name does not resolve"
        if isinstance(e, ConnectionRefusedError):
            return "connection refused (is Grafana running, and is the port right?)"
        todo += [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]
    return None


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class GrafanaClient:
    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        user: str | None = None,
        password: str | None = None,
        org_id: int | None = None,
        ca_cert: str | None = None,
        insecure_skip_verify: bool = False,
        allow_insecure_http: bool = False,
        retries: int = 5,
        retry_base_delay: float = 0.5,
        retry_max_delay: float = 30.0,
        timeout: float = 30.0,
        pool_size: int = 8,
        user_agent: str = "dashgen",
        sleep: Callable[[float], None] = time.sleep,
    ):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"GRAFANA_URL must be an http(s) URL like https://grafana.example.com (got {parts.scheme or 'no'} scheme)")
        if parts.username or parts.password:
            raise InputError("GRAFANA_URL must not embed credentials; use GRAFANA_TOKEN or GRAFANA_USER/GRAFANA_PASSWORD")
        if token and (user or password):
            raise InputError("give either a token or a user and password, not both")
        has_creds = bool(token or user or password)
        if parts.scheme == "http" and has_creds and not _is_loopback(parts.hostname) and not allow_insecure_http:
            raise InputError(
                f"refusing to send credentials over plain http to {parts.hostname}; "
                "use https, or pass --allow-insecure-http if this network is trusted")
        if insecure_skip_verify and ca_cert:
            raise InputError("--ca-cert and --insecure-skip-verify are mutually exclusive")
        self.base_url = url.rstrip("/")
        self.retries = max(0, int(retries))
        self.retry_base_delay = retry_base_delay
        self.retry_max_delay = retry_max_delay
        self.timeout = timeout
        self._sleep = sleep
        self._secrets = [s for s in (token, password) if s]
        self._rng = random.Random()
        self._rng_lock = threading.Lock()
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(pool_size, 4), max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.trust_env = False  # no ~/.netrc credentials, no proxy surprises
        self.session.verify = ca_cert if ca_cert else (not insecure_skip_verify)
        self.session.headers.update({"Accept": "application/json", "User-Agent": user_agent})
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        elif user or password:
            self.session.auth = (user or "", password or "")
        self.org_id = org_id
        if org_id is not None:
            self.session.headers["X-Grafana-Org-Id"] = str(org_id)
        self.stats_lock = threading.Lock()
        self.stats = {"requests": 0, "retries": 0}
        self.answered = False  # has the instance answered at least once (any HTTP status)?

    def __repr__(self) -> str:
        return f"GrafanaClient(url={self.base_url!r})"

    # ------------------------------------------------------------------ helpers
    def redact(self, text: str) -> str:
        for s in self._secrets:
            text = text.replace(s, "***")
        return text

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        cap = min(self.retry_max_delay, self.retry_base_delay * (2 ** attempt))
        with self._rng_lock:
            delay = self._rng.uniform(cap / 2, cap)  # "equal jitter": never zero, never above the cap
        if retry_after:
            try:
                delay = max(delay, min(float(retry_after), 300.0))
            except ValueError:
                pass  # an HTTP-date: fall back to our own backoff
        return delay

    def _error_message(self, resp: requests.Response) -> str:
        try:
            body = resp.json()
        except ValueError:
            body = None
        msg = ""
        if isinstance(body, dict):
            msg = str(body.get("message") or body.get("title") or "")
            if body.get("messageId"):
                msg = f"{msg} ({body['messageId']})" if msg else str(body["messageId"])
        if not msg:
            msg = (resp.text or resp.reason or "").strip()[:200]
        return self.redact(msg)

    # ------------------------------------------------------------------ the one request function
    def call(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
        allow_404: bool = False,
        reconcile: Callable[[], Any] | None = None,
    ) -> Any:
        """Send a request; return the decoded JSON (or None for an empty body / allowed 404).

        ``reconcile``: for a non-idempotent write. Called before each retry that follows an
        attempt whose outcome is unknown; it re-reads the resource and returns a result (the write
        landed: stop) or ``None`` (it did not: retry).
        """
        url = self.base_url + path
        data = json.dumps(body).encode("utf-8") if body is not None else None  # bytes: one send()
        hdrs = {"Content-Type": "application/json"} if data is not None else {}
        if headers:
            hdrs.update(headers)
        unknown = False
        last_problem = ""
        for attempt in range(self.retries + 1):
            if attempt and unknown and reconcile is not None:
                landed = reconcile()
                if landed is not None:
                    return landed
            with self.stats_lock:
                self.stats["requests"] += 1
                if attempt:
                    self.stats["retries"] += 1
            try:
                resp = self.session.request(method, url, params=params, data=data, headers=hdrs, timeout=self.timeout)
            except requests.exceptions.SSLError as exc:
                raise GrafanaError(self.redact(f"TLS error talking to {self.base_url}: {exc.__class__.__name__}; "
                                               "use --ca-cert for a private CA (or --insecure-skip-verify)"),
                                   None, None, method, path) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                cause = None if self.answered else _unreachable_cause(exc)
                if cause:
                    host = urlsplit(self.base_url).netloc
                    raise GrafanaError(f"cannot reach Grafana at {host}: {cause}", None, None, method, path,
                                       unreachable=True) from None
                unknown = method != "GET"
                last_problem = f"connection error ({exc.__class__.__name__})"
                if attempt < self.retries:
                    self._sleep(self._backoff(attempt, None))
                    continue
                raise GrafanaError(f"{method} {path}: {last_problem} after {self.retries + 1} attempts",
                                   None, None, method, path) from None
            self.answered = True
            if resp.status_code in RETRY_STATUSES:
                unknown = unknown or (method != "GET" and resp.status_code in UNKNOWN_OUTCOME_STATUSES)
                last_problem = f"HTTP {resp.status_code} {self._error_message(resp)}".strip()
                if attempt < self.retries:
                    self._sleep(self._backoff(attempt, resp.headers.get("Retry-After")))
                    continue
                raise GrafanaError(f"{method} {path}: {last_problem} after {self.retries + 1} attempts",
                                   resp.status_code, None, method, path)
            if resp.status_code in ok or (allow_404 and resp.status_code == 404):
                if resp.status_code == 404 or not resp.content:
                    return None
                try:
                    return resp.json()
                except ValueError:
                    return resp.text
            try:
                err_body = json.loads(self.redact(resp.text)) if resp.content else None
            except ValueError:
                err_body = None
            raise GrafanaError(f"{method} {path}: HTTP {resp.status_code}: {self._error_message(resp)}",
                               resp.status_code, err_body, method, path)
        raise AssertionError("unreachable")  # pragma: no cover
