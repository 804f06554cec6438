"""The neutron-server harness (tests/neutron_server_env.py) against the real pieces.

One ``Cloud`` for the whole module: RabbitMQ, a private MariaDB, Keystone
under uwsgi, neutron-server (ML2/openvswitch, router plugin, agent_down_time
10 s, automatic DHCP and L3 failover off), and two fake hosts, host-a and
host-b, each with the real dhcp and l3 agents (report_interval 2 s) and the
stand-in OVS agent.  The tests walk what the rescheduling tool relies on:
Keystone v3 tokens and the catalog, the API's answers to bad tokens, the
agent list, where new networks and routers land, manual moves, what a dead
agent keeps, what deleting it does, and that the server moves nothing by
itself unless allowed to.  They run in order; the last one stops everything
and checks that nothing is left.

A missing package makes these tests fail, not skip: `make deps` installs them.
"""
import datetime
import os
import shutil
import signal
import tempfile
import time
from typing import Any, Dict, Iterator, List

import pytest

import neutron_env as ne
import neutron_server_env as nse
from neutron_server_env import Cloud

AGENT_DOWN_TIME = 10
RPC_TIMEOUT = 5
BINARIES = ("neutron-openvswitch-agent", "neutron-dhcp-agent", "neutron-l3-agent")
NO_SUCH_ID = "00000000-0000-0000-0000-000000000000"
UNAUTHORIZED = {"error": {"code": 401, "title": "Unauthorized",
                          "message": "The request you have made requires authentication."}}


def until(what: str, cond: Any, timeout: float, cloud: "Cloud") -> None:
    """Wait (bounded) for cond(); fail with the agents' view and the server's log."""
    if not ne.wait_for(cond, timeout, 0.5):
        pytest.fail(f"{what}: not within {timeout:.0f} s; agents: {cloud.alive_map()}; "
                    f"hosting: {cloud.hosting()}\n--- server:\n{ne.tail(cloud.server.log, 8)}")


def error_type(reply: nse.Reply) -> str:
    return str(reply.body["NeutronError"]["type"])


def test_prerequisites_are_installed() -> None:
    for path in [nse.MARIADBD, "/usr/bin/mariadb-install-db", nse.UWSGI,
                 "/usr/lib/uwsgi/plugins/python3_plugin.so", nse.KEYSTONE_WSGI,
                 nse.KEYSTONE_MANAGE, nse.NEUTRON_SERVER, nse.NEUTRON_DB_MANAGE,
                 "/usr/bin/neutron-dhcp-agent", "/usr/bin/neutron-l3-agent",
                 ne.RABBIT_BIN + "/rabbitmq-server", "/usr/bin/unshare", "/usr/bin/nsenter"]:
        assert os.path.exists(path), f"{path} is missing: run `make deps`"
    for user in ("mysql", "keystone", "neutron", "rabbitmq"):
        ne.user_ids(user)
    import pymysql  # noqa: F401  python3-pymysql, for oslo.db and the harness


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    base = tempfile.mkdtemp(prefix="mirantis-ocf-nsenv-", dir="/tmp")
    os.chmod(base, 0o755)     # mysql, keystone, neutron and rabbitmq reach their dirs below
    c = Cloud(base, agent_down_time=AGENT_DOWN_TIME, rpc_response_timeout=RPC_TIMEOUT)
    try:
        c.start()
        print(f"\nstart: {', '.join(f'{k} {v:.1f} s' for k, v in c.timings.items())}; "
              f"neutron-db-manage {c.server.timings['db_upgrade']:.1f} s")
        print("RSS MiB: " + ", ".join(f"{k} {v:.0f}" for k, v in c.rss_mib().items()))
        yield c
    finally:
        try:
            c.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)


# --- Keystone ---------------------------------------------------------------------

def test_keystone_speaks_identity_v3_only(cloud: Cloud) -> None:
    ks = cloud.keystone
    assert ks is not None
    root = ks.request("GET", "/")
    assert root.status == 300
    assert [v["id"][:3] for v in root.body["versions"]["values"]] == ["v3."]
    assert root.body["versions"]["values"][0]["links"][0]["href"] == ks.auth_url + "/"
    # the v2.0 API (q-agent-cleanup's keystoneclient.v2_0) is gone: plain 404s
    assert ks.request("GET", "/v2.0").status == 404
    v2 = ks.request("POST", "/v2.0/tokens", {"auth": {"tenantName": "services",
                                                      "passwordCredentials": {
                                                          "username": "neutron",
                                                          "password": nse.SERVICE[1]}}})
    assert v2.status == 404


