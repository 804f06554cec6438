"""The seed's whole cluster configuration on the 3-node namespace cluster.

What Fuel loaded (/work/shared/reference, "How Fuel Deploys HA"): the mysql
clone (Galera), the haproxy clone, the two virtual IPs, the ovs and metadata
clones, the dhcp and l3 primitives, and every colocation and order.  The ids,
ops, params and meta are the seed's; what changes, and why:

- provider ``mirantis`` for haproxy (the seed says ``ocf:pacemaker:haproxy``,
  which Fuel renamed ``ocf:mirantis:haproxy`` later), mysql and the quantum
  agents (seed_network.py explains the ovs agent's ``ocf:pacemaker``);
- params added to point each agent at this machine's daemons: haproxy's
  ``conffile``; mysql's files, ``binary=/usr/sbin/mariadbd`` and
  ``node_addresses`` (the seed relied on Fuel's /etc/my.cnf); the network
  agents' as in seed_network.py;
- the VIPs: the seed's ``br-mgmt`` and ``br-ex`` do not exist here.  Both
  VIPs live on ``eth0``, the nodes' only interface: the management VIP
  10.211.0.254 in the nodes' network 10.211.0.0/24, the public VIP
  10.211.1.254 in a second subnet, 10.211.1.0/24, on the same links.
  ``cidr_netmask=24`` is added: IPaddr2 cannot guess the netmask of an
  address in a subnet that no interface carries yet (the public one);
- 10.107.2.254 (the seed's management VIP, in the dhcp and l3 agents'
  ``os_auth_url``) becomes 10.211.0.254.  No Keystone listens there: the
  agents' rescheduling fails at once, detached, and says so in the log.

MySQL behind haproxy, as Fuel did: MariaDB listens on port 3307 of its node's
address; every node's haproxy listens on <management VIP>:3306 (the kernel
allows it with net.ipv4.ip_nonlocal_bind=1, set in each node's namespace,
since the VIP lives on one node at a time) and sends the connections to one
MariaDB, the others being backups (as Fuel did: all writes on one Galera
node, no certification conflicts), with ``option mysql-check``.  haproxy's
stats page is on <public VIP>:10000.

Each node's files live on the host under ROOT/nN and are bind-mounted on
/srv/mocf-seed inside node N, so every resource has the same params on every
node: galera/ (datadir, my.cnf, socket), haproxy/ (haproxy.cfg, stats
socket), conf/ (neutron.conf and the agents' ini files), ovs/ (the node's
ovsdb-server and ovs-vswitchd, run inside the node).

The host has no route into the nodes' network.  Clients run in the switch
namespace (``ip netns exec mocf-sw ...``), whose bridge gets 10.211.0.250
and 10.211.1.250; ``NetnsThread`` runs Python code there (a thread in that
network namespace), so a test keeps its pymysql connection in-process.

Used by tests/cluster/test_seed_cluster.py and tools/demo.py.
"""
import ctypes
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import neutron_env as ne  # noqa: E402
import seed_network as sn  # noqa: E402
from galera_env import MONITOR_PASSWORD, MONITOR_USER, GaleraNode  # noqa: E402
from netns import NetnsCluster, started_on  # noqa: E402
from neutron_env import OVS, NeutronConf  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OCF_DIR = "/usr/lib/ocf/resource.d"
NODES = (1, 2, 3)
INSIDE = "/srv/mocf-seed"
NIC = "eth0"
MGMT_VIP = "10.211.0.254"
PUBLIC_VIP = "10.211.1.254"
VIP_NETMASK = "24"
SEED_MGMT_VIP = "10.107.2.254"
SWITCH_NETNS = NetnsCluster.SWITCH_NETNS
CLIENT_ADDRESSES = ("10.211.0.250/24", "10.211.1.250/24")
MYSQL_PORT = 3307           # MariaDB on each node's address
VIP_PORT = 3306             # haproxy on the management VIP
STATS_PORT = 10000          # haproxy's stats page on the public VIP
CHECK_USER = "haproxy_check"
# where the agents' AMQP would be: nothing listens there inside a node (the
# agents retry; amqp_check stays off), as in test_network_cluster.py
TRANSPORT_URL = "rabbit://neutron:neutron-pw@127.0.0.1:5672/"

