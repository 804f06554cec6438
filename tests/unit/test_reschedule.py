"""Rescheduling: the pure plan, OVS port selection, the openrc reader, the
command line, and the HTTP client's error paths.

The client's error paths run against a small HTTP server on loopback that
answers as Keystone and Neutron document (a stand-in: the unit tier starts
no daemon).  The agent tier runs the same code against a real Keystone and
neutron-server.
"""
import io
import json
import threading
from contextlib import redirect_stderr, redirect_stdout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirantis_ocf import reschedule as rs
from mirantis_ocf.neutron import EXIT_AUTH, EXIT_UNREACHABLE, APIError, Session


def agent(aid: str, host: str, alive: bool) -> Dict[str, Any]:
    return {"id": aid, "host": host, "alive": alive}


# --- the plan ---------------------------------------------------------------------

def test_the_local_live_agent_receives_what_dead_agents_hosted() -> None:
    agents = [agent("a", "ctl-1", False), agent("b", "ctl-2", True), agent("c", "ctl-3", True)]
    p = rs.plan("dhcp", agents, {"a": ["n1", "n2"], "b": ["n2"], "c": []}, "ctl-3", True)
    assert p.target is not None and p.target["id"] == "c"
    assert p.moves == [("n1", "a")]                 # n2 is still served by b
    assert [d["id"] for d in p.delete] == ["a"]


def test_dhcp_deletes_dead_agents_only_when_something_moved_l3_always() -> None:
    agents = [agent("a", "ctl-1", False), agent("b", "ctl-2", True)]
    assert rs.plan("dhcp", agents, {"a": [], "b": []}, "ctl-2", True).delete == []
    assert [d["id"] for d in rs.plan("l3", agents, {"a": [], "b": []}, "ctl-2", True).delete] == ["a"]
    assert rs.plan("l3", agents, {"a": ["r"], "b": []}, "ctl-2", False).delete == []


def test_nothing_moves_without_a_live_agent_or_without_a_dead_one() -> None:
    dead_only = [agent("a", "ctl-1", False)]
    p = rs.plan("l3", dead_only, {"a": ["r1"]}, "ctl-2", True)
    assert (p.target, p.moves, p.delete) == (None, [], [])
    live_only = [agent("a", "ctl-1", True)]
    assert rs.plan("l3", live_only, {"a": ["r1"]}, "ctl-1", True).moves == []


def test_without_a_local_agent_the_first_live_one_by_host_is_the_target() -> None:
    agents = [agent("a", "ctl-1", False), agent("z", "ctl-9", True), agent("m", "ctl-5", True)]
    p = rs.plan("dhcp", agents, {"a": ["n"], "m": [], "z": []}, "elsewhere", False)
    assert p.target is not None and p.target["host"] == "ctl-5"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.booleans(),
                          st.lists(st.sampled_from(["n1", "n2", "n3", "n4"]), max_size=4)),
                min_size=1, max_size=6, unique_by=lambda t: t[0]),
       st.sampled_from("abcdefg"), st.sampled_from(["dhcp", "l3"]), st.booleans())
def test_every_orphan_moves_once_to_a_live_agent(spec: List[Tuple[str, bool, List[str]]], local: str,
                                                 kind: str, remove_dead: bool) -> None:
    agents = [agent(a, f"host-{a}", alive) for a, alive, _ in spec]
    hosted = {a: list(dict.fromkeys(items)) for a, _, items in spec}
    p = rs.plan(kind, agents, hosted, f"host-{local}", remove_dead)
    alive = {a for a, up, _ in spec if up}
    served = {r for a in alive for r in hosted[a]}
    orphans = {r for a, up, _ in spec if not up for r in hosted[a]} - served
    moved = [r for r, _ in p.moves]
    assert len(moved) == len(set(moved))
    dead = {a for a, up, _ in spec if not up}
    if alive and dead:
        assert p.target is not None and p.target["id"] in alive
        assert set(moved) == orphans
        if f"host-{local}" in {f"host-{a}" for a in alive}:
            assert p.target["host"] == f"host-{local}"
    else:
        assert moved == [] and p.delete == [] and p.target is None
    assert all(d["id"] not in alive for d in p.delete)
    if p.delete and kind == "dhcp":
        assert moved


