#!/usr/bin/python3
"""`make demo`: the seed's whole configuration on a 3-node cluster in network
namespaces (tools/pcmk-netns.sh), with real MariaDB/Galera, haproxy, the
two virtual IPs, Open vSwitch and Debian's neutron agents.

    tools/demo.py start       cluster, configuration, wait until all is Started
    tools/demo.py status      where everything runs, and how to connect
    tools/demo.py failover    kill the node holding the management VIP; watch
                              the VIPs, haproxy, dhcp and l3 move; bring it back
    tools/demo.py powerloss   every node loses power at once; watch the epoch
                              election reassemble Galera
    tools/demo.py mysql [ARGS]  the mariadb client, through the VIP and haproxy
    tools/demo.py stop        stop everything, delete the namespaces

Run as root after `make install` (the Makefile's targets do both); the
cluster's state is tools/pcmk-netns.sh's, the demo's files are in
$DEMO_DIR (default /var/tmp/mirantis-ocf/demo-seed).  The setup itself is
tests/cluster/seed_full.py, shared with the cluster test.
"""
import os
import secrets
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "cluster"))
sys.path.insert(0, os.path.join(REPO, "tests"))

import seed_full as sf  # noqa: E402
from netns import NetnsCluster  # noqa: E402

DEMO_DIR = os.environ.get("DEMO_DIR", "/var/tmp/mirantis-ocf/demo-seed")
USER = "demo"
DATABASE = "demo"
WAIT = 300          # seconds before giving up on a phase
TICK = 3.0          # a progress line this often while waiting
CNF = os.path.join(DEMO_DIR, "client.cnf")


def say(text: str) -> None:
    print(f"==> {text}", flush=True)


def die(text: str) -> None:
    print(f"demo: ERROR: {text}", file=sys.stderr, flush=True)
    sys.exit(1)


def password() -> Optional[str]:
    try:
        with open(CNF) as f:
            for line in f:
                if line.startswith("password="):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return None


def connect_hint() -> str:
    """The client's command line; the password stays in the 0600 CNF, off argv."""
    return f"ip netns exec {sf.SWITCH_NETNS} mysql --defaults-extra-file={CNF}"


