"""The network agents' own logic (the OpenStack daemon base), on the fake host.

The agent tier runs the same agents against the real Debian neutron agents,
RabbitMQ and Open vSwitch; here are the cases a real host cannot stage
cheaply: a reused pid, a daemon that dies at once, a namespace that will
not go, and every path's bookkeeping.
"""
import io
from typing import Tuple

from fakehost import NetworkHost, network_host
from support import agent_class
from mirantis_ocf.codes import ExitCode
from mirantis_ocf.runner import run

PID = "/run/resource-agents/p_agent.pid"


def act(host: NetworkHost, agent: str, action: str, **params: str) -> Tuple[ExitCode, str]:
    cls = agent_class(agent)
    env = {"OCF_RESOURCE_INSTANCE": "p_agent", "OCF_RESKEY_CRM_meta_interval": "20000",
           "OCF_RESKEY_CRM_meta_timeout": "20000"}
    env.update({k if k.startswith("OCF_") else "OCF_RESKEY_" + k: v for k, v in params.items()})
    err = io.StringIO()
    code = run(cls, [agent, action], env, system=host, stdout=io.StringIO(), stderr=err)
    assert "Traceback" not in err.getvalue()
    reasons = [ln for ln in err.getvalue().splitlines() if ln.startswith("ocf-exit-reason:")]
    return code, reasons[-1][16:] if reasons else ""


def daemons(host: NetworkHost) -> list:
    return [p for p in host.procs.values() if p.exe == "/usr/bin/python3.11"
            and "mirantis_ocf.reschedule" not in p.argv]


def test_start_launches_the_daemon_as_its_user_with_both_config_files() -> None:
    host = network_host("quantum-agent-dhcp")
    assert act(host, "quantum-agent-dhcp", "start")[0] == ExitCode.SUCCESS
    (daemon,) = daemons(host)
    assert daemon.argv == ("/usr/bin/python3", "/usr/bin/quantum-dhcp-agent",
                           "--config-file", "/etc/quantum/quantum.conf",
                           "--config-file", "/etc/quantum/dhcp_agent.ini")
    assert host.spawned_as == ("quantum", "quantum")
    assert host.files[PID] == f"{daemon.pid}\n"
    assert "/var/log/quantum" in host.dirs and "/var/log/quantum/dhcp-agent.log" in host.files
    assert act(host, "quantum-agent-dhcp", "monitor")[0] == ExitCode.SUCCESS
    assert act(host, "quantum-agent-dhcp", "stop")[0] == ExitCode.SUCCESS
    assert daemons(host) == [] and PID not in host.files


def test_neutron_alias_uses_neutron_defaults() -> None:
    host = network_host("neutron-agent-metadata")
    assert act(host, "neutron-agent-metadata", "start")[0] == ExitCode.SUCCESS
    (daemon,) = daemons(host)
    assert daemon.argv[1:] == ("/usr/bin/neutron-metadata-agent",
                               "--config-file", "/etc/neutron/neutron.conf",
                               "--config-file", "/etc/neutron/metadata_agent.ini")
    assert host.spawned_as == ("neutron", "neutron")
    assert "/var/log/neutron/metadata-agent.log" in host.files


def test_a_daemon_that_dies_at_start_fails_at_once_with_its_last_line() -> None:
    host = network_host("quantum-agent-l3")
    host.dies_at_start = "oslo_config.cfg.ConfigFileValueError: Value for option x is not valid"
    before = host.now
    code, reason = act(host, "quantum-agent-l3", "start")
    assert code == ExitCode.ERR_GENERIC
    assert "ConfigFileValueError" in reason
    assert host.now - before < 2          # the fake clock: no waiting for the timeout


def test_start_returns_on_the_amqp_connection_or_after_the_settle_time() -> None:
    host = network_host("quantum-agent-ovs")
    before = host.now
    assert act(host, "quantum-agent-ovs", "start")[0] == ExitCode.SUCCESS
    connected = host.now - before
    host = network_host("quantum-agent-ovs")
    host.broker_up = False
    before = host.now
    assert act(host, "quantum-agent-ovs", "start", OCF_RESKEY_CRM_meta_timeout="60000")[0] \
        == ExitCode.SUCCESS
    from mirantis_ocf.osagent import START_SETTLE
    assert connected < 1 <= START_SETTLE <= host.now - before


def test_missing_binary_or_config_is_not_installed_but_probe_and_stop_are_fine() -> None:
    host = network_host("quantum-agent-dhcp")
    host.executables.clear()
    code, reason = act(host, "quantum-agent-dhcp", "start")
    assert code == ExitCode.ERR_INSTALLED and "quantum-dhcp-agent" in reason
    assert act(host, "quantum-agent-dhcp", "monitor", OCF_RESKEY_CRM_meta_interval="0")[0] \
        == ExitCode.NOT_RUNNING
    assert act(host, "quantum-agent-dhcp", "stop")[0] == ExitCode.SUCCESS
    host = network_host("quantum-agent-dhcp")
    del host.files["/etc/quantum/dhcp_agent.ini"]
    code, reason = act(host, "quantum-agent-dhcp", "start")
    assert code == ExitCode.ERR_INSTALLED and "plugin_config" in reason