# --- OVS ports ------------------------------------------------------------------------

OVS_JSON = json.dumps({"headings": ["name", "type", "ofport", "error", "external_ids"], "data": [
    ["tap1234567890a", "internal", -1, "could not open network device tap1234567890a (No such device)",
     ["map", [["iface-id", "p1"], ["attached-mac", "fa:16:3e:00:00:01"]]]],
    ["tap2234567890a", "internal", 3, ["set", []], ["map", [["iface-id", "p2"]]]],
    ["tap3234567890a", "", -1, "no such device", ["map", [["iface-id", "vm"]]]],
    ["qr-1234567890a", "internal", -1, ["set", []], ["map", [["iface-id", "p3"]]]],
    ["tap4234567890a", "internal", -1, ["set", []], ["map", []]],
    ["br-int", "internal", 65534, ["set", []], ["map", []]],
]})


def test_only_internal_neutron_ports_of_the_type_whose_device_is_nowhere_are_stale() -> None:
    rows = rs.ovs_interfaces(OVS_JSON)
    assert rows[1]["error"] is None and rows[0]["external_ids"]["iface-id"] == "p1"
    # neither a VM's tap, nor a port neutron did not plug, nor another type's
    assert rs.stale_ports(rows, "dhcp", set()) == ["tap1234567890a", "tap2234567890a"]
    assert rs.stale_ports(rows, "l3", set()) == ["qr-1234567890a"]


def test_a_port_whose_device_exists_is_kept_whatever_ovs_says() -> None:
    # tap1...: ofport -1 and an error, as after an ovs-vswitchd restart, yet
    # its device is in a namespace: kept.  tap2...: OVS's userspace datapath
    # still says ofport 3, no error, but its device exists nowhere: stale
    rows = rs.ovs_interfaces(OVS_JSON)
    assert rs.stale_ports(rows, "dhcp", present={"tap1234567890a"}) == ["tap2234567890a"]
    assert rs.stale_ports(rows, "dhcp", present=None) == []        # unknown: keep everything


ROOT_LINKS = ("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN\\    link/loopback\n"
              "5: br-int: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN\\    link/ether\n")
NETNS_LINKS = ("\nnetns: qdhcp-5f1c\n1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN\\    link\n"
               "7: tap2234567890a@if9: <BROADCAST,UP> mtu 1450 qdisc noqueue\\    link/ether\n")


def test_link_names_of_the_root_and_of_every_namespace() -> None:
    assert rs.link_names(ROOT_LINKS) == {"lo", "br-int"}
    assert rs.link_names(NETNS_LINKS) == {"lo", "tap2234567890a"}


def ovs_host(failing: str = "") -> Tuple[List[List[str]], Any]:
    """ovs-vsctl and ip as the runner sees them: qdhcp-5f1c holds tap2...;
    ``failing``: the namespace (or "root", or "list") whose read fails."""
    calls: List[List[str]] = []

    def runner(cmd: List[str]) -> Tuple[int, str, str]:
        calls.append(cmd)
        if cmd[:3] == ["ip", "netns", "list"]:
            return (1, "", "boom") if failing == "list" else (0, "qdhcp-5f1c (id: 0)\n", "")
        if cmd[:2] == ["ip", "-n"]:
            if cmd[2] == failing:
                return 1, "", f'Cannot open network namespace "{failing}"'
            return 0, NETNS_LINKS, ""
        if cmd[0] == "ip":
            return (1, "", "boom") if failing == "root" else (0, ROOT_LINKS, "")
        return (0, OVS_JSON, "") if "list" in cmd else (0, "", "")
    return calls, runner


