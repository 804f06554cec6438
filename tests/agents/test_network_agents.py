"""Agent tier: the four network agents against the real Debian neutron agents.

A real RabbitMQ on loopback and a private Open vSwitch (userspace datapath)
run for the whole module (tests/neutron_env.py).  Each OCF agent, installed
as Pacemaker finds it, drives the real daemon (neutron-*-agent, as user
neutron) through start, monitor, double start, kill -9, stop and double
stop; a broken configuration fails start with oslo.config's own words; the
dhcp and l3 clean-up touch only their namespaces; ocf-tester passes on each
agent and each Neutron alias.  The last test stops RabbitMQ.
"""
import os
import signal
import subprocess
import time
from typing import Dict, Iterator, List, Tuple

import pytest

import neutron_env as ne
from neutron_env import NeutronConf
from support import INSTALLED, bare_env, call, reason_of

# our kind -> the harness's name for the same daemon
KINDS = {"ovs": "openvswitch", "dhcp": "dhcp", "l3": "l3", "metadata": "metadata"}


World = ne.AgentsWorld


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with ne.agents_world("mirantis-ocf-netagents-") as w:
        try:
            yield w
        finally:
            for pid in daemons():       # rootwrap daemons too, whatever their config
                os.kill(pid, signal.SIGKILL)


def cmdline(pid: int) -> str:
    """A process's command line as one string.  The neutron agents retitle
    themselves: "neutron-dhcp-agent (/usr/bin/python3 /usr/bin/neutron-...)"."""
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().replace(b"\0", b" ").decode(errors="replace").strip()


def daemons() -> List[int]:
    """Every neutron agent process of this host (none before, none after);
    not those of the namespace cluster's nodes, which other tests run."""
    found = []
    here = os.readlink("/proc/self/ns/net")
    for pid in os.listdir("/proc"):
        try:
            if "/usr/bin/neutron-" in cmdline(int(pid)) and "python3" in cmdline(int(pid)) \
                    and os.readlink(f"/proc/{pid}/ns/net") == here:
                found.append(int(pid))
        except (OSError, ValueError):
            continue
    return found


def params(w: World, kind: str, **extra: str) -> Dict[str, str]:
    agent = KINDS[kind]
    p = {"binary": w.conf.binary(agent), "config": w.conf.neutron_conf,
         "metadata" == kind and "agent_config" or "plugin_config": w.conf.ini(agent),
         "user": "neutron", "pid": os.path.join(w.dir, f"{kind}.pid"),
         "log_file": os.path.join(w.conf.log_dir, f"{kind}-ocf.log"),
         "amqp_server_port": str(w.rabbit.port)}
    if kind == "ovs":
        p["ovsdb"] = w.ovs.connection
    p.update(extra)
    return p


def act(w: World, kind: str, action: str, agent: str = "", **extra: str) -> Tuple[int, str]:
    env = bare_env(**params(w, kind, **{k: v for k, v in extra.items() if not k.startswith("OCF_")}))
    env.update({"OCF_RESOURCE_INSTANCE": f"p_{kind}", "OCF_RESKEY_CRM_meta_timeout": "60000",
                "OCF_RESKEY_CRM_meta_interval": "20000"})
    env.update({k: v for k, v in extra.items() if k.startswith("OCF_")})
    rc, _, err = call(os.path.join(INSTALLED, agent or f"quantum-agent-{kind}"), action, env,
                      timeout=120)
    assert "Traceback" not in err
    return rc, reason_of(err)


def pid_of(w: World, kind: str) -> int:
    with open(params(w, kind)["pid"]) as f:
        return int(f.read())


def owner(pid: int) -> int:
    return os.stat(f"/proc/{pid}").st_uid


