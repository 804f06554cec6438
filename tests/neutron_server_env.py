"""A real neutron-server with Keystone and MariaDB on loopback, and fake agent hosts.

What the rescheduling tool (networks and routers of dead DHCP/L3 agents moved
to live ones through the Neutron v2.0 API, with Keystone auth) is tested
against.  Everything runs on this machine without systemd, on 127.0.0.1, under
a directory the test owns:

- ``MariaDB``: a private mariadbd (own datadir, socket, pid file and port;
  ``mariadb-install-db``), never the packaged /var/lib/mysql or
  /run/mysqld/mysqld.sock.  ``add_database`` makes a database and its user.
- ``Keystone``: Debian's keystone (Zed) under uwsgi, no Apache: a private
  keystone.conf, fernet and credential keys, ``db_sync`` and ``bootstrap``
  (admin user, project and role, RegionOne, the identity endpoint) against the
  MariaDB above.  Identity v3 only: this Keystone has no v2.0 API any more.
  ``token()``, ``request()`` and the few admin calls the set-up needs.
- ``NeutronServer``: ``/usr/bin/neutron-server`` (API and RPC workers in one
  session), ML2 with the openvswitch mechanism driver and vxlan tenant
  networks, the router service plugin, a short ``agent_down_time``, Nova
  notifications off, and automatic DHCP/L3 failover OFF by default (moving
  things is the tool's job); ``auth_strategy`` keystone, or noauth without
  Keystone (or with ``noauth=True``).  ``api()`` calls it with a token.
- ``FakeHost``: the real dhcp and l3 agents of one fake node (``host=``), on
  the same RabbitMQ, and a stand-in OVS agent (``FAKE_L2_AGENT``, which only
  reports state: ML2 schedules a network only to a host with an L2 agent that
  can reach it).  No Open vSwitch is needed: the dhcp agent runs a DHCP
  driver that serves nothing (``NOOP_DHCP``: it records which networks it
  was given), and both use the ``null`` interface driver.  Each agent runs in
  a private mount namespace with its own /run/netns, so the l3 agent's
  qrouter-* namespaces are invisible to the rest of the machine (other tests'
  agents delete every qrouter-*/qdhcp-* they see, and the l3 agent deletes
  the ones it does not know) and vanish with it.
- ``Cloud``: all of it: RabbitMQ, MariaDB, Keystone, neutron-server and
  the fake hosts, started in order and stopped in reverse.

Every wait is bounded, every child is reaped, ``stop()`` leaves no process
behind, and start failures raise ``StartError`` with the last log lines.
"""
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from typing import (Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence,
                    Tuple)

import neutron_env as ne
from neutron_env import PATH, NeutronConf, Rabbit, StartError, free_port, tail, wait_for

MARIADBD = "/usr/sbin/mariadbd"
UWSGI = "/usr/bin/uwsgi"
KEYSTONE_WSGI = "/usr/bin/keystone-wsgi-public"
KEYSTONE_MANAGE = "/usr/bin/keystone-manage"
NEUTRON_SERVER = "/usr/bin/neutron-server"
NEUTRON_DB_MANAGE = "/usr/bin/neutron-db-manage"

# who is who in Keystone: what the set-up creates
ADMIN = ("admin", "admin-pw", "admin")              # user, password, project
SERVICE = ("neutron", "neutron-ks-pw", "services")  # neutron's service user (admin role)
REGION = "RegionOne"


# --- HTTP -------------------------------------------------------------------------

class Reply(NamedTuple):
    status: int
    headers: Dict[str, str]   # lower-case names
    body: Any                 # parsed JSON, else the text ("" when empty)