def test_clean_ports_deletes_the_stale_ones_and_dry_run_deletes_nothing() -> None:
    calls, runner = ovs_host()
    said: List[str] = []
    assert rs.clean_ports("dhcp", "unix:/x.sock", runner, said.append, dry_run=True) == 0
    assert not [c for c in calls if "del-port" in c]
    assert said == ["would delete stale OVS port tap1234567890a"]   # tap2... lives in qdhcp-5f1c
    assert ["ip", "-n", "qdhcp-5f1c", "-o", "link", "show"] in calls
    assert rs.clean_ports("dhcp", "unix:/x.sock", runner, said.append) == 0
    assert calls[-1][-3:] == ["--if-exists", "del-port", "tap1234567890a"]
    assert "--db=unix:/x.sock" in calls[-1]


def test_a_namespace_that_cannot_be_read_keeps_every_port() -> None:
    """``ip -all netns exec`` exits 0 when it cannot enter a namespace: that
    namespace's devices were missing from the view, and its ports deleted."""
    for failing in ("qdhcp-5f1c", "root", "list"):
        calls, runner = ovs_host(failing)
        said: List[str] = []
        assert rs.clean_ports("dhcp", "", runner, said.append) == 0
        assert not [c for c in calls if "del-port" in c], failing
        assert any("keeping every port" in m for m in said), said


def test_the_ports_api_keeps_a_stale_port_that_neutron_says_is_not_this_agents() -> None:
    """With credentials, Neutron's ports are asked: tap1's iface-id p1 is a
    VM's port (compute:nova), so it stays; a port Neutron no longer knows is
    the leftover of a deleted one, and goes."""
    calls, runner = ovs_host()
    said: List[str] = []
    asked: List[List[str]] = []

    def owners(ids: List[str]) -> Dict[str, str]:
        asked.append(ids)
        return {"p1": "compute:nova"}
    assert rs.clean_ports("dhcp", "", runner, said.append, owners_of=owners) == 0
    assert asked == [["p1"]] and not [c for c in calls if "del-port" in c]
    assert any("keeping OVS port tap1234567890a" in s and "compute:nova" in s for s in said)
    calls.clear()
    assert rs.clean_ports("dhcp", "", runner, said.append, owners_of=lambda ids: {}) == 0
    assert [c[-1] for c in calls if "del-port" in c] == ["tap1234567890a"]
    calls.clear()
    assert rs.clean_ports("dhcp", "", runner, said.append,
                          owners_of=lambda ids: {"p1": "network:dhcp"}) == 0
    assert [c[-1] for c in calls if "del-port" in c] == ["tap1234567890a"]


def test_an_unanswering_ports_api_leaves_the_local_decision() -> None:
    calls, runner = ovs_host()
    said: List[str] = []

    def down(ids: List[str]) -> Dict[str, str]:
        raise APIError("unreachable", "GET /v2.0/ports: connection refused")
    assert rs.clean_ports("dhcp", "", runner, said.append, owners_of=down) == 0
    assert [c[-1] for c in calls if "del-port" in c] == ["tap1234567890a"]
    assert any("did not answer" in s for s in said)


def test_port_owners_asks_neutron_by_id(fake_api: str) -> None:
    s = session(fake_api)
    assert s.port_owners(["p1", "gone"]) == {"p1": "network:dhcp"}
    assert Fake.last_get.startswith("/v2.0/ports?id=gone&id=p1&fields=id&fields=device_owner")


# --- the command line -------------------------------------------------------------------

def test_openrc_lines_are_read_with_quotes() -> None:
    text = "# admin\nexport OS_USERNAME='neutron'\nexport OS_PASSWORD='it'\\''s \"x\"'\nOS_AUTH_URL=http://k:5000/v3\n"
    assert rs.read_openrc(text) == {"OS_USERNAME": "neutron", "OS_PASSWORD": "it's \"x\"",
                                    "OS_AUTH_URL": "http://k:5000/v3"}


def cli(*argv: str, env: Dict[str, str] = {}) -> Tuple[int, str, str]:  # noqa: B006
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = rs.main(list(argv), environ=dict(env))
    return code, out.getvalue(), err.getvalue()


