"""The neutron test harness (tests/neutron_env.py) against the real pieces.

A real RabbitMQ and a private Open vSwitch (userspace datapath) run for the
whole module.  The four Debian neutron agents are launched directly, not yet
through OCF: all four at once as root, then all four at once as ``neutron``
(the OCF agents' default user).  Each must keep running and hold ESTABLISHED
AMQP connections, which RabbitMQ must see too.  With a broken configuration
each must exit at once.  The last test stops everything and checks that
nothing is left: no process, no epmd, no tap device.

A missing package makes these tests fail, not skip: `make deps` installs them.
"""
import os
import shutil
import subprocess
import tempfile
import time
from typing import Dict, Iterator, NamedTuple, Optional, Tuple

import pytest

import neutron_env as ne
from neutron_env import AGENTS, OVS, NeutronConf, Rabbit

HOLD = 3.0          # how long every agent must stay up once it has connected
BRIDGE = "br-mocft"  # a test bridge (max 15 characters)


class Env(NamedTuple):
    dir: str
    rabbit: Rabbit
    ovs: OVS


class Run(NamedTuple):
    """What one agent did: while it ran, and how it stopped."""
    alive: bool                 # still running HOLD s after its first connection
    first_connection: float     # seconds from spawn to its first ESTABLISHED AMQP connection
    established: Dict[int, int]  # pid -> ESTABLISHED connections to the AMQP port
    seen_by_rabbit: Dict[int, int]  # pid -> connections RabbitMQ lists for "<binary>:<pid>:"
    user: str                   # the process owner
    exit_code: Optional[int]
    log: str


def test_prerequisites_are_installed() -> None:
    for path in [ne.RABBIT_BIN + "/rabbitmq-server", ne.RABBIT_BIN + "/rabbitmqctl",
                 "/usr/bin/epmd", "/usr/sbin/ovsdb-server", "/usr/sbin/ovs-vswitchd",
                 "/usr/bin/ovs-vsctl", "/usr/bin/neutron-rootwrap", "/etc/neutron/rootwrap.conf",
                 "/usr/sbin/dnsmasq", ne.OVS_SCHEMA] + [b for b, _ in AGENTS.values()]:
        assert os.path.exists(path), f"{path} is missing: run `make deps`"
    for user in ("neutron", "rabbitmq"):
        ne.user_ids(user)


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    base = tempfile.mkdtemp(prefix="mirantis-ocf-neutron-", dir="/tmp")
    os.chmod(base, 0o755)     # rabbitmq and neutron must reach their dirs below
    rabbit, ovs = Rabbit(), OVS()
    try:
        t0 = time.monotonic()
        rabbit.start(base)
        t1 = time.monotonic()
        ovs.start(base)
        print(f"\nrabbitmq up in {t1 - t0:.1f} s, ovs in {time.monotonic() - t1:.2f} s")
        yield Env(base, rabbit, ovs)
    finally:
        ovs.stop()
        rabbit.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_rabbit_accepts_an_amqp_login_on_loopback_only(env: Env) -> None:
    import amqp  # python3-amqp, which oslo.messaging's kombu uses
    assert env.rabbit.running() and ne.amqp_hello(env.rabbit.port)
    conn = amqp.Connection(f"127.0.0.1:{env.rabbit.port}", userid=env.rabbit.user,
                           password=env.rabbit.password, virtual_host="/", connect_timeout=10,
                           client_properties={"connection_name": "harness-probe"})
    conn.connect()
    try:
        channel = conn.channel()
        channel.queue_declare("harness-probe", auto_delete=True)
        names = [c.get("connection_name") for c in env.rabbit.connections()]
        assert "harness-probe" in names
    finally:
        conn.close()
    with pytest.raises(amqp.exceptions.AccessRefused):
        amqp.Connection(f"127.0.0.1:{env.rabbit.port}", userid=env.rabbit.user,
                        password="wrong", connect_timeout=10).connect()
    # every socket that rabbit and its epmd listen on is a loopback one
    out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, timeout=10).stdout
    ours = [line.split()[3] for line in out.splitlines()
            if any(f"pid={pid}," in line for pid in env.rabbit.pids())]
    assert f"127.0.0.1:{env.rabbit.port}" in ours
    assert all(addr.startswith(("127.0.0.1:", "[::1]:")) for addr in ours), ours