HAPROXY = "p_haproxy"
MYSQL = "p_mysql"
VIP_MGMT = "vip__management_old"
VIP_PUBLIC = "vip__public_old"
OVS_RSC, METADATA, DHCP, L3 = sn.OVS, sn.METADATA, sn.DHCP, sn.L3
CLONES = {HAPROXY: "clone_p_haproxy", MYSQL: "clone_p_mysql", **sn.CLONES}
SINGLES = (VIP_MGMT, VIP_PUBLIC, DHCP, L3)
PRIMITIVES = (HAPROXY, MYSQL, VIP_MGMT, VIP_PUBLIC, OVS_RSC, METADATA, DHCP, L3)
SHORT = {HAPROXY: "haproxy", MYSQL: "mysql", VIP_MGMT: "vip_mgmt", VIP_PUBLIC: "vip_public",
         OVS_RSC: "ovs", METADATA: "metadata", DHCP: "dhcp", L3: "l3"}
AGENTS = {HAPROXY: "mirantis/haproxy", MYSQL: "mirantis/mysql",
          VIP_MGMT: "heartbeat/IPaddr2", VIP_PUBLIC: "heartbeat/IPaddr2",
          **{rsc: f"mirantis/{t}" for rsc, t in sn.TYPES.items()}}

# The seed's text for haproxy, mysql and the VIPs; {..} are the added params.
SEED = """primitive p_haproxy ocf:mirantis:haproxy \\
    op monitor interval="20" timeout="30" \\
    op start interval="0" timeout="30" \\
    op stop interval="0" timeout="30" \\
    params {p_haproxy}
primitive p_mysql ocf:mirantis:mysql \\
    op monitor interval="60" timeout="30" \\
    op start interval="0" timeout="450" \\
    op stop interval="0" timeout="150" \\
    params {p_mysql}
primitive vip__management_old ocf:heartbeat:IPaddr2 \\
    op monitor interval="2" timeout="30" \\
    op start interval="0" timeout="30" \\
    op stop interval="0" timeout="30" \\
    params nic="{nic}" iflabel="ka" ip="{mgmt_vip}" cidr_netmask="{netmask}"
primitive vip__public_old ocf:heartbeat:IPaddr2 \\
    op monitor interval="2" timeout="30" \\
    op start interval="0" timeout="30" \\
    op stop interval="0" timeout="30" \\
    params nic="{nic}" iflabel="ka" ip="{public_vip}" cidr_netmask="{netmask}"
clone clone_p_haproxy p_haproxy \\
    meta interleave="true"
clone clone_p_mysql p_mysql \\
    meta interleave="true" is-managed="true"
"""

HAPROXY_CFG = """# written by tests/cluster/seed_full.py for node{n}
# no pidfile here: the agent passes -p from its pidfile parameter
global
    maxconn 1024
    stats socket {inside}/haproxy/haproxy.sock mode 600 level admin

defaults
    mode tcp
    timeout connect 2s
    timeout check 1s
    timeout client 1h
    timeout server 1h
    retries 2
    option redispatch

# MySQL through the management VIP, as Fuel did: one active server, the
# others backups; MariaDB on port {mysql_port} of each node.  Checks every 2s
# (Fuel: inter 15s fastinter 2s downinter 1s rise 5 fall 3).
listen mysqld
    bind {mgmt_vip}:{vip_port}
    option mysql-check user {check_user} post-41
    option clitcpka
    option srvtcpka
    default-server inter 2s rise 2 fall 2 on-marked-down shutdown-sessions
{servers}
listen stats
    bind {public_vip}:{stats_port}
    mode http
    stats enable
    stats uri /
    stats refresh 5s
"""

# Made in every node's fresh datadir before any server runs (Galera's state
# transfers then keep them): haproxy's check user (no password, no grant:
# mysql-check only logs in), from the nodes' network.
USERS_SQL = f"CREATE USER '{CHECK_USER}'@'10.211.0.%';\n"


def user_sql(user: str, password: str, database: str) -> str:
    """A client user for the VIP, with every right on its database (made here)."""
    for value in (user, password, database):
        if not re.fullmatch(r"[A-Za-z0-9_.,:@+=-]+", value):
            raise ValueError(f"{value!r}: letters, digits and _.,:@+=- only")
    return (f"CREATE DATABASE `{database}`;\n"
            f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}';\n"
            f"GRANT ALL PRIVILEGES ON `{database}`.* TO '{user}'@'%';\n")