def test_help_usage_and_missing_credentials() -> None:
    code, out, _ = cli("--help")
    assert code == 0 and "--dry-run" in out and "Exit codes" in out
    assert cli()[0] == 2                                  # no --agent
    assert cli("--agent", "dhcp")[0] == 2                 # nothing to do
    code, out, err = cli("--agent", "dhcp", "--reschedule")
    assert code == 2 and "missing credentials" in out + err and "Traceback" not in out + err


# --- the client's failures, against documented answers ------------------------------------------

class Fake(BaseHTTPRequestHandler):
    """Keystone v3 and Neutron, as documented: 201 with X-Subject-Token; 401
    with an error body for a wrong password or a refused token."""
    tokens: Dict[str, bool] = {}
    issued = 0
    last_auth: Dict[str, Any] = {}
    last_get = ""

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any, headers: Dict[str, str] = {}) -> None:  # noqa: B006
        data = json.dumps(body).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/v2.0/moved":
            return self._send(302, {}, {"Location": "http://admin:pw@elsewhere/x"})
        if self.path == "/v2.0/tokens":
            return self._send(404, {"error": {"code": 404, "message": "The resource could not be found."}})
        Fake.last_auth = body
        password = body["auth"]["identity"]["password"]["user"]["password"]
        if password != "right":
            return self._send(401, {"error": {"code": 401, "title": "Unauthorized",
                                              "message": "The request you have made requires authentication."}})
        Fake.issued += 1
        token = f"tok{Fake.issued}"
        Fake.tokens[token] = True
        port = self.server.server_address[1]
        self._send(201, {"token": {"catalog": [{"type": "network", "endpoints": [
            {"interface": "public", "region_id": "RegionOne", "url": f"http://127.0.0.1:{port}/"}]}]}},
            {"X-Subject-Token": token})

    def do_GET(self) -> None:
        if not Fake.tokens.get(self.headers.get("X-Auth-Token", "")):
            return self._send(401, {"error": {"code": 401, "message": "Token expired"}})
        path = self.path.split("?")[0]
        Fake.last_get = self.path
        if path == "/v2.0/ports":
            return self._send(200, {"ports": [{"id": "p1", "device_owner": "network:dhcp"}]})
        for suffix, key in (("/dhcp-networks", "networks"), ("/l3-routers", "routers")):
            if path.endswith(suffix):
                return self._send(200, {key: []})
        if path == "/v2.0/agents":
            return self._send(200, {"agents": [{"id": "a1", "host": "h", "alive": True,
                                                "agent_type": "DHCP agent"}]})
        answers = {"/v2.0/moved": (302, {}), "/v2.0/odd": (200, ["not", "a", "dict"])}
        status, body = answers.get(path, (404, {"NeutronError": {"message": "no such thing"}}))
        self._send(status, body, {"Location": "http://admin:pw@elsewhere/x"} if status == 302 else {})


@pytest.fixture
def fake_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def session(url: str, password: str = "right", deadline: float = 30.0) -> Session:
    import time
    return Session(url, "neutron", password, "services", deadline=time.monotonic() + deadline,
                   retries=2, pause=0.01)


def test_a_wrong_password_is_an_auth_error(fake_api: str) -> None:
    with pytest.raises(APIError) as caught:
        session(fake_api, "wrong").agents()
    assert caught.value.exit_code == EXIT_AUTH and "refused the credentials of user neutron" in str(caught.value)
    assert "wrong" not in str(caught.value)


def test_an_expired_token_is_renewed_once(fake_api: str) -> None:
    s = session(fake_api)
    assert s.agents()[0]["id"] == "a1"
    Fake.tokens[s.token] = False                          # expired
    assert s.agents()[0]["id"] == "a1"
    assert Fake.tokens[s.token]                           # a fresh one


