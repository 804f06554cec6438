"""Agent tier: rescheduling dead agents' networks and routers, against a real neutron-server.

The cloud (tests/neutron_server_env.py) is real: RabbitMQ, MariaDB, Keystone
(v3, under uwsgi), neutron-server (ML2, router plugin, agent_down_time 10 s,
the server's own DHCP/L3 failover off), and the real dhcp and l3 agents of
host-a.  host-b starts with the stand-in L2 agent only; its dhcp and l3
agents are started by our OCF agents (neutron-agent-dhcp, neutron-agent-l3,
installed as Pacemaker finds them), as Pacemaker would after moving them.

The story, in order:
1. networks, subnets and routers are created through the API: host-a hosts them;
2. host-a's agents are killed (kill -9): the server declares them dead;
3. our OCF agents start host-b's: start returns at once, the rescheduling runs
   detached, and within its bound every network and router is hosted by the
   live agents, and the dead agents are deleted;
4. the way back by hand with q-agent-cleanup: its dry run prints every step and
   changes nothing; the real run moves everything to host-a;
5. a dead dhcp agent that hosted nothing is kept, a dead l3 agent is deleted
   (Fuel's rule);
6. a wrong password, an unreachable Keystone, tokens that are already expired
   and a stopped neutron-server give their exit codes and a clear message,
   never a traceback, and never make the OCF start fail.

Keystone 22 (Debian 12) has no v2.0 API any more: a Fuel-era /v2.0 URL is
shown falling back to v3 here (the dry run); the v2.0 client path itself is
tested in the unit tier against the documented responses.

A missing package makes these tests fail, not skip: `make deps` installs them.
"""
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from typing import Any, Dict, Iterator, List, NamedTuple, Tuple

import pytest

import neutron_env as ne
import neutron_server_env as nse
from neutron_server_env import Cloud, FakeHost
from support import INSTALLED, bare_env, call, free_port, reason_of

AGENT_DOWN_TIME = 10
RESCHEDULE_WAIT = 90          # the OCF agents' reschedule_wait in this test
USER, PASSWORD, PROJECT = nse.SERVICE
TOOL = "/usr/sbin/q-agent-cleanup"
NETWORKS = (("net-1", "10.51.1.0/24"), ("net-2", "10.51.2.0/24"), ("net-3", "10.51.3.0/24"))
ROUTERS = ("router-1", "router-2")
BINARY = {"dhcp": "neutron-dhcp-agent", "l3": "neutron-l3-agent"}


class World(NamedTuple):
    base: str
    cloud: Cloud
    host_a: FakeHost
    host_b: FakeHost     # only its stand-in L2 agent is the harness's; dhcp and l3 are ours
    made: Dict[str, List[str]]    # "networks", "routers": their ids


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    base = tempfile.mkdtemp(prefix="mirantis-ocf-resched-", dir="/tmp")
    os.chmod(base, 0o755)
    os.makedirs(os.path.join(base, "rsctmp"))
    cloud = Cloud(base, hosts=("host-a",), agent_down_time=AGENT_DOWN_TIME,
                  rpc_response_timeout=5)
    host_b = FakeHost("host-b", os.path.join(base, "hosts", "host-b"), cloud.rabbit.url)
    w = World(base, cloud, cloud.hosts["host-a"], host_b, {"networks": [], "routers": []})
    try:
        cloud.start()
        host_b.write()
        host_b.start(["l2"])
        cloud.hosts["host-b"] = host_b        # stopped with the cloud
        cloud.wait_agents(lambda: cloud.alive_map().get(("host-b", nse.BINARIES["l2"])) is True,
                          60, "host-b's L2 agent alive")
        yield w
    finally:
        try:
            for kind in ("dhcp", "l3"):
                ocf(w, kind, "stop", check=False)
        finally:
            try:
                cloud.stop()
            finally:
                shutil.rmtree(base, ignore_errors=True)


# --- driving our agents and the tool ------------------------------------------------

def ha_log(w: World) -> str:
    return os.path.join(w.base, "ha.log")