def test_ovs_makes_a_netdev_bridge(env: Env) -> None:
    env.ovs.add_bridge(BRIDGE)
    assert env.ovs.vsctl("get", "bridge", BRIDGE, "datapath_type").strip() == "netdev"
    assert ne.wait_for(lambda: os.path.exists(f"/sys/class/net/{BRIDGE}"), 10)
    assert BRIDGE in env.ovs.list_bridges()


def test_neutron_user_may_use_the_root_helper() -> None:
    """The root_helper NeutronConf sets for a non-root user: sudo + neutron-rootwrap."""
    ok = subprocess.run(["runuser", "-u", "neutron", "--", "sudo", "-n", "neutron-rootwrap",
                         "/etc/neutron/rootwrap.conf", "ip", "link", "show", "lo"],
                        capture_output=True, text=True, timeout=60, cwd="/")
    assert ok.returncode == 0, ok.stderr
    refused = subprocess.run(["runuser", "-u", "neutron", "--", "sudo", "-n", "neutron-rootwrap",
                              "/etc/neutron/rootwrap.conf", "id"],
                             capture_output=True, text=True, timeout=60, cwd="/")
    assert refused.returncode == 99, refused.stderr   # no filter matched


def _owner(pid: int) -> str:
    import pwd
    return pwd.getpwuid(os.stat(f"/proc/{pid}").st_uid).pw_name


def _run_all(env: Env, user: str, host: str) -> Dict[str, Run]:
    """Start the four agents at once as ``user``, let each connect and hold, then stop them."""
    conf = NeutronConf(os.path.join(env.dir, f"neutron-{user}"), env.rabbit.url, host=host,
                       ovsdb_connection=env.ovs.connection, user=user).write()
    port = env.rabbit.port
    t0 = time.monotonic()
    procs = {agent: ne.spawn_agent(conf, agent) for agent in AGENTS}
    runs: Dict[str, Run] = {}
    try:
        first: Dict[str, float] = {}

        def connected() -> bool:
            for agent, proc in procs.items():
                if agent not in first and (proc.poll() is not None
                                           or ne.established(proc.pid, port)):
                    first[agent] = time.monotonic() - t0
            return len(first) == len(procs)
        ne.wait_for(connected, 120, 0.05)
        time.sleep(HOLD)
        # RabbitMQ's view and /proc's view must agree; an agent may still be opening one
        counts: Dict[str, Tuple[Dict[int, int], Dict[int, int]]] = {}

        def agree() -> bool:
            listed = [c.get("connection_name", "") for c in env.rabbit.connections()]
            for agent, proc in procs.items():
                name = os.path.basename(conf.binary(agent))
                pids = ne.session_pids(proc.pid)
                mine = {pid: len(ne.established(pid, port)) for pid in pids}
                seen = {pid: sum(1 for n in listed if n.startswith(f"{name}:{pid}:"))
                        for pid in pids}
                counts[agent] = (mine, seen)
            return all(m == s for m, s in counts.values())
        ne.wait_for(agree, 30, 0.5)
        for agent, proc in procs.items():
            alive = proc.poll() is None
            owner = _owner(proc.pid) if alive else "?"
            runs[agent] = Run(alive, first.get(agent, -1.0), counts[agent][0], counts[agent][1],
                              owner, None, "")
    finally:
        for agent, proc in procs.items():
            code = ne.stop_agent(proc)
            if agent in runs:
                runs[agent] = runs[agent]._replace(exit_code=code,
                                                   log=ne.tail(conf.log_file(agent), 30))
    print(f"\nagents as {user}: " + ", ".join(
        f"{a} first AMQP connection after {r.first_connection:.1f} s "
        f"({sum(r.established.values())} connections)" for a, r in runs.items()))
    return runs


