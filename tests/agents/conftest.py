"""Agent tier: each agent as a subprocess, with a bare environment, against its real daemon."""
import os
import socket
import subprocess
import tempfile
from typing import Dict, Iterator, List, Tuple

import pytest

from support import INSTALLED, ROOT


@pytest.fixture(scope="session", autouse=True)
def installed() -> None:
    """The agents as Pacemaker finds them: `make install` into the real OCF root."""
    subprocess.run(["make", "-s", "-C", ROOT, "install"], check=True, capture_output=True)
    assert os.access(os.path.join(INSTALLED, "haproxy"), os.X_OK)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def workdir() -> Iterator[str]:
    """A scratch dir that `nobody` can traverse (pytest's tmp_path is 0700)."""
    path = tempfile.mkdtemp(prefix="mirantis-ocf-", dir="/tmp")
    os.chmod(path, 0o755)
    yield path
    subprocess.run(["rm", "-rf", path], check=False)


def reason_of(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.startswith("ocf-exit-reason:")]
    return lines[-1][len("ocf-exit-reason:"):] if lines else ""


def call(agent: str, action: str, env: Dict[str, str], timeout: float = 60) -> Tuple[int, str, str]:
    """Run an agent exactly as pacemaker-execd does: argv[1] is the action, env is all it gets."""
    proc = subprocess.run([agent, action], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd="/", stdin=subprocess.DEVNULL)
    return proc.returncode, proc.stdout, proc.stderr


def pids_of(pattern: str) -> List[int]:
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]