def test_bad_parameter_is_named_and_stop_still_succeeds() -> None:
    host = network_host("quantum-agent-dhcp")
    code, reason = act(host, "quantum-agent-dhcp", "start", amqp_server_port="70000")
    assert code == ExitCode.ERR_CONFIGURED and "amqp_server_port" in reason
    assert act(host, "quantum-agent-dhcp", "stop", amqp_server_port="70000")[0] == ExitCode.SUCCESS


def test_a_reused_pid_or_another_config_is_not_ours() -> None:
    host = network_host("quantum-agent-dhcp")
    stranger = host.add_process("/usr/bin/python3.11", ["/usr/bin/python3", "/usr/bin/quantum-dhcp-agent",
                                                        "--config-file", "/etc/other.conf"])
    host.files[PID] = f"{stranger}\n"
    assert act(host, "quantum-agent-dhcp", "monitor")[0] == ExitCode.NOT_RUNNING
    assert act(host, "quantum-agent-dhcp", "stop")[0] == ExitCode.SUCCESS
    assert stranger in host.procs and host.signals == []


def test_a_daemon_whose_pid_file_was_lost_is_adopted() -> None:
    host = network_host("quantum-agent-dhcp")
    pid = host.add_process("/usr/bin/python3.11", ["/usr/bin/python3", "/usr/bin/quantum-dhcp-agent",
                                                   "--config-file=/etc/quantum/quantum.conf",
                                                   "--config-file=/etc/quantum/dhcp_agent.ini"])
    assert act(host, "quantum-agent-dhcp", "monitor")[0] == ExitCode.SUCCESS
    assert host.files[PID] == f"{pid}\n"
    assert act(host, "quantum-agent-dhcp", "start")[0] == ExitCode.SUCCESS
    assert len(daemons(host)) == 1          # not a second one


def test_amqp_check_by_parameter_or_depth() -> None:
    host = network_host("quantum-agent-l3")
    host.broker_up = False
    assert act(host, "quantum-agent-l3", "start")[0] == ExitCode.SUCCESS
    assert act(host, "quantum-agent-l3", "monitor")[0] == ExitCode.SUCCESS
    code, reason = act(host, "quantum-agent-l3", "monitor", amqp_check="true")
    assert code == ExitCode.ERR_GENERIC and "AMQP" in reason and "5672" in reason
    assert act(host, "quantum-agent-l3", "monitor", OCF_CHECK_LEVEL="10")[0] == ExitCode.ERR_GENERIC
    (daemon,) = daemons(host)
    host.tcp[daemon.pid] = [5672]
    scans = []
    pids = host.pids
    host.pids = lambda: scans.append(1) or pids()  # type: ignore[method-assign]
    assert act(host, "quantum-agent-l3", "monitor", amqp_check="true")[0] == ExitCode.SUCCESS
    assert scans == []          # the main process holds it: no scan of /proc for workers
    # the connection of a worker (a child) counts too; another port does not
    host.tcp[daemon.pid] = [5673]
    assert act(host, "quantum-agent-l3", "monitor", amqp_check="true")[0] == ExitCode.ERR_GENERIC
    worker = host.add_process("/usr/bin/python3.11", ["neutron-l3-agent: worker"])
    host.procs[worker].ppid = daemon.pid
    host.tcp[worker] = [5672]
    assert act(host, "quantum-agent-l3", "monitor", amqp_check="true")[0] == ExitCode.SUCCESS


def test_stop_ends_the_workers_too() -> None:
    host = network_host("quantum-agent-metadata")
    act(host, "quantum-agent-metadata", "start")
    (daemon,) = daemons(host)
    worker = host.add_process("/usr/bin/python3.11", ["neutron-metadata-agent: metadata worker"])
    host.procs[worker].ppid = daemon.pid
    assert act(host, "quantum-agent-metadata", "stop")[0] == ExitCode.SUCCESS
    assert worker not in host.procs and daemon.pid not in host.procs


def test_a_frozen_daemon_fails_its_monitor() -> None:
    host = network_host("quantum-agent-metadata")
    act(host, "quantum-agent-metadata", "start")
    (daemon,) = daemons(host)
    assert act(host, "quantum-agent-metadata", "monitor")[0] == ExitCode.SUCCESS
    host.kill(daemon.pid, 19)               # SIGSTOP: alive, serving nothing
    code, reason = act(host, "quantum-agent-metadata", "monitor")
    assert code == ExitCode.ERR_GENERIC and "SIGSTOP" in reason, reason
    host.kill(daemon.pid, 18)
    assert act(host, "quantum-agent-metadata", "monitor")[0] == ExitCode.SUCCESS


