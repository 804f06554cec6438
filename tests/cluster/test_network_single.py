"""The seed's network agents on the single-node cluster, with real daemons.

The seed's four quantum primitives, their two clones and every colocation
and order (tests/cluster/seed_network.py), in crm syntax with provider
mirantis, reach Started under a real Pacemaker, each running the real
Debian neutron agent against a real RabbitMQ and Open vSwitch.  Pacemaker
restarts the dhcp agent after kill -9 of its daemon.
"""
import os
import signal
import subprocess
from typing import Dict, List

import pytest

import neutron_env as ne
import seed_network as seed

START_DEADLINE = 240
CONSTRAINTS = {"rsc_colocation": ("dhcp-with-metadata", "dhcp-with-ovs", "dhcp-without-l3",
                                  "l3-with-metadata", "l3-with-ovs"),
               "rsc_order": ("dhcp-after-metadata", "dhcp-after-ovs", "l3-after-metadata",
                             "l3-after-ovs")}


def running(binary: str) -> list:
    """Pids of a neutron agent (it retitles itself: "neutron-x (python3 /usr/bin/neutron-x ...)")."""
    # this network namespace only: the 3-node cluster's nodes run their own
    out = subprocess.run(["pgrep", "--ns", str(os.getpid()), "--nslist", "net", "-f",
                          f"python3 /usr/bin/{binary} "], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def all_started(cluster) -> tuple:  # type: ignore[no-untyped-def]
    mon = cluster.mon()
    state = {}
    for rsc in seed.PRIMITIVES:
        if rsc in seed.CLONES:
            state[rsc] = cluster.started_on_node(seed.CLONES[rsc], rsc, mon)[0]
        else:
            state[rsc] = any(r.get("id") == rsc and r.get("role") == "Started"
                             and r.get("failed") == "false" for r in mon.iter("resource"))
    return all(state.values()), {"started": state, "failures": cluster.failures_text(mon)}


@pytest.fixture(scope="module")
def network(pcmk_cluster, installed_agent):  # type: ignore[no-untyped-def]
    with ne.agents_world("mirantis-ocf-seednet-") as w:
        left: Dict[str, List[int]] = {}
        try:
            extra = {rsc: {"amqp_server_port": str(w.rabbit.port)} for rsc in seed.PRIMITIVES}
            pcmk_cluster.load_crm(seed.network_crm(w.conf.dir, extra=extra),
                                  os.path.join(w.dir, "network.crm"))
            pcmk_cluster.wait_for(lambda: all_started(pcmk_cluster), START_DEADLINE,
                                  "the seed's network agents to be Started")
            yield w
        finally:
            for tag, ids in CONSTRAINTS.items():
                for cid in ids:
                    pcmk_cluster.run(["cibadmin", "--delete", "-o", "constraints", "--xml-text",
                                      f"<{tag} id='{cid}'/>"], check=False)
            for rsc in (seed.DHCP, seed.L3):
                pcmk_cluster.delete_resource(rsc, "primitive")
            for rsc in (seed.METADATA, seed.OVS):
                pcmk_cluster.delete_resource(seed.CLONES[rsc], "clone")
            left = {b: running(b) for b in ("neutron-dhcp-agent", "neutron-l3-agent",
                                            "neutron-metadata-agent", "neutron-openvswitch-agent")}
            for pids in left.values():
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
    assert not any(left.values()), f"the resources' stop left daemons behind: {left}"


def test_the_seeds_network_agents_are_started_with_real_daemons(pcmk_cluster, network) -> None:  # type: ignore[no-untyped-def]
    ok, state = all_started(pcmk_cluster)
    assert ok, state
    mon = pcmk_cluster.mon()
    agents = {r.get("id"): r.get("resource_agent") for r in mon.iter("resource")}
    for rsc, kind in seed.TYPES.items():
        assert agents[rsc] == f"ocf:mirantis:{kind}"
    for binary in ("neutron-dhcp-agent", "neutron-l3-agent", "neutron-metadata-agent",
                   "neutron-openvswitch-agent"):
        assert len(running(binary)) >= 1, binary
    # they talk to the broker: RabbitMQ lists their connections
    pcmk_cluster.wait_for(lambda: len(network.rabbit.connections()) >= 4, 60,
                          "the agents' AMQP connections")


def test_pacemaker_restarts_a_killed_dhcp_agent(pcmk_cluster, network) -> None:  # type: ignore[no-untyped-def]
    (old,) = running("neutron-dhcp-agent")
    os.kill(old, signal.SIGKILL)

    def restarted():  # type: ignore[no-untyped-def]
        now = running("neutron-dhcp-agent")
        ok, state = all_started(pcmk_cluster)
        return ok and len(now) == 1 and now[0] != old, {"pids": now, **state}

    pcmk_cluster.wait_for(restarted, 120, "Pacemaker to restart the dhcp agent")
    mon = pcmk_cluster.mon()
    assert any(f.get("op_key", "").startswith(seed.DHCP + "_monitor") for f in mon.iter("failure")), \
        "the monitor should have noticed the kill"