def http(method: str, url: str, body: Any = None, headers: Optional[Mapping[str, str]] = None,
         timeout: float = 30.0) -> Reply:
    """One JSON request; HTTP errors are replies too (raises only on transport errors)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, hdrs, raw = resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, dict(e.headers.items()), e.read()
    text = raw.decode("utf-8", "replace")
    try:
        parsed: Any = json.loads(text) if text.strip() else ""
    except ValueError:
        parsed = text
    return Reply(status, {k.lower(): v for k, v in hdrs.items()}, parsed)


def answers(url: str, timeout: float = 3.0) -> Optional[int]:
    """The HTTP status of GET url, None while nothing answers."""
    try:
        return http("GET", url, timeout=timeout).status
    except (OSError, ValueError):
        return None


def _spawn(argv: Sequence[str], log: str, user: Optional[str] = None, cwd: str = "/",
           env: Optional[Mapping[str, str]] = None) -> "subprocess.Popen[bytes]":
    """A daemon in its own session, bare environment, stdout+stderr appended to ``log``."""
    kw: Dict[str, Any] = {}
    if user:
        uid, gid, groups = ne.user_ids(user)
        kw = dict(user=uid, group=gid, extra_groups=groups)
    full = {"PATH": PATH, "LANG": "C.UTF-8", "HOME": cwd}
    full.update(env or {})
    with ne._log(log) as out:
        if user:
            os.chown(log, kw["user"], kw["group"])
        return subprocess.Popen(list(argv), env=full, cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                **kw)


def _run(argv: Sequence[str], what: str, log: str, user: Optional[str] = None,
         timeout: float = 120.0, env: Optional[Mapping[str, str]] = None,
         input: Optional[str] = None) -> str:
    """A command to completion (bounded); StartError with its output on failure."""
    kw: Dict[str, Any] = {}
    if user:
        uid, gid, groups = ne.user_ids(user)
        kw = dict(user=uid, group=gid, extra_groups=groups)
    full = {"PATH": PATH, "LANG": "C.UTF-8", "HOME": "/"}
    full.update(env or {})
    try:
        proc = subprocess.run(list(argv), env=full, cwd="/", input=input, capture_output=True,
                              text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        raise StartError(f"{what}: no result within {timeout} s\n--- {log}:\n{tail(log)}") \
            from None
    if proc.returncode != 0:
        out = (proc.stdout + proc.stderr).strip()
        raise StartError(f"{what} exited {proc.returncode}:\n" + "\n".join(out.splitlines()[-15:])
                         + f"\n--- {log}:\n{tail(log)}")
    return str(proc.stdout)


def _stop(proc: Optional["subprocess.Popen[bytes]"], timeout: float, errors: List[str],
          name: str) -> None:
    if proc is None:
        return
    try:
        ne.kill_session(proc, timeout)
    except RuntimeError as e:
        errors.append(f"{name}: {e}")


def _rss_kib(pids: Iterable[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class Served:
    """A daemon the harness spawned in its own session (``self.proc``)."""

    program = ""              # its name in errors
    stop_timeout = 30.0
    proc: Optional["subprocess.Popen[bytes]"] = None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def pids(self) -> List[int]:
        return ne.session_pids(self.proc.pid) if self.proc is not None else []

    def stop(self, timeout: Optional[float] = None) -> None:
        """TERM, then KILL after ``timeout`` (default ``stop_timeout``); reaped."""
        errors: List[str] = []
        _stop(self.proc, self.stop_timeout if timeout is None else timeout, errors, self.program)
        self.proc = None
        if errors:
            raise RuntimeError("; ".join(errors))


# --- MariaDB ----------------------------------------------------------------------

MY_CNF = """[mysqld]
user = mysql
datadir = {datadir}
socket = {socket}
pid-file = {pid}
log-error = {log}
bind-address = 127.0.0.1
port = {port}
skip-name-resolve
skip-log-bin
character-set-server = utf8
collation-server = utf8_general_ci
innodb_buffer_pool_size = 64M
innodb_log_file_size = 16M
innodb_flush_log_at_trx_commit = 0
innodb_doublewrite = 0
performance_schema = OFF
max_connections = 300
"""


class MariaDB(Served):
    """A private, throw-away mariadbd on 127.0.0.1 (durability traded for speed).

    The harness account (``ADMIN_USER``) has every privilege; ``add_database``
    creates a database and a user of the same name that may use it from
    anywhere (the server listens on loopback only).
    """

    program = "mariadbd"
    stop_timeout = 30.0

    ADMIN_USER = "harness"
    ADMIN_PASSWORD = "harness-pw"

    def __init__(self, port: Optional[int] = None) -> None:
        self.port = port or free_port()
        self.dir = ""
        self.proc: Optional["subprocess.Popen[bytes]"] = None
        self.passwords: Dict[str, str] = {}

    @property
    def socket(self) -> str:
        return os.path.join(self.dir, "run", "mysqld.sock")

    @property
    def log(self) -> str:
        return os.path.join(self.dir, "mysqld.err")

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` for its own user (oslo.db's ``connection``)."""
        return (f"mysql+pymysql://{database}:{self.passwords[database]}@127.0.0.1:{self.port}"
                f"/{database}?charset=utf8")

    def start(self, state_dir: str, timeout: float = 60.0) -> "MariaDB":
        """install-db into state_dir/mariadb, bootstrap the harness user, start, wait for SQL."""
        if self.running():
            raise StartError("mariadb: already started")
        self.dir = os.path.join(state_dir, "mariadb")
        shutil.rmtree(self.dir, ignore_errors=True)
        data = os.path.join(self.dir, "data")
        for sub in ("data", "run"):
            os.makedirs(os.path.join(self.dir, sub))
        os.chmod(self.dir, 0o755)
        config = os.path.join(self.dir, "my.cnf")
        with open(config, "w") as f:
            f.write(MY_CNF.format(datadir=data, socket=self.socket, log=self.log, port=self.port,
                                  pid=os.path.join(self.dir, "run", "mysqld.pid")))
        ne.chown_tree(data, "mysql")
        ne.chown_tree(os.path.join(self.dir, "run"), "mysql")
        deadline = time.monotonic() + timeout
        try:
            _run(["mariadb-install-db", f"--defaults-file={config}", "--user=mysql",
                  "--auth-root-authentication-method=socket", "--skip-test-db"],
                 "mariadb-install-db", self.log, timeout=timeout)
            a, pw = self.ADMIN_USER, self.ADMIN_PASSWORD
            # install-db's anonymous users would shadow ours; 10.11 cannot skip them
            _run([MARIADBD, f"--defaults-file={config}", "--bootstrap", "--skip-networking",
                  f"--log-error={os.path.join(self.dir, 'bootstrap.err')}"],
                 "mariadbd --bootstrap", os.path.join(self.dir, "bootstrap.err"),
                 timeout=max(5.0, deadline - time.monotonic()),
                 input="FLUSH PRIVILEGES;\nDELETE FROM mysql.global_priv WHERE User='';\n"
                       f"CREATE USER '{a}'@'localhost' IDENTIFIED BY '{pw}';\n"
                       f"GRANT ALL ON *.* TO '{a}'@'localhost' WITH GRANT OPTION;\n"
                       f"CREATE USER '{a}'@'127.0.0.1' IDENTIFIED BY '{pw}';\n"
                       f"GRANT ALL ON *.* TO '{a}'@'127.0.0.1' WITH GRANT OPTION;\n")
            ne.chown_tree(data, "mysql")
            # mariadbd drops to ``mysql`` itself (user = mysql)
            self.proc = _spawn([MARIADBD, f"--defaults-file={config}"],
                               os.path.join(self.dir, "mariadbd.out"), cwd=self.dir)
            proc = self.proc

            def up() -> bool:
                if proc.poll() is not None:
                    return True
                try:
                    self.sql("SELECT 1")
                    return True
                except Exception:
                    return False
            wait_for(up, deadline - time.monotonic(), 0.1)
            if proc.poll() is not None:
                raise StartError(f"mariadbd exited with {proc.returncode}")
            self.sql("SELECT 1")
        except BaseException as e:
            detail = f"\n--- {self.log}:\n{tail(self.log)}"
            self.stop()
            if isinstance(e, StartError):
                raise StartError(f"mariadb: {e}{detail}") from None
            if isinstance(e, Exception):
                raise StartError(f"mariadb: {e!r}{detail}") from None
            raise
        return self

    def sql(self, statement: str, database: Optional[str] = None) -> List[Any]:
        """Run one statement as the harness user over TCP; the rows."""
        import pymysql
        conn = pymysql.connect(host="127.0.0.1", port=self.port, user=self.ADMIN_USER,
                               password=self.ADMIN_PASSWORD, database=database,
                               connect_timeout=5, read_timeout=60, autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(statement)
                return list(cur.fetchall())
        finally:
            conn.close()

    def add_database(self, name: str, password: Optional[str] = None) -> str:
        """CREATE DATABASE name and a user ``name`` with every right on it; its URL."""
        password = password or f"{name}-db-pw"
        self.sql(f"CREATE DATABASE IF NOT EXISTS `{name}`")
        self.sql(f"CREATE USER IF NOT EXISTS '{name}'@'%' IDENTIFIED BY '{password}'")
        self.sql(f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{name}'@'%'")
        self.passwords[name] = password
        return self.url(name)



# --- Keystone ---------------------------------------------------------------------

KEYSTONE_CONF = """[DEFAULT]
debug = {debug}
log_dir = {log_dir}
log_file = keystone.log
use_stderr = false

[database]
connection = {connection}

[token]
provider = fernet
expiration = {expiration}

[fernet_tokens]
key_repository = {dir}/fernet-keys

[fernet_receipts]
key_repository = {dir}/fernet-keys

[credential]
key_repository = {dir}/credential-keys

[cache]
enabled = true
backend = dogpile.cache.memory

[oslo_policy]
policy_file = {dir}/policy.yaml
"""


class Token(NamedTuple):
    id: str                   # the X-Subject-Token
    body: Dict[str, Any]      # the "token" object: user, project, roles, catalog, expires_at

    def endpoint(self, service_type: str, interface: str = "public") -> str:
        """The catalog's URL for a service type and interface."""
        for service in self.body.get("catalog", []):
            if service["type"] == service_type:
                for ep in service["endpoints"]:
                    if ep["interface"] == interface:
                        return str(ep["url"])
        raise KeyError(f"no {interface} {service_type} endpoint in the catalog")


class Keystone(Served):
    """Debian's keystone under uwsgi on 127.0.0.1, its database in ``db``.

    The uwsgi master and its worker run as ``keystone``; keystone-manage too.
    """

    program = "uwsgi"
    stop_timeout = 20.0

    def __init__(self, db: MariaDB, port: Optional[int] = None, os_user: str = "keystone",
                 expiration: int = 3600, debug: bool = False) -> None:
        self.db = db
        self.port = port or free_port()
        self.os_user = os_user
        self.expiration = expiration
        self.debug = debug
        self.dir = ""
        self.proc: Optional["subprocess.Popen[bytes]"] = None
        self._admin: Optional[Token] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth_url(self) -> str:
        """The identity v3 URL, as OS_AUTH_URL would hold it."""
        return self.url + "/v3"

    @property
    def conf(self) -> str:
        return os.path.join(self.dir, "keystone.conf")

    @property
    def log(self) -> str:
        return os.path.join(self.dir, "log", "keystone.log")

    @property
    def uwsgi_log(self) -> str:
        return os.path.join(self.dir, "log", "uwsgi.log")

    def _manage(self, *args: str, timeout: float = 120.0) -> str:
        return _run([KEYSTONE_MANAGE, "--config-file", self.conf, *args],
                    f"keystone-manage {args[0]}", self.log, user=self.os_user, timeout=timeout)

    def write_conf(self) -> None:
        with open(self.conf, "w") as f:
            f.write(KEYSTONE_CONF.format(
                debug=str(self.debug).lower(), log_dir=os.path.join(self.dir, "log"),
                connection=self.db.url("keystone"), expiration=self.expiration, dir=self.dir))
        ne.chown_tree(self.dir, self.os_user)

    def start(self, state_dir: str, timeout: float = 180.0) -> "Keystone":
        """A fresh Keystone in state_dir/keystone: database, keys, bootstrap, uwsgi."""
        if self.running():
            raise StartError("keystone: already started")
        self.dir = os.path.join(state_dir, "keystone")
        shutil.rmtree(self.dir, ignore_errors=True)
        for sub in ("log", "fernet-keys", "credential-keys"):
            os.makedirs(os.path.join(self.dir, sub))
        os.chmod(self.dir, 0o750)
        for sub in ("fernet-keys", "credential-keys"):
            os.chmod(os.path.join(self.dir, sub), 0o700)
        with open(os.path.join(self.dir, "policy.yaml"), "w") as f:
            f.write("# the built-in defaults\n{}\n")
        deadline = time.monotonic() + timeout
        try:
            self.db.add_database("keystone")
            self.write_conf()
            self._manage("db_sync", timeout=deadline - time.monotonic())
            for setup in ("fernet_setup", "credential_setup"):
                self._manage(setup, "--keystone-user", self.os_user,
                             "--keystone-group", self.os_user)
            user, password, project = ADMIN
            self._manage("bootstrap", "--bootstrap-username", user,
                         "--bootstrap-password", password, "--bootstrap-project-name", project,
                         "--bootstrap-role-name", "admin",
                         "--bootstrap-service-name", "keystone",
                         "--bootstrap-region-id", REGION,
                         "--bootstrap-admin-url", self.auth_url,
                         "--bootstrap-public-url", self.auth_url,
                         "--bootstrap-internal-url", self.auth_url,
                         timeout=deadline - time.monotonic())
            self.serve(deadline - time.monotonic())
        except BaseException as e:
            self.stop()
            if isinstance(e, StartError):
                raise StartError(f"keystone: {e}") from None
            raise
        return self

    def serve(self, timeout: float = 60.0) -> None:
        """Start uwsgi on the existing configuration; ready when a password authentication
        answers 201. A uwsgi whose worker answers GET /v3 but then hangs on its first token
        (seen once in CI: every POST timed out for minutes after a restart) is killed and
        spawned again, within ``timeout``."""
        deadline = time.monotonic() + timeout
        hung = 0
        while True:
            self._spawn_uwsgi()
            proc = self.proc
            assert proc is not None
            left = max(deadline - time.monotonic(), 1.0)
            wait_for(lambda: proc.poll() is not None or answers(self.auth_url) == 200, left, 0.2)
            left = max(deadline - time.monotonic(), 1.0)
            status = self._first_token(min(20.0, left)) if proc.poll() is None else None
            if status == 201:
                return
            rc = proc.poll()
            detail = (f"\n--- {self.uwsgi_log}:\n{tail(self.uwsgi_log)}"
                      f"\n--- {self.log}:\n{tail(self.log)}")
            _stop(proc, 10, [], "uwsgi")
            self.proc = None
            if rc is None and status is None and hung < 2 and time.monotonic() < deadline - 10:
                hung += 1                 # alive, but no token within 20 s: spawn it again
                continue
            raise StartError(("uwsgi exited with %s" % rc if rc is not None else
                              f"POST {self.auth_url}/auth/tokens: {status} within "
                              f"{timeout:.0f} s") + detail)

    def _spawn_uwsgi(self) -> None:
        self.proc = _spawn(
            [UWSGI, "--plugin", "python3", "--http-socket", f"127.0.0.1:{self.port}",
             "--wsgi-file", KEYSTONE_WSGI, "--master", "--processes", "1", "--threads", "8",
             "--enable-threads", "--die-on-term", "--need-app", "--no-orphans",
             "--buffer-size", "65535", "--env", f"OS_KEYSTONE_CONFIG_FILES={self.conf}"],
            self.uwsgi_log, user=self.os_user, cwd=self.dir)

    def _first_token(self, timeout: float) -> Optional[int]:
        """The status of one admin password authentication; None when it times out."""
        user, password, project = ADMIN
        body = {"auth": {"identity": {"methods": ["password"], "password": {
            "user": {"name": user, "domain": {"name": "Default"}, "password": password}}}}}
        try:
            return http("POST", self.auth_url + "/auth/tokens", body, timeout=timeout).status
        except (OSError, ValueError):
            return None

    def restart(self, expiration: Optional[int] = None, timeout: float = 60.0) -> None:
        """Stop uwsgi, rewrite keystone.conf (new token lifetime), serve again.
        The database and the keys stay: tokens issued before remain valid."""
        if expiration is not None:
            self.expiration = expiration
        errors: List[str] = []
        _stop(self.proc, 20, errors, "uwsgi")
        self.proc = None
        if errors:
            raise RuntimeError("; ".join(errors))
        self.write_conf()
        self.serve(timeout)

    # -- the API ------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, token: Optional[str] = None,
                timeout: float = 30.0) -> Reply:
        """A call to this Keystone (path from the root, e.g. "/v3/projects")."""
        return http(method, self.url + path, body,
                    {"X-Auth-Token": token} if token else None, timeout)

    def authenticate(self, user: str, password: str, project: Optional[str] = None,
                     domain: str = "Default") -> Reply:
        """POST /v3/auth/tokens with a password; the raw reply (201, or 401...)."""
        body: Dict[str, Any] = {"auth": {"identity": {"methods": ["password"], "password": {
            "user": {"name": user, "domain": {"name": domain}, "password": password}}}}}
        if project:
            body["auth"]["scope"] = {"project": {"name": project, "domain": {"name": domain}}}
        return self.request("POST", "/v3/auth/tokens", body)

    def token(self, user: str, password: str, project: Optional[str] = None,
              domain: str = "Default") -> Token:
        """A token (project-scoped when ``project`` is given); RuntimeError unless 201."""
        reply = self.authenticate(user, password, project, domain)
        if reply.status != 201:
            raise RuntimeError(f"keystone: {user}@{project}: {reply.status} {reply.body}")
        return Token(reply.headers["x-subject-token"], reply.body["token"])

    def admin_token(self) -> Token:
        """The bootstrap admin's project token (re-issued when near expiry)."""
        if self._admin is None or self._expires_soon(self._admin):
            self._admin = self.token(*ADMIN)
        return self._admin

    @staticmethod
    def _expires_soon(token: Token) -> bool:
        import datetime
        expires = datetime.datetime.strptime(token.body["expires_at"][:19], "%Y-%m-%dT%H:%M:%S")
        now = datetime.datetime.utcnow()
        return (expires - now).total_seconds() < 60

    def admin(self, method: str, path: str, body: Any = None,
              expect: Sequence[int] = (200, 201, 204)) -> Any:
        """A call as the bootstrap admin; the body; RuntimeError on an unexpected status."""
        reply = self.request(method, path, body, self.admin_token().id)
        if reply.status not in expect:
            raise RuntimeError(f"keystone: {method} {path}: {reply.status} {reply.body}")
        return reply.body

    def _find(self, collection: str, name: str) -> Optional[str]:
        found = self.admin("GET", f"/v3/{collection}?name={name}")[collection]
        return str(found[0]["id"]) if found else None

    def project(self, name: str) -> str:
        """The id of project ``name`` (domain Default), created if missing."""
        return self._find("projects", name) or str(self.admin(
            "POST", "/v3/projects", {"project": {"name": name, "domain_id": "default"}})
            ["project"]["id"])

    def user(self, name: str, password: str, project: str, role: str = "admin") -> str:
        """A user (domain Default) with ``role`` on ``project``; its id."""
        project_id = self.project(project)
        user_id = self._find("users", name) or str(self.admin(
            "POST", "/v3/users", {"user": {"name": name, "password": password,
                                           "domain_id": "default",
                                           "default_project_id": project_id}})["user"]["id"])
        role_id = self._find("roles", role)
        if role_id is None:
            raise RuntimeError(f"keystone: no role {role}")
        self.admin("PUT", f"/v3/projects/{project_id}/users/{user_id}/roles/{role_id}")
        return user_id

    def register(self, service_type: str, name: str, url: str) -> str:
        """A service and its public, internal and admin endpoints in REGION; the service id."""
        service_id = self._find("services", name) or str(self.admin(
            "POST", "/v3/services", {"service": {"type": service_type, "name": name,
                                                 "enabled": True}})["service"]["id"])
        for interface in ("public", "internal", "admin"):
            self.admin("POST", "/v3/endpoints", {"endpoint": {
                "service_id": service_id, "interface": interface, "url": url,
                "region_id": REGION, "enabled": True}})
        return service_id



# --- neutron-server ---------------------------------------------------------------

SERVER_CONF = """[DEFAULT]
debug = {debug}
host = neutron-server
bind_host = 127.0.0.1
bind_port = {port}
core_plugin = ml2
service_plugins = router
auth_strategy = {auth_strategy}
transport_url = {transport_url}
control_exchange = neutron
state_path = {state_path}
log_dir = {log_dir}
use_stderr = false
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 1
agent_down_time = {agent_down_time}
dhcp_agents_per_network = 1
network_auto_schedule = {network_auto_schedule}
allow_automatic_dhcp_failover = {dhcp_failover}
router_auto_schedule = {router_auto_schedule}
allow_automatic_l3agent_failover = {l3_failover}
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
rpc_response_timeout = {rpc_response_timeout}
graceful_shutdown_timeout = 5

[database]
connection = {connection}

[oslo_concurrency]
lock_path = {lock_path}

[oslo_policy]
policy_file = {policy_file}
"""

AUTHTOKEN = """
[keystone_authtoken]
www_authenticate_uri = {auth_url}
auth_url = {auth_url}
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = {project}
username = {user}
password = {password}
region_name = {region}
token_cache_time = -1
http_connect_timeout = 10
http_request_max_retries = 1
"""

ML2_CONF = """[ml2]
type_drivers = local,flat,vxlan
tenant_network_types = vxlan
mechanism_drivers = openvswitch
extension_drivers = port_security

[ml2_type_flat]
flat_networks = physnet1

[ml2_type_vxlan]
vni_ranges = 1000:1999
"""


class NeutronServer(Served):
    """/usr/bin/neutron-server on 127.0.0.1, as ``user``: one API worker, one
    RPC worker, one state-report worker (plus the parent and a periodic worker).

    ``keystone`` None, or ``noauth``: ``auth_strategy = noauth`` (every request
    is admin).  Otherwise keystonemiddleware validates every token at
    Keystone (``token_cache_time = -1``: a revoked token is refused at once).

    Options (``restart(**options)`` changes them): ``agent_down_time`` (s);
    ``dhcp_failover`` / ``l3_failover`` = ``allow_automatic_dhcp_failover`` /
    ``allow_automatic_l3agent_failover``, both OFF by default (neutron's own
    defaults are True / False), so that nothing leaves a dead agent unless the
    tool moves it; ``network_auto_schedule`` (False also stops the scheduling
    of new networks) and ``router_auto_schedule`` (a live l3 agent's full sync
    takes unbound routers), both True as in neutron; ``rpc_response_timeout``,
    which bounds the server's calls to agents: adding a router to a dead l3
    agent blocks the API request for about 4 times this, then fails with 500.
    """

    program = "neutron-server"
    stop_timeout = 30.0

    def __init__(self, db: MariaDB, rabbit: Rabbit, keystone: Optional[Keystone] = None,
                 port: Optional[int] = None, agent_down_time: int = 10,
                 dhcp_failover: bool = False, l3_failover: bool = False,
                 network_auto_schedule: bool = True, router_auto_schedule: bool = True,
                 rpc_response_timeout: int = 10, noauth: bool = False,
                 user: str = "neutron", debug: bool = False) -> None:
        self.db = db
        self.rabbit = rabbit
        self.keystone = keystone
        self.port = port or free_port()
        self.user = user
        self.debug = debug
        self.options: Dict[str, Any] = dict(
            agent_down_time=agent_down_time, dhcp_failover=dhcp_failover,
            l3_failover=l3_failover, network_auto_schedule=network_auto_schedule,
            router_auto_schedule=router_auto_schedule,
            rpc_response_timeout=rpc_response_timeout, noauth=noauth)
        self.dir = ""
        self.proc: Optional["subprocess.Popen[bytes]"] = None
        self._token: Optional[str] = None
        self.timings: Dict[str, float] = {}

    @property
    def url(self) -> str:
        """The endpoint as the catalog holds it (no version suffix)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def conf(self) -> str:
        return os.path.join(self.dir, "neutron.conf")

    @property
    def ml2_conf(self) -> str:
        return os.path.join(self.dir, "ml2_conf.ini")

    @property
    def log(self) -> str:
        return os.path.join(self.dir, "log", "neutron-server.log")

    def argv(self, binary: str = NEUTRON_SERVER) -> List[str]:
        return [binary, "--config-file", self.conf, "--config-file", self.ml2_conf]

    def write_conf(self) -> None:
        opts = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in self.options.items()
                if k != "noauth"}
        text = SERVER_CONF.format(
            debug=str(self.debug).lower(), port=self.port,
            auth_strategy="keystone" if self.authenticated else "noauth",
            transport_url=self.rabbit.url, state_path=os.path.join(self.dir, "state"),
            log_dir=os.path.join(self.dir, "log"), lock_path=os.path.join(self.dir, "lock"),
            policy_file=os.path.join(self.dir, "policy.yaml"),
            connection=self.db.url("neutron"), **opts)
        if self.authenticated:
            assert self.keystone is not None
            user, password, project = SERVICE
            text += AUTHTOKEN.format(auth_url=self.keystone.url, project=project, user=user,
                                     password=password, region=REGION)
        with open(self.conf, "w") as f:
            f.write(text)
        with open(self.ml2_conf, "w") as f:
            f.write(ML2_CONF)
        with open(os.path.join(self.dir, "policy.yaml"), "w") as f:
            f.write("# the built-in defaults\n{}\n")
        ne.chown_tree(self.dir, self.user)

    def start(self, state_dir: str, timeout: float = 300.0) -> "NeutronServer":
        """Database, schema (neutron-db-manage upgrade heads), Keystone user and
        endpoints, then the server; returns once GET /v2.0/ answers 200."""
        if self.running():
            raise StartError("neutron-server: already started")
        self.dir = os.path.join(state_dir, "neutron-server")
        shutil.rmtree(self.dir, ignore_errors=True)
        for sub in ("log", "state", "lock"):
            os.makedirs(os.path.join(self.dir, sub))
        os.chmod(self.dir, 0o750)
        deadline = time.monotonic() + timeout
        try:
            self.db.add_database("neutron")
            if self.keystone:
                user, password, project = SERVICE
                self.keystone.user(user, password, project, "admin")
                self.keystone.register("network", "neutron", self.url)
            self.write_conf()
            t0 = time.monotonic()
            _run(self.argv(NEUTRON_DB_MANAGE) + ["upgrade", "heads"], "neutron-db-manage",
                 os.path.join(self.dir, "log", "neutron-db-manage.log"), user=self.user,
                 timeout=deadline - time.monotonic())
            self.timings["db_upgrade"] = time.monotonic() - t0
            self.serve(deadline - time.monotonic())
        except BaseException as e:
            self.stop()
            if isinstance(e, StartError):
                raise StartError(f"neutron-server: {e}") from None
            raise
        return self

    def serve(self, timeout: float = 120.0) -> None:
        """Start the server on the existing database; wait for GET /v2.0/ = 200."""
        t0 = time.monotonic()
        self.proc = _spawn(self.argv(), os.path.join(self.dir, "log", "neutron-server.out"),
                           user=self.user)
        proc = self.proc

        def up() -> bool:
            if proc.poll() is not None:
                return True
            if answers(self.url + "/") is None:
                return False
            try:
                return self.api("GET", "/v2.0/", timeout=5).status == 200
            except (OSError, RuntimeError):     # RuntimeError: no token from Keystone
                return False
        wait_for(up, timeout, 0.25)
        ok = proc.poll() is None and up()
        if not ok:
            rc = proc.poll()
            errors = "\n".join(filter(None, (ne.grep(self.log, f" {level} ", 4)
                                            for level in ("CRITICAL", "ERROR"))))
            detail = (f"\n--- errors in {self.log}:\n{errors}"
                      f"\n--- {self.log}:\n{tail(self.log)}"
                      f"\n--- neutron-server.out:\n"
                      + tail(os.path.join(self.dir, "log", "neutron-server.out"), 5))
            _stop(proc, 15, [], "neutron-server")
            self.proc = None
            raise StartError((f"exited with {rc}" if rc is not None else
                              f"GET {self.url}/v2.0/ is not 200 after {timeout:.0f} s") + detail)
        self.timings["serve"] = time.monotonic() - t0

    def restart(self, timeout: float = 120.0, **options: Any) -> None:
        """Stop, change server options (agent_down_time, dhcp_failover...), start again."""
        unknown = set(options) - set(self.options)
        if unknown:
            raise TypeError(f"unknown options {sorted(unknown)}")
        self.options.update(options)
        errors: List[str] = []
        _stop(self.proc, 30, errors, "neutron-server")
        self.proc = None
        if errors:
            raise RuntimeError("; ".join(errors))
        self.write_conf()
        self.serve(timeout)

    # -- the API ------------------------------------------------------------------

    @property
    def authenticated(self) -> bool:
        """auth_strategy keystone (else noauth)."""
        return self.keystone is not None and not self.options["noauth"]

    def service_token(self, fresh: bool = False) -> str:
        """A token of neutron's service user (admin in ``services``), cached;
        "" with noauth."""
        if not self.authenticated:
            return ""
        assert self.keystone is not None
        if self._token is None or fresh:
            user, password, project = SERVICE
            self._token = self.keystone.token(user, password, project).id
        return self._token

    def api(self, method: str, path: str, body: Any = None, token: Optional[str] = None,
            timeout: float = 30.0) -> Reply:
        """A Neutron API call (path from the root, e.g. "/v2.0/agents").

        ``token``: None for the service user's (renewed once on a 401), "" for
        no X-Auth-Token header, or a token of your own.
        """
        own = token is None
        if own:
            token = self.service_token()
        reply = http(method, self.url + path, body, {"X-Auth-Token": token} if token else None,
                     timeout)
        if own and reply.status == 401 and self.authenticated:
            token = self.service_token(fresh=True)
            reply = http(method, self.url + path, body, {"X-Auth-Token": token}, timeout)
        return reply

    def call(self, method: str, path: str, body: Any = None,
             expect: Sequence[int] = (200, 201, 204)) -> Any:
        """``api`` as the service user; the body; RuntimeError on an unexpected status."""
        reply = self.api(method, path, body)
        if reply.status not in expect:
            raise RuntimeError(f"neutron: {method} {path}: {reply.status} {reply.body}")
        return reply.body

    def agents(self, **filters: str) -> List[Dict[str, Any]]:
        """GET /v2.0/agents[?binary=...&host=...]."""
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        return list(self.call("GET", "/v2.0/agents" + (f"?{query}" if query else ""))["agents"])



# --- fake agent hosts ---------------------------------------------------------------

# A DHCP driver that serves nothing.  The agent takes the networks the server
# gives it and records them as files (state_path/noop-dhcp/<network id>), so
# a test sees what the agent itself was told; no dnsmasq, port, device or
# namespace is made.
NOOP_DHCP = '''"""A DHCP driver for tests: it records its networks and serves none."""
import os

from neutron.agent.linux import dhcp


class NoopDhcp(dhcp.DhcpBase):

    @staticmethod
    def _dir(conf):
        return os.path.join(conf.state_path, "noop-dhcp")

    def _marker(self):
        return os.path.join(self._dir(self.conf), self.network.id)

    def enable(self):
        os.makedirs(self._dir(self.conf), exist_ok=True)
        with open(self._marker(), "w"):
            pass

    def disable(self, retain_port=False, block=False):
        try:
            os.unlink(self._marker())
        except FileNotFoundError:
            pass

    @property
    def active(self):
        return os.path.exists(self._marker())

    def reload_allocations(self):
        pass

    @classmethod
    def existing_dhcp_networks(cls, conf):
        try:
            return sorted(os.listdir(cls._dir(conf)))
        except FileNotFoundError:
            return []

    @classmethod
    def check_version(cls):
        return 0

    @classmethod
    def get_isolated_subnets(cls, network):
        return {subnet.id: False for subnet in network.subnets}

    @classmethod
    def should_enable_metadata(cls, conf, network):
        return False
'''

# The L2 agent a host needs for the DHCP scheduler: ML2 only gives a network
# to a dhcp agent whose host has an agent of a mechanism driver that can reach
# the network's segment (here an "Open vSwitch agent" with vxlan among its
# tunnel_types).  The real neutron-openvswitch-agent needs an Open vSwitch
# per host (one per network namespace, and the host's is often taken by other
# tests), so this stand-in only reports an OVS agent's state over RPC, as the
# real one does every report_interval.  It is listed by the API as
# binary neutron-openvswitch-agent, agent_type "Open vSwitch agent".
FAKE_L2_AGENT = '''"""Stand-in for neutron-openvswitch-agent: reports its state, nothing else."""
import os
import signal
import sys
import time

from oslo_config import cfg
from oslo_log import log as logging
from neutron_lib import constants
from neutron_lib import context
from neutron_lib.agent import topics

from neutron.agent import rpc as agent_rpc
from neutron.api.rpc.callbacks import resources
from neutron.common import config as common_config
from neutron.conf.agent import common as agent_config

LOG = logging.getLogger("harness_l2_agent")


def main():
    common_config.register_common_config_options()
    agent_config.register_agent_state_opts_helper(cfg.CONF)
    common_config.init(sys.argv[1:])
    common_config.setup_logging()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))   # nothing to clean up
    state_rpc = agent_rpc.PluginReportStateAPI(topics.REPORTS)
    ctx = context.get_admin_context_without_session()
    state = {
        "binary": "neutron-openvswitch-agent", "host": cfg.CONF.host,
        "topic": constants.L2_AGENT_TOPIC, "agent_type": constants.AGENT_TYPE_OVS,
        "start_flag": True, "resource_versions": resources.LOCAL_RESOURCE_VERSIONS,
        "configurations": {
            "bridge_mappings": {"physnet1": "br-ex"}, "tunnel_types": ["vxlan"],
            "tunneling_ip": "127.0.0.1", "l2_population": False,
            "integration_bridge": "br-int", "datapath_type": "netdev",
            "arp_responder_enabled": False, "enable_distributed_routing": False,
            "log_agent_heartbeats": False, "extensions": [], "devices": 0,
            "in_distributed_mode": False, "harness_stand_in": True}}
    interval = cfg.CONF.AGENT.report_interval
    while True:
        try:
            state_rpc.report_state(ctx, state, True)
            state.pop("start_flag", None)
            state.pop("resource_versions", None)
        except Exception as e:
            LOG.warning("Failed reporting state: %s", e)
        time.sleep(interval)


if __name__ == "__main__":
    main()
'''

HOST_OVERRIDES = {
    "dhcp": """[DEFAULT]
interface_driver = null
dhcp_driver = harness_noop_dhcp.NoopDhcp
enable_isolated_metadata = false
enable_metadata_network = false
resync_interval = 2
""",
    "l3": """[DEFAULT]
interface_driver = null
enable_metadata_proxy = false
""",
}

# A private mount namespace with an empty /run/netns: the agent's network
# namespaces are seen by nobody else, and die with it.
PRIVATE_NETNS = ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                 'mount -t tmpfs -o mode=0755,size=4m harness-netns /run/netns && exec "$@"',
                 "sh"]

BINARIES = {"dhcp": "neutron-dhcp-agent", "l3": "neutron-l3-agent",
            "l2": "neutron-openvswitch-agent"}


class FakeHost:
    """The agents of one fake node, named ``name`` (neutron's ``host``).

    ``dhcp`` and ``l3`` are the real Debian agents; ``l2`` is the stand-in
    OVS agent (FAKE_L2_AGENT).  All run as root (the mount namespace needs
    it), with ``report_interval``, on ``transport_url``.
    """

    KINDS = ("l2", "dhcp", "l3")

    def __init__(self, name: str, directory: str, transport_url: str,
                 report_interval: int = 2, debug: bool = False) -> None:
        self.name = name
        self.dir = directory
        self.conf = NeutronConf(directory, transport_url, host=name, user="root",
                                ovsdb_connection="tcp:127.0.0.1:1",   # unused: no OVS here
                                report_interval=report_interval, debug=debug)
        self.procs: Dict[str, "subprocess.Popen[bytes]"] = {}

    @property
    def pylib(self) -> str:
        return os.path.join(self.dir, "pylib")

    def override(self, kind: str) -> str:
        return os.path.join(self.dir, f"{kind}-harness.ini")

    def log(self, kind: str) -> str:
        """The agent's oslo.log file."""
        if kind == "l2":
            return os.path.join(self.conf.log_dir, "harness-l2-agent.log")
        return self.conf.log_file(kind)

    def write(self) -> None:
        self.conf.write()
        os.makedirs(self.pylib, exist_ok=True)
        for module, text in (("harness_noop_dhcp.py", NOOP_DHCP),
                             ("harness_l2_agent.py", FAKE_L2_AGENT)):
            with open(os.path.join(self.pylib, module), "w") as f:
                f.write(text)
        for kind, text in HOST_OVERRIDES.items():
            with open(self.override(kind), "w") as f:
                f.write(text)

    def start(self, kinds: Sequence[str] = KINDS) -> "FakeHost":
        """Spawn the agents of ``kinds`` that do not run (configuration written once)."""
        if not os.path.exists(self.conf.neutron_conf):
            self.write()
        os.makedirs("/run/netns", exist_ok=True)    # the mount point
        for kind in kinds:
            if self.running(kind):
                continue
            if kind == "l2":
                self.procs[kind] = _spawn(
                    ["/usr/bin/python3", os.path.join(self.pylib, "harness_l2_agent.py"),
                     "--config-file", self.conf.neutron_conf, "--log-file", self.log("l2")],
                    os.path.join(self.conf.log_dir, "harness-l2-agent.out"))
            else:
                self.procs[kind] = ne.spawn_agent(
                    self.conf, kind, extra=["--config-file", self.override(kind)],
                    env={"PYTHONPATH": self.pylib}, prefix=PRIVATE_NETNS)
        return self

    def running(self, kind: str) -> bool:
        proc = self.procs.get(kind)
        return proc is not None and proc.poll() is None

    def pid(self, kind: str) -> Optional[int]:
        proc = self.procs.get(kind)
        return proc.pid if proc is not None and proc.poll() is None else None

    def pids(self) -> List[int]:
        return sorted(p for proc in self.procs.values() for p in ne.session_pids(proc.pid))

    def kill(self, kinds: Sequence[str] = KINDS, sig: int = signal.SIGKILL) -> None:
        """Make agents die: ``sig`` (default SIGKILL, a crash) to every process of
        their sessions, then reaped.  SIGTERM is a clean stop.  Neither tells the
        server anything: it notices the missing reports after agent_down_time."""
        errors: List[str] = []
        for kind in kinds:
            proc = self.procs.pop(kind, None)
            if proc is None:
                continue
            if sig == signal.SIGKILL:
                for pid in ne.session_pids(proc.pid):
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:
                        pass
            _stop(proc, 15, errors, f"{self.name} {kind}")
        if errors:
            raise RuntimeError("; ".join(errors))

    def served_networks(self) -> List[str]:
        """The networks the dhcp agent was given and enabled (the no-op driver's files)."""
        try:
            return sorted(os.listdir(os.path.join(self.conf.state_path, "noop-dhcp")))
        except FileNotFoundError:
            return []

    def router_namespaces(self) -> List[str]:
        """The qrouter-* namespaces the l3 agent made (in its private /run/netns)."""
        pid = self.pid("l3")
        if pid is None:
            return []
        out = subprocess.run(["nsenter", "-t", str(pid), "-m", "ls", "/run/netns"],
                             capture_output=True, text=True, timeout=10)
        return sorted(out.stdout.split()) if out.returncode == 0 else []

    def stop(self) -> None:
        self.kill(tuple(self.procs), signal.SIGTERM)


class AgentGone(LookupError):
    """The API no longer knows this agent (404): it was deleted."""


# --- all of it --------------------------------------------------------------------

class Cloud:
    """RabbitMQ, MariaDB, Keystone (unless ``auth`` is False), neutron-server
    and one FakeHost per name in ``hosts``, under ``base``."""

    def __init__(self, base: str, hosts: Sequence[str] = ("host-a", "host-b"),
                 auth: bool = True, report_interval: int = 2, debug: bool = False,
                 **server_options: Any) -> None:
        self.base = base
        self.rabbit = Rabbit()
        self.db = MariaDB()
        self.keystone: Optional[Keystone] = Keystone(self.db, debug=debug) if auth else None
        self.server = NeutronServer(self.db, self.rabbit, self.keystone, debug=debug,
                                    **server_options)
        self.hosts = {name: FakeHost(name, os.path.join(base, "hosts", name), self.rabbit.url,
                                     report_interval, debug) for name in hosts}
        self.timings: Dict[str, float] = {}

    def start(self, timeout: float = 600.0) -> "Cloud":
        """Everything, then wait until every agent is listed alive (bounded)."""
        deadline = time.monotonic() + timeout
        keystone = self.keystone

        def left() -> float:
            return deadline - time.monotonic()
        steps: List[Tuple[str, Callable[[], Any]]] = [
            ("rabbitmq", lambda: self.rabbit.start(self.base, min(90.0, left()))),
            ("mariadb", lambda: self.db.start(self.base, min(60.0, left()))),
            ("keystone", lambda: keystone.start(self.base, min(180.0, left()))
             if keystone else None),
            ("neutron-server", lambda: self.server.start(self.base, min(300.0, left()))),
            ("agents", lambda: self._start_agents(min(120.0, left())))]
        try:
            for name, start in steps:
                if left() <= 0:
                    raise StartError(f"cloud: start took longer than {timeout} s")
                t0 = time.monotonic()
                start()
                self.timings[name] = time.monotonic() - t0
        except BaseException:
            self.stop()
            raise
        return self

    def _start_agents(self, timeout: float = 120.0) -> None:
        for host in self.hosts.values():
            host.start()
        want = {(h, BINARIES[k]): True for h in self.hosts for k in FakeHost.KINDS}
        self.wait_agents(lambda: self.alive_map() == want, timeout, "every agent alive")

    def alive_map(self) -> Dict[Any, bool]:
        """(host, binary) -> alive, for every agent the server lists."""
        return {(a["host"], a["binary"]): a["alive"] for a in self.server.agents()}

    def wait_agents(self, cond: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll the agent list until ``cond()``; StartError with the agents' logs if not."""
        if not wait_for(cond, timeout, 0.5):
            logs = "".join(f"\n--- {h.name} {k}:\n{tail(h.log(k), 6)}"
                           for h in self.hosts.values() for k in FakeHost.KINDS)
            raise StartError(f"{what}: not within {timeout:.0f} s; agents: "
                             f"{self.alive_map()}{logs}\n--- server:\n{tail(self.server.log, 6)}")

    def agent(self, host: str, kind: str) -> Dict[str, Any]:
        """The API's record of ``host``'s dhcp or l3 agent."""
        found = self.server.agents(host=host, binary=BINARIES[kind])
        if len(found) != 1:
            raise LookupError(f"{len(found)} {kind} agents on {host}")
        return found[0]

    # -- resources, as the tests need them --------------------------------------

    def network(self, name: str, cidr: str, enable_dhcp: bool = True) -> Dict[str, Any]:
        """A network with one IPv4 subnet (DHCP on): creating the subnet makes the
        server schedule the network to a live dhcp agent.  The network's dict."""
        net = self.server.call("POST", "/v2.0/networks", {"network": {"name": name}})["network"]
        self.server.call("POST", "/v2.0/subnets", {"subnet": {
            "network_id": net["id"], "cidr": cidr, "ip_version": 4, "enable_dhcp": enable_dhcp}})
        return dict(net)

    def router(self, name: str, schedule: bool = True) -> Dict[str, Any]:
        """A router without gateway or interface.  Creating one schedules nothing;
        with ``schedule`` an update follows, which makes the server schedule it
        to a live l3 agent (an l3 agent's full sync would too)."""
        router = self.server.call("POST", "/v2.0/routers", {"router": {"name": name}})["router"]
        if schedule:
            self.server.call("PUT", f"/v2.0/routers/{router['id']}",
                             {"router": {"description": "scheduled"}})
        return dict(router)

    def _hosted(self, agent_id: str, what: str) -> List[str]:
        reply = self.server.api("GET", f"/v2.0/agents/{agent_id}/{what}")
        if reply.status == 404:
            raise AgentGone(agent_id)
        if reply.status != 200:
            raise RuntimeError(f"neutron: GET /v2.0/agents/{agent_id}/{what}: "
                               f"{reply.status} {reply.body}")
        return sorted(item["id"] for item in reply.body[what.split("-")[1]])

    def dhcp_networks(self, agent_id: str) -> List[str]:
        """GET /v2.0/agents/{id}/dhcp-networks: the network ids (AgentGone: 404)."""
        return self._hosted(agent_id, "dhcp-networks")

    def l3_routers(self, agent_id: str) -> List[str]:
        """GET /v2.0/agents/{id}/l3-routers: the router ids (AgentGone: 404)."""
        return self._hosted(agent_id, "l3-routers")

    def hosting(self) -> Dict[str, Dict[str, List[str]]]:
        """host -> {"dhcp": network ids, "l3": router ids}, from the API's bindings."""
        found: Dict[str, Dict[str, List[str]]] = {h: {"dhcp": [], "l3": []} for h in self.hosts}
        for agent in self.server.agents():
            kind = {"neutron-dhcp-agent": "dhcp", "neutron-l3-agent": "l3"}.get(agent["binary"])
            if kind is None:
                continue
            try:
                ids = (self.dhcp_networks if kind == "dhcp" else self.l3_routers)(agent["id"])
            except AgentGone:      # deleted since the list (the tool deletes dead agents)
                continue
            found.setdefault(agent["host"], {"dhcp": [], "l3": []})[kind] += ids
        return found

    def pids(self) -> Dict[str, List[int]]:
        """Every live process of the cloud, by part."""
        parts = {"rabbitmq": self.rabbit.pids(), "mariadb": self.db.pids(),
                 "keystone": self.keystone.pids() if self.keystone else [],
                 "neutron-server": self.server.pids()}
        parts.update({f"agents {n}": h.pids() for n, h in self.hosts.items()})
        return parts

    def rss_mib(self) -> Dict[str, float]:
        """Resident memory of each part, MiB."""
        return {part: _rss_kib(pids) / 1024 for part, pids in self.pids().items()}

    def stop(self) -> None:
        """Reverse order; every part is tried; RuntimeError listing what resisted."""
        errors: List[str] = []
        parts: List[Tuple[str, Callable[[], None]]] = [
            (f"host {n}", h.stop) for n, h in self.hosts.items()]
        parts.append(("neutron-server", self.server.stop))
        if self.keystone is not None:
            parts.append(("keystone", self.keystone.stop))
        parts += [("mariadb", self.db.stop), ("rabbitmq", self.rabbit.stop)]
        for name, stop in parts:
            try:
                stop()
            except Exception as e:
                errors.append(f"{name}: {e}")
        if errors:
            raise RuntimeError("; ".join(errors))