@pytest.fixture(scope="module")
def runs(env: Env) -> Dict[str, Dict[str, Run]]:
    """Root first, then neutron: never two ovs agents on one br-int at once."""
    return {"root": _run_all(env, "root", "node-1"), "neutron": _run_all(env, "neutron", "node-2")}


@pytest.mark.parametrize("user", ["root", "neutron"])
@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_agent_runs_and_holds_amqp_connections(runs: Dict[str, Dict[str, Run]], agent: str,
                                               user: str) -> None:
    run = runs[user][agent]
    assert run.alive, f"{agent} exited with {run.exit_code}:\n{run.log}"
    assert run.user == user
    total = sum(run.established.values())
    assert total >= 1, f"{agent} holds no AMQP connection: {run.established}\n{run.log}"
    assert run.established == run.seen_by_rabbit
    assert " CRITICAL " not in run.log and "Traceback" not in run.log, run.log


def test_ovs_agent_made_its_netdev_integration_bridge(env: Env,
                                                      runs: Dict[str, Dict[str, Run]]) -> None:
    """The ovs agent used the private OVSDB socket: br-int exists there, netdev, secure."""
    assert "br-int" in env.ovs.list_bridges()
    assert env.ovs.vsctl("get", "bridge", "br-int", "datapath_type").strip() == "netdev"
    assert env.ovs.vsctl("get", "bridge", "br-int", "fail_mode").strip() == "secure"


@pytest.fixture(scope="module")
def broken(env: Env) -> Dict[str, Tuple[Optional[int], str]]:
    conf = NeutronConf(os.path.join(env.dir, "neutron-broken"), env.rabbit.url,
                       ovsdb_connection=env.ovs.connection).write(broken=list(AGENTS))
    procs = {agent: ne.spawn_agent(conf, agent) for agent in AGENTS}
    ne.wait_for(lambda: all(p.poll() is not None for p in procs.values()), 60)
    results: Dict[str, Tuple[Optional[int], str]] = {}
    for agent, proc in procs.items():
        code = proc.poll()
        ne.stop_agent(proc)
        with open(conf.log_file(agent), errors="replace") as f:
            results[agent] = (code, f.read())
    return results


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_broken_config_makes_the_agent_exit(broken: Dict[str, Tuple[Optional[int], str]],
                                            agent: str) -> None:
    code, log = broken[agent]
    assert code == 1, f"{agent}: exit code {code}\n{log}"
    lines = log.splitlines()
    critical = [ln for ln in lines if " CRITICAL " in ln]
    assert critical and all(part in critical[-1] for part in ne.BROKEN_ERROR), log
    # the last line that says something repeats the error
    said = [ln for ln in lines if ln.split(" ERROR neutron ", 1)[-1].strip()]
    assert ne.BROKEN_ERROR[1] in said[-1], said[-1]


def test_stop_leaves_nothing_behind(env: Env, runs: Dict[str, Dict[str, Run]],
                                    broken: Dict[str, Tuple[Optional[int], str]]) -> None:
    """Last: stop OVS and RabbitMQ (the fixture's own stop is then a no-op)."""
    rabbit_pids = env.rabbit.pids()
    epmd = f"-port {env.rabbit.epmd_port}"
    assert ne.pids_mentioning(epmd)
    taps = [t for t in ("ovs-netdev", "br-int", BRIDGE) if os.path.exists(f"/sys/class/net/{t}")]
    assert "ovs-netdev" in taps
    env.ovs.stop()
    env.rabbit.stop()
    assert not env.rabbit.running() and not env.ovs.running()
    assert not [p for p in rabbit_pids if ne.alive(p)]
    assert ne.pids_mentioning(epmd) == []
    assert ne.pids_mentioning(env.dir) == []
    assert not ne.amqp_hello(env.rabbit.port)
    assert [t for t in taps if os.path.exists(f"/sys/class/net/{t}")] == []