def test_v2_auth_url_on_a_v3_only_keystone_falls_back_to_v3(fake_api: str) -> None:
    """Fuel's os_auth_url ends in /v2.0; Keystone has had no v2.0 since Queens."""
    said: List[str] = []
    s = session(fake_api + "/v2.0")
    s.log = said.append
    assert s.agents()[0]["id"] == "a1"
    assert any("no v2.0 API" in line and "trying v3" in line for line in said), said


def test_an_unreachable_api_fails_within_its_retries() -> None:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]                         # nothing listens there
    with pytest.raises(APIError) as caught:
        session(f"http://127.0.0.1:{port}").agents()
    assert caught.value.exit_code == EXIT_UNREACHABLE and "after 3 attempts" in str(caught.value)


def test_the_tool_reports_failures_with_exit_codes_and_no_traceback(fake_api: str) -> None:
    env = {"OS_USERNAME": "neutron", "OS_PASSWORD": "wrong", "OS_PROJECT_NAME": "services",
           "OS_AUTH_URL": fake_api}
    code, out, err = cli("--agent", "dhcp", "--reschedule", "--wait", "5", "--sleep", "0.01", env=env)
    assert code == EXIT_AUTH and "Traceback" not in out + err and "wrong" not in out + err
    env["OS_PASSWORD"] = "right"
    code, out, err = cli("--agent", "dhcp", "--reschedule", "--dry-run", "--host", "h", env=env)
    assert code == 0 and "dry run: no dead DHCP agent" in out


# --- what a review found: redirects, odd answers, URLs, options, disabled and DVR agents ----

def test_a_redirect_or_an_odd_answer_is_an_error_never_a_success(fake_api: str) -> None:
    s = session(fake_api)
    with pytest.raises(APIError) as caught:
        s.call("POST", "/moved", {"x": 1})
    assert caught.value.status == 302 and "to http://elsewhere/x" in str(caught.value)
    assert "pw" not in str(caught.value)                  # no user:password@ in messages
    with pytest.raises(APIError) as caught:
        s._listing("GET", "/odd", "agents")
    assert caught.value.kind == "answer"


def test_urls_ipv6_default_ports_and_bad_ports() -> None:
    s = session("http://[::1]/identity/v3", deadline=1.0)
    with pytest.raises(APIError) as caught:        # nothing listens on [::1]:80 here
        s.agents()
    assert caught.value.kind == "unreachable" and "http://[::1]/identity/v3/auth/tokens" in str(caught.value)
    with pytest.raises(APIError) as caught:
        session("http://keystone:99999/v3").agents()
    assert caught.value.kind == "answer" and "bad port" in str(caught.value)
    assert Session._shown("https://u:secret@h:5000/v3?x=1") == "https://h:5000/v3"


def test_durations_and_counts_are_checked() -> None:
    for bad in (["--interval", "-1"], ["--wait", "nan"], ["--sleep", "inf"], ["--retries", "-2"]):
        code, _, err = cli("--agent", "l3", "--reschedule", *bad)
        assert code == 2 and "Traceback" not in err, bad


def test_disabled_agents_neither_serve_nor_receive() -> None:
    agents = [agent("a", "ctl-1", False), dict(agent("b", "ctl-2", True), admin_state_up=False),
              agent("c", "ctl-3", True)]
    p = rs.plan("dhcp", agents, {"a": ["n1"], "b": ["n1"], "c": []}, "ctl-2", True)
    assert p.target is not None and p.target["id"] == "c"     # not the local, disabled one
    assert p.moves == [("n1", "a")]                            # b's copy does not count


def test_dvr_compute_l3_agents_are_left_alone() -> None:
    legacy = {"configurations": {"agent_mode": "legacy"}}
    assert rs.hosting("l3", legacy) and rs.hosting("l3", {"configurations": {"agent_mode": "dvr_snat"}})
    assert rs.hosting("l3", {}) and rs.hosting("dhcp", {"configurations": {"agent_mode": "dvr"}})
    assert not rs.hosting("l3", {"configurations": {"agent_mode": "dvr"}})


