"""The mysql agent's start, monitor and stop, on the recording fake host."""
import io
import signal
from typing import Tuple

import pytest

from fakehost import MySQLHost
from support import GaleraGreeter, load_agent
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


def test_a_frozen_server_fails_its_monitor_at_once_and_withdraws_its_flag() -> None:
    host = MySQLHost()
    act(host, "start")
    server = next(p for p, i in host.procs.items() if i.exe == "/usr/sbin/mariadbd")
    assert ("p_mysql-primary", "node1") in host.attrs
    host.kill(server, signal.SIGSTOP)
    calls = len(host.sql_calls)
    code, reason = act(host, "monitor")
    assert code == ExitCode.ERR_GENERIC and "SIGSTOP" in reason, reason
    assert len(host.sql_calls) == calls           # no query left to hang on it
    assert ("p_mysql-primary", "node1") not in host.attrs


def test_a_healthy_monitor_finds_its_server_by_the_pid_file_without_a_scan() -> None:
    """The monitor's path reads the pid file and that one process, not all
    of /proc (hundreds of processes on a controller); a pid file that names
    another datadir's server, or nothing, falls back to the scan."""
    host = MySQLHost()
    act(host, "start")
    scans = []
    pids = host.pids
    host.pids = lambda: scans.append(1) or pids()  # type: ignore[method-assign]
    assert act(host, "monitor")[0] == ExitCode.SUCCESS and scans == []
    server = next(p for p, i in host.procs.items() if i.exe == "/usr/sbin/mariadbd")
    other = host.add_process("/usr/sbin/mariadbd", ["/usr/sbin/mariadbd", "--datadir=/srv/other"])
    host.files["/var/run/mysql/mysqld.pid"] = f"{other}\n"
    assert act(host, "monitor")[0] == ExitCode.SUCCESS and scans     # found by the scan
    assert server in host.procs and other in host.procs and host.signals == []


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


def launches(host: MySQLHost) -> list:
    return [c for c in host.commands if c[0].endswith(("mysqld_safe", "mariadbd"))
            and "--wsrep-recover" not in c]


def test_a_joiner_that_leaves_the_group_during_its_transfer_joins_again_in_the_same_start() -> None:
    """Seen under a writer after a power loss: a joiner's IST fell short
    ("node restart required") and its server stayed up, in no group, for
    ever.  The start KILLs it and joins again at the position its datadir
    now recovers to (the transfer moved it on), without waiting out its
    timeout: a start in flight holds back every other action of the
    cluster's next transition, and a failed one bans the node by default."""
    host = MySQLHost()
    host.members = ["node1", "node2", "node3"]
    host.attrs[("p_mysql-primary", "node2")] = "1"
    host.leave_after, host.leaving_launches = 3, 1
    began = host.now
    code, reason = act(host, "start", OCF_RESKEY_CRM_meta_timeout="450000")
    assert (code, reason) == (ExitCode.SUCCESS, "")
    assert len(launches(host)) == 2
    assert host.kill_times                         # the server out of the group: KILLed
    recovers = [c for c in host.commands if "--wsrep-recover" in c]
    assert len(recovers) == 2                       # its position read again before the rejoin
    assert all("--wsrep-new-cluster" not in c for c in launches(host))
    assert host.now - began < mysql.LEFT_GROUP_WAIT + 10
    assert ("p_mysql-epoch", "node1") not in host.attrs      # withdrawn once Synced
    assert host.attrs.get(("p_mysql-primary", "node1")) == "1"


def test_a_joiner_that_leaves_and_answers_no_query_is_seen_in_its_error_log() -> None:
    """The case of the faults tier's CI run of 2026-12-07: after "Failed to
    JOIN the cluster after SST" the server answered no status query (the
    fake raises a timeout) for 7 minutes, so no Disconnected was ever read;
    the error log is what tells."""
    host = MySQLHost()
    host.members = ["node1", "node2", "node3"]
    host.attrs[("p_mysql-primary", "node2")] = "1"
    host.leave_after, host.leaving_launches, host.mute_when_left = 2, 1, True
    began = host.now
    assert act(host, "start", OCF_RESKEY_CRM_meta_timeout="450000") == (ExitCode.SUCCESS, "")
    assert len(launches(host)) == 2
    assert host.now - began < 10


