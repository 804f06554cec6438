"""Fixtures for tests against a real single-node corosync + pacemaker cluster.

The cluster is started with tools/pcmk-single.sh (private mount namespace,
clean environment, no systemd needed) once per test session and stopped at
the end, even when tests fail.  If a cluster is already running on the host
(a tools/pcmk-single.sh started by hand), the tests error out instead of
reconfiguring and then stopping someone else's cluster: stop it first
(tools/pcmk-single.sh stop).  `make demo` runs the 3-node cluster in network
namespaces that the namespace tests (tests/cluster/netns.py) use too: stop
it with `make demo-stop` before running the cluster tier.

The agent under test is installed with `make -C <repo> install` (DESTDIR
empty, so into /usr/lib/ocf).  Set MIRANTIS_OCF_NO_INSTALL=1 to test an
agent that is already installed (e.g. from the Debian package).

These tests need root and the cluster packages (`make check` installs them);
without them they fail, never skip: CI must not pass on a test it did not run.
"""

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from netns import NetnsCluster

REPO = Path(__file__).resolve().parents[2]
PCMK_SINGLE = REPO / "tools" / "pcmk-single.sh"
OCF_ROOT = Path("/usr/lib/ocf")
REQUIRED_TOOLS = ("corosync", "pacemakerd", "crm_mon", "cibadmin",
                  "crm_resource", "crm", "unshare", "setsid", "flock")

# Start waits up to 90s for the node to come online; stop lets pacemaker
# stop every resource first (up to 120s) before corosync goes.
START_TIMEOUT = 200
STOP_TIMEOUT = 300


def _tool_env():
    # CIB_file / CIB_user etc. in the caller's environment would point the
    # pacemaker tools at a file or a remote CIB instead of our cluster.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIB_")}
    env["LC_ALL"] = "C"
    return env


def run(cmd, check=True, timeout=60):
    """Run cmd (a list), capture text output; raise with details if check."""
    cmd = [str(c) for c in cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          timeout=timeout, env=_tool_env(), check=False)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{cmd!r} exited {proc.returncode}\n"
            f"--- stdout:\n{proc.stdout}\n--- stderr:\n{proc.stderr}")
    return proc


# one polling helper for both harnesses (a predicate may return (ok, details))
wait_for = NetnsCluster.wait_for


class Cluster:
    """Thin helpers around the pacemaker CLI for the running test cluster."""

    # also reachable through the fixture, so test modules need not import
    # conftest (a module name every test directory may have)
    run = staticmethod(run)
    wait_for = staticmethod(wait_for)

    def __init__(self, node):
        self.node = node

    def mon(self):
        """crm_mon's XML status as an ElementTree element."""
        out = run(["crm_mon", "-1", "--output-as=xml"]).stdout
        return ET.fromstring(out)

    def failures_text(self, mon=None):
        """Failed actions from crm_mon, for assertion messages."""
        mon = self.mon() if mon is None else mon
        return [dict(f.attrib) for f in mon.iter("failure")] or "no failed actions"

    def instances(self, clone_id, rsc_id, mon=None):
        """[(role, [nodes], element)] of the clone's instances of rsc_id.

        Anonymous clone instances show up as id="p" (unique ones as "p:0").
        """
        mon = self.mon() if mon is None else mon
        found = []
        for clone in mon.iter("clone"):
            if clone.get("id") != clone_id:
                continue
            for res in clone.iter("resource"):
                if res.get("id", "").split(":")[0] != rsc_id:
                    continue
                nodes = [n.get("name") for n in res.findall("node")]
                found.append((res.get("role"), nodes, res))
        return found

    def started_on_node(self, clone_id, rsc_id, mon=None):
        """(True, element) if an instance is Started, active, not failed here."""
        mon = self.mon() if mon is None else mon
        insts = self.instances(clone_id, rsc_id, mon)
        for role, nodes, res in insts:
            if (role == "Started" and self.node in nodes
                    and res.get("active") == "true"
                    and res.get("failed") == "false"):
                return True, res
        return False, f"instances={[(r, n) for r, n, _ in insts]} " \
                      f"failures={self.failures_text(mon)}"

    def failure_record(self, rsc_id, mon=None):
        """Evidence in crm_mon that rsc_id failed on this node, or None.

        Either a fail-count in the node history or a failed op in <failures>.
        """
        mon = self.mon() if mon is None else mon
        evidence = {}
        for node in mon.iter("node"):
            if node.get("name") != self.node:
                continue
            for hist in node.iter("resource_history"):
                if hist.get("id", "").split(":")[0] == rsc_id \
                        and int(hist.get("fail-count", "0") or 0) > 0:
                    evidence["fail-count"] = int(hist.get("fail-count"))
        ops = [f.get("op_key") for f in mon.iter("failure")
               if f.get("op_key", "").startswith(rsc_id + "_")
               and f.get("node") == self.node]
        if ops:
            evidence["failed_ops"] = ops
        return evidence or None

    def load_crm(self, text, path):
        """Load crm shell syntax with `crm configure load update`."""
        path = Path(path)
        path.write_text(text)
        run(["crm", "configure", "load", "update", path])

    def delete_resource(self, rsc_id, tag, timeout=90):
        """Stop rsc_id, wait until stopped, remove it and its history.

        crmsh refuses to delete a running resource, and deleting it running
        would leave the stop to the orphan handling: stop it explicitly.
        """
        present = run(["cibadmin", "-Q", "--xpath",
                       f"//{tag}[@id='{rsc_id}']"], check=False)
        if present.returncode != 0:
            return
        run(["crm_resource", "-r", rsc_id, "--meta", "-p", "target-role",
             "-v", "Stopped"])

        def stopped():
            mon = self.mon()
            active = []
            for el in mon.iter():
                if el.get("id") != rsc_id:
                    continue
                rscs = [el] if el.tag == "resource" else el.iter("resource")
                active += [r.get("id") for r in rscs if r.get("active") == "true"]
            return (not active, f"still active: {active}")

        wait_for(stopped, timeout, f"{rsc_id} to stop")
        run(["cibadmin", "--delete", "-o", "resources", "--xml-text",
             f"<{tag} id='{rsc_id}'/>"])
        # drop the orphaned operation history, so a later test starts clean
        run(["crm_resource", "--cleanup"], check=False)