def test_keystone_issues_a_scoped_token_with_the_network_endpoint(cloud: Cloud) -> None:
    ks = cloud.keystone
    assert ks is not None
    user, password, project = nse.SERVICE
    reply = ks.authenticate(user, password, project)
    assert reply.status == 201 and reply.headers["x-subject-token"]
    token = reply.body["token"]
    assert {"audit_ids", "catalog", "expires_at", "issued_at", "methods", "project", "roles",
            "user"} <= set(token)
    assert token["project"]["name"] == "services"
    assert token["project"]["domain"] == {"id": "default", "name": "Default"}
    assert token["user"]["name"] == "neutron"
    assert "admin" in {r["name"] for r in token["roles"]}
    catalog = {s["type"]: s for s in token["catalog"]}
    assert set(catalog) == {"identity", "network"}
    network = catalog["network"]
    assert network["name"] == "neutron"
    assert {(e["interface"], e["url"], e["region"]) for e in network["endpoints"]} == {
        (i, cloud.server.url, nse.REGION) for i in ("public", "internal", "admin")}
    t = nse.Token(reply.headers["x-subject-token"], token)
    assert t.endpoint("network") == cloud.server.url
    assert t.endpoint("identity") == ks.auth_url
    # the admin of the bootstrap has a token too
    assert ks.token(*nse.ADMIN).body["project"]["name"] == "admin"


def test_keystone_refuses_bad_credentials_with_401(cloud: Cloud) -> None:
    ks = cloud.keystone
    assert ks is not None
    user, password, project = nse.SERVICE
    for args in ((user, "wrong", project), ("nobody", password, project),
                 (user, password, "no-such-project")):
        reply = ks.authenticate(*args)
        assert reply.status == 401, args
        assert reply.body == {"error": {"code": 401, "title": "Unauthorized",
                                        "message": UNAUTHORIZED["error"]["message"]}}
        assert reply.headers["www-authenticate"] == f'Keystone uri="{ks.auth_url}"'


# --- neutron-server and tokens ------------------------------------------------------

def test_neutron_answers_versions_without_a_token(cloud: Cloud) -> None:
    s = cloud.server
    reply = s.api("GET", "/", token="")
    assert reply.status == 200
    assert reply.body == {"versions": [{"id": "v2.0", "status": "CURRENT", "links": [
        {"rel": "self", "href": s.url + "/v2.0/"}]}]}
    index = s.api("GET", "/v2.0/")             # the core resources only
    assert index.status == 200
    assert {"networks", "subnets", "ports"} <= {r["collection"] for r in index.body["resources"]}
    extensions = s.call("GET", "/v2.0/extensions")["extensions"]
    assert {"agent", "dhcp_agent_scheduler", "l3_agent_scheduler", "router"} <= {
        e["alias"] for e in extensions}


def test_neutron_refuses_a_missing_invalid_or_revoked_token(cloud: Cloud) -> None:
    s, ks = cloud.server, cloud.keystone
    assert ks is not None
    for token in ("", "garbage"):
        reply = s.api("GET", "/v2.0/agents", token=token)
        assert (reply.status, reply.body) == (401, UNAUTHORIZED), token
        assert reply.headers["www-authenticate"] == f'Keystone uri="{ks.url}"'
    token = ks.token(*nse.SERVICE).id
    assert s.api("GET", "/v2.0/agents", token=token).status == 200
    # revoked (DELETE /v3/auth/tokens): refused at once, nothing caches it
    revoke = nse.http("DELETE", ks.auth_url + "/auth/tokens",
                      headers={"X-Auth-Token": token, "X-Subject-Token": token})
    assert revoke.status == 204
    reply = s.api("GET", "/v2.0/agents", token=token)
    assert (reply.status, reply.body) == (401, UNAUTHORIZED)