class Recorder:
    """A Session stand-in for execute(): answers as scripted, records the calls."""

    def __init__(self, add_status: int = 0, hosts: List[str] = (),  # type: ignore[assignment]
                 fail_adds: int = 1000, alive_again: Tuple[str, ...] = ()) -> None:
        self.calls: List[str] = []
        self.add_status = add_status
        self.hosts = list(hosts)
        self.fail_adds = fail_adds          # how many adds fail before they pass
        self.alive_again = alive_again      # agents alive when read just before deletion
        self.now, self.deadline, self.pause = 0.0, 100.0, 1.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def agent(self, agent_id: str) -> Dict[str, Any]:
        return {"id": agent_id, "alive": agent_id in self.alive_again}

    def _maybe_fail(self, what: str) -> None:
        self.calls.append(what)
        if what.startswith("add") and self.add_status and self.fail_adds > 0:
            self.fail_adds -= 1
            raise APIError("http", f"HTTP {self.add_status}", self.add_status)

    def add_l3_router(self, agent_id: str, router_id: str) -> None:
        self._maybe_fail(f"add {router_id} {agent_id}")

    def remove_l3_router(self, agent_id: str, router_id: str) -> None:
        self.calls.append(f"remove {router_id} {agent_id}")

    def l3_agents_of(self, router_id: str) -> List[Dict[str, Any]]:
        return [{"id": h} for h in self.hosts]

    def delete_agent(self, agent_id: str) -> None:
        self.calls.append(f"delete {agent_id}")


def test_a_failed_or_refused_router_move_keeps_the_dead_agent() -> None:
    agents = [agent("dead", "ctl-1", False), agent("live", "ctl-2", True)]
    p = rs.plan("l3", agents, {"dead": ["r1"], "live": []}, "ctl-2", True)
    said: List[str] = []
    for status, hosts in ((404, []), (409, []), (500, [])):   # gone, a real conflict, a fault
        s = Recorder(status, hosts)
        assert rs.execute("l3", s, p, False, said.append) == 1       # type: ignore[arg-type]
        # removed, then added again and again: never a delete of the dead agent
        assert s.calls == ["remove r1 dead"] + ["add r1 live"] * rs.ADD_ATTEMPTS
        assert said[-1] == "keeping the 1 dead agent(s): 1 move(s) failed"
        assert "is bound to no agent: the next pass adds it" in said[-2]
    s = Recorder(409, ["live"])                           # already there: done
    assert rs.execute("l3", s, p, False, said.append) == 0           # type: ignore[arg-type]
    assert s.calls[-1] == "delete dead" and "already done" in said[-2]


class SlowAPI:
    """A Neutron whose every call takes one second of a fake clock and that
    refuses calls past the session's deadline, as Session._http does (a
    fake: the bound under test is the tool's own arithmetic)."""

    def __init__(self, networks: int, deadline: float) -> None:
        self.now = 0.0
        self.deadline = deadline
        self.hosting: Dict[str, List[str]] = {"dead": [f"net{i}" for i in range(networks)],
                                              "live": []}
        self.deleted: List[str] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def _tick(self) -> None:
        self.now += 1.0
        if self.now > self.deadline:
            raise APIError("unreachable", "out of time")

    def agents(self, binary: str = "", agent_type: str = "") -> List[Dict[str, Any]]:
        self._tick()
        return [{"id": "dead", "host": "old", "alive": False, "agent_type": "DHCP agent"},
                {"id": "live", "host": "new", "alive": True, "agent_type": "DHCP agent"}]

    def dhcp_networks(self, agent_id: str) -> List[Dict[str, Any]]:
        self._tick()
        return [{"id": n} for n in self.hosting[agent_id]]

    def dhcp_agents_of(self, network: str) -> List[Dict[str, Any]]:
        self._tick()
        return [{"id": a} for a, nets in self.hosting.items() if network in nets]

    def add_dhcp_network(self, agent_id: str, network: str) -> None:
        self._tick()
        self.hosting[agent_id].append(network)

    def remove_dhcp_network(self, agent_id: str, network: str) -> None:
        self._tick()
        self.hosting[agent_id].remove(network)

    def delete_agent(self, agent_id: str) -> None:
        self._tick()
        self.deleted.append(agent_id)

    def agent(self, agent_id: str) -> Dict[str, Any]:
        self._tick()
        return {"id": agent_id, "alive": agent_id == "live"}


