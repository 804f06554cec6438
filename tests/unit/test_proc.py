"""Process helpers against real short-lived processes (sleep), no root needed."""
import os
import signal
import subprocess
import sys
import time

import pytest

from mirantis_ocf import proc
from mirantis_ocf.budget import Budget
from mirantis_ocf.errors import GenericError
from mirantis_ocf.log import Log
from mirantis_ocf.system import System

SLEEP = "/usr/bin/sleep"


@pytest.fixture
def system() -> System:
    return System()


def budget(system: System, seconds: float = 10.0) -> Budget:
    return Budget(seconds, system.monotonic, margin=0.01)


def test_pidfile_round_trip_and_garbage(system: System, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "x.pid")
    assert proc.read_pidfile(system, path) is None
    proc.write_pidfile(system, path, 1234)
    assert proc.read_pidfile(system, path) == 1234
    for junk in ("", "\n", "abc", "-5", "0"):
        (tmp_path / "x.pid").write_text(junk)
        assert proc.read_pidfile(system, path) is None


def test_identity_survives_pid_reuse(system: System, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pid = system.spawn([SLEEP, "30"])
    try:
        ours = proc.matcher(exe=os.path.realpath(SLEEP), argv_has=("30",))
        # until the child has exec'd, it is still a copy of this interpreter
        assert proc.wait_until(system, budget(system, 5.0), lambda: proc.alive(system, pid, ours) is not None)
        theirs = proc.matcher(exe=os.path.realpath(SLEEP), argv_has=("31",))
        assert proc.alive(system, pid, ours) is not None
        # the same pid, seen as another program: not ours
        assert proc.alive(system, pid, theirs) is None
        assert proc.alive(system, pid, proc.matcher(exe="/usr/sbin/haproxy")) is None
        assert proc.alive(system, pid, proc.matcher(exe=os.path.realpath(SLEEP),
                                                    argv_lacks=("30",))) is None
        info = system.process(pid)
        assert info is not None and info.start_time > 0
    finally:
        os.kill(pid, signal.SIGKILL)


def test_spawned_daemon_is_detached_and_quiet(system: System, tmp_path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "daemon.log"
    pid = system.spawn(["/bin/sh", "-c", "echo out; echo err >&2; exec sleep 30"], log_path=str(log))
    try:
        assert os.getsid(pid) == pid                   # its own session
        assert os.getpgid(pid) != os.getpgid(0)        # not in our process group
        assert proc.wait_until(system, budget(system, 10.0),
                               lambda: log.read_text().split() == ["out", "err"])
        fds = {os.readlink(f"/proc/{pid}/fd/{n}") for n in ("0", "1", "2")}
        assert fds == {"/dev/null", str(log)}
    finally:
        os.kill(pid, signal.SIGKILL)


def test_stop_terms_then_kills_within_the_budget(system: System) -> None:
    # a process that ignores TERM
    child = subprocess.Popen([sys.executable, "-c",
                              "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                              "print('ready', flush=True); time.sleep(60)"],
                             stdout=subprocess.PIPE, start_new_session=True)
    assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
    info = system.process(child.pid)
    assert info is not None
    # stop_processes raises if the process outlives the budget
    proc.stop_processes(system, [info], budget(system, 3.0), Log("t", "t", {}), "stubborn")
    child.wait(5)
    assert child.returncode == -signal.SIGKILL


def test_stop_of_nothing_is_quiet(system: System) -> None:
    proc.stop_processes(system, [], budget(system), Log("t", "t", {}), "nothing")


def test_wait_until_fails_fast_with_the_reason(system: System) -> None:
    # had it waited out the budget, it would have returned False instead
    with pytest.raises(GenericError, match="daemon died"):
        proc.wait_until(system, budget(system, 30.0), lambda: False, lambda: "daemon died")


def test_wait_until_gives_up_at_the_end_of_the_budget(system: System) -> None:
    assert proc.wait_until(system, budget(system, 0.3), lambda: False) is False


def test_commands_run_without_shell_with_lc_all_c(system: System) -> None:
    result = system.run(["/bin/sh", "-c", "echo $LC_ALL; echo $OCF_RESKEY_password"], 5.0)
    assert result.stdout.split("\n")[:2] == ["C", ""]
    result = system.run(["/bin/echo", "$(touch /tmp/never)", ";", "`id`"], 5.0)
    assert result.stdout.strip() == "$(touch /tmp/never) ; `id`"


def test_command_timeout_is_enforced(system: System) -> None:
    result = system.run([SLEEP, "10"], 0.3)
    assert result.timed_out and not result.ok


def test_missing_command_is_rc_127(system: System) -> None:
    assert system.run(["/nonexistent/binary"], 1.0).rc == 127


def test_daemonizing_command_does_not_hang(system: System) -> None:
    # the grandchild keeps the original stdout open: pipes would hang here
    result = system.run(["/bin/sh", "-c", "sleep 5 & echo started"], 10.0, detach=True)
    assert result.stdout.strip() == "started" and not result.timed_out


def test_start_daemon_fails_fast_with_the_last_log_line(system: System, tmp_path) -> None:  # type: ignore[no-untyped-def]
    log = str(tmp_path / "d.log")
    # the daemon's own last words, not "not ready within the start timeout": it failed fast
    with pytest.raises(GenericError) as caught:
        proc.start_daemon(system, budget(system, 60.0), "brokend",
                          ["/bin/sh", "-c", "echo starting; echo 'config error: no such bridge'; exit 3"],
                          str(tmp_path / "d.pid"), ready=lambda pid: False, log_path=log)
    assert "brokend died during start: config error: no such bridge (exit status 3)" == caught.value.reason


def test_start_daemon_returns_once_ready(system: System, tmp_path) -> None:  # type: ignore[no-untyped-def]
    flag = tmp_path / "ready"
    pidfile = str(tmp_path / "d.pid")
    pid = proc.start_daemon(system, budget(system, 20.0), "sleeper",
                            ["/bin/sh", "-c", f"sleep 0.3; touch {flag}; exec sleep 30"],
                            pidfile, ready=lambda pid: flag.exists())
    try:
        assert flag.exists() and proc.read_pidfile(system, pidfile) == pid
    finally:
        os.kill(pid, signal.SIGKILL)


def test_a_successor_on_a_reused_pid_is_never_signalled(system: System) -> None:
    child = subprocess.Popen([SLEEP, "30"])
    try:
        info = system.process(child.pid)
        assert info is not None
        from mirantis_ocf.system import ProcInfo
        # the same pid, but as if it had been reused by a process started later
        successor_view = ProcInfo(info.pid, info.ppid, info.state, info.start_time - 1, info.exe,
                                  info.argv)
        assert system.signal_process(successor_view, signal.SIGTERM) is False
        assert child.poll() is None
        assert system.signal_process(info, signal.SIGTERM) is True
        assert child.wait(5) == -signal.SIGTERM
    finally:
        child.kill()


def test_a_process_in_another_mount_namespace_is_never_ours(system: System) -> None:
    """Another node of a test cluster, or a container: its paths are not ours."""
    if os.geteuid() != 0:
        pytest.fail("unshare -m needs root (CI runs as root)")
    other = subprocess.Popen(["unshare", "-m", SLEEP, "31"])
    mine = subprocess.Popen([SLEEP, "31"])
    try:
        match = proc.matcher(exe=os.path.realpath(SLEEP), argv_has=("31",))
        assert proc.wait_until(system, budget(system, 5.0),
                               lambda: len([i for i in map(system.process, (other.pid, mine.pid))
                                            if i and match(i)]) == 2)
        assert [i.pid for i in proc.find(system, match)] == [mine.pid]
        assert proc.alive(system, other.pid, match) is None
        assert proc.alive(system, mine.pid, match) is not None
    finally:
        other.kill()
        mine.kill()


def test_exit_note_names_the_signal_that_killed_a_child() -> None:
    """A start's reason says how the daemon ended: a server KILLed during its
    state transfer said only the last line of its log before."""
    assert proc.exit_note(-9) == "killed by SIGKILL"
    assert proc.exit_note(-15) == "killed by SIGTERM"
    assert proc.exit_note(-99) == "killed by signal 99"
    assert proc.exit_note(3) == "exit status 3"
    assert proc.exit_note(None) == "exited"