def test_neutron_refuses_an_expired_token(cloud: Cloud) -> None:
    s, ks = cloud.server, cloud.keystone
    assert ks is not None
    ks.restart(expiration=2)          # tokens carry their expiry: issue one short-lived
    try:
        short = ks.token(*nse.SERVICE)
    finally:
        ks.restart(expiration=3600)
    expires = datetime.datetime.strptime(short.body["expires_at"][:19], "%Y-%m-%dT%H:%M:%S")
    assert (expires - datetime.datetime.strptime(short.body["issued_at"][:19],
                                                 "%Y-%m-%dT%H:%M:%S")).total_seconds() <= 2
    ne.wait_for(lambda: datetime.datetime.utcnow() > expires + datetime.timedelta(seconds=1),
                30, 0.2)
    reply = s.api("GET", "/v2.0/agents", token=short.id)
    assert (reply.status, reply.body) == (401, UNAUTHORIZED)
    # Keystone itself says 404 for it
    check = nse.http("GET", ks.auth_url + "/auth/tokens",
                     headers={"X-Auth-Token": ks.admin_token().id, "X-Subject-Token": short.id})
    assert check.status == 404 and check.body["error"]["message"] == "Failed to validate token"
    # the harness's own token is renewed as needed
    assert s.api("GET", "/v2.0/agents").status == 200


# --- agents ---------------------------------------------------------------------------

def test_every_agent_of_both_hosts_is_alive(cloud: Cloud) -> None:
    agents = cloud.server.agents()
    assert sorted((a["host"], a["binary"]) for a in agents) == sorted(
        (h, b) for h in ("host-a", "host-b") for b in BINARIES)
    assert all(a["alive"] and a["admin_state_up"] for a in agents)
    by = {(a["host"], a["binary"]): a for a in agents}
    dhcp, l3, l2 = (by["host-a", b] for b in
                    ("neutron-dhcp-agent", "neutron-l3-agent", "neutron-openvswitch-agent"))
    # the fields the tool reads, and their values here
    for agent in (dhcp, l3, l2):
        assert {"id", "agent_type", "binary", "topic", "host", "admin_state_up", "alive",
                "heartbeat_timestamp", "started_at", "created_at", "configurations",
                "availability_zone", "description"} <= set(agent)
    assert (dhcp["agent_type"], dhcp["topic"]) == ("DHCP agent", "dhcp_agent")
    assert (l3["agent_type"], l3["topic"]) == ("L3 agent", "l3_agent")
    assert l2["agent_type"] == "Open vSwitch agent"
    assert dhcp["configurations"]["dhcp_driver"] == "harness_noop_dhcp.NoopDhcp"
    assert l3["configurations"]["agent_mode"] == "legacy"
    # filters, and one agent by id
    only = cloud.server.agents(binary="neutron-dhcp-agent", host="host-b")
    assert [(a["host"], a["binary"]) for a in only] == [("host-b", "neutron-dhcp-agent")]
    one = cloud.server.api("GET", f"/v2.0/agents/{dhcp['id']}")
    assert one.status == 200 and one.body["agent"]["id"] == dhcp["id"]


def test_an_unknown_agent_is_404(cloud: Cloud) -> None:
    s = cloud.server
    for method, path in (("GET", ""), ("DELETE", ""), ("GET", "/dhcp-networks"),
                         ("GET", "/l3-routers")):
        reply = s.api(method, f"/v2.0/agents/{NO_SUCH_ID}{path}")
        assert reply.status == 404, (method, path)
        assert reply.body == {"NeutronError": {
            "type": "AgentNotFound", "message": f"Agent {NO_SUCH_ID} could not be found.",
            "detail": ""}}


# --- scheduling -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def things(cloud: Cloud) -> Dict[str, Dict[str, Any]]:
    """A network with a DHCP subnet and a router, scheduled by the server."""
    net = cloud.network("net-1", "10.51.0.0/24")
    router = cloud.router("router-1")
    return {"network": net, "router": router}


def _agent_of(cloud: Cloud, kind: str, thing_id: str) -> List[Dict[str, Any]]:
    path = (f"/v2.0/networks/{thing_id}/dhcp-agents" if kind == "dhcp"
            else f"/v2.0/routers/{thing_id}/l3-agents")
    return list(cloud.server.call("GET", path)["agents"])