def test_a_joiner_that_leaves_the_group_every_time_fails_its_start_with_the_error() -> None:
    host = MySQLHost()
    host.members = ["node1", "node2", "node3"]
    host.attrs[("p_mysql-primary", "node2")] = "1"
    host.leave_after = 3
    code, reason = act(host, "start", OCF_RESKEY_CRM_meta_timeout="450000")
    assert code == ExitCode.ERR_GENERIC, reason
    assert "left the group after joining it and needs a restart" in reason, reason
    assert "Receiving IST failed, node restart required" in reason, reason
    assert len(launches(host)) == 1 + mysql.REJOINS
    assert not host.server_running()                 # nothing left in no group
    assert ("p_mysql-epoch", "node1") not in host.attrs      # a failed start withdraws its vote


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
    Synced; without it, the server's first answer that it is Primary."""
    host = MySQLHost()
    host.members = ["node1", "node2", "node3"]
    host.attrs[("p_mysql-primary", "node2")] = "1"
    host.files[f"{host.DATADIR}/gvwstate.dat"] = "my_uuid: from-before-the-crash\n"
    host.writes_view = writes_view
    host.joining_polls = 3
    assert act(host, "start")[0] == ExitCode.SUCCESS
    # wsrep_cluster_status=Primary frees it too, at the first answer
    assert host.turn_held == ([False] * 3 if writes_view else [True, False, False])
    assert host.claims == {}


def test_a_server_answering_on_a_peers_galera_port_is_joined_whatever_the_cib_says() -> None:
    """No primary flag and no epochs in the CIB (Pacemaker restarted while
    the servers ran on), but a peer's Galera answers: join it, never elect."""
    host = MySQLHost()
    host.members = ["node1", "node2", "node3"]
    peer = GaleraGreeter()
    try:
        address = f"gcomm://127.0.0.1:1,127.0.0.1:{peer.port}"
        assert act(host, "start", wsrep_cluster_address=address) == (ExitCode.SUCCESS, "")
    finally:
        peer.close()
    argv = launch(host)
    assert "--wsrep-new-cluster" not in argv and f"--wsrep-cluster-address={address}" in argv
    assert not any("galera-p_mysql" == k for k in host.claims)


def test_a_bare_tcp_accept_is_not_a_galera_peer() -> None:
    """A port that accepts but never speaks (a proxy, another service) does
    not stop a lone node from bootstrapping."""
    import socket
    quiet = socket.socket()
    quiet.bind(("127.0.0.1", 0))
    quiet.listen(8)
    try:
        address = f"gcomm://127.0.0.1:{quiet.getsockname()[1]}"
        assert act(MySQLHost(), "start", wsrep_cluster_address=address)[0] == ExitCode.SUCCESS
    finally:
        quiet.close()


def test_a_failed_start_withdraws_its_epoch_and_its_claim() -> None:
    host = MySQLHost()
    host.cluster_status = "non-Primary"          # the bootstrap never reaches Primary
    code, reason = act(host, "start")
    assert code == ExitCode.ERR_GENERIC and "Primary Component" in reason
    assert "--wsrep-new-cluster" in launch(host)        # it did bootstrap, and failed
    assert host.claims == {}
    assert ("p_mysql-epoch", "node1") not in host.attrs
    assert ("p_mysql-primary", "node1") not in host.attrs


def test_stop_withdraws_a_leftover_epoch() -> None:
    host = MySQLHost()
    host.attrs[("p_mysql-epoch", "node1")] = f"{UUID}:7:0"
    assert act(host, "stop")[0] == ExitCode.SUCCESS
    assert ("p_mysql-epoch", "node1") not in host.attrs


class AccessDenied(Exception):
    """pymysql's OperationalError(1045, ...): the server answered, and refused."""


@pytest.mark.parametrize("error, early", [
    (AccessDenied(1045, "Access denied for user 'root'@'localhost'"), False),
    (ConnectionRefusedError(111, "Connection refused"), True),      # no socket served
])
def test_stop_kills_early_only_on_evidence_of_no_primary_component(error: Exception,
                                                                    early: bool) -> None:
    """A Primary member that refuses the monitor's login gets its whole
    budget to shut down cleanly (and write grastate.dat); a server that
    serves no socket is KILLed after 5 s."""
    host = MySQLHost()
    act(host, "start", binary="/usr/sbin/mariadbd")
    server = next(p for p, i in host.procs.items() if i.exe == "/usr/sbin/mariadbd")
    host.ignore_term.add(server)
    host.sql_error = error
    began = host.now
    assert act(host, "stop", binary="/usr/sbin/mariadbd")[0] == ExitCode.SUCCESS
    waited = host.kill_times[server] - began
    assert (waited < 10) == early, waited


