"""The seed's network agents (ocf:mirantis:quantum-agent-*) on three
corosync/pacemaker nodes in network namespaces, each node with its own Open
vSwitch and its own neutron configuration: the configuration loads and runs,
and the dhcp agent fails over when its node dies.

Node N's files live on the host under /var/tmp/mirantis-ocf/netagents/nN:
``ovs/`` (its ovsdb-server and ovs-vswitchd, started inside node N, since
the userspace datapath's ``ovs-netdev`` tap allows one OVS per network
namespace) and ``conf/`` (neutron.conf and the agents' ini files, host
``nodeN``), which is bind-mounted on /srv/mocf-neutron inside node N, so the
resources' parameters are the same on every node, as in a real cluster.
No RabbitMQ: the node namespaces cannot reach one on the host's loopback,
and the agents run without it (they retry); amqp_check stays off.

The killed node is not restarted.  The last test stops everything and checks
that nothing is left.  Measured times are printed (pytest -s) and recorded as
user properties (--junitxml); no test asserts on them.
"""
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import neutron_env as ne  # noqa: E402
from netns import NetnsCluster, started_on  # noqa: E402
from neutron_env import AGENTS, OVS, NeutronConf  # noqa: E402
from seed_network import CLONES, DHCP, L3, PRIMITIVES, TYPES, binary, network_crm  # noqa: E402

pytestmark = pytest.mark.cluster

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OCF_DIR = "/usr/lib/ocf/resource.d/mirantis"
HOST_ROOT = "/var/tmp/mirantis-ocf/netagents"
INSIDE = "/srv/mocf-neutron"
NODES = (1, 2, 3)
# where the agents' AMQP would be: nothing listens there inside a node
TRANSPORT_URL = "rabbit://neutron:neutron-pw@127.0.0.1:5672/"
DEADLINE = 240      # generous bounds for a slow machine; never a measured target


Record = Callable[[str, object], None]     # pytest's record_property


def timing(record: Record, what: str, seconds: float) -> None:
    print(f"\nTIMING {what}: {seconds:.2f}s")
    record(what, round(seconds, 2))


def missing_prerequisite(cluster: NetnsCluster) -> Optional[str]:
    reason = cluster.missing_prerequisites()
    if reason:
        return reason
    tools = ["crm", "ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-appctl",
             "sudo", "neutron-rootwrap", "make"]
    missing = [t for t in tools if shutil.which(t, path=ne.PATH) is None]
    missing += [p for p in [ne.OVS_SCHEMA, "/etc/neutron/rootwrap.conf"]
                + [b for b, _ in AGENTS.values()] if not os.path.exists(p)]
    if missing:
        return f"not installed: {' '.join(missing)} (make deps)"
    try:
        ne.user_ids("neutron")
    except KeyError:
        return "no user neutron (make deps installs the neutron agents)"
    return None