def test_new_networks_and_routers_land_on_one_live_agent(cloud: Cloud, things: Dict) -> None:
    net, router = things["network"]["id"], things["router"]["id"]
    until("the network and router to be scheduled",
          lambda: _agent_of(cloud, "dhcp", net) and _agent_of(cloud, "l3", router), 30, cloud)
    dhcp, = _agent_of(cloud, "dhcp", net)       # dhcp_agents_per_network = 1
    l3, = _agent_of(cloud, "l3", router)
    assert dhcp["alive"] and l3["alive"]
    assert cloud.dhcp_networks(dhcp["id"]) == [net]
    assert cloud.l3_routers(l3["id"]) == [router]
    # the answers' shapes: {"networks": [network...]}, {"routers": [router...]}
    nets = cloud.server.call("GET", f"/v2.0/agents/{dhcp['id']}/dhcp-networks")
    assert list(nets) == ["networks"]
    assert {"id", "name", "subnets", "status", "admin_state_up", "project_id"} <= set(
        nets["networks"][0])
    routers = cloud.server.call("GET", f"/v2.0/agents/{l3['id']}/l3-routers")
    assert list(routers) == ["routers"]
    assert {"id", "name", "status", "admin_state_up", "ha", "distributed",
            "external_gateway_info"} <= set(routers["routers"][0])
    # and the agents themselves were told
    until("the dhcp agent to serve the network",
          lambda: net in cloud.hosts[dhcp["host"]].served_networks(), 30, cloud)
    until("the l3 agent to make the router's namespace",
          lambda: f"qrouter-{router}" in cloud.hosts[l3["host"]].router_namespaces(), 60, cloud)


def test_networks_and_routers_move_between_live_agents(cloud: Cloud, things: Dict) -> None:
    s = cloud.server
    net, router = things["network"]["id"], things["router"]["id"]
    # DHCP: from its agent to the other host's
    old, = _agent_of(cloud, "dhcp", net)
    new = cloud.agent("host-b" if old["host"] == "host-a" else "host-a", "dhcp")
    add = s.api("POST", f"/v2.0/agents/{new['id']}/dhcp-networks", {"network_id": net})
    assert (add.status, add.body) == (201, None)   # body "null"; a second agent is allowed by hand
    assert sorted(a["id"] for a in _agent_of(cloud, "dhcp", net)) == sorted(
        [old["id"], new["id"]])
    again = s.api("POST", f"/v2.0/agents/{new['id']}/dhcp-networks", {"network_id": net})
    assert again.status == 409 and error_type(again) == "NetworkHostedByDHCPAgent"
    drop = s.api("DELETE", f"/v2.0/agents/{old['id']}/dhcp-networks/{net}")
    assert (drop.status, drop.body) == (204, "")
    again = s.api("DELETE", f"/v2.0/agents/{old['id']}/dhcp-networks/{net}")
    assert again.status == 409 and error_type(again) == "NetworkNotHostedByDhcpAgent"
    assert [a["id"] for a in _agent_of(cloud, "dhcp", net)] == [new["id"]]
    until("the network to be served by its new agent only",
          lambda: net in cloud.hosts[new["host"]].served_networks()
          and net not in cloud.hosts[old["host"]].served_networks(), 30, cloud)
    # L3: a legacy router has one agent; it must leave the old one first
    old, = _agent_of(cloud, "l3", router)
    new = cloud.agent("host-b" if old["host"] == "host-a" else "host-a", "l3")
    add = s.api("POST", f"/v2.0/agents/{new['id']}/l3-routers", {"router_id": router})
    assert add.status == 409 and error_type(add) == "RouterHostedByL3Agent"
    drop = s.api("DELETE", f"/v2.0/agents/{old['id']}/l3-routers/{router}")
    assert (drop.status, drop.body) == (204, "")
    add = s.api("POST", f"/v2.0/agents/{new['id']}/l3-routers", {"router_id": router})
    assert (add.status, add.body) == (201, None)
    again = s.api("POST", f"/v2.0/agents/{new['id']}/l3-routers", {"router_id": router})
    assert again.status == 201                    # already there: no error
    assert [a["id"] for a in _agent_of(cloud, "l3", router)] == [new["id"]]
    until("the router's namespace to move",
          lambda: f"qrouter-{router}" in cloud.hosts[new["host"]].router_namespaces()
          and f"qrouter-{router}" not in cloud.hosts[old["host"]].router_namespaces(),
          60, cloud)


