"""The mysql agent's start, monitor and stop, on the recording fake host."""
import io
import signal
from typing import Tuple

import pytest

from fakehost import MySQLHost
from support import load_agent
from mirantis_ocf.codes import ExitCode
from mirantis_ocf.runner import run

mysql = load_agent("mysql")
SECRET = "pa55 w0rd"
UUID = "75cb2ab6-e902-11f1-8af7-22729e8710d2"


def act(host: MySQLHost, action: str, **params: str) -> Tuple[ExitCode, str]:
    env = {"OCF_RESOURCE_INSTANCE": "p_mysql", "OCF_RESKEY_test_passwd": SECRET,
           "OCF_RESKEY_CRM_meta_interval": "20000", "OCF_RESKEY_CRM_meta_timeout": "60000"}
    env.update({k if k.startswith("OCF_") else "OCF_RESKEY_" + k: v for k, v in params.items()})
    err = io.StringIO()
    code = run(mysql.MySQL, ["mysql", action], env, system=host, stdout=io.StringIO(), stderr=err)
    reasons = [ln for ln in err.getvalue().splitlines() if ln.startswith("ocf-exit-reason:")]
    assert SECRET not in err.getvalue()
    return code, reasons[-1][16:] if reasons else ""


def launch(host: MySQLHost) -> Tuple[str, ...]:
    return [c for c in host.commands if c[0].endswith(("mysqld_safe", "mariadbd"))
            and "--wsrep-recover" not in c][-1]


def test_a_lone_node_bootstraps_at_its_recovered_position() -> None:
    host = MySQLHost()
    assert act(host, "start") == (ExitCode.SUCCESS, "")
    argv = launch(host)
    assert "--wsrep-new-cluster" in argv and f"--wsrep-start-position={UUID}:7" in argv
    assert "--skip-kill-mysqld" in argv               # mysqld_safe must not kill other servers
    assert "safe_to_bootstrap: 1" in host.files["/var/lib/mysql/grastate.dat"]
    # the election's state is cleared; the node says it is in a Primary Component
    assert host.claims == {}
    assert ("p_mysql-epoch", "node1") not in host.attrs
    assert host.attrs[("p_mysql-primary", "node1")] == "1"


def test_a_primary_component_is_joined_never_replaced() -> None:
    host = MySQLHost()
    host.members = ["node1", "node2", "node3"]
    host.attrs[("p_mysql-primary", "node2")] = "1"
    assert act(host, "start", node_addresses="node1=10.0.0.1 node2=10.0.0.2 node3=10.0.0.3")[0] == 0
    argv = launch(host)
    assert "--wsrep-new-cluster" not in argv
    assert "--wsrep-cluster-address=gcomm://10.0.0.1,10.0.0.2,10.0.0.3" in argv
    assert "safe_to_bootstrap: 0" in host.files["/var/lib/mysql/grastate.dat"]
    assert host.claims == {}          # the joiner's turn was given back


def test_the_password_never_reaches_argv() -> None:
    host = MySQLHost()
    act(host, "start")
    act(host, "monitor", OCF_CHECK_LEVEL="10")
    assert all(SECRET not in " ".join(c) for c in host.commands)
    assert host.sql_calls and all(call[2] == SECRET for call in host.sql_calls)


def test_monitor_reports_a_non_primary_node_as_failed() -> None:
    host = MySQLHost()
    act(host, "start")
    host.cluster_status = "non-Primary"
    assert act(host, "monitor") == (ExitCode.ERR_GENERIC,
                                    "wsrep_cluster_status is non-Primary, not Primary")


def test_probe_of_a_stopped_server_never_talks_sql() -> None:
    host = MySQLHost()
    assert act(host, "monitor", OCF_RESKEY_CRM_meta_interval="0")[0] == ExitCode.NOT_RUNNING
    assert host.sql_calls == [] and host.commands == []


