"""The haproxy agent's own logic, on the recording fake host."""
import io
import signal
from typing import Tuple

import pytest

from fakehost import FakeHost, haproxy_host
from support import load_agent
from mirantis_ocf.codes import ExitCode
from mirantis_ocf.runner import run

haproxy = load_agent("haproxy")
PID = "/run/haproxy/test.pid"


def act(host: FakeHost, action: str, **params: str) -> Tuple[ExitCode, str]:
    env = {"OCF_RESOURCE_INSTANCE": "p_haproxy", "OCF_RESKEY_pidfile": PID,
           "OCF_RESKEY_CRM_meta_interval": "20000"}
    env.update({k if k.startswith("OCF_") else "OCF_RESKEY_" + k: v for k, v in params.items()})
    err = io.StringIO()
    code = run(haproxy.HAProxy, ["haproxy", action], env, system=host, stdout=io.StringIO(),
               stderr=err)
    reasons = [ln for ln in err.getvalue().splitlines() if ln.startswith("ocf-exit-reason:")]
    return code, reasons[-1][16:] if reasons else ""


def test_stats_socket_is_read_from_the_global_section() -> None:
    cfg = ("global\n  log /dev/log local0\n  stats socket /run/h.sock mode 600 level admin "
           "expose-fd listeners # comment\nlisten x\n  stats socket /elsewhere\n")
    assert haproxy.stats_socket_of(cfg) == ("/run/h.sock", True)
    assert haproxy.stats_socket_of("global\n stats socket unix@/a.sock\n") == ("/a.sock", False)
    assert haproxy.stats_socket_of("global\n stats socket ipv4@127.0.0.1:9\n") == (None, False)
    assert haproxy.stats_socket_of("defaults\n stats socket /x\n") == (None, False)


def test_first_alert_strips_haproxy_prefix() -> None:
    text = ("[NOTICE]   (7) : haproxy version\n[ALERT]    (7) : config : parsing [/a:2] : "
            "unknown keyword 'bogus'\n[ALERT]    (7) : config : Fatal errors\n")
    assert haproxy.first_alert(text) == "config : parsing [/a:2] : unknown keyword 'bogus'"


def test_bad_configuration_is_err_configured_with_haproxys_words() -> None:
    host = haproxy_host()
    host.files["/etc/haproxy/haproxy.cfg"] = "global\n    bogus\n"
    code, reason = act(host, "start")
    assert code == ExitCode.ERR_CONFIGURED
    assert "unknown keyword 'bogus'" in reason
    assert not any("-D" in c for c in host.commands)   # never launched


def test_missing_binary_is_not_installed_but_probe_says_not_running() -> None:
    host = haproxy_host()
    host.executables.clear()
    assert act(host, "start")[0] == ExitCode.ERR_INSTALLED
    assert act(host, "monitor", OCF_RESKEY_CRM_meta_interval="0")[0] == ExitCode.NOT_RUNNING


def test_missing_conffile_is_a_local_error() -> None:
    host = haproxy_host()
    code, reason = act(host, "start", conffile="/etc/haproxy/other.cfg")
    assert code == ExitCode.ERR_ARGS and "/etc/haproxy/other.cfg" in reason


def test_stale_pidfile_naming_another_process_is_not_running() -> None:
    host = haproxy_host()
    other = host.add_process("/usr/bin/sleep", ["sleep", "1000"])
    host.files[PID] = f"{other}\n"
    assert act(host, "monitor")[0] == ExitCode.NOT_RUNNING
    assert act(host, "stop")[0] == ExitCode.SUCCESS
    assert other in host.procs and (other, signal.SIGTERM) not in host.signals


def test_another_instance_of_haproxy_is_not_ours() -> None:
    host = haproxy_host()
    other = host.add_process("/usr/sbin/haproxy", ["/usr/sbin/haproxy", "-f", "/etc/other.cfg"])
    host.files[PID] = f"{other}\n"
    assert act(host, "monitor")[0] == ExitCode.NOT_RUNNING
    act(host, "stop")
    assert other in host.procs


def test_running_haproxy_without_its_pidfile_is_a_failure_not_a_stop() -> None:
    host = haproxy_host()
    act(host, "start")
    host.files.pop(PID)
    code, reason = act(host, "monitor")
    assert code == ExitCode.ERR_GENERIC and "does not name it" in reason
    assert act(host, "stop")[0] == ExitCode.SUCCESS and host.procs == {}