def _params(values: Dict[str, str]) -> str:
    for name, value in values.items():
        if any(c in value for c in '"\\\n') or not value:
            raise ValueError(f"{name}={value!r} cannot be written as crm text")
    return " \\\n    ".join(f'{k}="{v}"' for k, v in values.items())


def galera_node(root: str, n: int) -> GaleraNode:
    """Node n's MariaDB files (host: root/nN/galera; node: INSIDE/galera)."""
    return GaleraNode(f"{root}/n{n}/galera", name=NetnsCluster.name(n),
                      address=NetnsCluster.addr(n), port=MYSQL_PORT, inside=f"{INSIDE}/galera")


def mysql_params() -> Dict[str, str]:
    node = galera_node("/nonexistent", 1)      # the paths inside the node only
    params = node.params(binary="/usr/sbin/mariadbd")
    params["node_addresses"] = " ".join(f"{NetnsCluster.name(n)}={NetnsCluster.addr(n)}"
                                        for n in NODES)
    return params


def seed_crm(mysql_extra: Optional[Dict[str, str]] = None) -> str:
    """The seed's whole configuration, for `crm configure load update`
    (``mysql_extra``: more params of p_mysql)."""
    head = SEED.format(
        p_haproxy=_params({"conffile": f"{INSIDE}/haproxy/haproxy.cfg"}),
        p_mysql=_params({**mysql_params(), **(mysql_extra or {})}), nic=NIC, mgmt_vip=MGMT_VIP, public_vip=PUBLIC_VIP,
        netmask=VIP_NETMASK)
    network = sn.network_crm(f"{INSIDE}/conf").replace(SEED_MGMT_VIP, MGMT_VIP)
    return head + network


def haproxy_cfg(n: int) -> str:
    servers = "".join(
        f"    server node{m} {NetnsCluster.addr(m)}:{MYSQL_PORT} check"
        f"{'' if m == NODES[0] else ' backup'}\n" for m in NODES)
    return HAPROXY_CFG.format(n=n, inside=INSIDE, mysql_port=MYSQL_PORT, mgmt_vip=MGMT_VIP,
                              vip_port=VIP_PORT, check_user=CHECK_USER, servers=servers,
                              public_vip=PUBLIC_VIP, stats_port=STATS_PORT)


def failures_brief(mon: ET.Element) -> str:
    """Pacemaker's failed actions, short: "" when there is none."""
    failed = [f"{f.get('op_key')}@{f.get('node')}: {f.get('exitreason') or f.get('exitstatus')}"
              for f in mon.iter("failure")]
    return f"  FAILED: {'; '.join(failed)}" if failed else ""


def missing_prerequisite(cluster: NetnsCluster) -> Optional[str]:
    """Why the seed cannot run here, or None."""
    reason = cluster.missing_prerequisites()
    if reason:
        return reason
    tools = ["crm", "haproxy", "mariadb", "mariadb-install-db", "ovsdb-tool", "ovsdb-server",
             "ovs-vswitchd", "ovs-vsctl", "ovs-appctl", "sudo", "neutron-rootwrap", "make"]
    missing = [t for t in tools if shutil.which(t, path=ne.PATH) is None]
    missing += [p for p in ["/usr/sbin/mariadbd", "/usr/lib/galera/libgalera_smm.so",
                            ne.OVS_SCHEMA, "/etc/neutron/rootwrap.conf",
                            f"{OCF_DIR}/heartbeat/IPaddr2"]
                + [b for b, _ in ne.AGENTS.values()] if not os.path.exists(p)]
    try:
        import pymysql  # noqa: F401
    except ImportError:
        missing.append("python3-pymysql")
    if missing:
        return f"not installed: {' '.join(missing)} (make deps)"
    for user in ("neutron", "mysql"):
        try:
            ne.user_ids(user)
        except KeyError:
            return f"no user {user} (make deps)"
    return None


# --- a thread in the switch's network namespace ------------------------------------

CLONE_NEWNET = 0x40000000
_INSTALL_DB = threading.Lock()


