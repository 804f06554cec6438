"""ocf-tester's contract, run in-process over every agent.

The same sequence that /usr/sbin/ocf-tester runs (see
reference/ocf-standards.md §3.1), against each agent's recording fake host:
the unit tier has no root and no daemons.  The agent tier runs the real
ocf-tester against the real daemons.
"""
import io
import os
import xml.etree.ElementTree as ET
from typing import Callable, Dict, Tuple

import pytest

from fakehost import FakeHost, haproxy_host, mysql_host, network_host
from support import agent_names, load_agent
from mirantis_ocf.codes import ExitCode
from mirantis_ocf.runner import run

# Each agent: its class name, a fake host that plays its daemon, and the
# parameters ocf-tester would be given with -o.
WORLDS: Dict[str, Tuple[str, Callable[[], FakeHost], Dict[str, str]]] = {
    "haproxy": ("HAProxy", haproxy_host, {"pidfile": "/run/haproxy/test.pid"}),
    "mysql": ("MySQL", mysql_host, {"test_passwd": "s3cret"}),
}
for _kind, _cls in (("ovs", "OVSAgent"), ("dhcp", "DHCPAgent"), ("l3", "L3Agent"),
                    ("metadata", "MetadataAgent")):
    for _flavour in ("quantum", "neutron"):
        _name = f"{_flavour}-agent-{_kind}"
        WORLDS[_name] = (_cls, lambda name=_name: network_host(name), {})


def test_every_agent_has_a_world() -> None:
    assert sorted(WORLDS) == agent_names()


class OcfTester:
    def __init__(self, name: str) -> None:
        cls_name, make_host, params = WORLDS[name]
        self.cls = getattr(load_agent(name), cls_name)
        if hasattr(self.cls, "for_file"):        # an agent with a Neutron alias
            self.cls = self.cls.for_file(name)
        self.host = make_host()
        self.env = {"OCF_ROOT": "/usr/lib/ocf", "OCF_RESOURCE_INSTANCE": "conformance",
                    "OCF_RESKEY_CRM_meta_timeout": "20000"}
        self.env.update({"OCF_RESKEY_" + k: v for k, v in params.items()})

    def __call__(self, action: str, interval: str = "10000") -> ExitCode:
        env = dict(self.env, OCF_RESKEY_CRM_meta_interval=interval, __OCF_ACTION=action)
        out, err = io.StringIO(), io.StringIO()
        code = run(self.cls, [self.cls.name, action], env, system=self.host, stdout=out, stderr=err)
        assert "Traceback" not in err.getvalue()
        if action != "meta-data":
            assert out.getvalue() == "", f"{action} wrote to stdout"
        return code


@pytest.mark.parametrize("name", agent_names())
def test_ocf_tester_sequence(name: str) -> None:
    t = OcfTester(name)
    assert t("meta-data") == 0
    assert t("validate-all") == 0
    assert t("monitor") == ExitCode.NOT_RUNNING
    assert t("monitor", interval="0") in (ExitCode.NOT_RUNNING, ExitCode.ERR_INSTALLED)
    assert t("start") == 0
    assert t("monitor") == 0
    assert t("monitor", interval="0") == 0
    advertised = t.cls.action_names()
    if "notify" in advertised:
        assert t("notify") == 0
    else:
        assert t("notify") == ExitCode.ERR_UNIMPLEMENTED
    if "promote" not in advertised:
        assert t("demote") == ExitCode.ERR_UNIMPLEMENTED
    assert t("stop") == 0
    assert t("monitor") == ExitCode.NOT_RUNNING
    assert t("start") == 0
    assert t("monitor") == 0
    assert t("start") == 0          # double start
    assert t("monitor") == 0
    assert t("stop") == 0
    assert t("monitor") == ExitCode.NOT_RUNNING
    assert t("stop") == 0           # double stop
    assert t("monitor") == ExitCode.NOT_RUNNING
    assert t.host.procs == {}       # nothing left behind


@pytest.mark.parametrize("name", agent_names())
def test_probe_without_the_software_is_not_running(name: str) -> None:
    t = OcfTester(name)
    t.host.executables.clear()
    assert t("monitor", interval="0") in (ExitCode.NOT_RUNNING, ExitCode.ERR_INSTALLED)
    assert t("stop") == 0


@pytest.mark.parametrize("name", agent_names())
def test_validate_all_at_level_0_needs_no_software(name: str) -> None:
    t = OcfTester(name)
    t.host.executables.clear()
    t.host.files.clear()
    assert t("validate-all") == 0
    assert t.host.commands == []


@pytest.mark.parametrize("name", agent_names())
def test_advertised_timeouts_are_at_least_the_guide_minimum(name: str) -> None:
    cls = OcfTester(name).cls
    root = ET.fromstring(cls.metadata().split("\n", 2)[2])
    for action in root.iter("action"):
        if action.get("name") != "meta-data":
            assert int(action.get("timeout").rstrip("s")) >= 10, action.attrib