def test_a_clone_instance_number_is_not_part_of_the_election_names() -> None:
    """Older Pacemakers name clone instances p_mysql:0, p_mysql:1: every node
    must still read and write the same attributes and claim."""
    host = MySQLHost()
    assert act(host, "start", OCF_RESOURCE_INSTANCE="p_mysql:1")[0] == ExitCode.SUCCESS
    assert host.attrs[("p_mysql-primary", "node1")] == "1"


def test_a_stop_with_a_broken_binary_parameter_still_stops_the_server() -> None:
    host = MySQLHost()
    act(host, "start")
    assert act(host, "stop", binary="relative/mysqld_safe")[0] == ExitCode.SUCCESS
    assert not host.server_running()


def test_an_unrecoverable_position_fails_the_start_and_never_votes() -> None:
    """A crashed datadir with a history (grastate's UUID, seqno -1) whose
    --wsrep-recover finds nothing may hold the newest commits: it must not
    vote as the oldest epoch, let alone bootstrap."""
    host = MySQLHost()
    host.recovered = None
    code, reason = act(host, "start")
    assert code == ExitCode.ERR_GENERIC and "cannot recover the Galera position" in reason
    assert ("p_mysql-epoch", "node1") not in host.attrs and host.claims == {}
    assert not host.server_running()


def test_a_new_datadir_bootstraps_at_the_zero_position() -> None:
    host = MySQLHost()
    host.recovered = "00000000-0000-0000-0000-000000000000:-1"   # what InnoDB says of a new one
    del host.files[f"{host.DATADIR}/grastate.dat"]       # never ran under Galera
    assert act(host, "start")[0] == ExitCode.SUCCESS
    assert "--wsrep-new-cluster" in launch(host)


def test_a_wrapper_left_without_its_server_is_stopped_before_the_start() -> None:
    """mysqld_safe runs its own --wsrep-recover before it starts the server:
    a probe then finds no server (7), and a start must not add a second
    wrapper on the same datadir."""
    host = MySQLHost()
    old = host.add_process("/usr/bin/dash", ["/bin/sh", "/usr/bin/mysqld_safe",
                                             "--datadir=/var/lib/mysql"])
    host.ignore_term.add(old)
    assert act(host, "monitor")[0] == ExitCode.NOT_RUNNING
    assert act(host, "start") == (ExitCode.SUCCESS, "")
    assert (old, signal.SIGKILL) in host.signals and old not in host.procs
    wrappers = [p for p, i in host.procs.items() if i.exe == "/usr/bin/dash"]
    assert len(wrappers) == 1


def test_the_window_counts_only_time_with_quorum() -> None:
    """node1 waits 400 s without quorum (the others are down), then quorum
    comes back: it must give the newcomers their whole window to publish,
    not claim at once because 400 s > election_timeout."""
    host = MySQLHost()
    host.members = ["node1", "node2", "node3"]
    host.offline = {"node2", "node3"}
    began = host.now
    host.quorate_from = began + 400
    code, _ = act(host, "start", election_timeout="300",
                  OCF_RESKEY_CRM_meta_timeout="2000000")
    assert code == ExitCode.SUCCESS and "--wsrep-new-cluster" in launch(host)
    assert host.now - began >= 700          # 400 s without quorum, then the 300 s window


def test_a_server_started_by_hand_without_datadir_is_found_by_the_pid_file() -> None:
    """Its datadir comes from my.cnf: no --datadir on its command line.  The
    pid file names it; a server of another datadir named there is not ours."""
    host = MySQLHost()
    pid = host.add_process("/usr/sbin/mariadbd", ["/usr/sbin/mariadbd", "--defaults-file=/etc/my.cnf"])
    host.files["/var/run/mysql/mysqld.pid"] = f"{pid}\n"
    assert act(host, "monitor")[0] == ExitCode.SUCCESS
    assert act(host, "stop")[0] == ExitCode.SUCCESS and pid not in host.procs
    other = host.add_process("/usr/sbin/mariadbd", ["/usr/sbin/mariadbd", "--datadir=/srv/other"])
    host.files["/var/run/mysql/mysqld.pid"] = f"{other}\n"
    assert act(host, "monitor")[0] == ExitCode.NOT_RUNNING
    assert act(host, "stop")[0] == ExitCode.SUCCESS and other in host.procs


