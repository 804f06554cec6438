"""Keystone and the Neutron v2.0 API, through the standard library's HTTP client.

Only what rescheduling needs: a password token (Keystone v3, or v2.0 when
the auth URL ends in /v2.0, as old configurations say), the network
endpoint from the catalogue, and JSON requests.  Every call is bounded: a
deadline for the whole session, a timeout per request, and a number of
retries for what may pass (connection refused, timeouts, 502/503/504).
A 401 gets one fresh token (it may have expired), then fails.  Every
failure is an :class:`APIError` with a kind, an exit code and a message
that carries no secret.
"""
from __future__ import annotations

import json
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

# exit codes of the command-line tool, one per kind of failure
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_AUTH, EXIT_UNREACHABLE, EXIT_PARTIAL = 0, 1, 2, 3, 4, 5
EXIT_ALIVE = 6          # an old agent still alive when the wait ended
RETRY_STATUS = (502, 503, 504)


class APIError(Exception):
    """A failure to talk to Keystone or Neutron; ``kind`` says which."""

    codes = {"auth": EXIT_AUTH, "unreachable": EXIT_UNREACHABLE, "http": EXIT_ERROR,
             "answer": EXIT_ERROR}

    def __init__(self, kind: str, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status

    @property
    def exit_code(self) -> int:
        return self.codes.get(self.kind, EXIT_ERROR)


class Session:
    """A token and an endpoint, renewed when the token is refused."""

    def __init__(self, auth_url: str, username: str, password: str, project: str,
                 deadline: float, retries: int = 5, pause: float = 2.0,
                 interface: str = "public", region: str = "",
                 user_domain: Optional[Dict[str, str]] = None,
                 project_domain: Optional[Dict[str, str]] = None,
                 request_timeout: float = 10.0, endpoint: str = "",
                 log: Optional[Callable[[str], None]] = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.auth_url = auth_url.rstrip("/")
        self.username = username
        self.password = password
        self.project = project
        self.deadline = deadline            # a clock() value: nothing runs past it
        self.retries = retries
        self.pause = pause
        self.interface = interface
        self.region = region
        # Keystone v3 domains, {"id": ...} or {"name": ...}: the "default" domain if unsaid
        self.user_domain = user_domain or {"id": "default"}
        self.project_domain = project_domain or self.user_domain
        self.request_timeout = request_timeout
        self.fixed_endpoint = endpoint.rstrip("/")
        self.log = log or (lambda msg: None)
        self.clock = clock
        self.sleep = sleep
        self.token = ""
        self.endpoint = ""

    # --- HTTP ----------------------------------------------------------------------
    def _http(self, method: str, url: str, body: Optional[Dict[str, Any]] = None,
              headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
        """One request, retried while it may pass and time is left."""
        import http.client
        import urllib.parse
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise APIError("answer", f"not an http(s) URL: {self._shown(url)}")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise APIError("answer", f"bad port in {self._shown(url)}") from None
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        data = json.dumps(body).encode() if body is not None else None
        all_headers = {"Accept": "application/json", "User-Agent": "mirantis-ocf"}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        attempt = 0
        while True:
            attempt += 1
            left = self.deadline - self.clock()
            if left <= 0:
                raise APIError("unreachable", f"{method} {self._shown(url)}: out of time")
            timeout = max(min(self.request_timeout, left), 0.5)
            conn_cls = http.client.HTTPSConnection if parts.scheme == "https" \
                else http.client.HTTPConnection
            conn = conn_cls(parts.hostname, port, timeout=timeout)
            problem = ""
            try:
                conn.request(method, path, body=data, headers=all_headers)
                resp = conn.getresponse()
                payload = resp.read()
                status = resp.status
                answer_headers = {k.lower(): v for k, v in resp.getheaders()}
            except (OSError, http.client.HTTPException) as exc:
                problem = f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}"
                if type(exc).__name__ == "SSLCertVerificationError" \
                        or isinstance(exc, http.client.InvalidURL):
                    # retrying cannot help
                    raise APIError("http", f"{method} {self._shown(url)}: {problem}") from None
                status, answer_headers, payload = 0, {}, b""
            finally:
                conn.close()
            if not problem and status not in RETRY_STATUS:
                return status, answer_headers, payload
            if problem == "":
                problem = f"HTTP {status}"
            if attempt > self.retries or self.deadline - self.clock() <= self.pause:
                raise APIError("unreachable", f"{method} {self._shown(url)}: {problem} "
                                              f"(after {attempt} attempts)")
            self.log(f"{method} {self._shown(url)}: {problem}; retrying in {self.pause:g}s "
                     f"({attempt}/{self.retries})")
            self.sleep(self.pause)

    @staticmethod
    def _shown(url: str) -> str:
        """A URL for messages: no query, no user:password@."""
        url = url.split("?", 1)[0]
        scheme, sep, rest = url.partition("://")
        host, slash, path = rest.partition("/")
        return scheme + sep + host.rpartition("@")[2] + slash + path if sep else url

    @staticmethod
    def _json(payload: bytes, what: str) -> Any:
        try:
            return json.loads(payload.decode() or "null")
        except ValueError:
            raise APIError("answer", f"{what}: the answer is not JSON") from None

    @staticmethod
    def _message(payload: bytes) -> str:
        """The error text of an OpenStack error body, short."""
        try:
            data = json.loads(payload.decode())
        except ValueError:
            return payload.decode(errors="replace").strip()[:200]
        if isinstance(data, dict):
            for value in data.values():
                if isinstance(value, dict) and "message" in value:
                    return str(value["message"])[:200]
            if "message" in data:
                return str(data["message"])[:200]
        return str(data)[:200]

    # --- Keystone ------------------------------------------------------------------
    def authenticate(self) -> None:
        """Get a token and the network endpoint (v2.0 if the URL says so, else v3).

        Keystone has had no v2.0 API since Queens: an old ``/v2.0`` URL that
        answers 404 is tried again as v3 on the same base, as the operator
        who kept Fuel's configuration would expect.
        """
        if self.auth_url.endswith("/v2.0"):
            try:
                token, catalog = self._auth_v2()
            except APIError as exc:
                if exc.status != 404:
                    raise
                base = self.auth_url[:-len("/v2.0")]
                self.log(f"Keystone has no v2.0 API at {self._shown(self.auth_url)}: "
                         f"trying v3 at {self._shown(base)}/v3")
                token, catalog = self._auth_v3(base)
        else:
            token, catalog = self._auth_v3(self.auth_url)
        self.token = token
        self.endpoint = self.fixed_endpoint or self._network_endpoint(catalog)

    def _auth_v3(self, url: str) -> Tuple[str, List[Dict[str, Any]]]:
        base = url if url.endswith("/v3") else url + "/v3"
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": self.username, "domain": dict(self.user_domain), "password": self.password}}},
            "scope": {"project": {"name": self.project, "domain": dict(self.project_domain)}}}}
        status, headers, payload = self._http("POST", base + "/auth/tokens", body)
        if status in (401, 403):
            raise APIError("auth", f"Keystone refused the credentials of user {self.username} "
                                   f"(HTTP {status}: {self._message(payload)})", status)
        if status != 201 and status != 200:
            raise APIError("http", f"Keystone v3 token request: HTTP {status}: "
                                   f"{self._message(payload)}", status)
        token = headers.get("x-subject-token", "")
        data = self._json(payload, "Keystone v3 token")
        if not token or not isinstance(data, dict) or "token" not in data:
            raise APIError("answer", "Keystone v3 gave no token")
        catalog = []
        for service in data["token"].get("catalog") or []:
            endpoints = [{"interface": e.get("interface", ""), "url": e.get("url", ""),
                          "region": e.get("region_id") or e.get("region") or ""}
                         for e in service.get("endpoints") or []]
            catalog.append({"type": service.get("type", ""), "endpoints": endpoints})
        return token, catalog

    def _auth_v2(self) -> Tuple[str, List[Dict[str, Any]]]:
        body = {"auth": {"passwordCredentials": {"username": self.username,
                                                 "password": self.password},
                         "tenantName": self.project}}
        status, _, payload = self._http("POST", self.auth_url + "/tokens", body)
        if status in (401, 403):
            raise APIError("auth", f"Keystone refused the credentials of user {self.username} "
                                   f"(HTTP {status}: {self._message(payload)})", status)
        if status == 404:
            raise APIError("http", f"Keystone has no v2.0 API at {self.auth_url} (HTTP 404): "
                                   "use a v3 os_auth_url", status)
        if status != 200:
            raise APIError("http", f"Keystone v2.0 token request: HTTP {status}: "
                                   f"{self._message(payload)}", status)
        data = self._json(payload, "Keystone v2.0 token")
        try:
            access = data["access"]
            token = access["token"]["id"]
        except (KeyError, TypeError):
            raise APIError("answer", "Keystone v2.0 gave no token") from None
        catalog = []
        for service in access.get("serviceCatalog") or []:
            endpoints = []
            for e in service.get("endpoints") or []:
                for interface in ("public", "internal", "admin"):
                    if e.get(interface + "URL"):
                        endpoints.append({"interface": interface, "url": e[interface + "URL"],
                                          "region": e.get("region", "")})
            catalog.append({"type": service.get("type", ""), "endpoints": endpoints})
        return token, catalog

    def _network_endpoint(self, catalog: List[Dict[str, Any]]) -> str:
        for service in catalog:
            if service["type"] != "network":
                continue
            for e in service["endpoints"]:
                if e["interface"] == self.interface and (not self.region or e["region"] == self.region):
                    url = str(e["url"]).rstrip("/")
                    # some catalogues register the versioned URL; calls add /v2.0
                    return url[:-len("/v2.0")] if url.endswith("/v2.0") else url
        raise APIError("answer", f"no {self.interface} network endpoint in Keystone's catalogue"
                                 + (f" for region {self.region}" if self.region else ""))

    # --- Neutron -------------------------------------------------------------------
    def call(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
        """A Neutron API call (``path`` under /v2.0); its JSON answer (None if empty)."""
        if not self.token:
            self.authenticate()
        for renewed in (False, True):
            status, headers, payload = self._http(method, f"{self.endpoint}/v2.0{path}", body,
                                                  {"X-Auth-Token": self.token})
            if status == 401 and not renewed:
                self.log("the token was refused (expired?): authenticating again")
                self.authenticate()
                continue
            if status == 401:
                raise APIError("auth", f"Neutron refused a fresh token: {self._message(payload)}",
                               status)
            if not 200 <= status < 300:     # a redirect is not a success either
                moved = f" (to {self._shown(headers['location'])})" if "location" in headers else ""
                raise APIError("http", f"{method} /v2.0{path}: HTTP {status}{moved}: "
                                       f"{self._message(payload)}", status)
            return self._json(payload, f"{method} /v2.0{path}") if payload else None
        raise AssertionError("unreachable")

    def agents(self, binary: str = "", agent_type: str = "") -> List[Dict[str, Any]]:
        query = []
        if binary:
            query.append(f"binary={binary}")
        if agent_type:
            import urllib.parse
            query.append("agent_type=" + urllib.parse.quote(agent_type))
        return self._listing("GET", "/agents" + ("?" + "&".join(query) if query else ""), "agents")

    def _listing(self, method: str, path: str, key: str) -> List[Dict[str, Any]]:
        """A collection's items, each a dict with an id; APIError("answer") otherwise."""
        answer = self.call(method, path)
        items = answer.get(key) if isinstance(answer, dict) else None
        if not isinstance(items, list) or not all(
                isinstance(i, dict) and isinstance(i.get("id"), str) for i in items):
            raise APIError("answer", f"{method} /v2.0{path}: no list of {key} with ids")
        return items

    def port_owners(self, port_ids: Sequence[str]) -> Dict[str, str]:
        """The device_owner of each of these ports that Neutron knows (a
        deleted port is absent), 40 ids per request to keep URLs short."""
        import urllib.parse
        ids = sorted(set(port_ids))
        found: Dict[str, str] = {}
        for first in range(0, len(ids), 40):
            query = "&".join("id=" + urllib.parse.quote(i, safe="") for i in ids[first:first + 40])
            for port in self._listing("GET", f"/ports?{query}&fields=id&fields=device_owner",
                                      "ports"):
                found[str(port["id"])] = str(port.get("device_owner") or "")
        return found

    def dhcp_networks(self, agent_id: str) -> List[Dict[str, Any]]:
        return self._listing("GET", f"/agents/{agent_id}/dhcp-networks", "networks")

    def dhcp_agents_of(self, network_id: str) -> List[Dict[str, Any]]:
        return self._listing("GET", f"/networks/{network_id}/dhcp-agents", "agents")

    def l3_agents_of(self, router_id: str) -> List[Dict[str, Any]]:
        return self._listing("GET", f"/routers/{router_id}/l3-agents", "agents")

    def add_dhcp_network(self, agent_id: str, network_id: str) -> None:
        self.call("POST", f"/agents/{agent_id}/dhcp-networks", {"network_id": network_id})

    def remove_dhcp_network(self, agent_id: str, network_id: str) -> None:
        self.call("DELETE", f"/agents/{agent_id}/dhcp-networks/{network_id}")

    def l3_routers(self, agent_id: str) -> List[Dict[str, Any]]:
        return self._listing("GET", f"/agents/{agent_id}/l3-routers", "routers")

    def add_l3_router(self, agent_id: str, router_id: str) -> None:
        self.call("POST", f"/agents/{agent_id}/l3-routers", {"router_id": router_id})

    def remove_l3_router(self, agent_id: str, router_id: str) -> None:
        self.call("DELETE", f"/agents/{agent_id}/l3-routers/{router_id}")

    def agent(self, agent_id: str) -> Dict[str, Any]:
        """One agent's record, read now."""
        answer = self.call("GET", f"/agents/{agent_id}")
        record = answer.get("agent") if isinstance(answer, dict) else None
        if not isinstance(record, dict):
            raise APIError("answer", f"GET /v2.0/agents/{agent_id}: no agent")
        return record

    def routers(self) -> List[Dict[str, Any]]:
        """Every router (an admin sees all projects'), with what says how it is scheduled."""
        return self._listing("GET", "/routers?fields=id&fields=distributed&fields=ha", "routers")

    def delete_agent(self, agent_id: str) -> None:
        self.call("DELETE", f"/agents/{agent_id}")