def test_dhcp_clean_up_touches_only_its_namespaces() -> None:
    host = network_host("quantum-agent-dhcp")
    act(host, "quantum-agent-dhcp", "start")
    inside = host.add_in_namespace("qdhcp-1234", "/usr/sbin/dnsmasq", ["dnsmasq", "--no-hosts"])
    router = host.add_in_namespace("qrouter-99", "/usr/sbin/keepalived", ["keepalived"])
    outside = host.add_process("/usr/sbin/dnsmasq", ["dnsmasq", "--conf-file=/etc/libvirt.conf"])
    assert act(host, "quantum-agent-dhcp", "stop")[0] == ExitCode.SUCCESS
    assert inside not in host.procs and "qdhcp-1234" not in host.netns
    assert outside in host.procs                          # the host's dnsmasq lives
    assert router in host.procs and "qrouter-99" in host.netns   # the l3 agent's
    assert all(pid != outside for pid, _ in host.signals)


def test_l3_clean_up_before_start_removes_a_dead_agents_routers() -> None:
    host = network_host("quantum-agent-l3")
    left = host.add_in_namespace("qrouter-77", "/usr/sbin/keepalived", ["keepalived"])
    host.ignore_term.add(left)             # needs KILL
    assert act(host, "quantum-agent-l3", "start")[0] == ExitCode.SUCCESS
    assert left not in host.procs and "qrouter-77" not in host.netns
    assert (left, 9) in host.signals


def test_a_namespace_that_will_not_go_does_not_fail_the_stop() -> None:
    host = network_host("quantum-agent-dhcp")
    host.netns["qdhcp-stuck"] = 6000
    host.programs["ip"] = lambda h, argv: __import__("mirantis_ocf.system").system.CommandResult(
        argv, 1, "", "Cannot remove namespace file \"/run/netns/qdhcp-stuck\": Device or resource busy")
    assert act(host, "quantum-agent-dhcp", "stop")[0] == ExitCode.SUCCESS


def test_ovs_bridges_are_deleted_only_on_request() -> None:
    host = network_host("quantum-agent-ovs")
    act(host, "quantum-agent-ovs", "start")
    act(host, "quantum-agent-ovs", "stop")
    assert not any(c[0] == "ovs-vsctl" for c in host.commands)
    host = network_host("quantum-agent-ovs")
    act(host, "quantum-agent-ovs", "start", recreate_bridges="true", ovsdb="unix:/run/o/db.sock")
    (cmd,) = [c for c in host.commands if c[0] == "ovs-vsctl"]
    assert cmd[1] == "--db=unix:/run/o/db.sock"
    assert ("del-br", "br-tun") in zip(cmd, cmd[1:]) and ("del-br", "br-int") in zip(cmd, cmd[1:])


def test_the_password_reaches_no_command() -> None:
    host = network_host("quantum-agent-dhcp")
    act(host, "quantum-agent-dhcp", "start", password="Sup3r-s3cret")
    act(host, "quantum-agent-dhcp", "stop", password="Sup3r-s3cret")
    assert host.commands and not any("Sup3r-s3cret" in " ".join(c) for c in host.commands)


def test_additional_parameters_are_words_not_shell() -> None:
    host = network_host("quantum-agent-dhcp")
    act(host, "quantum-agent-dhcp", "start", additional_parameters="--debug '$(touch /tmp/x)'")
    (daemon,) = daemons(host)
    assert daemon.argv[-2:] == ("--debug", "$(touch /tmp/x)")


def test_a_retitled_daemon_is_still_recognised() -> None:
    """neutron's agents call setproctitle: cmdline becomes one string."""
    host = network_host("neutron-agent-dhcp")
    title = ("neutron-dhcp-agent (/usr/bin/python3 /usr/bin/neutron-dhcp-agent --config-file "
             "/etc/neutron/neutron.conf --config-file /etc/neutron/dhcp_agent.ini)")
    pid = host.add_process("/usr/bin/python3.11", [title])
    host.files[PID] = f"{pid}\n"
    assert act(host, "neutron-agent-dhcp", "monitor")[0] == ExitCode.SUCCESS
    other = title.replace("/etc/neutron/neutron.conf", "/etc/other.conf")
    host.procs[pid] = host.procs[pid].__class__(pid, 1, "S", 1, "/usr/bin/python3.11", (other,))
    assert act(host, "neutron-agent-dhcp", "monitor")[0] == ExitCode.NOT_RUNNING