def test_wrong_agents_and_unknown_things_are_refused(cloud: Cloud, things: Dict) -> None:
    s = cloud.server
    dhcp, l3 = cloud.agent("host-a", "dhcp"), cloud.agent("host-a", "l3")
    reply = s.api("POST", f"/v2.0/agents/{l3['id']}/dhcp-networks",
                  {"network_id": things["network"]["id"]})
    assert reply.status == 404 and error_type(reply) == "InvalidDHCPAgent"
    reply = s.api("POST", f"/v2.0/agents/{dhcp['id']}/l3-routers",
                  {"router_id": things["router"]["id"]})
    assert reply.status == 404 and error_type(reply) == "InvalidL3Agent"
    reply = s.api("POST", f"/v2.0/agents/{dhcp['id']}/dhcp-networks", {"network_id": NO_SUCH_ID})
    assert reply.status == 404 and error_type(reply) == "NetworkNotFound"
    reply = s.api("DELETE", f"/v2.0/agents/{dhcp['id']}/dhcp-networks/{NO_SUCH_ID}")
    assert reply.status == 409 and error_type(reply) == "NetworkNotHostedByDhcpAgent"
    # a body without network_id is a server error, not a 400
    reply = s.api("POST", f"/v2.0/agents/{dhcp['id']}/dhcp-networks", {})
    assert reply.status == 500


# --- dead agents ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def on_host_a(cloud: Cloud, things: Dict) -> Dict[str, Any]:
    """Two networks and two routers bound to host-a's agents (moved there if the
    scheduler put them elsewhere); host-a's agent ids."""
    s = cloud.server
    a = {k: cloud.agent("host-a", k)["id"] for k in ("dhcp", "l3", "l2")}
    nets = [things["network"]["id"], cloud.network("net-2", "10.52.0.0/24")["id"]]
    routers = [things["router"]["id"], cloud.router("router-2")["id"]]
    until("the new ones to be scheduled", lambda: _agent_of(cloud, "dhcp", nets[1])
          and _agent_of(cloud, "l3", routers[1]), 30, cloud)
    for net in nets:
        for agent in _agent_of(cloud, "dhcp", net):
            if agent["id"] != a["dhcp"]:
                s.call("POST", f"/v2.0/agents/{a['dhcp']}/dhcp-networks", {"network_id": net},
                       expect=(201, 409))
                s.call("DELETE", f"/v2.0/agents/{agent['id']}/dhcp-networks/{net}")
    for router in routers:
        for agent in _agent_of(cloud, "l3", router):
            if agent["id"] != a["l3"]:
                s.call("DELETE", f"/v2.0/agents/{agent['id']}/l3-routers/{router}")
                s.call("POST", f"/v2.0/agents/{a['l3']}/l3-routers", {"router_id": router})
    assert cloud.dhcp_networks(a["dhcp"]) == sorted(nets)
    assert cloud.l3_routers(a["l3"]) == sorted(routers)
    return {"agents": a, "networks": sorted(nets), "routers": sorted(routers)}


def test_killed_agents_turn_dead_and_keep_what_they_host(cloud: Cloud, on_host_a: Dict) -> None:
    host_a = cloud.hosts["host-a"]
    host_a.kill(sig=signal.SIGKILL)
    assert not any(host_a.running(k) for k in host_a.KINDS)
    until("host-a's agents to be dead", lambda: not any(
        alive for (host, _), alive in cloud.alive_map().items() if host == "host-a"),
        3 * AGENT_DOWN_TIME + 30, cloud)
    assert {b: alive for (host, b), alive in cloud.alive_map().items() if host == "host-b"} == {
        b: True for b in BINARIES}
    # automatic failover is off: nothing leaves them, even after the server's
    # own dead limit (2 x agent_down_time) and a few of its periodic checks
    time.sleep(3 * AGENT_DOWN_TIME)
    a = on_host_a["agents"]
    assert cloud.dhcp_networks(a["dhcp"]) == on_host_a["networks"]
    assert cloud.l3_routers(a["l3"]) == on_host_a["routers"]
    for net in on_host_a["networks"]:
        assert [x["id"] for x in _agent_of(cloud, "dhcp", net)] == [a["dhcp"]]
    dead = cloud.server.call("GET", f"/v2.0/agents/{a['dhcp']}")["agent"]
    assert dead["alive"] is False and dead["admin_state_up"] is True