def cmdline(pid: int) -> List[str]:
    """A process's command line; after a neutron agent's setproctitle, its
    one string "neutron-dhcp-agent (/usr/bin/python3 /usr/bin/neutron-dhcp-agent
    --config-file ...)" split back into the original words."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []
    if len(argv) == 1 and " (" in argv[0] and argv[0].endswith(")"):
        return argv[0][argv[0].index(" (") + 2:-1].split()
    return argv


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Network:
    """The cluster, each node's OVS and configuration, and what runs where."""

    def __init__(self, cluster: NetnsCluster) -> None:
        self.c = cluster
        self.ovs: Dict[int, OVS] = {}
        self.confs: Dict[int, NeutronConf] = {}
        self.killed: List[int] = []

    @staticmethod
    def host_dir(n: int) -> str:
        return f"{HOST_ROOT}/n{n}"

    def prepare(self, n: int) -> None:
        """Node n's OVS (inside the node) and configuration (bound on INSIDE)."""
        root = self.host_dir(n)
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        os.chmod(root, 0o755)
        ovs = self.ovs[n] = OVS(prefix=self.c.exec_argv(n))
        ovs.start(root)
        conf = self.confs[n] = NeutronConf(f"{root}/conf", TRANSPORT_URL, host=f"node{n}",
                                           ovsdb_connection=ovs.connection).write()
        self.c.bind(n, Path(conf.dir), Path(INSIDE))

    def live(self) -> List[int]:
        return [n for n in NODES if n not in self.killed]

    def mon(self) -> ET.Element:
        return self.c.crm_mon_xml(self.live()[0])

    def placement(self) -> Tuple[Dict[str, List[str]], ET.Element]:
        mon = self.mon()
        return {rsc: started_on(mon, rsc) for rsc in PRIMITIVES}, mon

    def settled(self) -> Tuple[bool, object]:
        """Every instance Started where it should be: the clones on every live
        node, dhcp and l3 once each, on different live nodes."""
        where, mon = self.placement()
        names = sorted(NetnsCluster.name(n) for n in self.live())
        ok = (all(where[rsc] == names for rsc in CLONES)
              and len(where[DHCP]) == 1 and len(where[L3]) == 1
              and where[DHCP] != where[L3]
              and set(where[DHCP] + where[L3]) <= set(names)
              and NetnsCluster.online_nodes(mon) == set(names))
        return ok, f"{where} online={sorted(NetnsCluster.online_nodes(mon))} " \
                   f"failures={NetnsCluster.failures(mon)}"

    def daemons(self, n: int, rsc: str) -> List[int]:
        """The main processes in node n of the neutron program rsc manages,
        with our configuration (not its workers, not its privsep helpers)."""
        name = binary(rsc)
        config = f"{INSIDE}/neutron.conf"
        found = {}
        for pid in self.c.pids(n):
            argv = cmdline(pid)
            if (ne.alive(pid) and any(os.path.basename(a) == name for a in argv[:2])
                    and config in argv):
                found[pid] = _ppid(pid)
        return sorted(p for p, ppid in found.items() if ppid not in found)

    def pidfile(self, n: int, rsc: str) -> Optional[int]:
        """The pid in node n's pid file of rsc (its /run is the host's node_dir/run)."""
        path = self.c.node_dir(n) / "run" / "resource-agents" / f"{rsc}.pid"
        try:
            return int(path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def check_processes(self, where: Dict[str, List[str]]) -> None:
        """The real daemons run exactly where Pacemaker says, as neutron, and the
        pid files of dhcp and l3 name them."""
        neutron_uid = ne.user_ids("neutron")[0]
        for rsc in PRIMITIVES:
            for n in self.live():
                pids = self.daemons(n, rsc)
                if NetnsCluster.name(n) in where[rsc]:
                    assert len(pids) == 1, f"{rsc} on node{n}: daemons {pids}"
                    assert os.stat(f"/proc/{pids[0]}").st_uid == neutron_uid
                    if rsc not in CLONES:
                        assert self.pidfile(n, rsc) == pids[0]
                else:
                    assert pids == [], f"{rsc} is not on node{n}, yet runs there: {pids}"

    def memory(self) -> str:
        """RSS of the neutron processes (daemons, workers, privsep helpers: all
        that read our neutron.conf) and of OVS, per live node."""
        parts = []
        config = f"{INSIDE}/neutron.conf"
        for n in self.live():
            agents = sum(rss_kib(p) for p in self.c.pids(n) if config in cmdline(p))
            ovs = sum(rss_kib(p) for d in OVS.DAEMONS for p in self.c.pgrep(n, d))
            parts.append(f"node{n} neutron {agents // 1024} MiB, ovs {ovs // 1024} MiB")
        return "; ".join(parts)

    def stop_resources(self) -> None:
        """stop-all-resources, until no instance is active on any live node."""
        self.c.stop_all_resources(self.live(), DEADLINE, "network agent",
                                  only=lambda rsc: rsc in PRIMITIVES)

    def teardown(self) -> List[str]:
        """Stop everything, whatever state it is in; the errors, [] when clean."""
        errors = []
        try:
            if self.c.is_running():
                self.stop_resources()
        except Exception as e:      # the cluster's stop stops them anyway
            errors.append(f"stop-all-resources: {e}")
        for n, ovs in sorted(self.ovs.items()):
            try:
                ovs.stop()
            except Exception as e:
                errors.append(f"node{n} ovs: {e}")
        try:
            self.c.stop()
        except Exception as e:
            errors.append(f"cluster stop: {e}")
        shutil.rmtree(HOST_ROOT, ignore_errors=True)
        try:
            os.rmdir(INSIDE)
        except OSError:
            pass
        return errors


def _ppid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


@pytest.fixture(scope="module")
def net() -> Iterator[Network]:
    cluster = NetnsCluster()
    reason = missing_prerequisite(cluster)
    if reason:
        pytest.fail(reason)
    if cluster.is_running():
        pytest.fail("a namespace cluster is already running: tools/pcmk-netns.sh stop")
    install = subprocess.run(["make", "-s", "-C", REPO, "install"], capture_output=True,
                             text=True, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr
    for rsc in PRIMITIVES:
        agent = f"{OCF_DIR}/{TYPES[rsc]}"
        assert os.access(agent, os.X_OK), f"{agent} is not installed"
    os.makedirs(INSIDE, exist_ok=True)
    network = Network(cluster)
    try:
        t0 = time.monotonic()
        cluster.start()
        t1 = time.monotonic()
        for n in NODES:
            network.prepare(n)
        print(f"\ncluster up in {t1 - t0:.1f}s, 3 OVS and configurations in "
              f"{time.monotonic() - t1:.1f}s")
        yield network
    finally:
        network.teardown()


def test_a_the_seed_configuration_starts_every_agent(net: Network,
                                                     record_property: Record) -> None:
    path = f"{HOST_ROOT}/network.crm"
    with open(path, "w") as f:
        f.write(network_crm(INSIDE))
    t0 = time.monotonic()
    net.c.exec(1, ["crm", "configure", "load", "update", path], timeout=60)
    net.c.wait_for(net.settled, DEADLINE, "8 instances Started (ovs and metadata on 3 nodes, "
                   "dhcp and l3 once each, apart)")
    timing(record_property, "load -> all 8 Started", time.monotonic() - t0)
    where, mon = net.placement()
    assert where[DHCP] != where[L3]             # dhcp-without-l3 -100
    assert NetnsCluster.failures(mon) == []
    net.check_processes(where)
    # each ovs agent made br-int in its own node's OVS (the per-node OVSDB)
    for n in NODES:
        ovs = net.ovs[n]
        net.c.wait_for(lambda: "br-int" in ovs.list_bridges(), 60, f"br-int on node{n}")
        assert ovs.vsctl("get", "bridge", "br-int", "datapath_type").strip() == "netdev"
    memory = net.memory()
    print(f"\nMEMORY {memory}")
    record_property("memory", memory)


def test_b_dhcp_fails_over_when_its_node_is_killed(net: Network,
                                                   record_property: Record) -> None:
    net.c.wait_for(net.settled, DEADLINE, "a settled cluster to begin with")
    where, _ = net.placement()
    dhcp_node = NetnsCluster.number(where[DHCP][0])
    l3_node = NetnsCluster.number(where[L3][0])
    l3_pid = net.daemons(l3_node, L3)
    survivors = [n for n in NODES if n != dhcp_node]
    t0 = time.monotonic()
    net.c.node_kill(dhcp_node)
    killed = time.monotonic()
    net.killed.append(dhcp_node)
    assert net.c.pids(dhcp_node) == []

    def dhcp_back() -> Tuple[bool, object]:
        on, mon = net.placement()
        return bool(set(on[DHCP]) & {NetnsCluster.name(n) for n in survivors}), on
    net.c.wait_for(dhcp_back, DEADLINE, "dhcp Started on a survivor", interval=0.2)
    failover = time.monotonic() - t0
    net.c.wait_for(net.settled, DEADLINE, "dhcp and l3 on the two survivors, apart")
    settled = time.monotonic() - t0
    timing(record_property, "node kill -> dhcp Started on a survivor", failover)
    timing(record_property, "node kill -> all settled on 2 nodes", settled)
    print(f"(node_kill itself took {killed - t0:.2f}s)")
    where, mon = net.placement()
    assert where[DHCP] != where[L3]
    assert NetnsCluster.number(where[L3][0]) in survivors
    assert NetnsCluster.number(where[DHCP][0]) in survivors
    net.check_processes(where)
    l3_now = net.daemons(NetnsCluster.number(where[L3][0]), L3)
    note = "kept its process" if l3_now == l3_pid else f"restarted ({l3_pid} -> {l3_now})"
    print(f"\nl3 on node{l3_node} before, {where[L3][0]} after: {note}")
    record_property("l3 after the failover", note)
    assert NetnsCluster.failures(mon) == []
    # the rescheduling after the dhcp agent's start cannot reach Keystone
    # (the seed's 10.107.2.254 is nowhere here): it says so where an
    # operator looks, a node attribute that crm_mon -A shows
    dhcp_now = NetnsCluster.number(where[DHCP][0])
    attribute = f"{DHCP}-reschedule"

    def reported() -> Tuple[bool, object]:
        out = net.c.exec(dhcp_now, ["attrd_updater", "-n", attribute, "-Q"], check=False)
        return "failed" in out.stdout, out.stdout + out.stderr
    net.c.wait_for(reported, DEADLINE, f"{attribute} on node{dhcp_now}")
    shown = net.c.exec(1, ["crm_mon", "-1", "-A"]).stdout
    assert f"{attribute}" in shown and "see the log" in shown, shown


def test_c_stop_leaves_nothing_behind(net: Network) -> None:
    """Last: stop the resources, each OVS and the cluster; nothing may be left."""
    t0 = time.monotonic()
    net.stop_resources()
    print(f"\nTIMING stop-all-resources -> all stopped: {time.monotonic() - t0:.2f}s")
    for n in net.live():
        for rsc in PRIMITIVES:
            assert net.daemons(n, rsc) == [], f"{rsc} still runs on node{n}"
    ovs_pids = [p for o in net.ovs.values() for d in OVS.DAEMONS
                for p in ([o.pid(d)] if o.pid(d) else [])]
    errors = net.teardown()
    assert errors == []
    assert net.c.leftovers() == []
    assert not [p for p in ovs_pids if ne.alive(p)]
    assert ne.pids_mentioning(HOST_ROOT) == [] and ne.pids_mentioning(INSIDE) == []
    assert not os.path.exists(HOST_ROOT)