def params(w: World, kind: str, **extra: str) -> Dict[str, str]:
    conf = w.host_b.conf
    ks = w.cloud.keystone
    assert ks is not None
    p = {"binary": conf.binary(kind), "config": conf.neutron_conf, "plugin_config": conf.ini(kind),
         "user": "root", "pid": os.path.join(w.base, f"{kind}.pid"),
         "log_file": os.path.join(conf.log_dir, f"{kind}-ocf.log"),
         # the harness's no-op DHCP driver and null interface driver (no Open vSwitch here)
         "additional_parameters": f"--config-file {w.host_b.override(kind)}",
         "amqp_server_port": str(w.cloud.rabbit.port),
         "username": USER, "password": PASSWORD, "tenant": PROJECT,
         "os_auth_url": ks.auth_url, "reschedule_wait": str(RESCHEDULE_WAIT)}
    p.update(extra)
    return p


def ocf(w: World, kind: str, action: str, check: bool = True, **extra: str) -> Tuple[int, str]:
    """Run neutron-agent-<kind> as pacemaker-execd does; (rc, exit reason)."""
    rsctmp = extra.pop("HA_RSCTMP", os.path.join(w.base, "rsctmp"))
    env = bare_env(**params(w, kind, **extra))
    env.update({"OCF_RESOURCE_INSTANCE": f"p_neutron_{kind}", "OCF_RESKEY_CRM_meta_timeout": "60000",
                "HA_LOGFILE": ha_log(w), "HA_RSCTMP": rsctmp,
                # where the no-op DHCP driver is (the daemon inherits the environment)
                "PYTHONPATH": w.host_b.pylib})
    rc, _, err = call(os.path.join(INSTALLED, f"neutron-agent-{kind}"), action, env, timeout=120)
    if check:
        assert "Traceback" not in err, err
    return rc, reason_of(err)


def openrc(w: World, name: str, **over: str) -> str:
    ks = w.cloud.keystone
    assert ks is not None
    values = {"OS_USERNAME": USER, "OS_PASSWORD": PASSWORD, "OS_PROJECT_NAME": PROJECT,
              "OS_AUTH_URL": ks.auth_url}
    values.update(over)
    path = os.path.join(w.base, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("".join(f"export {k}='{v}'\n" for k, v in values.items()))
    return path


class Run(NamedTuple):
    rc: int
    out: str


def tool(w: World, kind: str, host: str, *more: str, rc_file: str = "", **creds: str) -> Run:
    """q-agent-cleanup, as an operator runs it by hand (its output on the terminal)."""
    argv = [TOOL, "--agent", kind, "--reschedule", "--remove-dead", "--host", host,
            "--auth-config", rc_file or openrc(w, "openrc", **creds), "--interval", "1", *more]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=240,
                          env={"PATH": ne.PATH, "LANG": "C.UTF-8"})
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out
    return Run(proc.returncode, out)


# --- what the server says ---------------------------------------------------------------

def until(w: World, what: str, cond: Any, timeout: float) -> None:
    if not ne.wait_for(cond, timeout, 0.5):
        pytest.fail(f"{what}: not within {timeout:.0f} s; agents: {w.cloud.alive_map()}; "
                    f"hosting: {w.cloud.hosting()}\n--- rescheduling:\n{ne.tail(ha_log(w), 15)}")


def agent_ids(w: World, host: str, kind: str) -> List[str]:
    return [a["id"] for a in w.cloud.server.agents(host=host, binary=BINARY[kind])]


def alive(w: World, host: str, kind: str) -> bool:
    return w.cloud.alive_map().get((host, BINARY[kind])) is True


def dead(w: World, host: str, kind: str) -> bool:
    return w.cloud.alive_map().get((host, BINARY[kind])) is False


def everything_on(w: World, host: str) -> bool:
    hosting = w.cloud.hosting()
    mine = hosting.get(host, {"dhcp": [], "l3": []})
    others = [i for h, v in hosting.items() if h != host for i in v["dhcp"] + v["l3"]]
    return (sorted(mine["dhcp"]) == sorted(w.made["networks"])
            and sorted(mine["l3"]) == sorted(w.made["routers"]) and not others)


