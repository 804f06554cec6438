"""Agent tier: each agent as a subprocess, with a bare environment, against its real daemon."""
import os
import subprocess
import tempfile
from typing import Iterator

import pytest

from support import INSTALLED, ROOT


@pytest.fixture(scope="session", autouse=True)
def installed() -> None:
    """The agents as Pacemaker finds them: `make install` into the real OCF root."""
    subprocess.run(["make", "-s", "-C", ROOT, "install"], check=True, capture_output=True)
    assert os.access(os.path.join(INSTALLED, "haproxy"), os.X_OK)


@pytest.fixture
def workdir() -> Iterator[str]:
    """A scratch dir that `nobody` can traverse (pytest's tmp_path is 0700)."""
    path = tempfile.mkdtemp(prefix="mirantis-ocf-", dir="/tmp")
    os.chmod(path, 0o755)
    yield path
    subprocess.run(["rm", "-rf", path], check=False)


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    """A real single-node Pacemaker for one test module (tools/pcmk-single.sh, a
    state dir of its own): the mysql agent publishes node attributes, claims
    and promotion scores in its CIB."""
    env = dict(os.environ, PCMK_STATE="/var/tmp/mirantis-ocf/agent-tier")
    pcmk = os.path.join(ROOT, "tools", "pcmk-single.sh")
    started = subprocess.run([pcmk, "start"], env=env, capture_output=True, text=True, timeout=200)
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield
    finally:
        subprocess.run([pcmk, "stop"], env=env, capture_output=True, timeout=300)