class Demo:
    def __init__(self) -> None:
        self.c = NetnsCluster()
        self.seed = sf.Seed(self.c, DEMO_DIR)
        self.t0 = time.monotonic()

    # --- state ----------------------------------------------------------------

    def running(self) -> bool:
        return self.c.is_running()

    def ours(self) -> bool:
        """The running cluster carries the demo's configuration."""
        up = [n for n in sf.NODES if self.c.is_up(n)]
        if not up or not os.path.exists(CNF):
            return False
        self.seed.down = [n for n in sf.NODES if n not in up]
        q = self.c.exec(up[0], ["cibadmin", "-Q", "--xpath",
                                f"//primitive[@id='{sf.VIP_MGMT}']"], check=False)
        return q.returncode == 0

    def client(self, thread: sf.NetnsThread) -> sf.VipClient:
        pw = password()
        if pw is None:
            die(f"{CNF} is missing: not the demo's cluster?")
        return sf.VipClient(thread, USER, pw, DATABASE)

    def mysql_answers(self, thread: sf.NetnsThread) -> Tuple[bool, str]:
        try:
            client = self.client(thread).connect()
            try:
                return True, client.backend()
            finally:
                client.close()
        except Exception as e:
            return False, f"{type(e).__name__}: {e}"

    # --- waiting, with a line every few seconds --------------------------------

    def wait(self, what: str, check: Callable[[], Tuple[bool, str]],
             timeout: float = WAIT, since: Optional[float] = None) -> float:
        """Poll check() until it is true; a progress line every TICK seconds.
        Returns the seconds since ``since`` (default: the call)."""
        start = time.monotonic() if since is None else since
        deadline = time.monotonic() + timeout
        last_line = 0.0
        detail = ""
        while True:
            try:
                ok, detail = check()
            except Exception as e:     # a node (re)joining may refuse a query
                ok, detail = False, f"{type(e).__name__}: {str(e).splitlines()[0]}"
            now = time.monotonic()
            if ok:
                print(f"   [{now - start:5.1f}s] {detail}", flush=True)
                return now - start
            if now - last_line >= TICK:
                print(f"   [{now - start:5.1f}s] {detail}", flush=True)
                last_line = now
            if now >= deadline:
                die(f"{what}: not done after {timeout:.0f}s (inspect with "
                    f"tools/pcmk-netns.sh status; stop with make demo-stop)")
            time.sleep(0.5)

    def all_started(self) -> Tuple[bool, str]:
        ok, detail = self.seed.settled()
        if not ok:
            return False, f"Started: {detail}"
        return ok, f"all Started: {detail}"

    def galera_synced(self) -> Tuple[bool, str]:
        ok, brief = self.seed.synced()
        return ok, "galera " + "  ".join(
            f"node{n} {'/'.join(b)}" for n, b in brief.items())  # type: ignore[union-attr]

    def crm_mon(self) -> None:
        say("crm_mon -1 -r")
        out = self.c.exec(self.seed.live()[0], ["crm_mon", "-1", "-r"], check=False)
        print(out.stdout.rstrip(), flush=True)

    def where(self) -> Dict[str, List[str]]:
        return self.seed.placement()

    def print_access(self) -> None:
        print(f"""
MySQL, through the management VIP and haproxy: {sf.MGMT_VIP}:{sf.VIP_PORT}, user {USER},
database {DATABASE}, the password in {CNF} (0600).  The host has no route into
the nodes' network: clients run in the switch namespace {sf.SWITCH_NETNS}:
    {connect_hint()}
  or simply:
    tools/demo.sh mysql
haproxy's stats page, on the public VIP:
    ip netns exec {sf.SWITCH_NETNS} curl -s 'http://{sf.PUBLIC_VIP}:{sf.STATS_PORT}/;csv'
Inside a node:  tools/pcmk-netns.sh exec 1 crm_mon -1 -r
Next:   make demo-failover    (kill the node holding the VIPs; watch them move)
        make demo-powerloss   (all three lose power; watch Galera reassemble)
Stop:   make demo-stop        (or tools/demo.sh stop)
""", flush=True)

    # --- commands ----------------------------------------------------------------

    def start(self) -> None:
        reason = sf.missing_prerequisite(self.c)
        if reason:
            die(f"{reason}")
        missing = sf.missing_agents()
        if missing:
            die(f"not installed: {' '.join(missing)} (make install)")
        if self.running():
            if self.ours():
                say("the demo is already running")
                self.status()
                return
            die("a namespace cluster that is not the demo's is running "
                "(a test?): stop it first with tools/pcmk-netns.sh stop")
        pw = secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")
        self.seed.users_sql = sf.user_sql(USER, pw, DATABASE)
        t0 = time.monotonic()
        self.seed.start(progress=say)
        with open(CNF, "w") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(f"[client]\nhost={sf.MGMT_VIP}\nport={sf.VIP_PORT}\nuser={USER}\n"
                    f"password={pw}\n[mysql]\ndatabase={DATABASE}\n")
        say(f"loading the seed's configuration ({self.seed.crm_path}: crm configure load update)")
        self.seed.load()
        say("waiting until everything is Started")
        loaded = time.monotonic()
        self.wait("everything Started", self.all_started)
        self.wait("Galera", self.galera_synced)
        thread = sf.NetnsThread()
        try:
            say(f"waiting for MySQL to answer through {sf.MGMT_VIP}:{sf.VIP_PORT}")
            self.wait("MySQL through the VIP",
                      lambda: (lambda r: (r[0], f"served by {r[1]}" if r[0] else r[1]))(
                          self.mysql_answers(thread)))
            self.client(thread).connect().query(
                "CREATE TABLE IF NOT EXISTS events (id INT AUTO_INCREMENT PRIMARY KEY, "
                "at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, what VARCHAR(100)) ENGINE=InnoDB")
        finally:
            thread.close()
        done = time.monotonic()
        say(f"up: {done - t0:.0f}s in all, {done - loaded:.0f}s from the configuration's "
            f"load to all Started and MySQL answering")
        print()
        self.crm_mon()
        self.print_access()

    def status(self) -> None:
        if not self.running():
            say("the demo is not running (make demo)")
            return
        if not self.ours():
            die("a namespace cluster runs, but not the demo's")
        self.crm_mon()
        ok, detail = self.galera_synced()
        print(f"\n{detail}")
        self.print_access()

    def require(self) -> None:
        if not self.running() or not self.ours():
            die("the demo is not running: make demo")
        down = [n for n in sf.NODES if not self.c.is_up(n)]
        if down:
            say(f"node(s) {down} are down: bringing them back first")
            self.seed.down = down
            self.seed.restart(*down, progress=say)
        self.wait("everything Started", self.all_started, timeout=WAIT)

    def failover(self) -> None:
        self.require()
        victim = NetnsCluster.number(self.where()[sf.VIP_MGMT][0])
        # The seed ties neither the public VIP nor dhcp or l3 to the management
        # VIP (and keeps dhcp apart from l3): gather them on its node first, as
        # `crm resource move` does, so that the kill moves all four.
        say(f"gathering the public VIP, dhcp and l3 on node{victim}, beside the management "
            "VIP (a location constraint each, as crm resource move does)")
        self.seed.gather(victim)
        self.wait(f"everything on node{victim}", lambda: self.seed.gathered(victim))
        where = self.where()
        held = [sf.SHORT[r] for r in sf.SINGLES if where[r] == [f"node{victim}"]]
        others = [f"{sf.SHORT[r]} on {where[r][0]}" for r in sf.SINGLES
                  if where[r] and where[r] != [f"node{victim}"]]
        probes, own = sf.NetnsThread(), sf.NetnsThread()     # the client has its own thread
        try:
            client = self.client(own).connect()
            before = client.backend()
            client.query("INSERT INTO events (what) VALUES (%s)", (f"before killing node{victim}",))
            rows = client.query("SELECT COUNT(*) FROM events")[0][0]
            say(f"a client holds a connection through {sf.MGMT_VIP}:{sf.VIP_PORT} "
                f"(served by {before}; {rows} rows in demo.events)")
            say(f"killing node{victim}, which holds {', '.join(held)}"
                + (f" (elsewhere: {', '.join(others)})" if others else "")
                + ": every process at once, cable unplugged")
            t0 = time.monotonic()
            self.seed.kill(victim)
            # the same client object tries ping(reconnect=True) at once, and again
            reconnected = client.reconnect_in_background(WAIT)
            seen: Dict[str, float] = {}
            survivors = {f"node{n}" for n in self.seed.live()}
            for rsc in sf.SINGLES:
                if where[rsc] != [f"node{victim}"]:
                    seen[rsc] = 0.0         # not on the killed node: nothing to wait for

            def event(key: str, text: str, at: Optional[float] = None) -> None:
                seen[key] = (time.monotonic() if at is None else at) - t0
                print(f"   +{seen[key]:5.1f}s {text}", flush=True)

            def moved() -> Tuple[bool, str]:
                where = self.where()
                for rsc in sf.SINGLES:
                    if rsc not in seen and where[rsc] and set(where[rsc]) <= survivors:
                        event(rsc, f"{sf.SHORT[rsc]} Started on {where[rsc][0]}")
                if "haproxy" not in seen and probes.call(sf.mysql_greeting, sf.MGMT_VIP,
                                                         sf.VIP_PORT, timeout=10):
                    event("haproxy", f"haproxy answers on {sf.MGMT_VIP}:{sf.VIP_PORT} again")
                if "client" not in seen and reconnected.done():
                    at, attempts, _ = reconnected.result()
                    event("client", f"the same client reconnected (ping(reconnect=True), "
                                    f"attempt {attempts})", at)
                keys = (*sf.SINGLES, "haproxy", "client")
                done = all(k in seen for k in keys)
                return done, "done" if done else "waiting: " + ", ".join(
                    sf.SHORT.get(k, k) for k in keys if k not in seen)
            took = self.wait("the failover", moved, since=t0)
            rows_after = client.query("SELECT COUNT(*) FROM events")[0][0]
            client.query("INSERT INTO events (what) VALUES (%s)", (f"after killing node{victim}",))
            say(f"failover done in {took:.1f}s: VIP back after {seen[sf.VIP_MGMT]:.1f}s, "
                f"the client reconnected after {seen['client']:.1f}s (now served by "
                f"{client.backend()}) and sees {rows_after} rows (had {rows})")
            client.close()
        finally:
            probes.close()
            own.close()
            self.seed.release()      # the resources stay where they are (stickiness)
        self.wait("the survivors settled", self.all_started)
        print()
        self.crm_mon()
        say(f"bringing node{victim} back, as after a reboot")
        t1 = time.monotonic()
        self.seed.restart(victim, progress=say)
        self.wait("node back", self.all_started, since=t1)
        self.wait("Galera", self.galera_synced, since=t1)
        say(f"node{victim} back and everything Started again in {time.monotonic() - t1:.0f}s "
            "(resources stay where they moved: resource-stickiness=100)")

    def powerloss(self) -> None:
        self.require()
        self.wait("Galera", self.galera_synced)
        thread = sf.NetnsThread()
        try:
            client = self.client(thread).connect()
            client.query("INSERT INTO events (what) VALUES ('before the power loss')")
            rows = client.query("SELECT COUNT(*) FROM events")[0][0]
            client.close()
        finally:
            thread.close()
        say(f"{rows} rows in demo.events; now every node loses power at once")
        self.seed.mark_logs()
        self.seed.powerloss()
        say("power lost on node1, node2, node3 (SIGSTOP then SIGKILL of everything, "
            "cables unplugged); powering them on again")
        t0 = time.monotonic()
        self.seed.restart(*sf.NODES, progress=say)
        say(f"all three online after {time.monotonic() - t0:.1f}s; the mysql agents "
            "hold the epoch election (from the nodes' pacemaker.log):")
        pattern = (r"mysql\(p_mysql\).*(election:|bootstrapping|joining|epoch|"
                   r"Synced in a Primary|releasing)")

        def show_log() -> None:
            for n, line in self.seed.new_log_lines(pattern):
                text = line.split("INFO: ", 1)[-1] if "INFO: " in line else line
                print(f"   [{time.monotonic() - t0:5.1f}s] node{n}: {text[:160]}", flush=True)

        def reassembled() -> Tuple[bool, str]:
            show_log()
            return self.galera_synced()
        took = self.wait("Galera reassembled", reassembled, since=t0)
        time.sleep(0.5)     # the agents' last lines ("Synced in a Primary Component")
        show_log()
        say(f"Galera: 3 Synced in one Primary Component {took:.1f}s after power-on")
        thread = sf.NetnsThread()
        try:
            def answers() -> Tuple[bool, str]:
                ok, who = self.mysql_answers(thread)
                return ok, f"MySQL through the VIP: served by {who}" if ok else who
            took = self.wait("MySQL through the VIP", answers, since=t0)
            client = self.client(thread).connect()
            after = client.query("SELECT COUNT(*) FROM events")[0][0]
            client.query("INSERT INTO events (what) VALUES ('after the power loss')")
            client.close()
        finally:
            thread.close()
        say(f"MySQL answers through the VIP {took:.1f}s after power-on; demo.events has "
            f"{after} rows (had {rows})")
        took = self.wait("everything Started", self.all_started, since=t0)
        say(f"everything Started {took:.1f}s after power-on")
        print()
        self.crm_mon()

    def stop(self) -> None:
        if self.running():
            if not self.ours() and not os.path.isdir(DEMO_DIR):
                die("a namespace cluster that is not the demo's is running: "
                    "tools/pcmk-netns.sh stop")
            self.seed.down = [n for n in sf.NODES if not self.c.is_up(n)]
            say("stopping every resource, then the cluster")
        errors = self.seed.teardown()
        for e in errors:
            print(f"demo: {e}", file=sys.stderr)
        say("demo stopped" if not errors else "demo stopped, with errors")
        if errors:
            sys.exit(1)

    def mysql(self, args: List[str]) -> None:
        if not self.running() or not os.path.exists(CNF):
            die("the demo is not running: make demo")
        os.execvp("ip", ["ip", "netns", "exec", sf.SWITCH_NETNS, "mariadb",
                         f"--defaults-extra-file={CNF}", *args])


def main(argv: List[str]) -> int:
    if os.geteuid() != 0:
        die("run as root")
    cmd = argv[1] if len(argv) > 1 else "start"
    demo = Demo()
    actions = {"start": demo.start, "stop": demo.stop, "status": demo.status,
               "failover": demo.failover, "powerloss": demo.powerloss}
    if cmd == "mysql":
        demo.mysql(argv[2:])
    elif cmd in actions:
        actions[cmd]()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:
        print("\ninterrupted: the cluster is left as it is (make demo-stop to stop it)",
              file=sys.stderr)
        sys.exit(130)
    except subprocess.TimeoutExpired as e:
        die(f"a command timed out: {e}")
