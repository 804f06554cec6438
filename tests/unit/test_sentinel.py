"""mirantis_ocf.sentinel: the watch on a server between two monitors.

The cluster tier (test_replication_cluster.py, and the failover bench) has
the sentinel report a real kill -9 to a real Pacemaker.  Here: that it
waits on the process itself, and when it stays silent."""
import subprocess
import sys

import pytest

from mirantis_ocf.sentinel import unmanaged, wait_for_exit
from mirantis_ocf.system import CommandResult, System

pytestmark = pytest.mark.unit

CRM_MON = """<pacemaker-result api-version="2.25" request="crm_mon -1 --output-as=xml">
  <summary><cluster_options stonith-enabled="false" maintenance-mode="{cluster}"/></summary>
  <nodes>
    <node name="node1" id="1" online="true" maintenance="{node}"/>
    <node name="node2" id="2" online="true" maintenance="false"/>
  </nodes>
  <resources>
    <clone id="ms_mysql" multi_state="true" unique="false" managed="{managed}">
      <resource id="p_mysql" resource_agent="ocf:mirantis:mysql" role="Promoted"
                active="true" managed="{managed}"><node name="node1" id="1"/></resource>
      <resource id="p_mysql" resource_agent="ocf:mirantis:mysql" role="Unpromoted"
                active="true" managed="true"><node name="node2" id="2"/></resource>
    </clone>
  </resources>
</pacemaker-result>"""


class Cib(System):
    """crm_mon's answer is given: a cluster in maintenance cannot be made
    here without one running (the cluster tier has one)."""

    def __init__(self, rc: int = 0, **state: str) -> None:
        super().__init__()
        fields = dict(cluster="false", node="false", managed="true")
        fields.update(state)
        self.answer = CommandResult(("crm_mon",), rc, CRM_MON.format(**fields), "")

    def run(self, argv, timeout, env=None, input_text=None, detach=False):  # type: ignore[no-untyped-def]
        assert argv[0] == "crm_mon"
        return self.answer


def test_a_failure_is_reported_only_where_pacemaker_would_act_on_a_monitor() -> None:
    assert unmanaged(Cib(), "p_mysql", "node1") is None
    assert unmanaged(Cib(cluster="true"), "p_mysql", "node1") == \
        "the cluster is in maintenance mode"
    assert unmanaged(Cib(node="true"), "p_mysql", "node1") == "node node1 is in maintenance"
    assert unmanaged(Cib(managed="false"), "p_mysql", "node1") == \
        "p_mysql is unmanaged on node1"
    assert unmanaged(Cib(managed="false"), "p_mysql", "node2") is None   # managed there
    assert unmanaged(Cib(rc=102), "p_mysql", "node1") is None            # cannot ask


def test_it_waits_for_the_process_itself_never_for_a_pid_reused() -> None:
    system = System()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])
    info = system.process(child.pid)
    assert info is not None
    assert wait_for_exit(system, child.pid, info.start_time)
    assert system.process(child.pid).state == "Z"      # it returned once the child exited
    child.wait()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        info = system.process(other.pid)
        assert info is not None
        assert not wait_for_exit(system, other.pid, info.start_time + 1)   # not that one
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()
    assert not wait_for_exit(system, other.pid, info.start_time)           # gone