def _enter_netns(name: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({name}): {os.strerror(err)}")
    finally:
        os.close(fd)


class NetnsThread:
    """One thread that lives in a network namespace (setns(2) is per thread):
    every socket made by a function run through call() is made there, e.g.
    pymysql's, including its reconnections."""

    def __init__(self, netns: str = SWITCH_NETNS) -> None:
        self.netns = netns
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"netns-{netns}",
                                        initializer=_enter_netns, initargs=(netns,))

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        """Run fn there, in the background (calls run one at a time, in order)."""
        return self._pool.submit(fn, *args, **kwargs)

    def call(self, fn: Callable[..., Any], *args: Any, timeout: Optional[float] = None,
             **kwargs: Any) -> Any:
        return self.submit(fn, *args, **kwargs).result(timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def mysql_greeting(host: str, port: int, timeout: float = 2.0) -> Optional[str]:
    """The server version in a MySQL server's greeting on host:port (via haproxy:
    the backend's), None if nothing answers with one."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            data = b""
            while len(data) < 5 or b"\0" not in data[5:]:
                chunk = s.recv(256)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    # 3-byte length, sequence id, protocol version 10, NUL-terminated version
    if len(data) < 6 or data[4] != 10 or b"\0" not in data[5:]:
        return None
    return data[5:data.index(b"\0", 5)].decode(errors="replace")


def http_get(url: str, timeout: float = 2.0) -> Optional[str]:
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.read().decode(errors="replace")
    except OSError:
        return None


class VipClient:
    """A MySQL client that connects through the management VIP and haproxy,
    from the switch namespace.  ``conn`` is the one pymysql connection it
    keeps; reconnect() is pymysql's ping(reconnect=True) on it."""

    def __init__(self, thread: NetnsThread, user: str, password: str, database: str = "",
                 host: str = MGMT_VIP, port: int = VIP_PORT) -> None:
        self.thread = thread
        self.kwargs = dict(host=host, port=port, user=user, password=password,
                           connect_timeout=3, read_timeout=5, write_timeout=5, autocommit=True)
        if database:
            self.kwargs["database"] = database
        self.conn: Any = None

    def connect(self) -> "VipClient":
        import pymysql
        self.conn = self.thread.call(pymysql.connect, **self.kwargs, timeout=30)
        return self

    def _query(self, statement: str, args: Any = None) -> List[Tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(statement, args)
            return list(cur.fetchall())

    def query(self, statement: str, args: Any = None) -> List[Tuple[Any, ...]]:
        return self.thread.call(self._query, statement, args, timeout=60)

    def reconnect(self) -> None:
        self.thread.call(self.conn.ping, reconnect=True, timeout=60)

    def _reconnect_loop(self, timeout: float) -> Tuple[float, int, str]:
        deadline = time.monotonic() + timeout
        attempts, last = 0, ""
        while True:
            attempts += 1
            try:
                self.conn.ping(reconnect=True)
                return time.monotonic(), attempts, last
            except Exception as e:
                last = f"{type(e).__name__}: {e}"
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.2)

    def reconnect_in_background(self, timeout: float = 240) -> Future:
        """ping(reconnect=True) again and again until it succeeds, in the
        background; the Future gives (time.monotonic() of the success, the
        attempts, the last error before it)."""
        return self.thread.submit(self._reconnect_loop, timeout)

    def backend(self) -> str:
        """The Galera node that serves this connection."""
        return str(self.query("SELECT @@wsrep_node_name")[0][0])

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.thread.call(self.conn.close, timeout=10)
            except Exception:
                pass


# --- the cluster ---------------------------------------------------------------------

class Seed:
    """The namespace cluster with the seed's configuration: per-node files,
    OVS, the configuration itself, and what runs where."""

    def __init__(self, cluster: NetnsCluster, root: str, users_sql: str = "") -> None:
        self.c = cluster
        self.root = root
        self.users_sql = users_sql
        self.ovs: Dict[int, OVS] = {}
        self.down: List[int] = []       # killed or powered off, not restarted
        self._log_marks: Dict[int, int] = {}

    # files
    def host_dir(self, n: int) -> str:
        return f"{self.root}/n{n}"

    @property
    def crm_path(self) -> str:
        return f"{self.root}/seed.crm"

    def live(self) -> List[int]:
        return [n for n in NODES if n not in self.down]

    # --- setting up ---------------------------------------------------------------

    def start(self, progress: Callable[[str], None] = lambda s: None) -> None:
        """A fresh cluster, each node's files and OVS, the client addresses."""
        os.makedirs(INSIDE, exist_ok=True)
        shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(self.root)
        os.chmod(self.root, 0o755)
        progress("starting the 3-node cluster (tools/pcmk-netns.sh start)")
        self.c.start()
        for cidr in CLIENT_ADDRESSES:
            self.c.switch_address(cidr)
        progress("preparing each node: Galera datadir, haproxy.cfg, neutron configuration, "
                 "Open vSwitch")
        with ThreadPoolExecutor(len(NODES)) as pool:
            for f in [pool.submit(self.prepare, n) for n in NODES]:
                f.result()

    def prepare(self, n: int) -> None:
        """Node n's files under host_dir(n), bound on INSIDE; its OVS; the VIP sysctl."""
        d = self.host_dir(n)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        # one at a time: mariadb-install-db runs in parallel collide on their
        # temporary tables in /tmp ("Unknown table 'mysql.tmp_user_sys'")
        with _INSTALL_DB:
            galera_node(self.root, n).prepare(extra_sql=USERS_SQL + self.users_sql)
        os.makedirs(f"{d}/haproxy", exist_ok=True)
        with open(f"{d}/haproxy/haproxy.cfg", "w") as f:
            f.write(haproxy_cfg(n))
        self.c.bind(n, d, INSIDE)
        self.start_ovs(n)
        NeutronConf(f"{d}/conf", TRANSPORT_URL, host=NetnsCluster.name(n),
                    ovsdb_connection=self.ovs[n].connection).write()
        # haproxy binds the VIPs on every node, also where they are not (yet)
        self.c.exec(n, ["sysctl", "-q", "-w", "net.ipv4.ip_nonlocal_bind=1"])
        self.c.exec(n, ["haproxy", "-c", "-f", f"{INSIDE}/haproxy/haproxy.cfg"])

    def start_ovs(self, n: int) -> None:
        """Node n's ovsdb-server and ovs-vswitchd, inside the node (they die with it)."""
        ovs = OVS(prefix=self.c.exec_argv(n))
        ovs.start(self.host_dir(n))
        self.ovs[n] = ovs

    def load(self, text: str = "") -> None:
        """The seed's configuration (or ``text``, another crm text) loaded."""
        with open(self.crm_path, "w") as f:
            f.write(text or seed_crm())
        self.c.exec(self.live()[0], ["crm", "configure", "load", "update", self.crm_path],
                    timeout=90)

    # --- observing ------------------------------------------------------------------

    def mon(self) -> ET.Element:
        return self.c.crm_mon_xml(self.live()[0])

    def placement(self, mon: Optional[ET.Element] = None) -> Dict[str, List[str]]:
        mon = self.mon() if mon is None else mon
        return {rsc: started_on(mon, rsc) for rsc in PRIMITIVES}

    def settled(self) -> Tuple[bool, str]:
        """Everything Started where it should be: each clone on every live
        node, each VIP, dhcp and l3 once on a live node, dhcp apart from l3."""
        mon = self.mon()
        where = self.placement(mon)
        names = sorted(NetnsCluster.name(n) for n in self.live())
        ok = (all(where[rsc] == names for rsc in CLONES)
              and all(len(where[rsc]) == 1 and where[rsc][0] in names for rsc in SINGLES)
              and (len(names) < 2 or where[DHCP] != where[L3])
              and NetnsCluster.online_nodes(mon) == set(names))
        return ok, self.brief(where) + failures_brief(mon)

    def brief(self, where: Dict[str, List[str]]) -> str:
        """One line: clones as started/live, the others' nodes."""
        parts = []
        for rsc in PRIMITIVES:
            if rsc in CLONES:
                parts.append(f"{SHORT[rsc]} {len(where[rsc])}/{len(self.live())}")
            else:
                parts.append(f"{SHORT[rsc]} {','.join(where[rsc]) or '-'}")
        return "  ".join(parts)

    def sql(self, n: int, statement: str, check: bool = True) -> List[List[str]]:
        """SQL as root over node n's socket (unix_socket authentication)."""
        out = self.c.exec(n, ["mariadb", f"--socket={INSIDE}/galera/run/mysqld.sock", "-N",
                              "-B", "-e", statement], check=check, timeout=30)
        return [line.split("\t") for line in out.stdout.splitlines()]

    def wsrep(self, n: int) -> Dict[str, str]:
        try:
            rows = self.sql(n, "SHOW GLOBAL STATUS LIKE 'wsrep_%'")
        except (AssertionError, subprocess.TimeoutExpired):
            return {}
        return {r[0].lower(): r[1] for r in rows if len(r) == 2}

    def galera_brief(self, ns: Sequence[int]) -> Dict[int, Tuple[str, str, str]]:
        states = {n: self.wsrep(n) for n in ns}
        return {n: (s.get("wsrep_cluster_status", "-"), s.get("wsrep_local_state_comment", "-"),
                    s.get("wsrep_cluster_size", "-")) for n, s in states.items()}

    def synced(self, ns: Optional[Sequence[int]] = None) -> Tuple[bool, object]:
        """Every node of ns (default: the live ones) Synced in one Primary Component."""
        ns = list(self.live() if ns is None else ns)
        brief = self.galera_brief(ns)
        ok = all(b == ("Primary", "Synced", str(len(ns))) for b in brief.values())
        return ok, brief

    def vip_on(self, n: int, ip: str) -> bool:
        """True if node n's eth0 carries ip (read in its namespace)."""
        out = subprocess.run(["ip", "-n", NetnsCluster.netns(n), "-o", "-4", "addr", "show",
                              "dev", NIC], capture_output=True, text=True, timeout=30)
        return f" {ip}/" in out.stdout

    def pacemaker_log(self, n: int) -> str:
        try:
            with open(self.c.node_dir(n) / "log" / "pacemaker.log", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def mark_logs(self) -> None:
        self._log_marks = {n: len(self.pacemaker_log(n)) for n in NODES}

    def new_log_lines(self, pattern: str) -> List[Tuple[int, str]]:
        """(node, line) of each pacemaker.log line matching pattern since the
        last call (or mark_logs())."""
        found = []
        for n in NODES:
            text = self.pacemaker_log(n)
            start = self._log_marks.get(n, 0)
            if len(text) < start:
                start = 0
            end = text.rfind("\n") + 1
            if end <= start:
                continue
            found += [(n, line) for line in text[start:end].splitlines()
                      if re.search(pattern, line)]
            self._log_marks[n] = end
        return found

    # --- moving resources ----------------------------------------------------------------

    def gather(self, n: int) -> None:
        """The VIPs, dhcp and l3 onto node n, as an operator's `crm resource
        move` would: a location constraint each, of score INFINITY, which
        outweighs dhcp-without-l3's -100 (also for one already there, which
        the colocation would otherwise push away).  The death of node n then
        moves all four (the seed ties neither VIP to the other, and keeps dhcp
        and l3 apart).  release() drops the constraints."""
        name = NetnsCluster.name(n)
        for rsc in SINGLES:
            self.c.exec(self.live()[0], ["crm", "configure", "location", f"gather-{rsc}", rsc,
                                         "inf:", name], timeout=60)

    def gathered(self, n: int) -> Tuple[bool, str]:
        """Each clone on every live node, and the VIPs, dhcp and l3 all on node n."""
        mon = self.mon()
        where = self.placement(mon)
        names = sorted(NetnsCluster.name(m) for m in self.live())
        ok = (all(where[rsc] == names for rsc in CLONES)
              and all(where[rsc] == [NetnsCluster.name(n)] for rsc in SINGLES)
              and not NetnsCluster.failures(mon))
        return ok, self.brief(where) + failures_brief(mon)

    def release(self) -> None:
        """Drop gather()'s constraints; the resources stay where they run (stickiness)."""
        self.c.exec(self.live()[0], ["crm", "configure", "delete",
                                     *[f"gather-{rsc}" for rsc in SINGLES]], timeout=60)

    # --- failures and restarts ----------------------------------------------------------

    def kill(self, n: int) -> None:
        """Node n dies (every process at once) and falls silent: its cable
        unplugged, as a machine without power (its namespace, and the VIPs
        on its eth0, would otherwise still answer)."""
        self.c.node_kill(n)
        self.c.cable(n, False)
        self.down.append(n)

    def powerloss(self) -> None:
        self.c.powerloss(*NODES)
        for n in NODES:
            self.c.cable(n, False)
        self.down = list(NODES)

    def restart(self, *ns: int, progress: Callable[[str], None] = lambda s: None,
                converge: bool = True) -> None:
        """These nodes boot again: a clean network (own address only), cable
        plugged, corosync and pacemaker, and OVS as soon as the node exists
        (OVS starts at boot, before the cluster schedules the ovs agent)."""
        for n in ns:
            self.c.reset_network(n)
            self.c.cable(n, True)
            # the daemons died with the node: forget them (reaps the zombies)
            old = self.ovs.pop(n, None)
            if old is not None:
                for proc in old.procs.values():
                    proc.poll()
        errors: List[BaseException] = []

        def boot() -> None:
            try:
                self.c.node_start(*ns, converge=converge)
            except BaseException as e:      # re-raised below
                errors.append(e)
        t = threading.Thread(target=boot, name="node_start", daemon=True)
        t.start()
        pending = list(ns)
        deadline = time.monotonic() + 120
        while pending and time.monotonic() < deadline and not errors:
            for n in list(pending):
                if self.c.is_up(n):
                    self.start_ovs(n)
                    progress(f"node{n}: up, its Open vSwitch started")
                    pending.remove(n)
            time.sleep(0.1)
        t.join(300)
        if errors:
            raise errors[0]
        if pending:
            raise AssertionError(f"nodes {pending} did not come up")
        self.down = [n for n in self.down if n not in ns]

    # --- stopping ---------------------------------------------------------------------------

    def stop_resources(self, timeout: float = 240) -> None:
        """stop-all-resources, until no instance is active on any live node."""
        self.c.stop_all_resources(self.live(), timeout)

    def stop_ovs(self, n: int) -> None:
        """Node n's OVS: the one this process started, or (a demo run by an
        earlier process) the daemons named by its pid files."""
        ovs = self.ovs.pop(n, None)
        if ovs is None:
            ovs = OVS(prefix=self.c.exec_argv(n))
            ovs.dir = os.path.join(self.host_dir(n), "ovs")
            if not os.path.isdir(ovs.dir):
                return
        up = self.c.is_up(n)
        if up:
            ovs.stop()
        else:
            for proc in ovs.procs.values():
                proc.poll()
            return
        mine = set(self.c.pids(n))
        for daemon in OVS.DAEMONS:
            try:
                with open(os.path.join(ovs.rundir, f"{daemon}.pid")) as f:
                    pid = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            if pid in mine and ne.alive(pid):
                os.kill(pid, 15)
                if not ne.wait_for(lambda: not ne.alive(pid), 10):
                    os.kill(pid, 9)

    def teardown(self) -> List[str]:
        """Stop everything, whatever state it is in; the errors, [] when clean."""
        errors = []
        try:
            if self.c.is_running():
                self.stop_resources()
        except Exception as e:      # the cluster's stop stops them anyway
            errors.append(f"stop-all-resources: {e}")
        for n in NODES:
            try:
                self.stop_ovs(n)
            except Exception as e:
                errors.append(f"node{n} ovs: {e}")
        try:
            self.c.stop()
        except Exception as e:
            errors.append(f"cluster stop: {e}")
        shutil.rmtree(self.root, ignore_errors=True)
        try:
            os.rmdir(INSIDE)
        except OSError:
            pass
        return errors


def missing_agents() -> List[str]:
    return [f"{OCF_DIR}/{a}" for a in sorted(set(AGENTS.values()))
            if not os.access(f"{OCF_DIR}/{a}", os.X_OK)]


__all__ = ["Seed", "VipClient", "NetnsThread", "seed_crm", "haproxy_cfg", "started_on",
           "missing_prerequisite", "missing_agents", "mysql_greeting", "http_get", "user_sql",
           "MGMT_VIP", "PUBLIC_VIP", "VIP_PORT", "STATS_PORT", "MONITOR_USER", "MONITOR_PASSWORD"]