def test_the_reason_comes_from_the_daemons_own_log_when_its_output_is_silent() -> None:
    host = network_host("neutron-agent-dhcp")
    host.files["/etc/neutron/neutron.conf"] = "[DEFAULT]\nlog_dir = /var/log/neutron\n"
    own = "/var/log/neutron/neutron-dhcp-agent.log"
    host.files[own] = "2026 1 CRITICAL neutron [-] an old failure, before this start\n"

    def dies(argv, log_path=None, user=None, group=None, env=None):  # type: ignore[no-untyped-def]
        host.files[own] += ("2026 2 CRITICAL neutron [-] Unhandled error: ConfigFileValueError: x\n"
                            "2026 2 ERROR neutron Traceback (most recent call last):\n"
                            "2026 2 ERROR neutron \n")
        host.next_pid += 1
        return host.next_pid
    host.spawn = dies  # type: ignore[method-assign]
    code, reason = act(host, "neutron-agent-dhcp", "start")
    assert code == ExitCode.ERR_GENERIC
    assert "died during start: ConfigFileValueError: x" in reason, reason


def test_start_reschedules_in_the_background_with_credentials_in_a_private_file() -> None:
    host = network_host("quantum-agent-dhcp")
    host.files["/etc/quantum/quantum.conf"] = "[DEFAULT]\nhost = ctl-2\n"
    code, _ = act(host, "quantum-agent-dhcp", "start", password="it's S3cret",
                  os_auth_url="http://10.0.0.2:5000/v3")
    assert code == ExitCode.SUCCESS
    ((argv, log, env),) = host.background
    assert argv[1:3] == ("-m", "mirantis_ocf.reschedule")
    assert ("--agent", "dhcp") in zip(argv, argv[1:]) and "--reschedule" in argv
    assert ("--host", "ctl-2") in zip(argv, argv[1:])
    assert not any("S3cret" in a for a in argv)
    openrc = argv[argv.index("--auth-config") + 1]
    assert host.modes[openrc] == 0o600
    from mirantis_ocf.reschedule import read_openrc
    creds = read_openrc(host.files[openrc])
    assert creds["OS_PASSWORD"] == "it's S3cret" and creds["OS_AUTH_URL"] == "http://10.0.0.2:5000/v3"
    assert log == "/var/log/quantum/rescheduling.log" and env["PYTHONPATH"].endswith("lib")
    # stop ends a rescheduling that still polls: it would feed a stopping agent
    assert act(host, "quantum-agent-dhcp", "stop")[0] == ExitCode.SUCCESS
    assert not any("mirantis_ocf.reschedule" in p.argv for p in host.procs.values())


def test_no_rescheduling_when_turned_off_nor_for_ovs() -> None:
    host = network_host("quantum-agent-l3")
    assert act(host, "quantum-agent-l3", "start", reschedule="false")[0] == ExitCode.SUCCESS
    assert host.background == []
    host = network_host("quantum-agent-ovs")
    assert act(host, "quantum-agent-ovs", "start")[0] == ExitCode.SUCCESS
    assert host.background == []


def test_namespaces_are_kept_when_the_operator_says_so() -> None:
    """remove_artifacts_on_stop_start=false (Fuel 7.0's switch): a restart of
    the agent leaves the networks' dnsmasq serving (LP#1464817)."""
    host = network_host("quantum-agent-dhcp")
    act(host, "quantum-agent-dhcp", "start", remove_artifacts_on_stop_start="false")
    inside = host.add_in_namespace("qdhcp-1234", "/usr/sbin/dnsmasq", ["dnsmasq", "--no-hosts"])
    assert act(host, "quantum-agent-dhcp", "stop",
               remove_artifacts_on_stop_start="false")[0] == ExitCode.SUCCESS
    assert inside in host.procs and "qdhcp-1234" in host.netns
    assert act(host, "quantum-agent-dhcp", "start",
               remove_artifacts_on_stop_start="false")[0] == ExitCode.SUCCESS
    assert inside in host.procs and "qdhcp-1234" in host.netns


def test_namespace_clean_up_stops_in_time() -> None:
    """Hundreds of namespaces whose deletion is slow: the stop still answers
    within its timeout, and says what it left."""
    host = network_host("quantum-agent-l3")
    for i in range(300):
        host.netns[f"qrouter-{i:03d}"] = 7000 + i

    def slow_delete(h, argv):  # type: ignore[no-untyped-def]
        h.now += 1.0
        h.netns.pop(argv[-1], None)
        return __import__("mirantis_ocf.system").system.CommandResult(argv, 0, "", "")
    host.programs["ip"] = slow_delete
    began = host.now
    assert act(host, "quantum-agent-l3", "stop")[0] == ExitCode.SUCCESS
    assert host.now - began < 20                 # the stop's timeout (20 s here)
    assert 0 < len([n for n in host.netns if n.startswith("qrouter-")]) < 300