def test_deep_monitor_asks_the_stats_socket() -> None:
    host = haproxy_host()
    act(host, "start")
    assert act(host, "monitor", OCF_CHECK_LEVEL="10")[0] == ExitCode.SUCCESS
    host.sockets.clear()
    code, reason = act(host, "monitor", OCF_CHECK_LEVEL="10")
    assert code == ExitCode.ERR_GENERIC and "/run/haproxy/admin.sock" in reason
    assert act(host, "monitor")[0] == ExitCode.SUCCESS   # level 0 does not ask


def test_reload_retires_old_processes_with_sf() -> None:
    host = haproxy_host()
    act(host, "start")
    old = int(host.files[PID])
    assert act(host, "reload")[0] == ExitCode.SUCCESS
    launch = [c for c in host.commands if "-D" in c][-1]
    assert launch[-2:] == ("-sf", str(old))
    assert int(host.files[PID]) != old and act(host, "monitor")[0] == ExitCode.SUCCESS


def test_reload_with_a_bad_configuration_keeps_the_old_process() -> None:
    host = haproxy_host()
    act(host, "start")
    old = int(host.files[PID])
    host.files["/etc/haproxy/haproxy.cfg"] = "global\n    bogus\n"
    code, reason = act(host, "reload")
    assert code == ExitCode.ERR_CONFIGURED and "bogus" in reason
    assert old in host.procs and int(host.files[PID]) == old


def test_reload_of_a_stopped_haproxy_does_not_start_it() -> None:
    host = haproxy_host()
    assert act(host, "reload")[0] == ExitCode.NOT_RUNNING
    assert host.procs == {}


def test_stop_escalates_to_kill() -> None:
    host = haproxy_host()
    act(host, "start")
    pid = int(host.files[PID])
    host.ignore_term.add(pid)
    assert act(host, "stop")[0] == ExitCode.SUCCESS
    # CONT after TERM, as systemd does: a frozen (SIGSTOP) daemon can act on the TERM
    assert [s for p, s in host.signals if p == pid] == [signal.SIGTERM, signal.SIGCONT,
                                                         signal.SIGKILL]
    assert host.now - 1000.0 < 30   # within the stop's budget


def test_a_frozen_haproxy_fails_its_monitor_and_stop_thaws_it_to_end_it() -> None:
    host = haproxy_host()
    act(host, "start")
    pid = int(host.files[PID])
    host.kill(pid, signal.SIGSTOP)          # a hung daemon: its pid alive, serving nothing
    code, reason = act(host, "monitor")
    assert code == ExitCode.ERR_GENERIC and f"pid {pid}" in reason and "SIGSTOP" in reason
    assert act(host, "stop")[0] == ExitCode.SUCCESS
    assert [s for p, s in host.signals if p == pid][-2:] == [signal.SIGTERM, signal.SIGCONT]
    assert pid not in host.procs


def test_extraconf_is_split_without_a_shell_and_reserved_options_refused() -> None:
    host = haproxy_host()
    host.files["/etc/haproxy/extra.cfg"] = "frontend b\n"
    assert act(host, "start", extraconf="-f '/etc/haproxy/extra.cfg'")[0] == ExitCode.SUCCESS
    assert ("-f", "/etc/haproxy/extra.cfg") == [c for c in host.commands if "-D" in c][0][1:3]
    code, reason = act(haproxy_host(), "start", extraconf="-sf 1")
    assert code == ExitCode.ERR_CONFIGURED and "extraconf" in reason


@pytest.mark.parametrize("value", ["$(touch /tmp/x)", "a; rm -rf /", "`id`", "x\ny"])
def test_hostile_values_are_plain_arguments(value: str) -> None:
    host = haproxy_host()
    act(host, "start", extraconf=f"'{value}'")
    for argv in host.commands:
        assert argv[0] == "/usr/sbin/haproxy"       # no shell, ever
        assert value in argv or "-D" not in argv


def test_relative_paths_are_refused_by_name() -> None:
    code, reason = act(haproxy_host(), "start", conffile="haproxy.cfg", pidfile="x.pid")
    assert code == ExitCode.ERR_CONFIGURED and "conffile" in reason and "pidfile" in reason


