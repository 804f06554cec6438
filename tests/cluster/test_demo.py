"""`make demo`, `make demo-failover`, `make demo-powerloss` and `make
demo-stop`, run as the README tells an operator to run them: each exits 0
and prints what it promises; the client through the VIP answers between
them; stop leaves no namespace, no node daemon and no demo file.

The demo's scenarios are the seed cluster test's (tests/cluster/seed_full.py
drives both); this module checks the operator's commands themselves.
"""
import os
import re
import subprocess
from typing import Iterator

import pytest

pytestmark = pytest.mark.cluster

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO_DIR = "/var/tmp/mirantis-ocf/demo-seed"


def make(target: str, timeout: float) -> str:
    proc = subprocess.run(["make", "-s", "-C", REPO, target], capture_output=True, text=True,
                          timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"make {target}: rc {proc.returncode}\n{out[-3000:]}"
    assert "Traceback" not in out, out[-3000:]
    return out


def demo_mysql(statement: str) -> str:
    proc = subprocess.run([os.path.join(REPO, "tools", "demo.sh"), "mysql", "-N", "-B", "-e",
                           statement], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.strip()


def namespaces() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def demo() -> Iterator[None]:
    assert "mocf-" not in namespaces(), "a namespace cluster is already running"
    try:
        yield
    finally:
        subprocess.run(["make", "-s", "-C", REPO, "demo-stop"], capture_output=True, timeout=600)


def test_a_make_demo_starts_everything_and_says_how_to_connect(demo: None) -> None:
    out = make("demo", 900)
    assert re.search(r"up: \d+s in all, \d+s from the configuration's load to all Started "
                     r"and MySQL answering", out), out[-3000:]
    assert "10.211.0.254:3306" in out and "make demo-stop" in out
    with open(os.path.join(DEMO_DIR, "client.cnf")) as f:
        password = re.search(r"^password=(.+)$", f.read(), re.M).group(1)   # type: ignore[union-attr]
    assert password not in out                   # it stays in the 0600 file
    assert os.stat(os.path.join(DEMO_DIR, "client.cnf")).st_mode & 0o077 == 0
    assert demo_mysql("SELECT 1") == "1"


def test_b_make_demo_failover_moves_the_vips_dhcp_and_l3(demo: None) -> None:
    out = make("demo-failover", 900)
    for what in ("vip_mgmt Started on", "vip_public Started on", "dhcp Started on",
                 "l3 Started on", "the same client reconnected"):
        assert what in out, out[-3000:]
    assert re.search(r"failover done in \d+\.\ds", out), out[-3000:]
    assert demo_mysql("SELECT 1") == "1"


def test_c_make_demo_powerloss_reassembles_galera(demo: None) -> None:
    out = make("demo-powerloss", 900)
    assert re.search(r"3 Synced in one Primary Component [\d.]+s after power-on", out), out[-3000:]
    assert "bootstrapping" in out and "everything Started" in out
    counts = re.search(r"demo.events has (\d+) rows \(had (\d+)\)", out)
    assert counts and counts.group(1) == counts.group(2), out[-3000:]


def test_d_make_demo_stop_leaves_nothing(demo: None) -> None:
    out = make("demo-stop", 600)
    assert "demo stopped" in out and "with errors" not in out
    assert "mocf-" not in namespaces()
    assert not os.path.exists(DEMO_DIR)