def until(what: str, predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    assert ne.wait_for(predicate, timeout, interval=0.25), f"timed out waiting for {what}"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_lifecycle_against_the_real_daemon(world: World, kind: str) -> None:
    w = world
    assert daemons() == []
    assert act(w, kind, "monitor", OCF_RESKEY_CRM_meta_interval="0") == (7, "")
    assert act(w, kind, "start") == (0, "")
    pid = pid_of(w, kind)
    expected = " ".join([w.conf.binary(KINDS[kind]), "--config-file", w.conf.neutron_conf,
                         "--config-file", w.conf.ini(KINDS[kind])])
    assert expected in cmdline(pid)
    assert owner(pid) == ne.user_ids("neutron")[0]
    assert act(w, kind, "monitor") == (0, "")
    assert act(w, kind, "start") == (0, "")                  # double start: the same daemon
    assert pid_of(w, kind) == pid and len(daemons()) >= 1
    # the daemon talks to RabbitMQ: the AMQP check passes once it has connected
    until("the AMQP connection", lambda: act(w, kind, "monitor", amqp_check="true")[0] == 0)
    assert act(w, kind, "monitor", OCF_CHECK_LEVEL="10") == (0, "")
    # kill -9: not running, for a recurring monitor and a probe alike
    for p in daemons():
        os.kill(p, signal.SIGKILL)
    until("the daemon to die", lambda: daemons() == [])
    assert act(w, kind, "monitor") == (7, "")
    assert act(w, kind, "monitor", OCF_RESKEY_CRM_meta_interval="0") == (7, "")
    assert act(w, kind, "stop") == (0, "")
    assert act(w, kind, "stop") == (0, "")                   # double stop
    # and once more, stopped by the agent this time
    assert act(w, kind, "start") == (0, "")
    assert act(w, kind, "stop") == (0, "")
    assert daemons() == [] and not os.path.exists(params(w, kind)["pid"])
    assert act(w, kind, "monitor") == (7, "")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_broken_configuration_fails_start_with_the_daemons_reason(world: World, kind: str) -> None:
    w = world
    broken = NeutronConf(os.path.join(w.dir, f"broken-{kind}"), w.rabbit.url,
                         ovsdb_connection=w.ovs.connection)
    broken.write(broken=[KINDS[kind]])
    t0 = time.monotonic()
    rc, reason = act(w, kind, "start", config=broken.neutron_conf,
                     **{"metadata" == kind and "agent_config" or "plugin_config":
                        broken.ini(KINDS[kind])})
    took = time.monotonic() - t0
    print(f"{kind}: start failed in {took:.1f}s: {reason}")
    assert rc == 1
    assert "ConfigFileValueError: Value for option report_interval" in reason, reason
    assert daemons() == []
    assert act(w, kind, "stop", config=broken.neutron_conf) == (0, "")


def dnsmasq(netns: str = "") -> "subprocess.Popen[bytes]":
    """A dnsmasq that serves nothing (no DNS port, no DHCP range), as a
    stand-in for a network's dnsmasq; inside ``netns`` when given."""
    argv = ["dnsmasq", "--keep-in-foreground", "--port=0", "--conf-file=/dev/null",
            "--pid-file=", "--bind-interfaces", "--interface=lo"]
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def namespaces() -> List[str]:
    return sorted(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else []


@pytest.mark.parametrize("kind,mine,other", [("dhcp", "qdhcp-mocft1", "qrouter-mocft1"),
                                              ("l3", "qrouter-mocft2", "qdhcp-mocft2"),
                                              # DVR: a dvr_snat agent's, a dvr agent's
                                              ("l3", "snat-mocft3", "qdhcp-mocft3"),
                                              ("l3", "fip-mocft4", "qdhcp-mocft4")])
def test_clean_up_touches_only_this_agents_namespaces(world: World, kind: str, mine: str,
                                                      other: str) -> None:
    w = world
    # the namespaces and their dnsmasqs appear while the agent runs, as the
    # daemon makes them: what is gone after stop is stop's doing
    assert act(w, kind, "start") == (0, "")
    for ns in (mine, other):
        subprocess.run(["ip", "netns", "add", ns], check=True)
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
    procs = {"mine": dnsmasq(mine), "other": dnsmasq(other), "host": dnsmasq()}
    try:
        until("the dnsmasqs to run", lambda: all(
            subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True).returncode == 0
            or p.poll() is None for p in procs.values()), 10)
        time.sleep(0.5)
        assert all(p.poll() is None for p in procs.values())
        assert mine in namespaces()
        assert act(w, kind, "stop") == (0, "")
        until("the namespace's dnsmasq to end", lambda: procs["mine"].poll() is not None, 10)
        assert mine not in namespaces()
        # what is not this agent's lives on: the other agent's namespace, the host's dnsmasq
        assert procs["other"].poll() is None and other in namespaces()
        assert procs["host"].poll() is None
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
            p.wait()
        for ns in (mine, other):
            subprocess.run(["ip", "netns", "delete", ns], check=False, capture_output=True)


def test_ovs_bridges_are_deleted_only_on_request(world: World) -> None:
    w = world
    w.ovs.add_bridge("br-tun")
    assert act(w, "ovs", "start") == (0, "")
    assert act(w, "ovs", "stop") == (0, "")
    assert "br-tun" in w.ovs.list_bridges()                # Fuel's agent deleted it, twice
    assert act(w, "ovs", "start", recreate_bridges="true") == (0, "")
    assert "br-tun" not in w.ovs.list_bridges()
    # the agent creates its integration bridge afresh
    until("br-int", lambda: "br-int" in w.ovs.list_bridges(), 30)
    assert act(w, "ovs", "stop") == (0, "")


def test_port_clean_up_deletes_only_this_agent_types_dead_ports(world: World) -> None:
    """The ports a dead agent leaves on br-int: neutron's internal ports (an
    iface-id) whose device went away with its namespace.  The dhcp agent's
    clean-up deletes the dead tap* ones only, the l3 agent's the dead qr-/qg-
    ones only; a working port and a port neutron did not plug stay."""
    w = world
    w.ovs.add_bridge("br-int")
    dead = {"tapdead0": True, "qr-dead0": True, "tapnoid0": False}   # name: neutron's?
    for name, neutrons in {**dead, "taplive0": True}.items():
        w.ovs.vsctl("--may-exist", "add-port", "br-int", name, "--", "set", "Interface", name,
                    "type=internal", *([f"external_ids:iface-id=port-{name}"] if neutrons else []))
    until("the ports' devices", lambda: all(os.path.exists(f"/sys/class/net/{n}")
                                            for n in (*dead, "taplive0")), 30)
    # as the agents do: a port's device is moved into a namespace; the namespace
    # is deleted, its devices with it
    for name in dead:
        ns = f"mocf-stale-{name}"
        for cmd in (["netns", "add", ns], ["link", "set", name, "netns", ns], ["netns", "delete", ns]):
            subprocess.run(["ip", *cmd], check=True, capture_output=True, timeout=10)

    # OVS's userspace datapath still reports them as they were (ofport, no error):
    # the clean-up must see that their devices exist nowhere
    assert all(not os.path.exists(f"/sys/class/net/{n}") for n in dead)
    assert os.path.exists("/sys/class/net/taplive0")

    def ports() -> List[str]:
        return sorted(w.ovs.vsctl("list-ports", "br-int").split())
    assert act(w, "dhcp", "stop") == (0, "")                 # its clean-up, daemon or not
    assert ports() == ["qr-dead0", "taplive0", "tapnoid0"]
    assert act(w, "l3", "stop") == (0, "")
    assert ports() == ["taplive0", "tapnoid0"]
    for name in ports():
        w.ovs.vsctl("--if-exists", "del-port", name)


def test_port_clean_up_keeps_a_port_whose_device_lives_and_trusts_no_half_view(
        world: World, tmp_path: "os.PathLike[str]") -> None:
    """A port is stale only when its device is in no namespace, every one
    read on its own: a namespace that cannot be read (here an entry of
    /run/netns that is no namespace; ``ip -all netns exec`` exits 0 past it)
    keeps every port, and remove_artifacts_on_stop_start=false keeps them too."""
    w = world
    w.ovs.add_bridge("br-int")
    for name in ("tapalive0", "tapgone0"):
        w.ovs.vsctl("--may-exist", "add-port", "br-int", name, "--", "set", "Interface", name,
                    "type=internal", f"external_ids:iface-id=port-{name}")
    until("the ports' devices", lambda: all(os.path.exists(f"/sys/class/net/{n}")
                                            for n in ("tapalive0", "tapgone0")), 30)
    live, gone, broken = "mocf-live-ns", "mocf-gone-ns", "/run/netns/mocf-broken-ns"
    log = os.path.join(str(tmp_path), "ha.log")
    try:
        for cmd in (["netns", "add", live], ["link", "set", "tapalive0", "netns", live],
                    ["netns", "add", gone], ["link", "set", "tapgone0", "netns", gone],
                    ["netns", "delete", gone]):
            subprocess.run(["ip", *cmd], check=True, capture_output=True, timeout=10)

        def ports() -> List[str]:
            return sorted(w.ovs.vsctl("list-ports", "br-int").split())
        # kept, with remove_artifacts_on_stop_start=false
        assert act(w, "dhcp", "stop", remove_artifacts_on_stop_start="false") == (0, "")
        assert ports() == ["tapalive0", "tapgone0"]
        # kept, while a namespace cannot be read
        open(broken, "w").close()
        assert act(w, "dhcp", "stop", HA_LOGFILE=log) == (0, "")
        assert ports() == ["tapalive0", "tapgone0"]
        with open(log) as f:
            assert "cannot read namespace mocf-broken-ns" in f.read()
        os.remove(broken)
        # with every namespace read: only the port whose device is nowhere goes
        assert act(w, "dhcp", "stop") == (0, "")
        assert ports() == ["tapalive0"]
    finally:
        if os.path.exists(broken):
            os.remove(broken)
        subprocess.run(["ip", "netns", "delete", live], check=False, capture_output=True)
        for name in ("tapalive0", "tapgone0"):
            w.ovs.vsctl("--if-exists", "del-port", name)


STUBBORN = """import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)     # oslo's graceful shutdown, at its worst
while True:
    time.sleep(1)
"""
# what keepalived does on TERM: withdraw its addresses (here: 2.5 s), then exit
GRACEFUL = """import signal, sys, time
def term(signum, frame):
    time.sleep(2.5)
    open(sys.argv[1], "w").write("withdrew its addresses")
    sys.exit(0)
signal.signal(signal.SIGTERM, term)
while True:
    time.sleep(1)
"""


def test_a_daemon_deaf_to_term_still_leaves_the_clean_up_its_time(
        world: World, tmp_path: "os.PathLike[str]") -> None:
    """The daemon ignores TERM: stop KILLs it early enough that what runs in
    its namespaces gets its whole grace to exit cleanly, and the namespace
    is deleted, within the stop timeout."""
    w = world
    base = str(tmp_path)
    script = os.path.join(base, "neutron-dhcp-agent")
    with open(script, "w") as f:
        f.write(STUBBORN)
    graceful, marker = os.path.join(base, "keepalived.py"), os.path.join(base, "withdrew")
    with open(graceful, "w") as f:
        f.write(GRACEFUL)
    p = params(w, "dhcp")
    daemon = subprocess.Popen(["python3", script, "--config-file", p["config"],
                               "--config-file", p["plugin_config"]], start_new_session=True)
    ns = "qdhcp-mocft9"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    inside = subprocess.Popen(["ip", "netns", "exec", ns, "python3", graceful, marker],
                              start_new_session=True)
    try:
        with open(p["pid"], "w") as f:
            f.write(f"{daemon.pid}\n")
        time.sleep(0.5)                    # both have set their handlers
        t0 = time.monotonic()
        assert act(w, "dhcp", "stop", binary=script,
                   OCF_RESKEY_CRM_meta_timeout="20000") == (0, "")
        took = time.monotonic() - t0
        print(f"\nTIMING stop with a daemon deaf to TERM (timeout 20 s): {took:.1f}s")
        assert daemon.wait(5) == -9                      # KILLed: it never listened
        inside.wait(5)
        assert os.path.exists(marker)                    # its whole grace, then a clean exit
        assert ns not in namespaces()
    finally:
        for proc in (daemon, inside):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        subprocess.run(["ip", "netns", "delete", ns], check=False, capture_output=True)


def test_start_refuses_beside_a_daemon_started_outside_the_cluster(
        world: World, tmp_path: "os.PathLike[str]") -> None:
    """RDO's systemd units start the agent with neutron-dist.conf first: not
    ours by its first --config-file, yet the same agent.  start refuses
    (exit 2, this node only) instead of running its twin, and neither start
    nor stop touches it."""
    w = world
    p = params(w, "dhcp")
    dist = os.path.join(str(tmp_path), "neutron-dist.conf")
    with open(dist, "w") as f:
        f.write("[DEFAULT]\n")
    with open(os.path.join(str(tmp_path), "systemd.out"), "w") as out:
        twin = subprocess.Popen([p["binary"], "--config-file", dist, "--config-file", p["config"],
                                 "--config-file", p["plugin_config"]], stdout=out, stderr=out,
                                start_new_session=True)
    try:
        time.sleep(1.0)
        assert twin.poll() is None
        rc, reason = act(w, "dhcp", "start")
        assert rc == 2, reason
        assert f"pid {twin.pid} runs outside the cluster" in reason, reason
        assert "disable it; it reads neutron-dist.conf, " in reason, reason
        assert act(w, "dhcp", "monitor") == (7, "")
        assert act(w, "dhcp", "stop") == (0, "")
        assert twin.poll() is None                       # never touched
    finally:
        twin.kill()
        twin.wait()
    assert daemons() == []


@pytest.mark.parametrize("agent", [f"{flavour}-agent-{kind}" for kind in sorted(KINDS)
                                   for flavour in ("quantum", "neutron")])
def test_ocf_tester_passes(world: World, agent: str) -> None:
    kind = agent.rsplit("-", 1)[1]
    opts = []
    for key, value in params(world, kind).items():
        opts += ["-o", f"{key}={value}"]
    proc = subprocess.run(["ocf-tester", "-n", f"p_{kind}", *opts, os.path.join(INSTALLED, agent)],
                          capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passed all tests" in proc.stdout
    assert daemons() == []


def test_with_rabbitmq_stopped_the_amqp_check_fails(world: World) -> None:
    """Last: it stops the module's RabbitMQ."""
    w = world
    assert act(w, "dhcp", "start") == (0, "")
    try:
        until("the AMQP connection", lambda: act(w, "dhcp", "monitor", amqp_check="true")[0] == 0)
        w.rabbit.stop()
        until("the AMQP check to fail",
              lambda: act(w, "dhcp", "monitor", amqp_check="true")[0] == 1, 30)
        rc, reason = act(w, "dhcp", "monitor", amqp_check="true")
        assert rc == 1 and "AMQP" in reason and str(w.rabbit.port) in reason
        assert act(w, "dhcp", "monitor") == (0, "")       # without the check: it runs
    finally:
        assert act(w, "dhcp", "stop") == (0, "")
    assert daemons() == []