def test_deep_monitor_without_a_socket_warns_and_checks_the_process() -> None:
    host = haproxy_host()
    host.files["/etc/haproxy/haproxy.cfg"] = "global\n    maxconn 100\n"
    act(host, "start")
    err = io.StringIO()
    env = {"OCF_RESKEY_pidfile": PID, "OCF_RESKEY_CRM_meta_interval": "20000", "OCF_CHECK_LEVEL": "10"}
    code = run(haproxy.HAProxy, ["haproxy", "monitor"], env, system=host, stderr=err)
    assert code == ExitCode.SUCCESS and "needs a stats socket" in err.getvalue()


def test_first_alert_skips_warnings_that_continue() -> None:
    text = ("[ALERT]    (7) : config : parsing [/a:2] : 'pidfile' already specified. Continuing.\n"
            "[ALERT]    (7) : Starting frontend fe: cannot bind socket (Address in use)\n")
    assert haproxy.first_alert(text) == "Starting frontend fe: cannot bind socket (Address in use)"


def test_node_local_config_errors_ban_this_node_only() -> None:
    host = haproxy_host()

    def unresolvable(h: FakeHost, argv: Tuple[str, ...]):  # type: ignore[no-untyped-def]
        from mirantis_ocf.system import CommandResult
        return CommandResult(argv, 1, "", "[ALERT]    (1) : config : parsing [/a:9] : 'server s1' : "
                             "could not resolve address 'controller-3'.")
    host.programs["/usr/sbin/haproxy"] = unresolvable
    code, reason = act(host, "start")
    assert code == ExitCode.ERR_ARGS and "could not resolve" in reason


def test_a_haproxy_run_by_systemd_is_not_adopted_nor_killed() -> None:
    host = haproxy_host()
    master = host.add_process("/usr/sbin/haproxy", ["/usr/sbin/haproxy", "-Ws", "-f",
                                                    "/etc/haproxy/haproxy.cfg", "-p", PID])
    host.files[PID] = f"{master}\n"
    assert act(host, "monitor", OCF_RESKEY_CRM_meta_interval="0")[0] == ExitCode.NOT_RUNNING
    code, reason = act(host, "start")
    assert code == ExitCode.ERR_ARGS and "outside the cluster" in reason
    assert act(host, "stop")[0] == ExitCode.SUCCESS
    assert master in host.procs and not host.signals


def test_an_admins_config_check_is_not_the_service() -> None:
    host = haproxy_host()
    check = host.add_process("/usr/sbin/haproxy", ["/usr/sbin/haproxy", "-c", "-f",
                                                   "/etc/haproxy/haproxy.cfg"])
    assert act(host, "monitor")[0] == ExitCode.NOT_RUNNING
    assert act(host, "stop")[0] == ExitCode.SUCCESS and check in host.procs


def test_reload_falls_back_when_the_socket_hand_over_fails() -> None:
    host = haproxy_host()
    host.files["/etc/haproxy/haproxy.cfg"] += ""
    act(host, "start")
    host.files["/etc/haproxy/haproxy.cfg"] = host.files["/etc/haproxy/haproxy.cfg"].replace(
        "level admin", "level admin expose-fd listeners")

    def no_handover(h: FakeHost, argv: Tuple[str, ...]):  # type: ignore[no-untyped-def]
        from fakehost import fake_haproxy
        from mirantis_ocf.system import CommandResult
        if "-x" in argv:
            return CommandResult(argv, 1, "", "[ALERT]    (1) : Failed to get the sockets from the old process!")
        return fake_haproxy(h, argv)
    host.programs["/usr/sbin/haproxy"] = no_handover
    assert act(host, "reload")[0] == ExitCode.SUCCESS
    assert [c for c in host.commands if "-D" in c][-1][-2] == "-sf"


def test_invalid_extraconf_does_not_hide_a_running_haproxy_from_stop() -> None:
    host = haproxy_host()
    act(host, "start")
    assert act(host, "stop", extraconf="-q")[0] == ExitCode.SUCCESS
    assert host.procs == {}


def test_stop_survives_an_unremovable_pidfile() -> None:
    host = haproxy_host()
    act(host, "start")

    def refuse(path: str) -> None:
        raise IsADirectoryError(21, "Is a directory")
    host.remove = refuse  # type: ignore[method-assign]
    assert act(host, "stop")[0] == ExitCode.SUCCESS and host.procs == {}