def _missing_prerequisite():
    if os.geteuid() != 0:
        return "cluster tests need root (they start corosync + pacemaker)"
    missing = [t for t in REQUIRED_TOOLS if shutil.which(t) is None]
    if missing:
        return f"cluster tools not installed: {' '.join(missing)}"
    return None


@pytest.fixture(scope="session")
def pcmk_cluster():
    """A running single-node cluster; yields a Cluster helper."""
    reason = _missing_prerequisite()
    if reason:
        pytest.fail(reason)
    # pcmk-single.sh status: 0 running, 3 not running; and any cluster
    # answering crm_mon, whichever state dir it came from
    if (run([PCMK_SINGLE, "status"], check=False).returncode != 3
            or run(["crm_mon", "-1"], check=False).returncode == 0):
        pytest.fail("a pacemaker cluster is already running on this host "
                    "(tools/pcmk-single.sh start?); stop it first: tools/pcmk-single.sh stop")
    try:
        start = run([PCMK_SINGLE, "start"], check=False, timeout=START_TIMEOUT)
        if start.returncode != 0:
            pytest.fail(f"tools/pcmk-single.sh start failed "
                        f"(rc {start.returncode}):\n{start.stdout}{start.stderr}")
        yield Cluster(os.uname().nodename)
    finally:
        stop = run([PCMK_SINGLE, "stop"], check=False, timeout=STOP_TIMEOUT)
        if stop.returncode != 0:
            raise AssertionError(
                f"tools/pcmk-single.sh stop failed (rc {stop.returncode}):"
                f"\n{stop.stdout}{stop.stderr}")


@pytest.fixture(scope="session")
def installed_agent():
    """Path of the installed ocf:mirantis:haproxy agent."""
    reason = _missing_prerequisite()
    if reason:
        pytest.fail(reason)
    if os.environ.get("MIRANTIS_OCF_NO_INSTALL") != "1":
        run(["make", "-C", REPO, "install", "DESTDIR="], timeout=120)
    agent = OCF_ROOT / "resource.d" / "mirantis" / "haproxy"
    assert os.access(agent, os.X_OK), f"{agent} missing or not executable"
    # what pacemaker itself will ask first; a broken install fails here,
    # with a clearer message than a resource that never starts
    meta = run(["crm_resource", "--show-metadata", "ocf:mirantis:haproxy"])
    assert "<resource-agent" in meta.stdout
    return agent
