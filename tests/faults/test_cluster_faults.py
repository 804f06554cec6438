"""Faults on the 3-node namespace cluster running the seed's configuration
(tests/cluster/seed_full.py), under one writer and one Primary Component
sampler that run from the first test to the last (cluster_faults.py).

In order: kill -9 of every daemon, SIGSTOP of every daemon, pid files that
name another live process, a server killed during its start, a partition
{node1} | {node2, node3}, a partition during an election, and five power
losses in a row.  The last test proves that every row the writer saw
acknowledged is on every node, that there were never two Primary
Components, that no election bootstrapped twice, and that no secret reached
a command line, an environment or a log.  Each fault adds its row to the
tier's table (fault_table.py), with its times.

What differs from the seed, and why: the secrets are distinctive strings
(the seed's neutron password "quantum" is in every path of the agents, and
a sweep for it would find nothing but them); p_mysql gets
``replication_user``/``replication_passwd`` (unused by Galera, and still
secret), and ``election_timeout=60`` instead of 300 (the partition during an
election waits the window out once); the cluster keeps
``start-failure-is-fatal=false`` as the seed's did; ``no-quorum-policy``
stays tools/pcmk-netns.sh's ``stop`` (the seed's ``ignore`` keeps a minority's
virtual IPs up beside the majority's).  ovs-vswitchd is not a resource of the
seed: the test plays its init system (systemd's Restart=) and checks that the
agents ride it out.
"""
import os
import re
import signal
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cluster"))
sys.path.insert(0, os.path.join(HERE, ".."))

import cluster_faults as cf  # noqa: E402
import neutron_env as ne  # noqa: E402
import seed_full as sf  # noqa: E402
import secrets_sweep  # noqa: E402
from fault_table import record  # noqa: E402
from galera_env import MONITOR_PASSWORD  # noqa: E402
from netns import NetnsCluster, started_on  # noqa: E402

pytestmark = pytest.mark.faults

HOST_ROOT = "/var/tmp/mirantis-ocf/faults"
EVIDENCE = "/var/tmp/mirantis-ocf/faults-evidence"     # a failed fault's logs, kept
USER, PASSWORD, DATABASE, TABLE = "faults_client", "faults-client-pw", "faults", "w"
NEUTRON_SECRET = "Nq7-neutron-S3cret"
REPLICATION_SECRET = "Rp4-replication-S3cret"
SECRETS = (MONITOR_PASSWORD, NEUTRON_SECRET, REPLICATION_SECRET)
WINDOW = 60
DEADLINE = 300          # bounds for a slow machine, never a measured target
BOOTSTRAP_LINE = "bootstrapping a new Primary Component"
NAMES = {sf.MYSQL: "mariadbd", sf.HAPROXY: "haproxy", sf.OVS_RSC: "neutron-openvswitch-agent",
         sf.METADATA: "neutron-metadata-agent", sf.DHCP: "neutron-dhcp-agent",
         sf.L3: "neutron-l3-agent"}