def test_the_moves_have_their_own_time_after_a_long_wait() -> None:
    """The wait for the old agent's death may use most of --wait: 100
    networks (two calls each) must still all move, within --move-time."""
    api = SlowAPI(networks=100, deadline=10.0)
    said: List[str] = []
    rc = rs.run("dhcp", api, "new", remove_dead=True, dry_run=False,  # type: ignore[arg-type]
                interval=1.0, say=said.append, move_time=300.0)
    assert rc == 0, said[-3:]
    assert api.hosting == {"dead": [], "live": [f"net{i}" for i in range(100)]}
    assert api.deleted == ["dead"]
    assert api.deadline == 10.0          # the waiting's own bound is unchanged


def test_the_moves_are_bounded_too() -> None:
    api = SlowAPI(networks=100, deadline=10.0)
    said: List[str] = []
    rc = rs.run("dhcp", api, "new", remove_dead=True, dry_run=False,  # type: ignore[arg-type]
                interval=1.0, say=said.append, move_time=50.0)
    assert rc == rs.EXIT_PARTIAL
    assert api.deleted == [] and any("keeping the 1 dead agent" in s for s in said)


def test_the_openrc_domains_reach_keystone(fake_api: str) -> None:
    creds = {"OS_USER_DOMAIN_NAME": "Corp", "OS_PROJECT_DOMAIN_ID": "d42"}
    import time
    s = Session(fake_api, "neutron", "right", "services", deadline=time.monotonic() + 30,
                retries=2, pause=0.01, user_domain=rs.domain(creds, "USER"),
                project_domain=rs.domain(creds, "PROJECT"))
    s.agents()
    auth = Fake.last_auth["auth"]
    assert auth["identity"]["password"]["user"]["domain"] == {"name": "Corp"}
    assert auth["scope"]["project"]["domain"] == {"id": "d42"}
    assert rs.domain({}, "USER") is None                 # unsaid: Keystone's "default"
    session(fake_api).agents()
    assert Fake.last_auth["auth"]["scope"]["project"]["domain"] == {"id": "default"}


# --- issue 14: never a router lost, "dead" means dead, only this cluster's hosts -----

def test_only_an_agent_that_neutron_says_is_dead_is_drained() -> None:
    unknown = {"id": "u", "host": "ctl-1"}                      # no "alive" at all
    agents = [unknown, agent("live", "ctl-2", True)]
    p = rs.plan("l3", agents, {"u": ["r1"], "live": []}, "ctl-2", True)
    assert (p.moves, p.delete) == ([], [])


def test_only_dead_agents_on_this_clusters_hosts_are_drained() -> None:
    agents = [agent("here", "node-1.example.net", False), agent("far", "compute-7", False),
              agent("live", "node-2", True)]
    hosted = {"here": ["r1"], "far": ["r2"], "live": []}
    p = rs.plan("l3", agents, hosted, "node-2", True, hosts={"node-1", "node-2"})
    assert p.moves == [("r1", "here")] and [a["id"] for a in p.delete] == ["here"]
    assert "outside this cluster left alone (compute-7)" in p.note
    everywhere = rs.plan("l3", agents, hosted, "node-2", True)     # the old, cloud-wide way
    assert sorted(p for p, _ in everywhere.moves) == ["r1", "r2"]