def test_a_network_moves_off_a_dead_dhcp_agent(cloud: Cloud, on_host_a: Dict) -> None:
    s = cloud.server
    dead, live = on_host_a["agents"]["dhcp"], cloud.agent("host-b", "dhcp")["id"]
    net = on_host_a["networks"][0]
    add = s.api("POST", f"/v2.0/agents/{live}/dhcp-networks", {"network_id": net})
    assert add.status == 201
    drop = s.api("DELETE", f"/v2.0/agents/{dead}/dhcp-networks/{net}")
    assert drop.status == 204
    assert [x["id"] for x in _agent_of(cloud, "dhcp", net)] == [live]
    until("host-b's dhcp agent to serve it",
          lambda: net in cloud.hosts["host-b"].served_networks(), 30, cloud)
    # nothing stops a network being given to a dead dhcp agent
    back = s.api("POST", f"/v2.0/agents/{dead}/dhcp-networks", {"network_id": net})
    assert back.status == 201
    s.call("DELETE", f"/v2.0/agents/{dead}/dhcp-networks/{net}")


def test_a_router_moves_off_a_dead_l3_agent(cloud: Cloud, on_host_a: Dict) -> None:
    s = cloud.server
    dead, live = on_host_a["agents"]["l3"], cloud.agent("host-b", "l3")["id"]
    router = on_host_a["routers"][0]
    refused = s.api("POST", f"/v2.0/agents/{live}/l3-routers", {"router_id": router})
    assert refused.status == 409 and error_type(refused) == "RouterHostedByL3Agent"
    assert s.api("DELETE", f"/v2.0/agents/{dead}/l3-routers/{router}").status == 204
    assert _agent_of(cloud, "l3", router) == []
    add = s.api("POST", f"/v2.0/agents/{live}/l3-routers", {"router_id": router})
    assert add.status == 201
    assert [x["id"] for x in _agent_of(cloud, "l3", router)] == [live]
    until("host-b's l3 agent to make its namespace",
          lambda: f"qrouter-{router}" in cloud.hosts["host-b"].router_namespaces(), 60, cloud)


def test_giving_a_router_to_a_dead_l3_agent_blocks_then_fails_but_binds(
        cloud: Cloud, on_host_a: Dict) -> None:
    """The server calls the agent (router_added_to_agent is an RPC call, tried
    twice with a growing timeout); the binding is already written."""
    s = cloud.server
    dead, live = on_host_a["agents"]["l3"], cloud.agent("host-b", "l3")["id"]
    router = on_host_a["routers"][0]           # on host-b since the previous test
    s.call("DELETE", f"/v2.0/agents/{live}/l3-routers/{router}")
    t0 = time.monotonic()
    reply = s.api("POST", f"/v2.0/agents/{dead}/l3-routers", {"router_id": router},
                  timeout=20 * RPC_TIMEOUT + 30)
    print(f"\nPOST l3-routers to a dead agent: {reply.status} after "
          f"{time.monotonic() - t0:.1f} s (rpc_response_timeout {RPC_TIMEOUT} s)")
    assert reply.status == 500 and error_type(reply) == "HTTPInternalServerError"
    assert [x["id"] for x in _agent_of(cloud, "l3", router)] == [dead]
    assert "Failed to execute call. 2 out of 2" in ne.grep(cloud.server.log, "Failed to execute")


def test_deleting_dead_agents_drops_their_bindings(cloud: Cloud, on_host_a: Dict) -> None:
    s = cloud.server
    a = on_host_a["agents"]
    hosted = cloud.dhcp_networks(a["dhcp"]) + cloud.l3_routers(a["l3"])
    assert hosted
    for kind in ("dhcp", "l3", "l2"):
        reply = s.api("DELETE", f"/v2.0/agents/{a[kind]}")
        assert (reply.status, reply.body) == (204, ""), kind
        assert s.api("GET", f"/v2.0/agents/{a[kind]}").status == 404
        assert s.api("DELETE", f"/v2.0/agents/{a[kind]}").status == 404
    assert not any(host == "host-a" for host, _ in cloud.alive_map())
    unhosted = [n for n in on_host_a["networks"] if not _agent_of(cloud, "dhcp", n)]
    assert unhosted == [n for n in on_host_a["networks"] if n in hosted]
    live = cloud.agent("host-b", "l3")["id"]
    for router in on_host_a["routers"]:
        if not _agent_of(cloud, "l3", router):
            assert s.api("POST", f"/v2.0/agents/{live}/l3-routers",
                         {"router_id": router}).status == 201
    live = cloud.agent("host-b", "dhcp")["id"]
    for net in unhosted:
        assert s.api("POST", f"/v2.0/agents/{live}/dhcp-networks",
                     {"network_id": net}).status == 201