class Faults:
    def __init__(self, seed: sf.Seed) -> None:
        self.seed = seed
        self.c = seed.c
        self.writer: Optional[cf.Writer] = None
        self.sampler: Optional[cf.Sampler] = None
        self.sweep = secrets_sweep.SecretSweep(SECRETS)
        self.reasons: List[str] = []        # every exit reason Pacemaker recorded
        self.bootstraps: List[Tuple[str, List[int]]] = []     # (fault, nodes that bootstrapped)
        self.t0 = time.time()
        self.stash_marks: Dict[int, int] = {}     # node -> pacemaker.log line of cibsecret

    # --- where things are ---------------------------------------------------------
    def pid_of(self, rsc: str, n: int) -> Optional[int]:
        """The pid in node n's pid file of rsc (host paths of the node's files)."""
        if rsc == sf.MYSQL:
            path = f"{HOST_ROOT}/n{n}/galera/run/mysqld.pid"
        elif rsc == sf.HAPROXY:
            path = str(self.c.node_dir(n) / "run" / "haproxy.pid")
        else:
            path = str(self.c.node_dir(n) / "run" / "resource-agents" / f"{rsc}.pid")
        try:
            with open(path) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def pidfile(self, rsc: str, n: int) -> str:
        if rsc == sf.MYSQL:
            return f"{HOST_ROOT}/n{n}/galera/run/mysqld.pid"
        if rsc == sf.HAPROXY:
            return str(self.c.node_dir(n) / "run" / "haproxy.pid")
        return str(self.c.node_dir(n) / "run" / "resource-agents" / f"{rsc}.pid")

    def evidence(self, name: str) -> str:
        """After a failed fault: every node's logs copied to EVIDENCE/name
        (the teardown removes the originals), and a digest to print: what
        Pacemaker had pending, its last transitions' actions and Galera's last
        view changes on every node, the secrets cut out."""
        dest = os.path.join(EVIDENCE, name)
        shutil.rmtree(dest, ignore_errors=True)
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        digest = [f"evidence of {name} (the logs in {dest}; load average {load}):"]
        try:
            live = self.seed.live()
            mon = self.c.exec(live[0], ["crm_mon", "-1", "-r", "--pending"], check=False,
                              timeout=30).stdout if live else ""
            digest += ["  crm_mon: " + line.strip() for line in mon.splitlines()
                       if re.search(r"Starting|Stopping|Promoting|FAILED|Stopped|OFFLINE|"
                                    r"pending|UNCLEAN|Failed", line)][:12]
        except Exception as e:      # the evidence goes on
            digest.append(f"  crm_mon: {e}")
        pcmk = re.compile(r"pacemaker-controld.*(Initiating|Result of|throttle|Transition \d+ "
                          r"\(Complete|aborted|Transition .* stopped)|timed out|"
                          r"pacemaker-execd.*hung")
        wsrep = re.compile(r"New cluster view|Quorum results|non-Primary|Shifting to|"
                           r"State transfer|SST (failed|complete)|\[ERROR\]|Aborting|signal")
        for n in sf.NODES:
            sources = [(f"node{n} pacemaker", str(self.c.node_dir(n) / "log"), pcmk, 8),
                       (f"node{n} mysqld.err", f"{HOST_ROOT}/n{n}/galera", wsrep, 8)]
            for label, src, pattern, keep in sources:
                try:
                    shutil.copytree(src, os.path.join(dest, f"n{n}", os.path.basename(src)),
                                    ignore=shutil.ignore_patterns("data", "db", "*.sock",
                                                                  "ib*", "*.ibd", "gvwstate*"),
                                    dirs_exist_ok=True)
                    log = "pacemaker.log" if "pacemaker" in label else "mysqld.err"
                    with open(os.path.join(src, log), errors="replace") as f:
                        hits = [line.rstrip() for line in f
                                if pattern.search(line) and "Cancel" not in line]
                except OSError as e:
                    digest.append(f"  {label}: {e}")
                    continue
                digest += [f"  {label}: {line[:200]}" for line in hits[-keep:]]
        text = "\n".join(digest)
        for secret in (*SECRETS, PASSWORD):
            text = text.replace(secret, secret[:3] + "...")
        return text

    def node_of(self, rsc: str) -> int:
        return NetnsCluster.number(self.seed.placement()[rsc][0])

    def settled(self) -> Tuple[bool, str]:
        ok, brief = self.seed.settled()
        if not ok:
            return ok, brief
        synced, galera = self.seed.synced()
        return synced, f"{brief} {galera}"

    def wait_settled(self, what: str, timeout: float = DEADLINE) -> None:
        self.c.wait_for(self.settled, timeout, what)

    def failures(self, rsc: str) -> List[Dict[str, str]]:
        found = [dict(f.attrib) for f in self.seed.mon().iter("failure")
                 if f.get("op_key", "").startswith(rsc + "_")]
        self.reasons += [f.get("exitreason", "") for f in found]
        return found

    def cleanup(self) -> None:
        """Pacemaker's failure records dropped (each fault starts clean)."""
        mon = self.seed.mon()
        self.reasons += [f.get("exitreason", "") for f in mon.iter("failure")]
        self.c.exec(self.seed.live()[0], ["crm_resource", "--cleanup"], timeout=60)
        self.c.wait_for(lambda: (not NetnsCluster.failures(self.seed.mon()),
                                 NetnsCluster.failures(self.seed.mon())), 60,
                        "the failure records cleared")

    def bootstrapped(self, fault: str,
                     lines: Optional[List[Tuple[int, str]]] = None) -> List[int]:
        """Nodes whose agent bootstrapped since the last mark_logs() (or in
        ``lines``, what new_log_lines() gave: it reads each line once)."""
        if lines is None:
            lines = self.seed.new_log_lines(BOOTSTRAP_LINE)
        found = [n for n, line in lines if BOOTSTRAP_LINE in line]
        self.bootstraps.append((fault, found))
        return found

    def rows(self, n: int) -> set:
        return {int(r[0]) for r in self.seed.sql(n, f"SELECT id FROM {DATABASE}.{TABLE}")}

    def missing(self, ns: Sequence[int]) -> Dict[int, int]:
        """Acknowledged ids absent from each node (node -> how many)."""
        assert self.writer is not None
        acked = self.writer.ids()
        return {n: len(acked - self.rows(n)) for n in ns}

    def epochs(self) -> Dict[str, str]:
        """node -> the epoch it publishes (transient attribute p_mysql-epoch)."""
        live = [n for n in sf.NODES if self.c.is_up(n)]
        out = self.c.exec(live[0], ["cibadmin", "--query", "--scope", "status"], timeout=30)
        found = {}
        for state in ET.fromstring(out.stdout).iter("node_state"):
            for nv in state.iter("nvpair"):
                if nv.get("name") == f"{sf.MYSQL}-epoch":
                    found[state.get("uname", "")] = nv.get("value", "")
        return found