def _reschedulers() -> List[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                words = f.read().split(b"\0")
        except OSError:
            continue
        if b"mirantis_ocf.reschedule" in words:
            found.append(int(name))
    return found


def daemon_pid(w: World, kind: str) -> int:
    with open(params(w, kind)["pid"]) as f:
        return int(f.read())


def no_secret_in_logs(w: World) -> None:
    for root, _, files in os.walk(w.base):
        for name in files:
            path = os.path.join(root, name)
            if not name.endswith((".log", ".out")) or not os.path.isfile(path):
                continue
            with open(path, errors="replace") as f:
                assert PASSWORD not in f.read(), f"the password is in {path}"


# --- the story ------------------------------------------------------------------------

def test_networks_and_routers_land_on_host_a(world: World) -> None:
    w, c = world, world.cloud
    for name, cidr in NETWORKS:
        w.made["networks"].append(c.network(name, cidr)["id"])
    for name in ROUTERS:
        w.made["routers"].append(c.router(name)["id"])
    until(w, "host-a to host every network and router", lambda: everything_on(w, "host-a"), 60)
    assert agent_ids(w, "host-b", "dhcp") == [] and agent_ids(w, "host-b", "l3") == []


def test_our_client_reads_the_owners_of_ports(world: World) -> None:
    """The port clean-up's cross-check: Neutron's ports, by id, with their
    device_owner (a VM's port, a DHCP port); a deleted port is absent."""
    from mirantis_ocf.neutron import Session
    w, server = world, world.cloud.server
    assert w.cloud.keystone is not None
    net = w.made["networks"][0]
    vm = server.call("POST", "/v2.0/ports", {"port": {
        "network_id": net, "name": "mocf-vm", "device_owner": "compute:nova"}})["port"]["id"]
    gone = server.call("POST", "/v2.0/ports", {"port": {
        "network_id": net, "name": "mocf-gone", "device_owner": "network:dhcp"}})["port"]["id"]
    dhcp = server.call("POST", "/v2.0/ports", {"port": {
        "network_id": net, "name": "mocf-dhcp", "device_owner": "network:dhcp"}})["port"]["id"]
    server.call("DELETE", f"/v2.0/ports/{gone}")
    try:
        session = Session(w.cloud.keystone.auth_url, USER, PASSWORD, PROJECT,
                          deadline=time.monotonic() + 60)
        assert session.port_owners([vm, gone, dhcp]) == {vm: "compute:nova",
                                                          dhcp: "network:dhcp"}
    finally:
        for port in (vm, dhcp):
            server.call("DELETE", f"/v2.0/ports/{port}")


def test_host_a_dies_and_the_server_declares_its_agents_dead(world: World) -> None:
    w = world
    w.host_a.kill()                     # kill -9 of every agent of the node
    until(w, "host-a's dhcp and l3 agents dead",
          lambda: dead(w, "host-a", "dhcp") and dead(w, "host-a", "l3"), 4 * AGENT_DOWN_TIME)
    assert everything_on(w, "host-a")   # the server moves nothing by itself


def test_our_agents_start_on_host_b_and_move_everything_to_it(world: World) -> None:
    w = world
    old = {k: agent_ids(w, "host-a", k) for k in ("dhcp", "l3")}
    t0 = time.monotonic()
    for kind in ("dhcp", "l3"):
        assert ocf(w, kind, "start") == (0, "")
    started = time.monotonic() - t0
    for kind in ("dhcp", "l3"):
        assert ocf(w, kind, "monitor") == (0, "")
    # the credentials went to the rescheduling in a 0600 file, not on its command line
    for kind in ("dhcp", "l3"):
        path = os.path.join(w.base, "rsctmp", f"p_neutron_{kind}.openrc")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    for pid in _reschedulers():
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            assert PASSWORD.encode() not in f.read()
    until(w, "everything hosted by host-b and host-a's agents deleted",
          lambda: everything_on(w, "host-b") and agent_ids(w, "host-a", "dhcp") == []
          and agent_ids(w, "host-a", "l3") == [], RESCHEDULE_WAIT + 30)
    moved = time.monotonic() - t0
    print(f"\nOCF start of dhcp and l3: {started:.1f} s; everything moved to host-b "
          f"{moved:.1f} s after the first start")
    # the live agents were told, and serve: DHCP for every network, a namespace per router
    until(w, "host-b's dhcp agent to serve every network",
          lambda: w.host_b.served_networks() == sorted(w.made["networks"]), 60)
    until(w, "host-b's l3 agent to make every router's namespace",
          lambda: {f"qrouter-{r}" for r in w.made["routers"]} <= set(netns()), 60)
    # both background runs are done, and said what they did
    until(w, "the rescheduling to finish", lambda: _reschedulers() == [], 30)
    with open(ha_log(w)) as f:
        log = f.read()
    for net in w.made["networks"]:
        assert f"add network {net} to the DHCP agent on host-b" in log
    for router in w.made["routers"]:
        assert f"add router {router} to the L3 agent on host-b" in log
    for kind, label in (("dhcp", "DHCP agent"), ("l3", "L3 agent")):
        assert f"delete dead {label} {old[kind][0]} (host host-a)" in log
    no_secret_in_logs(w)


def test_the_dry_run_prints_every_step_and_changes_nothing(world: World) -> None:
    w = world
    w.host_a.start()                           # host-a is back: new agents, hosting nothing
    until(w, "host-a's new agents alive", lambda: alive(w, "host-a", "dhcp")
          and alive(w, "host-a", "l3"), 60)
    for kind in ("dhcp", "l3"):                # host-b dies: kill -9 of its daemons
        os.kill(daemon_pid(w, kind), signal.SIGKILL)
    w.host_b.kill(["l2"])
    until(w, "host-b's dhcp and l3 agents dead",
          lambda: dead(w, "host-b", "dhcp") and dead(w, "host-b", "l3"), 4 * AGENT_DOWN_TIME)
    before = (w.cloud.hosting(), sorted(w.cloud.alive_map()))
    b = {k: agent_ids(w, "host-b", k)[0] for k in ("dhcp", "l3")}
    dhcp = tool(w, "dhcp", "host-a", "--dry-run")
    # l3 with a Fuel-era /v2.0 URL: this Keystone answers it 404, the tool goes on with v3
    assert w.cloud.keystone is not None
    fuel_url = w.cloud.keystone.auth_url.rstrip("/").rsplit("/v3", 1)[0] + "/v2.0"
    l3 = tool(w, "l3", "host-a", "--dry-run", OS_AUTH_URL=fuel_url)
    assert (dhcp.rc, l3.rc) == (0, 0), dhcp.out + l3.out
    assert "no v2.0 API" in l3.out and "trying v3" in l3.out, l3.out
    for net in w.made["networks"]:
        assert f"would add network {net} to the DHCP agent on host-a" in dhcp.out
        assert f"would remove network {net} from dead agent {b['dhcp']}" in dhcp.out
    for router in w.made["routers"]:
        assert f"would remove router {router} from dead agent {b['l3']}" in l3.out
        assert f"would add router {router} to the L3 agent on host-a" in l3.out
    assert f"would delete dead DHCP agent {b['dhcp']} (host host-b)" in dhcp.out
    assert f"would delete dead L3 agent {b['l3']} (host host-b)" in l3.out
    assert (w.cloud.hosting(), sorted(w.cloud.alive_map())) == before
    assert everything_on(w, "host-b")


def test_the_tool_by_hand_moves_everything_back_to_host_a(world: World) -> None:
    w = world
    for kind in ("dhcp", "l3"):
        run = tool(w, kind, "host-a")
        assert run.rc == 0, run.out
        assert "would" not in run.out
    assert everything_on(w, "host-a")
    assert agent_ids(w, "host-b", "dhcp") == [] and agent_ids(w, "host-b", "l3") == []
    # host-b's stop after its death: nothing to stop, its router namespaces cleaned
    # up, and the rescheduling's credentials removed
    for kind in ("dhcp", "l3"):
        assert ocf(w, kind, "stop") == (0, "")
        assert not os.path.exists(os.path.join(w.base, "rsctmp", f"p_neutron_{kind}.openrc"))
    assert not [n for n in netns() if n.startswith("qrouter-")]


def test_a_dead_dhcp_agent_that_hosted_nothing_stays_a_dead_l3_agent_goes(world: World) -> None:
    w = world
    for kind in ("dhcp", "l3"):                # host-b registers new agents, hosting nothing
        assert ocf(w, kind, "start", reschedule="false") == (0, "")
    until(w, "host-b's new agents alive",
          lambda: alive(w, "host-b", "dhcp") and alive(w, "host-b", "l3"), 60)
    assert everything_on(w, "host-a")
    for kind in ("dhcp", "l3"):
        os.kill(daemon_pid(w, kind), signal.SIGKILL)
    until(w, "host-b's new agents dead",
          lambda: dead(w, "host-b", "dhcp") and dead(w, "host-b", "l3"), 4 * AGENT_DOWN_TIME)
    dhcp, l3 = tool(w, "dhcp", "host-a"), tool(w, "l3", "host-a")
    assert (dhcp.rc, l3.rc) == (0, 0), dhcp.out + l3.out
    assert "nothing bound to the 1 dead agent(s)" in dhcp.out
    assert len(agent_ids(w, "host-b", "dhcp")) == 1        # kept, as Fuel did
    assert agent_ids(w, "host-b", "l3") == []              # deleted
    for kind in ("dhcp", "l3"):
        assert ocf(w, kind, "stop") == (0, "")


class FaultyProxy:
    """An HTTP proxy in front of the real neutron-server that answers 500 to
    the first POST that binds a router to an L3 agent, and forwards the rest:
    the server fault that, after the router was removed from its dead agent,
    used to leave it bound to no agent for good."""

    def __init__(self, upstream: str) -> None:
        import http.server
        import threading
        import urllib.request
        self.upstream = upstream.rstrip("/")
        self.faults = 0
        self.requests: List[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                proxy.requests.append(f"{self.command} {self.path}")
                if self.command == "POST" and self.path.endswith("/l3-routers") \
                        and proxy.faults == 0:
                    proxy.faults += 1
                    self._answer(500, b'{"NeutronError": {"message": "injected fault"}}',
                                 "application/json")
                    return
                request = urllib.request.Request(proxy.upstream + self.path, data=body,
                                                 method=self.command)
                for key in ("X-Auth-Token", "Content-Type", "Accept"):
                    if self.headers.get(key):
                        request.add_header(key, self.headers[key])
                try:
                    with urllib.request.urlopen(request, timeout=30) as reply:
                        self._answer(reply.status, reply.read(),
                                     reply.headers.get("Content-Type", ""))
                except urllib.error.HTTPError as exc:
                    self._answer(exc.code, exc.read(), exc.headers.get("Content-Type", ""))

            def _answer(self, status: int, payload: bytes, kind: str) -> None:
                self.send_response(status)
                if kind:
                    self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_failed_add_never_loses_a_router_and_the_region_is_honoured(world: World) -> None:
    """A router on a dead L3 agent moves even when neutron-server answers 500
    to its add, once it was removed from the dead agent.  The proxy that
    injects the fault is the network endpoint of a second region only: the
    openrc's OS_REGION_NAME chooses it."""
    w = world
    ks = w.cloud.keystone
    assert ks is not None
    assert ocf(w, "l3", "start", reschedule="false") == (0, "")
    until(w, "host-b's L3 agent alive", lambda: alive(w, "host-b", "l3"), 60)
    router = w.made["routers"][0]
    a_l3, b_l3 = agent_ids(w, "host-a", "l3")[0], agent_ids(w, "host-b", "l3")[0]
    w.cloud.server.call("DELETE", f"/v2.0/agents/{a_l3}/l3-routers/{router}")
    w.cloud.server.call("POST", f"/v2.0/agents/{b_l3}/l3-routers", {"router_id": router})
    os.kill(daemon_pid(w, "l3"), signal.SIGKILL)
    until(w, "host-b's L3 agent dead", lambda: dead(w, "host-b", "l3"), 4 * AGENT_DOWN_TIME)
    proxy = FaultyProxy(w.cloud.server.url)
    made: List[str] = []
    try:
        ks.admin("POST", "/v3/regions", {"region": {"id": "RegionTwo"}}, expect=(201, 409))
        service = ks._find("services", "neutron")
        for interface in ("public", "internal", "admin"):
            made.append(str(ks.admin("POST", "/v3/endpoints", {"endpoint": {
                "service_id": service, "interface": interface, "url": proxy.url,
                "region_id": "RegionTwo", "enabled": True}})["endpoint"]["id"]))
        run = tool(w, "l3", "host-a", rc_file=openrc(w, "openrc-two", OS_REGION_NAME="RegionTwo"))
    finally:
        for endpoint in made:
            ks.admin("DELETE", f"/v3/endpoints/{endpoint}")
        proxy.close()
    assert proxy.faults == 1 and proxy.requests, run.out     # it went through RegionTwo
    assert run.rc == 0, run.out
    assert "injected fault; trying again" in run.out, run.out
    assert everything_on(w, "host-a"), w.cloud.hosting()
    assert agent_ids(w, "host-b", "l3") == []                 # then the dead agent went
    assert ocf(w, "l3", "stop") == (0, "")


def test_a_wrong_password_is_exit_3_and_never_fails_the_ocf_start(world: World) -> None:
    w = world
    wrong = "not-the-password"
    run = tool(w, "l3", "host-a", OS_PASSWORD=wrong)
    assert run.rc == 3, run.out
    assert f"Keystone refused the credentials of user {USER} (HTTP 401" in run.out
    assert wrong not in run.out
    # the same through the OCF start: it succeeds, the background run reports
    open(ha_log(w), "w").close()
    assert ocf(w, "dhcp", "start", password=wrong, reschedule_wait="10") == (0, "")
    assert ocf(w, "dhcp", "monitor") == (0, "")
    until(w, "the rescheduling to give up", lambda: _reschedulers() == [], 60)
    with open(ha_log(w)) as f:
        log = f.read()
    assert f"Keystone refused the credentials of user {USER}" in log
    assert wrong not in log and "Traceback" not in log
    assert ocf(w, "dhcp", "stop") == (0, "")


def test_an_unreachable_keystone_is_exit_4_and_never_fails_the_ocf_start(world: World) -> None:
    w = world
    nowhere = f"http://127.0.0.1:{free_port()}/v3"
    run = tool(w, "dhcp", "host-a", "--wait", "6", "--retries", "2", "--sleep", "0.5",
               OS_AUTH_URL=nowhere)
    assert run.rc == 4, run.out
    assert nowhere.split("/v3")[0] in run.out and "refused" in run.out.lower()
    open(ha_log(w), "w").close()
    assert ocf(w, "l3", "start", os_auth_url=nowhere, reschedule_wait="6") == (0, "")
    assert ocf(w, "l3", "monitor") == (0, "")
    until(w, "the rescheduling to give up", lambda: _reschedulers() == [], 60)
    with open(ha_log(w)) as f:
        assert nowhere.split("/v3")[0] in f.read()
    assert ocf(w, "l3", "stop") == (0, "")


def test_a_rescheduling_that_cannot_be_launched_never_fails_the_ocf_start(world: World) -> None:
    w = world
    open(ha_log(w), "w").close()
    unusable = os.path.join(w.base, "a-file")
    open(unusable, "w").close()                       # HA_RSCTMP below a file: no openrc
    assert ocf(w, "dhcp", "start", HA_RSCTMP=os.path.join(unusable, "rsctmp")) == (0, "")
    assert ocf(w, "dhcp", "monitor") == (0, "")
    with open(ha_log(w)) as f:
        assert "the rescheduling of the networks was not started" in f.read()
    assert _reschedulers() == []
    assert ocf(w, "dhcp", "stop") == (0, "")


def test_an_expired_token_is_renewed_once_then_exit_3(world: World) -> None:
    w = world
    ks = w.cloud.keystone
    assert ks is not None
    ks.restart(expiration=0)          # every token Keystone issues now is already expired
    try:
        run = tool(w, "dhcp", "host-a")
    finally:
        ks.restart(expiration=3600)
    assert run.rc == 3, run.out
    assert "the token was refused (expired?): authenticating again" in run.out
    assert "Neutron refused a fresh token" in run.out
    assert tool(w, "dhcp", "host-a").rc == 0          # and fine again with valid tokens


def test_a_stopped_neutron_server_is_exit_4(world: World) -> None:
    w = world
    w.cloud.server.stop()
    run = tool(w, "l3", "host-a", "--wait", "6", "--retries", "2", "--sleep", "0.5")
    assert run.rc == 4, run.out
    assert w.cloud.server.url.split("//")[1] in run.out
    no_secret_in_logs(w)


def netns() -> List[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10)
    return [line.split()[0] for line in out.stdout.splitlines() if line.strip()]
