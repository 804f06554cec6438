"""The network part of the seed's cluster configuration, as crm shell text.

The four quantum primitives, their two clones, and every colocation and
order, as Fuel deployed them (/work/shared/reference, "How Fuel Deploys HA"):
same resource ids, ops, params and meta.  Two changes only:

- the provider is ``mirantis`` for all four; the seed's ovs agent says
  ``ocf:pacemaker:quantum-agent-ovs``, a known typo;
- each primitive gets the params that point it at a real neutron on the test
  machine: Debian's ``neutron-*-agent`` binary, the configuration files of
  ``neutron_env.NeutronConf`` in ``conf_dir``, user ``neutron``, and a
  log file under ``conf_dir/log``.

``conf_dir`` is the configuration directory as the agents see it (the same
path on every node, e.g. a per-node bind mount).
"""
import os
from typing import Dict, Mapping, Optional

from neutron_env import AGENTS

OVS = "p_quantum-openvswitch-agent"
METADATA = "p_quantum-metadata-agent"
DHCP = "p_quantum-dhcp-agent"
L3 = "p_quantum-l3-agent"
PRIMITIVES = (DHCP, L3, METADATA, OVS)
CLONES = {OVS: "clone_p_quantum-openvswitch-agent", METADATA: "clone_p_quantum-metadata-agent"}
# primitive -> neutron_env.AGENTS key
KINDS = {OVS: "openvswitch", METADATA: "metadata", DHCP: "dhcp", L3: "l3"}
# primitive -> its agent, ocf:mirantis:<type>
TYPES = {OVS: "quantum-agent-ovs", METADATA: "quantum-agent-metadata", DHCP: "quantum-agent-dhcp",
         L3: "quantum-agent-l3"}
# the name of the second --config-file parameter
SECOND_CONFIG = {OVS: "plugin_config", METADATA: "agent_config", DHCP: "plugin_config",
                 L3: "plugin_config"}

# The seed's text, with {DHCP}... standing for the params added per primitive.
SEED = """primitive p_quantum-dhcp-agent ocf:mirantis:quantum-agent-dhcp \\
    op monitor interval="20" timeout="30" \\
    op start interval="0" timeout="360" \\
    op stop interval="0" timeout="360" \\
    params tenant="services" password="quantum" username="quantum" \\
    os_auth_url="http://10.107.2.254:35357/v2.0" \\
    {p_quantum-dhcp-agent} \\
    meta is-managed="true"
primitive p_quantum-l3-agent ocf:mirantis:quantum-agent-l3 \\
    op monitor interval="20" timeout="30" \\
    op start interval="0" timeout="360" \\
    op stop interval="0" timeout="360" \\
    params tenant="services" password="quantum" syslog="true" username="quantum" \\
    debug="true" os_auth_url="http://10.107.2.254:35357/v2.0" \\
    {p_quantum-l3-agent} \\
    meta is-managed="true" target-role="Started"
primitive p_quantum-metadata-agent ocf:mirantis:quantum-agent-metadata \\
    op monitor interval="60" timeout="30" \\
    op start interval="0" timeout="30" \\
    op stop interval="0" timeout="30" \\
    params {p_quantum-metadata-agent}
primitive p_quantum-openvswitch-agent ocf:mirantis:quantum-agent-ovs \\
    op monitor interval="20" timeout="30" \\
    op start interval="0" timeout="480" \\
    op stop interval="0" timeout="480" \\
    params {p_quantum-openvswitch-agent}
clone clone_p_quantum-metadata-agent p_quantum-metadata-agent \\
    meta interleave="true" is-managed="true"
clone clone_p_quantum-openvswitch-agent p_quantum-openvswitch-agent \\
    meta interleave="true"
colocation dhcp-with-metadata inf: p_quantum-dhcp-agent \\
    clone_p_quantum-metadata-agent
colocation dhcp-with-ovs inf: p_quantum-dhcp-agent \\
    clone_p_quantum-openvswitch-agent
colocation dhcp-without-l3 -100: p_quantum-dhcp-agent p_quantum-l3-agent
colocation l3-with-metadata inf: p_quantum-l3-agent clone_p_quantum-metadata-agent
colocation l3-with-ovs inf: p_quantum-l3-agent clone_p_quantum-openvswitch-agent
order dhcp-after-metadata inf: clone_p_quantum-metadata-agent p_quantum-dhcp-agent
order dhcp-after-ovs inf: clone_p_quantum-openvswitch-agent p_quantum-dhcp-agent
order l3-after-metadata inf: clone_p_quantum-metadata-agent p_quantum-l3-agent
order l3-after-ovs inf: clone_p_quantum-openvswitch-agent p_quantum-l3-agent
"""


def binary(rsc: str) -> str:
    """The neutron program a primitive runs (a name, looked up on PATH)."""
    return os.path.basename(AGENTS[KINDS[rsc]][0])


def agent_params(conf_dir: str, user: str = "neutron") -> Dict[str, Dict[str, str]]:
    """primitive id -> the params added to the seed's, for NeutronConf files in conf_dir."""
    return {rsc: {"binary": binary(rsc),
                  "config": os.path.join(conf_dir, "neutron.conf"),
                  SECOND_CONFIG[rsc]: os.path.join(conf_dir, AGENTS[KINDS[rsc]][1]),
                  "user": user,
                  "log_file": os.path.join(conf_dir, "log", binary(rsc) + ".out")}
            for rsc in PRIMITIVES}


def network_crm(conf_dir: str, user: str = "neutron",
                extra: Optional[Mapping[str, Mapping[str, str]]] = None) -> str:
    """The seed's network configuration, for `crm configure load update`.

    ``extra``: more params per primitive id (e.g. ``{DHCP: {"amqp_check": "true"}}``);
    they override the added ones, not the seed's own.
    """
    params = agent_params(conf_dir, user)
    for rsc, more in (extra or {}).items():
        params[rsc].update(more)
    for rsc, values in params.items():
        for name, value in values.items():
            if any(c in value for c in '"\\\n') or not value:
                raise ValueError(f"{rsc}: {name}={value!r} cannot be written as crm text")
    return SEED.format_map({rsc: " \\\n    ".join(f'{k}="{v}"' for k, v in values.items())
                            for rsc, values in params.items()})
