"""The host facade's file handling, on real files in a temporary directory.

Root opens and chowns the daemons' log files in directories those daemons'
users may own (/var/log/neutron is neutron's): a link planted there must
never make root write to, or give away, another file.
"""
import os

import pytest

from mirantis_ocf.system import System, open_log


@pytest.fixture
def target(tmp_path: "os.PathLike[str]") -> str:
    path = os.path.join(str(tmp_path), "shadow")
    with open(path, "w") as f:
        f.write("root:secret\n")
    os.chmod(path, 0o600)
    return path


def test_a_symbolic_link_is_never_followed(tmp_path: "os.PathLike[str]", target: str) -> None:
    log = os.path.join(str(tmp_path), "dhcp-agent.log")
    os.symlink(target, log)
    before = os.stat(target)
    with pytest.raises(OSError) as raised:
        System().ensure_file(log, 65534, 65534)
    assert "symbolic link" in str(raised.value.strerror)
    with pytest.raises(OSError):
        System().spawn(["/bin/true"], log_path=log)
    after = os.stat(target)
    assert (after.st_uid, after.st_gid, after.st_size) == (before.st_uid, before.st_gid, before.st_size)


def test_a_second_hard_link_is_refused(tmp_path: "os.PathLike[str]", target: str) -> None:
    log = os.path.join(str(tmp_path), "l3-agent.log")
    os.link(target, log)
    with pytest.raises(OSError) as raised:
        open_log(log)
    assert "hard links" in str(raised.value.strerror)
    assert os.stat(target).st_size == len("root:secret\n")


def test_a_plain_log_is_created_and_given_to_the_daemons_user(tmp_path: "os.PathLike[str]") -> None:
    log = os.path.join(str(tmp_path), "new.log")
    uid = 65534 if os.geteuid() == 0 else os.geteuid()
    System().ensure_file(log, uid, os.getegid())
    st = os.stat(log)
    assert st.st_uid == uid and st.st_mode & 0o777 == 0o640
    System().ensure_file(log, uid, os.getegid())      # again: an existing plain file is fine


def test_call_gives_the_exit_status_and_bounds_the_wait() -> None:
    system = System()
    assert system.call(["true"], 5) == 0
    assert system.call(["false"], 5) == 1
    assert system.call(["sleep", "30"], 0.2) is None          # killed past its timeout
    assert system.call(["no-such-program-here"], 5) is None


def test_the_monitors_flag_costs_no_subprocess_import() -> None:
    """System.call runs attrd_updater without importing subprocess (the
    monitor's path stays light)."""
    import subprocess as sp
    import sys
    code = ("import sys; sys.path.insert(0, %r); from mirantis_ocf.system import System; "
            "System().call(['true'], 5); print('subprocess' in sys.modules)") % (
        os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
    out = sp.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_call_without_waiting_returns_at_once(tmp_path: "os.PathLike[str]") -> None:
    import time
    mark = os.path.join(str(tmp_path), "done")
    began = time.monotonic()
    assert System().call(["sh", "-c", f"sleep 0.3; touch {mark}"], 5, wait=False) == 0
    assert not os.path.exists(mark)            # it was not waited for
    deadline = began + 10
    while not os.path.exists(mark) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os.path.exists(mark)                # and it ran to its end