def test_a_router_bound_to_no_agent_is_work_to_do() -> None:
    agents = [agent("live", "ctl-2", True)]
    p = rs.plan("l3", agents, {"live": ["r2"]}, "ctl-2", True, unbound=["r1", "r2"])
    assert p.moves == [("r1", "")]                  # r2 is served
    s = Recorder()
    said: List[str] = []
    assert rs.execute("l3", s, p, False, said.append) == 0     # type: ignore[arg-type]
    assert s.calls == ["add r1 live"]                           # nothing to remove
    assert rs.plan("dhcp", agents, {"live": []}, "ctl-2", True, unbound=["n1"]).moves == []


def test_an_add_that_fails_once_is_tried_again_and_the_router_lands() -> None:
    agents = [agent("dead", "ctl-1", False), agent("live", "ctl-2", True)]
    p = rs.plan("l3", agents, {"dead": ["r1"], "live": []}, "ctl-2", True)
    s = Recorder(500, fail_adds=1)
    done: List[str] = []
    assert rs.execute("l3", s, p, False, lambda m: None, done=done) == 0   # type: ignore[arg-type]
    assert s.calls == ["remove r1 dead", "add r1 live", "add r1 live", "delete dead"]
    assert done == ["r1"]


def test_an_agent_alive_again_before_its_deletion_is_kept() -> None:
    agents = [agent("dead", "ctl-1", False), agent("live", "ctl-2", True)]
    p = rs.plan("l3", agents, {"dead": [], "live": []}, "ctl-2", True)
    s = Recorder(alive_again=("dead",))
    said: List[str] = []
    assert rs.execute("l3", s, p, False, said.append) == 0      # type: ignore[arg-type]
    assert "delete dead" not in s.calls and "it is alive again" in said[-1]


def test_sigterm_lets_the_move_in_progress_finish_and_starts_no_other() -> None:
    agents = [agent("dead", "ctl-1", False), agent("live", "ctl-2", True)]
    p = rs.plan("l3", agents, {"dead": ["r1", "r2", "r3"], "live": []}, "ctl-2", True)
    s = Recorder()
    said: List[str] = []
    # the TERM arrives while r1 moves: r1 lands, r2 and r3 stay on the dead agent
    failed = rs.execute("l3", s, p, False, said.append,               # type: ignore[arg-type]
                        stopping=lambda: "add r1 live" in s.calls)
    assert s.calls == ["remove r1 dead", "add r1 live"]
    assert failed == 2 and "2 router(s) left where they are" in said[-1]    # and no delete


def test_an_old_agent_still_alive_when_the_wait_ends_is_an_error() -> None:
    api = SlowAPI(networks=1, deadline=10.0)
    api.agents = lambda binary="", agent_type="": [              # type: ignore[method-assign]
        {"id": "old", "host": "old", "alive": True, "agent_type": "DHCP agent"},
        {"id": "live", "host": "new", "alive": True, "agent_type": "DHCP agent"}]
    api.hosting = {"old": ["net0"], "live": []}
    api._tick = lambda: setattr(api, "now", api.now + 1.0)     # type: ignore[method-assign]
    said: List[str] = []
    rc = rs.run("dhcp", api, "new", remove_dead=True, dry_run=False,  # type: ignore[arg-type]
                interval=1.0, say=said.append)
    assert rc == rs.EXIT_ALIVE == 6 and "live DHCP agent(s) on old" in said[-1]


def test_the_agent_and_the_tool_accept_the_same_waits() -> None:
    """A reschedule_wait that the agent accepts is one the tool accepts:
    otherwise the background run would exit 2, seen only in a log file."""
    import os

    from support import ROOT, bare_env, call, reason_of
    agent = os.path.join(ROOT, "agents", "neutron-agent-l3")
    for wait, rc in (("86400", 0), ("86401", 6), ("0", 6)):
        code, _, err = call(agent, "validate-all", bare_env(reschedule_wait=wait))
        assert code == rc, err[-300:]
        if rc:
            assert "reschedule_wait" in reason_of(err)
        tool = cli("--agent", "l3", "--reschedule", "--wait", wait, env={})
        assert tool[0] == rs.EXIT_USAGE            # no credentials here, in any case
        assert ("argument --wait" in tool[2]) == bool(rc), tool