def test_a_datadir_of_another_history_is_refused_and_the_history_is_recorded() -> None:
    """The election keeps to the history the cluster recorded: a datadir
    from another cluster (here the host's UUID against a recorded other one)
    never bootstraps, whatever its seqno, and leaves no vote behind."""
    other = "7c1e2f90-0000-4000-8000-00000000f00d"
    host = MySQLHost()
    host.attrs[("p_mysql-galera-history", "crm_config")] = other
    code, reason = act(host, "start")
    assert code == ExitCode.ERR_ARGS, reason
    assert "another Galera history" in reason and UUID in reason
    assert not [c for c in host.commands if "--wsrep-new-cluster" in c]
    assert ("p_mysql-epoch", "node1") not in host.attrs and host.claims == {}
    # the refusal stays published, through the stop that follows: the others
    # count this node as reported, and elect without it
    assert host.attrs[("p_mysql-foreign", "node1")] == f"{UUID}:7:0"
    assert act(host, "stop")[0] == ExitCode.SUCCESS
    assert ("p_mysql-foreign", "node1") in host.attrs
    # with no history recorded, the lone node bootstraps and records its own,
    # and its refusal of before is gone
    del host.attrs[("p_mysql-galera-history", "crm_config")]
    assert act(host, "start") == (ExitCode.SUCCESS, "")
    assert host.attrs[("p_mysql-galera-history", "crm_config")] == UUID
    assert ("p_mysql-foreign", "node1") not in host.attrs


def test_a_waiting_election_reads_the_cib_once_a_look_and_the_membership_once_a_second() -> None:
    """node1 waits its whole window for two nodes that are down: each look
    is one read of the whole CIB; crm_node's membership is read again only
    once it is a second old (the election's load on a recovering cluster)."""
    host = MySQLHost()
    host.members = ["node1", "node2", "node3"]
    host.offline = {"node2", "node3"}
    began = host.now
    code, reason = act(host, "start", election_timeout="60", OCF_RESKEY_CRM_meta_timeout="200000")
    assert code == ExitCode.SUCCESS and "--wsrep-new-cluster" in launch(host), reason
    waited = host.now - began
    looks = sum(1 for c in host.commands if c[:2] == ("cibadmin", "--query") and len(c) == 2)
    lists = sum(1 for c in host.commands if c[:2] == ("crm_node", "-l"))
    scoped = [c for c in host.commands if c[:2] == ("cibadmin", "--query") and len(c) > 2]
    assert looks >= 60 / mysql.POLL * 0.9, (looks, waited)
    assert lists <= waited / mysql.MEMBERSHIP_AGE + 3, (lists, waited)
    assert lists < looks / 2 and scoped == []


def test_a_decision_is_acted_on_only_with_the_membership_of_that_look() -> None:
    """Quorum goes a moment before the look that claims (its time found by a
    first run where it never goes), after the last membership read that
    the looks reuse: the look that would claim must read the membership
    again, find no quorum, and not claim."""
    def election(quorate_until: float) -> Tuple[MySQLHost, ExitCode, str]:
        host = MySQLHost()
        host.members = ["node1", "node2", "node3"]
        host.offline = {"node2", "node3"}
        host.quorate_until = quorate_until
        code, reason = act(host, "start", election_timeout="60",
                           OCF_RESKEY_CRM_meta_timeout="120000")
        return host, code, reason
    first, code, _ = election(float("inf"))
    assert code == ExitCode.SUCCESS
    claimed = next(i for i, c in enumerate(first.commands) if c[:2] == ("cibadmin", "--create"))
    decisive = first.stamps[claimed]
    reads = [first.stamps[i] for i, c in enumerate(first.commands[:claimed])
             if c[:2] == ("crm_node", "-q")]
    assert [t for t in reads if t < decisive - 0.01]       # looks that reused a membership
    host, code, reason = election(decisive - 0.01)
    assert code == ExitCode.ERR_GENERIC and "no quorum" in reason, reason
    assert not [c for c in host.commands if "--wsrep-new-cluster" in c]
    assert host.claims == {}


def test_a_node_that_reports_before_the_reused_membership_lists_it_is_not_waited_for() -> None:
    """node2 comes online (and has reported) while node1 reuses a membership
    read before: node1 reads it again at that look, and claims at once,
    not at the next periodic read."""
    host = MySQLHost()
    host.members = ["node1", "node2"]
    host.attrs[("p_mysql-epoch", "node2")] = f"{UUID}:3:0"
    came = host.now + 20.65       # just after a membership read (1 s before the next)
    host.online_at = {"node2": came}
    code, reason = act(host, "start", election_timeout="300", OCF_RESKEY_CRM_meta_timeout="400000")
    assert code == ExitCode.SUCCESS, reason
    claimed = next(i for i, c in enumerate(host.commands) if c[:2] == ("cibadmin", "--create"))
    assert host.stamps[claimed] - came <= mysql.POLL + 0.01, host.stamps[claimed] - came