def test_stop_kills_the_wrapper_first_then_terms_the_server() -> None:
    host = MySQLHost()
    act(host, "start")
    wrapper = next(p for p, i in host.procs.items() if i.exe == "/usr/bin/dash")
    server = next(p for p, i in host.procs.items() if i.exe == "/usr/sbin/mariadbd")
    assert act(host, "stop")[0] == ExitCode.SUCCESS
    assert host.signals[:2] == [(wrapper, signal.SIGKILL), (server, signal.SIGTERM)]
    assert host.procs == {} and ("p_mysql-primary", "node1") not in host.attrs


def test_another_datadirs_server_is_never_touched() -> None:
    host = MySQLHost()
    other = host.add_process("/usr/sbin/mariadbd", ["/usr/sbin/mariadbd", "--datadir=/srv/other"])
    assert act(host, "monitor")[0] == ExitCode.NOT_RUNNING
    assert act(host, "stop")[0] == ExitCode.SUCCESS
    assert other in host.procs and host.signals == []


def test_a_joiner_without_pid_file_is_still_found_and_stopped() -> None:
    host = MySQLHost()
    stuck = host.add_process("/usr/sbin/mariadbd", ["/usr/sbin/mariadbd", "--datadir=/var/lib/mysql",
                                                    "--wsrep-cluster-address=gcomm://a,b"])
    host.ignore_term.add(stuck)           # non-Primary joiners may ignore TERM
    assert act(host, "stop")[0] == ExitCode.SUCCESS
    assert (stuck, signal.SIGKILL) in host.signals and host.procs == {}


def test_invalid_cluster_address_is_refused_by_name() -> None:
    code, reason = act(MySQLHost(), "start", wsrep_cluster_address="10.0.0.1,10.0.0.2")
    assert code == ExitCode.ERR_CONFIGURED and "wsrep_cluster_address" in reason


def test_node_addresses_parsing() -> None:
    assert mysql.parse_node_addresses("a=1.1.1.1;b:2.2.2.2, c=3.3.3.3") == \
        {"a": "1.1.1.1", "b": "2.2.2.2", "c": "3.3.3.3"}
    assert mysql.check_node_addresses("justaname") is not None


def test_a_joiner_waits_for_another_joiners_turn_then_goes_ahead() -> None:
    host = MySQLHost()
    host.members = ["node1", "node2", "node3"]
    host.attrs[("p_mysql-primary", "node2")] = "1"
    host.claims["mirantis-claim-galera-join-p_mysql"] = "node3"   # node3 is joining
    assert act(host, "start")[0] == ExitCode.SUCCESS
    assert "--wsrep-new-cluster" not in launch(host)
    assert host.now - 1000.0 >= 10          # it waited (on the fake clock), then went ahead
    assert host.claims == {"mirantis-claim-galera-join-p_mysql": "node3"}   # not ours to free


def test_a_finished_joiners_turn_is_released_by_the_next() -> None:
    host = MySQLHost()
    host.members = ["node1", "node2", "node3"]
    host.attrs[("p_mysql-primary", "node2")] = "1"
    host.attrs[("p_mysql-primary", "node3")] = "1"
    host.claims["mirantis-claim-galera-join-p_mysql"] = "node3"   # node3 joined, crashed before freeing it
    assert act(host, "start")[0] == ExitCode.SUCCESS
    assert host.now - 1000.0 < 5 and host.claims == {}


@pytest.mark.parametrize("writes_view", [True, False])
def test_a_joiner_hands_its_turn_on_once_it_is_a_member(writes_view: bool) -> None:
    """gvwstate.dat, written at each primary view, frees the turn before
    Synced; without it the turn is kept until Synced."""
    host = MySQLHost()
    host.members = ["node1", "node2", "node3"]
    host.attrs[("p_mysql-primary", "node2")] = "1"
    host.files[f"{host.DATADIR}/gvwstate.dat"] = "my_uuid: from-before-the-crash\n"
    host.writes_view = writes_view
    host.joining_polls = 3
    assert act(host, "start")[0] == ExitCode.SUCCESS
    assert host.turn_held == [not writes_view] * 3
    assert host.claims == {}