def test_a_restarted_host_registers_new_agents(cloud: Cloud, on_host_a: Dict) -> None:
    cloud.hosts["host-a"].start()
    until("host-a's agents to be back", lambda: len(cloud.alive_map()) == 6
          and all(cloud.alive_map().values()), 60, cloud)
    fresh = {k: cloud.agent("host-a", k)["id"] for k in ("dhcp", "l3", "l2")}
    assert not set(fresh.values()) & set(on_host_a["agents"].values())


def test_deleting_a_live_agent_only_renews_its_record(cloud: Cloud) -> None:
    old = cloud.agent("host-a", "l2")["id"]
    assert cloud.server.api("DELETE", f"/v2.0/agents/{old}").status == 204
    until("the agent to report again", lambda: "host-a" in {
        a["host"] for a in cloud.server.agents(binary="neutron-openvswitch-agent")}, 30, cloud)
    assert cloud.agent("host-a", "l2")["id"] != old


def test_the_server_fails_over_by_itself_when_allowed(cloud: Cloud) -> None:
    s = cloud.server
    s.restart(dhcp_failover=True, l3_failover=True)
    try:
        until("every agent alive after the restart", lambda: len(cloud.alive_map()) == 6
              and all(cloud.alive_map().values()), 60, cloud)
        a = {k: cloud.agent("host-a", k)["id"] for k in ("dhcp", "l3")}
        net = cloud.network("net-3", "10.53.0.0/24")["id"]
        router = cloud.router("router-3")["id"]
        until("them to be scheduled", lambda: _agent_of(cloud, "dhcp", net)
              and _agent_of(cloud, "l3", router), 30, cloud)
        for agent in _agent_of(cloud, "dhcp", net):
            if agent["id"] != a["dhcp"]:
                s.call("POST", f"/v2.0/agents/{a['dhcp']}/dhcp-networks", {"network_id": net})
                s.call("DELETE", f"/v2.0/agents/{agent['id']}/dhcp-networks/{net}")
        for agent in _agent_of(cloud, "l3", router):
            if agent["id"] != a["l3"]:
                s.call("DELETE", f"/v2.0/agents/{agent['id']}/l3-routers/{router}")
                s.call("POST", f"/v2.0/agents/{a['l3']}/l3-routers", {"router_id": router})
        cloud.hosts["host-a"].kill()
        b = {k: cloud.agent("host-b", k)["id"] for k in ("dhcp", "l3")}
        until("the server to move them to host-b",
              lambda: [x["id"] for x in _agent_of(cloud, "dhcp", net)] == [b["dhcp"]]
              and [x["id"] for x in _agent_of(cloud, "l3", router)] == [b["l3"]],
              6 * AGENT_DOWN_TIME + 60, cloud)
        assert "Removing network" in ne.grep(s.log, "Removing network")
    finally:
        s.restart(dhcp_failover=False, l3_failover=False)


def test_noauth_mode(cloud: Cloud) -> None:
    s = cloud.server
    s.restart(noauth=True)
    try:
        reply = s.api("GET", "/v2.0/agents", token="")
        assert reply.status == 200 and reply.body["agents"]
    finally:
        s.restart(noauth=False)
    assert s.api("GET", "/v2.0/agents", token="").status == 401


def test_stop_leaves_nothing(cloud: Cloud) -> None:
    pids = [p for part in cloud.pids().values() for p in part]
    assert pids
    ports = [cloud.rabbit.port, cloud.db.port, cloud.server.port]
    assert cloud.keystone is not None
    ports.append(cloud.keystone.port)
    cloud.stop()
    assert not any(ne.alive(p) for p in pids)
    assert all(v == [] for v in cloud.pids().values())
    assert ne.pids_mentioning(cloud.base) == []
    for port in ports:
        assert not ne._connects(port), port
    with open("/proc/self/mounts") as f:
        assert "harness-netns" not in f.read()
    cloud.stop()                       # again: a no-op