def alive_as(pid: int, start: str) -> bool:
    """pid still names the process that had this start time, and it is not stopped."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[1].split()
    return fields[19] == start and fields[0] not in "ZXT"


def start_time(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[19]


@pytest.fixture(scope="module")
def faults() -> Iterator[Faults]:
    cluster = NetnsCluster()
    reason = sf.missing_prerequisite(cluster)
    if reason:
        pytest.fail(reason)
    if cluster.is_running():
        pytest.fail("a namespace cluster is already running (make demo?): "
                    "make demo-stop, or tools/pcmk-netns.sh stop")
    missing = sf.missing_agents()
    assert not missing, f"not installed: {missing}"
    seed = sf.Seed(cluster, HOST_ROOT, users_sql=sf.user_sql(USER, PASSWORD, DATABASE))
    f = Faults(seed)
    try:
        seed.start()
        yield f
    finally:
        for part in (f.writer, f.sampler, f.sweep):
            try:
                if part is not None:
                    part.stop()
            except Exception as e:       # the teardown goes on
                print(f"stopping {type(part).__name__}: {e}")
        for a in sf.NODES:
            for b in sf.NODES:
                if a != b:
                    subprocess.run(["ip", "-n", NetnsCluster.netns(a), "route", "del",
                                    "blackhole", f"{NetnsCluster.addr(b)}/32"],
                                   capture_output=True, timeout=30)
        errors = seed.teardown()
        if errors:          # reported, not raised: a failed test's own message comes first
            print(f"teardown: {errors}")


@pytest.fixture(autouse=True)
def evidence_on_failure(request: pytest.FixtureRequest, faults: Faults) -> Iterator[None]:
    """A failed fault prints its evidence (and keeps every node's logs)."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(faults.evidence(request.node.name))
        # the next fault starts from a cluster that works again, not from
        # this one's failure records (a failed stop blocks its resource)
        try:
            faults.cleanup()
            faults.wait_settled(f"a settled cluster again after {request.node.name}")
        except Exception as e:      # noqa: BLE001  (the next fault says what is left)
            print(f"not settled again after {request.node.name}: {e}")


def crm_text() -> str:
    text = sf.seed_crm(mysql_extra={"replication_user": "repl",
                                    "replication_passwd": REPLICATION_SECRET,
                                    "election_timeout": str(WINDOW)})
    assert text.count('password="quantum"') == 2
    return text.replace('password="quantum"', f'password="{NEUTRON_SECRET}"')


def test_a_the_seed_runs_and_the_writer_writes(faults: Faults) -> None:
    t0 = time.monotonic()
    faults.sweep.start()
    faults.c.exec(1, ["crm_attribute", "-t", "crm_config", "-n", "start-failure-is-fatal",
                      "-v", "false"])
    faults.seed.load(crm_text())
    faults.wait_settled("the seed's resources Started, 3 nodes Synced")
    faults.seed.sql(1, f"CREATE TABLE {DATABASE}.{TABLE} (id BIGINT PRIMARY KEY, at DOUBLE) "
                       "ENGINE=InnoDB")
    faults.sampler = cf.Sampler(USER, PASSWORD)
    faults.sampler.start()
    faults.writer = cf.Writer(USER, PASSWORD, DATABASE, TABLE)
    faults.writer.start()
    w = faults.writer
    faults.c.wait_for(lambda: (len(w.acked) >= 20, w.last_error), 60,
                      "the writer's first acknowledged rows through the VIP")
    print(f"\nseed loaded and settled, writer writing: {time.monotonic() - t0:.1f}s")


# --- 1 and 2: kill -9 and SIGSTOP of each daemon ---------------------------------------

def daemon_targets(faults: Faults) -> List[Tuple[str, int]]:
    """(resource, node) for each daemon: mariadbd on node1 (the one haproxy
    sends the writer to), haproxy where the management VIP is, the ovs agent
    on node2, the metadata agent on node3, dhcp and l3 where they run."""
    return [(sf.MYSQL, 1), (sf.HAPROXY, faults.node_of(sf.VIP_MGMT)), (sf.OVS_RSC, 2),
            (sf.METADATA, 3), (sf.DHCP, faults.node_of(sf.DHCP)), (sf.L3, faults.node_of(sf.L3))]


def daemon_fault(faults: Faults, rsc: str, n: int, sig: int) -> Tuple[bool, str]:
    """Signal rsc's daemon on node n; wait until Pacemaker has it running
    again (another process, Started, and Synced for mysql)."""
    what = f"{signal.Signals(sig).name} {NAMES[rsc]}@node{n}"
    faults.wait_settled(f"a settled cluster before {what}")
    old = faults.pid_of(rsc, n)
    assert old and ne.alive(old), f"{rsc} on node{n}: no live pid in its pid file ({old})"
    assert faults.writer is not None
    faults.seed.mark_logs()
    t0 = time.monotonic()
    os.kill(old, sig)

    def back() -> Tuple[bool, str]:
        new = faults.pid_of(rsc, n)
        running = NetnsCluster.name(n) in started_on(faults.seed.mon(), rsc)
        ok = bool(new and new != old and ne.alive(new) and running and not ne.alive(old))
        if ok and rsc == sf.MYSQL:
            ok = faults.seed.synced()[0]
        return ok, f"pid {old} -> {new}, started there: {running}, old alive: {ne.alive(old)}"
    faults.c.wait_for(back, DEADLINE, f"{rsc} back on node{n} after {what}", interval=0.2)
    took = time.monotonic() - t0
    failed = faults.failures(rsc)
    ops = [f"{f.get('task')} rc {f.get('exitcode')} ({f.get('status')}, "
           f"{f.get('exitreason') or 'no reason'})" for f in failed]
    # the monitor that saw it returned, with an answer: never Pacemaker's timeout
    timed_out = [f for f in failed if f.get("status") != "complete"]
    acks = faults.writer.acks_between(t0, time.monotonic())
    boots = faults.bootstrapped(what)
    faults.cleanup()
    faults.wait_settled(f"settled after {what}")
    # a dead or hung server: the other two serve the writes meanwhile
    ok = not timed_out and not boots and (acks > 0 or rsc != sf.MYSQL)
    detail = (f"recovered in {took:.1f}s; Pacemaker saw: {'; '.join(ops) or '-'}; "
              f"{acks} rows acknowledged meanwhile")
    print(f"\n{what}: {detail}")
    record(what, ok, detail)
    return ok, detail


def vswitchd_fault(faults: Faults, n: int, sig: int) -> Tuple[bool, str]:
    """ovs-vswitchd is started at boot, not by Pacemaker: the test plays
    init (it respawns a killed one, continues a stopped one after 25 s).
    The ovs agent's monitor must return meanwhile, and every resource stay
    Started without a failure."""
    what = f"{signal.Signals(sig).name} ovs-vswitchd@node{n}"
    faults.wait_settled(f"a settled cluster before {what}")
    ovs = faults.seed.ovs[n]
    old = ovs.pid("ovs-vswitchd")
    assert old
    t0 = time.monotonic()
    os.kill(old, sig)
    if sig == signal.SIGKILL:
        ovs.procs["ovs-vswitchd"].wait(10)
    # the ovs agent's monitor, as Pacemaker runs it, while the switch is away
    m0 = time.monotonic()
    check = faults.c.exec(n, ["crm_resource", "--force-check", "-r", sf.OVS_RSC], check=False,
                          timeout=60)
    monitor = time.monotonic() - m0
    if sig == signal.SIGKILL:
        ovs._spawn("ovs-vswitchd", [ovs.connection])
    else:
        time.sleep(max(0.0, 25 - (time.monotonic() - t0)))
        os.kill(old, signal.SIGCONT)
    # the switch works again: a change is applied (ovs-vsctl without --no-wait waits for it)
    applied = ["ovs-vsctl", f"--db={ovs.connection}", "--timeout=5", "set", "Open_vSwitch",
               ".", f"external_ids:fault={int(t0)}"]
    faults.c.wait_for(lambda: ovs._run(applied, timeout=10, check=False).returncode == 0, 60,
                      "ovs-vswitchd applying changes")
    faults.c.wait_for(lambda: "br-int" in ovs.list_bridges(), 60, "br-int present")
    took = time.monotonic() - t0
    time.sleep(5)
    mon = faults.seed.mon()
    failed = NetnsCluster.failures(mon)
    ok = check.returncode == 0 and not failed and faults.settled()[0]
    detail = (f"not a Pacemaker resource (init's); the ovs agent's monitor returned "
              f"rc {check.returncode} in {monitor:.2f}s meanwhile; switch applying changes "
              f"again after {took:.1f}s; resource failures: {len(failed)}")
    print(f"\n{what}: {detail}")
    record(what, ok, detail)
    if failed:
        faults.cleanup()
    return ok, detail


def test_b_kill_9_of_each_daemon(faults: Faults) -> None:
    results = [daemon_fault(faults, rsc, n, signal.SIGKILL)
               for rsc, n in daemon_targets(faults)]
    results.append(vswitchd_fault(faults, 3, signal.SIGKILL))
    assert all(ok for ok, _ in results), results


def test_c_sigstop_of_each_daemon(faults: Faults) -> None:
    """A hung daemon: its monitor reports it (never hangs), Pacemaker
    recovers it; a hung mariadbd leaves the other two serving writes."""
    assert faults.writer is not None
    results = []
    for rsc, n in daemon_targets(faults):
        ok, detail = daemon_fault(faults, rsc, n, signal.SIGSTOP)
        results.append((ok, detail))
    results.append(vswitchd_fault(faults, 3, signal.SIGSTOP))
    assert all(ok for ok, _ in results), results


# --- 3: pid files that name another live process -----------------------------------------

DECOY_HAPROXY = """global
    maxconn 64
defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s
listen decoy
    bind 127.0.0.1:19999
"""


def test_d_a_pid_file_naming_another_live_process_is_never_adopted_nor_signalled(
        faults: Faults) -> None:
    n = 2
    faults.wait_settled("a settled cluster before the decoys")
    d = f"{HOST_ROOT}/n{n}/decoy"
    inside = f"{sf.INSIDE}/decoy"
    os.makedirs(f"{d}/db", exist_ok=True)
    with open(f"{d}/haproxy.cfg", "w") as f:
        f.write(DECOY_HAPROXY)
    uid, gid, _ = ne.user_ids("mysql")
    for path in (d, f"{d}/db"):             # its socket and pid file go beside the db
        os.chown(path, uid, gid)
    faults.c.exec(n, ["mariadb-install-db", "--no-defaults", f"--datadir={inside}/db",
                      "--user=mysql", "--auth-root-authentication-method=socket",
                      "--skip-test-db"], timeout=120)
    faults.c.exec(n, ["haproxy", "-f", f"{inside}/haproxy.cfg", "-D", "-p",
                      f"{inside}/haproxy.pid"])
    haproxy_decoy = int(open(f"{d}/haproxy.pid").read().split()[0])
    mariadb_decoy = subprocess.Popen(faults.c.exec_argv(n, [
        "/usr/sbin/mariadbd", "--no-defaults", f"--datadir={inside}/db", "--user=mysql",
        f"--socket={inside}/decoy.sock", "--port=3399", "--bind-address=127.0.0.1",
        f"--pid-file={inside}/decoy.pid"]),
        stdin=subprocess.DEVNULL, stdout=open(f"{d}/mariadbd.out", "w"),
        stderr=subprocess.STDOUT)
    sleeper = subprocess.Popen(faults.c.exec_argv(n, ["sleep", "3600"]),
                               stdin=subprocess.DEVNULL)
    faults.c.wait_for(lambda: (os.path.exists(f"{d}/decoy.sock"), open(f"{d}/mariadbd.out").read()[-500:]),
                      60, "the decoy mariadbd")
    decoys = {sf.HAPROXY: haproxy_decoy, sf.MYSQL: mariadb_decoy.pid, sf.METADATA: sleeper.pid}
    starts = {rsc: start_time(pid) for rsc, pid in decoys.items()}
    try:
        faults.seed.mark_logs()
        t0 = time.monotonic()
        olds = {}
        for rsc, decoy in decoys.items():
            olds[rsc] = faults.pid_of(rsc, n)
            assert olds[rsc] and ne.alive(olds[rsc])
            os.kill(olds[rsc], signal.SIGKILL)
            # the daemon died, and its pid file now names the decoy
            with open(faults.pidfile(rsc, n), "w") as f:
                f.write(f"{decoy}\n")

        def recovered() -> Tuple[bool, str]:
            mon = faults.seed.mon()
            now = {rsc: faults.pid_of(rsc, n) for rsc in decoys}
            ok = all(now[rsc] not in (decoys[rsc], olds[rsc], None)
                     and NetnsCluster.name(n) in started_on(mon, rsc) for rsc in decoys)
            return ok and faults.seed.synced()[0], f"pid files: {now}"
        faults.c.wait_for(recovered, DEADLINE, "the three resources running their own "
                                               "daemons again on node2", interval=0.5)
        took = time.monotonic() - t0
        untouched = {rsc: alive_as(pid, starts[rsc]) for rsc, pid in decoys.items()}
        # the decoy mariadbd still answers on its own socket
        answer = faults.c.exec(n, ["mariadb", f"--socket={inside}/decoy.sock", "-N", "-e",
                                   "SELECT 1"], check=False, timeout=30)
        failed = {rsc: faults.failures(rsc) for rsc in decoys}
        boots = faults.bootstrapped("decoys")
        faults.cleanup()
        faults.wait_settled("settled after the decoys")
        ok = all(untouched.values()) and answer.stdout.strip() == "1" and not boots
        for rsc in decoys:
            kind = {sf.HAPROXY: "another haproxy", sf.MYSQL: "another mariadbd",
                    sf.METADATA: "a sleep"}[rsc]
            ops = "; ".join(f"{f.get('task')} rc {f.get('exitcode')}" for f in failed[rsc])
            record(f"pid file of {NAMES[rsc]}@node{n} names {kind}", untouched[rsc],
                   f"the decoy untouched: {untouched[rsc]}; own daemon back within "
                   f"{took:.1f}s; Pacemaker saw: {ops or '-'}")
        assert ok, (untouched, answer.stdout, answer.stderr, boots)
    finally:
        for pid in (haproxy_decoy,):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for p in (mariadb_decoy, sleeper):
            p.kill()
            p.wait(30)


# --- 4: the server dies during its start -----------------------------------------------------

def node_mntns(c: NetnsCluster, n: int) -> str:
    return os.readlink(f"/proc/{c.pgrep(n, 'corosync')[0]}/ns/mnt")


def launched_server(mntns: str, old: int) -> Optional[int]:
    """A mariadbd of that mount namespace other than ``old``, not a --wsrep-recover run."""
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == old:
            continue
        try:
            if open(f"/proc/{name}/comm").read().strip() != "mariadbd":
                continue
            if os.readlink(f"/proc/{name}/ns/mnt") != mntns:
                continue
            if b"--wsrep-recover" in open(f"/proc/{name}/cmdline", "rb").read():
                continue
        except OSError:
            continue
        return int(name)
    return None


TRANSFER = ("State transfer required", "IST receiver", "Receiving IST")


def test_e_the_server_killed_during_its_state_transfer(faults: Faults) -> None:
    """node3's server is killed; Pacemaker's next monitor finds it dead and
    its start launches a new one, which is killed again the moment its error
    log says the state transfer began.  The start must say why and try again
    (in the same start, or Pacemaker's next one); node1 and node2 keep their
    servers, stay Primary, and take writes."""
    n = 3
    faults.wait_settled("a settled cluster before the death during start")
    assert faults.writer is not None and faults.sampler is not None
    others = [m for m in sf.NODES if m != n]
    servers = {m: faults.pid_of(sf.MYSQL, m) for m in others}
    mntns = node_mntns(faults.c, n)
    errlog = f"{HOST_ROOT}/n{n}/galera/mysqld.err"
    old = faults.pid_of(sf.MYSQL, n)
    assert old
    faults.seed.mark_logs()
    offset = os.path.getsize(errlog)
    t0 = time.monotonic()
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 120
    seen, victim = "", None
    with open(errlog, errors="replace") as log:
        log.seek(offset)
        text = ""
        while time.monotonic() < deadline:
            text += log.read()
            hit = [line for line in text.splitlines() if any(m in line for m in TRANSFER)]
            if hit:
                victim = launched_server(mntns, old)
                if victim:
                    os.kill(victim, signal.SIGKILL)
                    seen = hit[0].split("WSREP: ")[-1][:90]
                    break
            time.sleep(0.005)
    assert victim, "no state transfer began within 120 s"
    killed = time.monotonic() - t0

    def back() -> Tuple[bool, str]:
        new = faults.pid_of(sf.MYSQL, n)
        ok = bool(new and new not in (old, victim) and ne.alive(new)
                  and NetnsCluster.name(n) in started_on(faults.seed.mon(), sf.MYSQL))
        return ok and faults.seed.synced()[0], f"pid {new}"
    faults.c.wait_for(back, DEADLINE, f"node{n}'s server back after its failed start")
    took = time.monotonic() - t0
    failed = [f for f in faults.failures(sf.MYSQL) if f.get("task") == "start"]
    lines = faults.seed.new_log_lines(f"{BOOTSTRAP_LINE}|the server exited during start")
    said = [line.split("WARNING: ")[-1][:100] for m, line in lines
            if m == n and "exited during start" in line]
    # the other two: the same servers, Primary all along, writes acknowledged
    same = all(faults.pid_of(sf.MYSQL, m) == servers[m] for m in others)
    dropped = {m: [c for c in faults.sampler.changes[m] if c[0] >= t0 and c[1] != "Primary"]
               for m in others}
    acks = faults.writer.acks_between(t0, time.monotonic())
    boots = faults.bootstrapped("death during the state transfer", lines)
    faults.cleanup()
    faults.wait_settled("settled after the death during start")
    reason = failed[0].get("exitreason", "") if failed else (said[0] if said else "")
    how = "Pacemaker's next start" if failed else "the same start, again"
    ok = bool(reason) and same and not any(dropped.values()) and not boots and acks > 0
    detail = (f"killed at \"{seen}\"; the start said \"{reason}\" and {how} joined: "
              f"Synced {took:.1f}s after the first kill; node1, node2 kept their servers "
              f"and Primary: {same and not any(dropped.values())}; {acks} rows acknowledged "
              "meanwhile")
    print(f"\ndeath during the state transfer: {detail}")
    record(f"mariadbd@node{n} killed during its state transfer", ok, detail)
    assert ok, (failed, said, same, dropped, boots, acks)


# --- 5: partitions ---------------------------------------------------------------------------

def test_f_a_partition_leaves_the_minority_without_a_primary_component(faults: Faults) -> None:
    faults.wait_settled("a settled cluster before the partition")
    assert faults.writer is not None and faults.sampler is not None
    faults.seed.mark_logs()
    minority, majority = [1], [2, 3]
    t0 = time.monotonic()
    cf.cut(minority, majority)
    try:
        faults.c.wait_for(lambda: faults.seed.synced(majority), DEADLINE,
                          "node2 and node3 Synced in a Primary Component of 2")
        formed = time.monotonic() - t0
        first = len(faults.writer.acked)
        faults.c.wait_for(lambda: (len(faults.writer.acked) >= first + 50,
                                   faults.writer.last_error), DEADLINE,
                          "50 rows acknowledged by the majority")
        writes = time.monotonic() - t0
        # node1 alone: no Primary Component, and Pacemaker stops its resources
        faults.c.wait_for(lambda: faults.c.pgrep(1, "mariadbd") == [] and
                          faults.c.pgrep(1, "haproxy") == [], 120,
                          "node1 (no quorum) stopping its server and haproxy")
        time.sleep(10)
        cut_end = time.monotonic()
        acks = faults.writer.acks_between(t0, cut_end)
    finally:
        cf.heal(minority, majority)
    alone = faults.sampler.primary_alone(1, t0 + 0.1, cut_end, below=2)
    faults.wait_settled("node1 back: everything Started, 3 Synced")
    back = time.monotonic() - cut_end
    missing = faults.missing(sf.NODES)
    boots = faults.bootstrapped("partition")
    faults.cleanup()
    ok = not alone and not boots and acks > 0 and not any(missing.values())
    detail = (f"majority Primary in {formed:.1f}s, writing in {writes:.1f}s, {acks} rows "
              f"acknowledged during the cut; node1 Primary alone: {len(alone)} times; healed: "
              f"node1 Synced in {back:.1f}s, acknowledged rows missing per node: {missing}")
    print(f"\npartition: {detail}")
    record("partition {node1} | {node2, node3}", ok, detail)
    assert ok, (alone, boots, acks, missing)


def test_g_a_partition_during_an_election_never_bootstraps_the_minority(faults: Faults) -> None:
    """A power loss; node1 and node3 come back and publish their epochs,
    waiting for node2; node3 is cut off from the others; node2 comes back.
    node1 and node2 elect after the window (node3 is offline to them);
    node3, without quorum, waits in its start and never bootstraps; once
    healed it joins."""
    faults.wait_settled("a settled cluster before the election partition")
    assert faults.writer is not None and faults.sampler is not None
    faults.seed.mark_logs()
    t0 = time.monotonic()
    faults.seed.powerloss()
    faults.seed.restart(1, 3)
    faults.c.wait_for(lambda: (set(faults.epochs()) >= {"node1", "node3"}, faults.epochs()),
                      DEADLINE, "node1 and node3 publishing their epochs")
    published = time.monotonic() - t0
    print(f"\nelection partition: epochs {faults.epochs()} after {published:.1f}s")
    minority, majority = [3], [1, 2]
    # the DC decides the path: node3 (the majority elects a new DC, whose
    # transition starts node2 at once) or node1 (its transition holds node2
    # behind node1's electing start, which ends for it: the agent's rule,
    # also when node2, its own DC for a moment before it merged, probed
    # itself: the faults run of 2026-12-07 after f06ac51 waited 360 s there)
    dc = NetnsCluster.dc(faults.c.crm_mon_xml(1))
    cf.cut(minority, majority)
    t_cut = time.monotonic()
    try:
        faults.seed.restart(2, converge=False)
        faults.c.wait_for(lambda: ({"node1", "node2"} <= NetnsCluster.online_nodes(
            faults.c.crm_mon_xml(1)), "node1's view"), 120, "node1 and node2 together")
        faults.c.wait_for(lambda: faults.seed.synced(majority), DEADLINE + WINDOW,
                          "node1 and node2 Synced after the window")
        elected = time.monotonic() - t_cut
        time.sleep(10)
        cut_end = time.monotonic()
    finally:
        cf.heal(minority, majority)
    alone = faults.sampler.primary_alone(3, t_cut, cut_end, below=3)
    faults.wait_settled("node3 back: everything Started, 3 Synced")
    back = time.monotonic() - cut_end
    missing = faults.missing(sf.NODES)
    lines = faults.seed.new_log_lines(f"{BOOTSTRAP_LINE}|no quorum|no operation scheduled|"
                                      "waits behind this one")
    log3 = [line for m, line in lines if m == 3 and "no quorum" in line]
    boots = faults.bootstrapped("election partition", lines)
    faults.cleanup()
    ok = not alone and len(boots) == 1 and 3 not in boots and not any(missing.values())
    ended = [m for m, line in lines
             if "had no operation scheduled since" in line or "waits behind this one" in line]
    detail = (f"DC at the cut: {dc}; starts ended for node2: {sorted(set(ended)) or 'none'}; "
              f"epochs published {published:.1f}s after the power loss; the majority elected "
              f"{elected:.1f}s after the cut (window {WINDOW}s); bootstraps: "
              f"{['node%d' % b for b in boots]}; node3 Primary: {len(alone)} times, "
              f"waited for quorum: {'yes' if log3 else 'no'}; healed: Synced in {back:.1f}s; "
              f"acknowledged rows missing per node: {missing}")
    print(f"\nelection partition: {detail}")
    record("partition during an election: {node3} | {node1, node2}", ok, detail)
    assert ok, (alone, boots, missing)


# --- 6: five power losses in a row -----------------------------------------------------------

def test_h_five_power_losses_in_a_row(faults: Faults) -> None:
    assert faults.writer is not None
    results = []
    for i in range(1, 6):
        faults.wait_settled(f"a settled cluster before power loss {i}")
        faults.seed.mark_logs()
        before = len(faults.writer.acked)
        t0 = time.monotonic()
        faults.seed.powerloss()
        faults.seed.restart(*sf.NODES)
        faults.wait_settled(f"everything back after power loss {i}", DEADLINE + 120)
        took = time.monotonic() - t0
        first = len(faults.writer.acked)
        faults.c.wait_for(lambda: len(faults.writer.acked) > first + 20, 120,
                          "the writer writing again")
        boots = faults.bootstrapped(f"power loss {i}")
        missing = faults.missing(sf.NODES)
        # a start that failed on its way (and Pacemaker's next one that joined)
        failed = [f"{f.get('node')}: {f.get('exitreason', '')[:120]}"
                  for f in faults.failures(sf.MYSQL) if f.get("task") == "start"]
        faults.cleanup()
        ok = len(boots) == 1 and not any(missing.values())
        results.append(ok)
        detail = (f"all back and Synced in {took:.1f}s; bootstrapped by "
                  f"{['node%d' % b for b in boots]}; {first - before} rows acknowledged "
                  f"before it; acknowledged rows missing per node: {missing}"
                  + (f"; failed starts, retried: {failed}" if failed else ""))
        print(f"\npower loss {i}: {detail}")
        record(f"power loss {i} of 5 (all three nodes)", ok, detail)
    assert all(results)


# --- Pacemaker's CIB secrets ---------------------------------------------------------------

# cibsecret copies the secret files to the other nodes with ssh and scp, and
# finds them with fping or ping; the namespace nodes run no sshd and have no
# names.  These stand-ins do the same on the host paths of each node's
# /var/lib/pacemaker ({state}/nN/var-lib-pacemaker): a fake in front of what
# cannot run here, cibsecret itself is Debian's.
SHIMS = {
    "ssh": r"""#!/bin/bash
while [ "${{1#-}}" != "$1" ]; do [ "$1" = -o ] && shift; shift; done
node=$1; shift; [ "$1" = -- ] && shift
root={state}/n${{node#node}}/var-lib-pacemaker
exec "${{@//\/var\/lib\/pacemaker/$root}}"
""",
    "scp": r"""#!/bin/bash
args=()
while [ $# -gt 0 ]; do case $1 in -o) shift 2 ;; -*) shift ;; *) args+=("$1"); shift ;; esac; done
dest=${{args[-1]}}; unset 'args[-1]'
node=${{dest%%:*}}; path=${{dest#*:}}
root={state}/n${{node#node}}/var-lib-pacemaker
exec cp -pr "${{args[@]}}" "${{path/\/var\/lib\/pacemaker/$root}}"
""",
    "fping": r"""#!/bin/bash
for a; do [ "${{a#-}}" = "$a" ] && echo "$a"; done; exit 0
""",
}
CIB_SECRETS = ((sf.MYSQL, "test_passwd"), (sf.MYSQL, "replication_passwd"),
               (sf.DHCP, "password"), (sf.L3, "password"))


def test_i_pacemakers_cib_secrets_hold_our_secret_parameters(faults: Faults) -> None:
    """cibsecret stash moves each secret parameter out of the CIB into
    root-only files on every node (lrm:// in the CIB); pacemaker-execd hands
    the agents the real value: the mysql monitor logs in with it, the dhcp
    agent writes it to its private credentials file.  Then the CIB holds no
    secret, and Pacemaker's log of the CIB's changes none either."""
    faults.wait_settled("a settled cluster before cibsecret")
    shims = f"{HOST_ROOT}/shims"
    os.makedirs(shims, exist_ok=True)
    for name, text in SHIMS.items():
        with open(f"{shims}/{name}", "w") as f:
            f.write(text.format(state=faults.c.state))
        os.chmod(f"{shims}/{name}", 0o755)
    path = f"PATH={shims}:/usr/sbin:/usr/bin:/sbin:/bin"
    faults.stash_marks = {n: len(faults.seed.pacemaker_log(n).splitlines()) for n in sf.NODES}
    t0 = time.monotonic()
    for rsc, param in CIB_SECRETS:
        out = faults.c.exec(1, ["env", path, "cibsecret", "stash", rsc, param], check=False,
                            timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
    cib = faults.c.exec(1, ["cibadmin", "--query", "--scope", "resources"]).stdout
    in_cib = [s for s in SECRETS if s in cib]
    checks = {n: [faults.c.exec(n, ["cibsecret", "-C", "check", rsc, param],
                                check=False).returncode for rsc, param in CIB_SECRETS]
              for n in sf.NODES}
    # a changed parameter restarts the resources: the real values must reach them
    faults.wait_settled("everything Started again with the secrets from the files")
    took = time.monotonic() - t0
    mysql_node = 2
    monitor = faults.c.exec(mysql_node, ["crm_resource", "--force-check", "-r", sf.MYSQL],
                            check=False, timeout=60)
    dhcp = faults.node_of(sf.DHCP)
    openrc = faults.c.node_dir(dhcp) / "run" / "resource-agents" / f"{sf.DHCP}.openrc"
    credentials = openrc.read_text() if openrc.exists() else ""
    missing = faults.missing(sf.NODES)
    faults.cleanup()
    ok = not in_cib and all(rc == 0 for rcs in checks.values() for rc in rcs) \
        and monitor.returncode == 0 and not any(missing.values()) \
        and NEUTRON_SECRET in credentials and "lrm://" not in credentials
    detail = (f"{', '.join(f'{r}.{p}' for r, p in CIB_SECRETS)} stashed: the CIB holds "
              f"lrm:// ({len(in_cib)} secrets left in it), cibsecret check on node1/2/3: "
              f"{checks}; everything Started and Synced again in {took:.1f}s; the mysql "
              f"monitor logs in with the secret from the file: rc {monitor.returncode}; the "
              f"dhcp agent's 0600 credentials hold the real password: "
              f"{NEUTRON_SECRET in credentials}")
    print(f"\ncibsecret: {detail}")
    record("Pacemaker's CIB secrets (cibsecret)", ok, detail)
    assert ok, (in_cib, checks, monitor.stdout, monitor.stderr, missing)


# --- the checker ----------------------------------------------------------------------------

def test_z_every_acknowledged_row_on_every_node_one_primary_component_no_secret(
        faults: Faults) -> None:
    assert faults.writer is not None and faults.sampler is not None
    faults.wait_settled("a settled cluster at the end")
    faults.writer.stop()
    faults.sampler.stop()
    acked = faults.writer.ids()
    present = {n: faults.rows(n) for n in sf.NODES}
    missing = {n: len(acked - present[n]) for n in sf.NODES}
    record("acknowledged rows on every node", not any(missing.values()),
           f"{len(acked)} acknowledged, on node1/2/3: "
           f"{'/'.join(str(len(acked & present[n])) for n in sf.NODES)}; "
           f"{faults.writer.failed} writes failed (outcome unknown, ids not reused)")
    record("two Primary Components at once", not faults.sampler.violations,
           f"{len(faults.sampler.violations)} in {faults.sampler.rounds} sampling rounds")
    double = [(f, b) for f, b in faults.bootstraps if len(b) > 1]
    record("double bootstraps", not double,
           f"{len(double)}; bootstraps per fault: "
           + ", ".join(f"{f}: {len(b)}" for f, b in faults.bootstraps if b))
    faults.sweep.stop()
    roots = [HOST_ROOT] + [str(faults.c.node_dir(n) / "log") for n in sf.NODES] + ["/var/log"]
    # not the CIB (it holds the parameters: cibsecret's matter), nor the datadirs
    read, in_files = secrets_sweep.search_files(
        roots, SECRETS, skip=("seed.crm", "/journal/", "/galera/data/", "pacemaker.log"))
    # pacemaker.log line by line: pacemaker-based logs every change of the
    # CIB, values included, so a configuration loaded with its secrets in
    # plain text is there (cibsecret's matter, test_i); nothing else may be
    cib_lines, since_stash = 0, 0
    for n in sf.NODES:
        cib, others = secrets_sweep.pacemaker_log_lines(faults.seed.pacemaker_log(n), SECRETS)
        cib_lines += len(cib)
        since_stash += sum(1 for i in cib if i >= faults.stash_marks.get(n, 1 << 62))
        in_files += [f"node{n} pacemaker.log: {line}" for line in others]
        read += 1
    in_reasons = [r for r in faults.reasons if any(s in r for s in SECRETS)]
    # syslog, where journald keeps it (its files are compressed: ask it)
    journal = "" if shutil.which("journalctl") is None else subprocess.run(
        ["journalctl", "-q", "-o", "cat", f"--since=@{int(faults.t0)}"], capture_output=True,
        text=True, timeout=120, check=False).stdout
    in_files += [f"journal: {s[:3]}..." for s in SECRETS if s in journal]
    secrets = len(faults.sweep.found) + len(in_files) + len(in_reasons) + since_stash
    record("secrets in argv, environ, logs, exit reasons", secrets == 0,
           f"{secrets} found: {faults.sweep.scans} sweeps of {faults.sweep.processes} process "
           f"readings, {read} files read (pacemaker.log, corosync.log, the daemons' logs, "
           f"/var/log), {len(journal.splitlines())} journal lines, "
           f"{len(faults.reasons)} exit reasons; Pacemaker's own CIB log held the "
           f"configuration's plain-text secrets before cibsecret: {cib_lines} lines, "
           f"{since_stash} after")
    print(f"\nchecker: {len(acked)} acknowledged, missing {missing}; "
          f"{len(faults.sampler.violations)} double PCs; secrets {faults.sweep.found[:5]} "
          f"{in_files[:5]} {in_reasons[:5]}")
    assert not any(missing.values()), missing
    assert not faults.sampler.violations, faults.sampler.violations[:3]
    assert not double, double
    assert secrets == 0, (faults.sweep.found[:10], in_files[:10], in_reasons[:10])
