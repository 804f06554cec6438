"""The mysql agent's safety rules (issue 12), one test per hole, on the
recording fake host: Pacemaker's tools and the server are played by it (no
cluster or server in the unit tier); the real ones are in tests/cluster."""
import os
import socket
import threading
from typing import Dict, List, Optional, Tuple

import pytest

from fakehost import MySQLHost
from support import GaleraGreeter
from test_mysql_logic import SECRET, UUID, act, launch, mysql
from mirantis_ocf.codes import ExitCode
from mirantis_ocf.election import (CLAIM, CLAIM_EXPIRY, RELEASE, WAIT, ZERO_UUID, Claim, Epoch,
                                   View, decide)

NODES = ["node1", "node2", "node3"]
CLAIM_ID = "mirantis-claim-galera-p_mysql"


# --- 1. parameters that make every node bootstrap ---------------------------

@pytest.mark.parametrize("address", ["gcomm://", "gcomm://?pc.wait_prim=no", "gcomm:// , ",
                                     "gcomm://10.0.0.1,10.0.0.2?pc.bootstrap=1",
                                     "gcomm://10.0.0.1?pc.ignore_sb=true"])
def test_a_cluster_address_that_bootstraps_every_node_is_refused(address: str) -> None:
    host = MySQLHost()
    code, reason = act(host, "start", wsrep_cluster_address=address)
    assert code == ExitCode.ERR_CONFIGURED and "parameter wsrep_cluster_address:" in reason
    assert host.commands == []


@pytest.mark.parametrize("words, option", [
    ("--wsrep-new-cluster", "--wsrep-new-cluster"),
    ("--loose-wsrep_new_cluster", "--wsrep-new-cluster"),
    ("--wsrep-new", "--wsrep-new-cluster"),                 # mariadbd takes unique prefixes
    ("--wsrep_cluster_address=gcomm://", "--wsrep-cluster-address"),
    ("--wsrep_provider_options=gcache.size=1G;pc.bootstrap=YES", "pc.bootstrap"),
    ("--wsrep-provider-options 'pc.ignore_quorum=true'", "pc.ignore_quorum"),
    ("--datadir=/srv/other", "--datadir"),
    ("-h/srv/other", "-h"),
    ("--wsrep-start-position=x:1", "--wsrep-start-position"),
    ("--wsrep-recover", "--wsrep-recover"),
    ("--pid-file=/tmp/x.pid", "--pid-file"),
    ("--socket=/tmp/x.sock", "--socket"),
])
def test_options_the_agent_owns_are_refused_in_additional_parameters(words: str,
                                                                     option: str) -> None:
    host = MySQLHost()
    code, reason = act(host, "start", additional_parameters=words)
    assert code == ExitCode.ERR_CONFIGURED
    assert "parameter additional_parameters:" in reason and option in reason
    assert host.commands == []


def test_ordinary_additional_parameters_still_pass() -> None:
    host = MySQLHost()
    words = ("--wsrep-provider=/usr/lib/galera/libgalera_smm.so --port=3307 -C utf8mb4 "
             "--wsrep_provider_options=gcache.size=64M")
    assert act(host, "start", additional_parameters=words) == (ExitCode.SUCCESS, "")
    assert "--port=3307" in launch(host)


def test_a_configuration_file_that_forces_a_bootstrap_fails_the_start() -> None:
    host = MySQLHost()
    host.config_options = ["--datadir=/var/lib/mysql", "--wsrep-new-cluster"]
    code, reason = act(host, "start")
    assert code == ExitCode.ERR_CONFIGURED and "wsrep-new-cluster" in reason
    assert not host.server_running() and ("p_mysql-epoch", "node1") not in host.attrs


# --- 2. a cluster whose flags are gone ---------------------------------------

def test_a_healthy_monitor_publishes_the_primary_flag_again() -> None:
    host = MySQLHost()
    act(host, "start")
    del host.attrs[("p_mysql-primary", "node1")]      # a restart of Pacemaker erased it
    assert act(host, "monitor")[0] == ExitCode.SUCCESS
    assert host.attrs[("p_mysql-primary", "node1")] == "1"


def test_the_last_look_probes_the_galera_port_the_server_is_configured_with() -> None:
    """The peers' Galera listens where my.cnf says (gmcast.listen_addr /
    base_port), not on 4567: a start must find it there and join."""
    host = MySQLHost()
    host.members = NODES
    peer = GaleraGreeter()
    try:
        host.config_options = [f"--wsrep_provider_options=gcache.size=32M; base_port={peer.port}; "
                               f"gmcast.listen_addr=tcp://127.0.0.1:{peer.port}"]
        address = "gcomm://127.0.0.1"
        assert act(host, "start", wsrep_cluster_address=address) == (ExitCode.SUCCESS, "")
    finally:
        peer.close()
    assert "--wsrep-new-cluster" not in launch(host)
    assert CLAIM_ID not in host.claims


# --- 3. a leaked claim -------------------------------------------------------

def test_a_bootstrap_that_never_syncs_still_gives_its_claim_back() -> None:
    """The wait for Synced leaves a reserve: the claim's release is not
    starved of time (the fake's CIB tools time out in 0.1 s, as real ones do)."""
    host = MySQLHost()
    host.cluster_status = "non-Primary"
    code, _ = act(host, "start")
    assert code == ExitCode.ERR_GENERIC and "--wsrep-new-cluster" in launch(host)
    assert host.claims == {} and ("p_mysql-epoch", "node1") not in host.attrs
    # and the next election completes
    host.cluster_status = "Primary"
    assert act(host, "start") == (ExitCode.SUCCESS, "")


def test_stop_gives_back_a_claim_of_this_node() -> None:
    host = MySQLHost()
    host.claims[CLAIM_ID] = f"node1@{UUID}:7:0"
    host.claims["mirantis-claim-galera-join-p_mysql"] = "node2"     # not ours
    assert act(host, "stop")[0] == ExitCode.SUCCESS
    assert host.claims == {"mirantis-claim-galera-join-p_mysql": "node2"}


def test_a_claim_whose_online_owner_no_longer_reports_expires() -> None:
    """node2 claimed, its start failed and left the claim; node2 stays
    online (banned).  node1 must not wait for it for ever."""
    host = MySQLHost()
    host.members = ["node1", "node2"]
    host.claims[CLAIM_ID] = f"node2@{UUID}:9:0"      # and node2 publishes no epoch
    began = host.now
    code, _ = act(host, "start", election_timeout="0", election_without_silent="true",
                  OCF_RESKEY_CRM_meta_timeout="200000")
    assert code == ExitCode.SUCCESS and "--wsrep-new-cluster" in launch(host)
    assert CLAIM_EXPIRY <= host.now - began < CLAIM_EXPIRY + 20


def test_decide_honours_a_silent_owners_claim_only_for_a_while() -> None:
    reports = {"node1": Epoch(UUID, 5), "node2": Epoch(UUID, 4)}
    claim = Claim("node3", Epoch(UUID, 9).encode())

    def view(silent: float) -> View:
        return View("node1", NODES, NODES, True, reports, claim=claim, elapsed=400,
                    claim_silent_for=silent, allow_silent=True)
    assert decide(view(CLAIM_EXPIRY - 1)).action == WAIT
    assert decide(view(CLAIM_EXPIRY)).action == RELEASE


def late_node(acted_after: Optional[float],
              fatal: str = "false") -> Tuple[MySQLHost, ExitCode, str, float]:
    """node1 and node2 elect (node2 has reported); node3 comes online 10 s
    into node1's start, and its status records an operation acted_after
    seconds later (None: never, as when Pacemaker holds its probe and its
    start behind node1's start).  start-failure-is-fatal is ``fatal``."""
    host = MySQLHost()
    host.members = NODES
    host.attrs[("start-failure-is-fatal", "crm_config")] = fatal
    host.attrs[("p_mysql-epoch", "node2")] = f"{UUID}:3:0"
    came = host.now + 10
    host.online_at = {"node3": came}
    if acted_after is not None:
        host.acted_at = {"node2": host.now, "node3": came + acted_after}
    code, reason = act(host, "start", election_timeout="300", OCF_RESKEY_CRM_meta_timeout="120000")
    return host, code, reason, came


def test_a_start_that_holds_back_a_node_come_online_during_the_election_ends() -> None:
    """Pacemaker computes no transition while an action of the aborted one
    runs: node3, come online during node1's election, gets no probe and no
    start (it can never report) until node1's start ends.  node1's start
    ends LATE_NODE_GRACE after node3 came, leaving no epoch and no claim,
    instead of waiting out its timeout; the next transition starts all."""
    host, code, reason, came = late_node(None)
    assert code == ExitCode.ERR_GENERIC and "node3 came online during the election" in reason
    assert mysql.LATE_NODE_GRACE <= host.now - came < mysql.LATE_NODE_GRACE + 2
    assert ("p_mysql-epoch", "node1") not in host.attrs and host.claims == {}
    assert not [c for c in host.commands if "--wsrep-new-cluster" in c]


def test_a_start_whose_failure_would_ban_its_node_keeps_waiting() -> None:
    """With Pacemaker's default start-failure-is-fatal=true a failed start
    bans the node: node1 says so, and waits (out its timeout here)."""
    host, code, reason, came = late_node(None, fatal="true")
    assert code == ExitCode.ERR_GENERIC and "came online" not in reason
    assert "no Primary Component within the start timeout" in reason, reason
    assert not [c for c in host.commands if "--wsrep-new-cluster" in c]


def test_a_node_come_online_that_pacemaker_acts_on_is_waited_for() -> None:
    """node3's probe is recorded 3 s after it came (the transition moves):
    node1 waits for its epoch as for any other node's, to its timeout here."""
    host, code, reason, came = late_node(3)
    assert code == ExitCode.ERR_GENERIC and "came online" not in reason
    assert "no Primary Component within the start timeout" in reason, reason


def test_a_node_come_online_and_probed_whose_start_never_comes_is_not_waited_out() -> None:
    """The faults run of 2026-12-07 (test_g): node2 came back during the
    election and, before it merged with node1, was its own DC for a moment
    and probed itself, so its status records an operation; then node1, DC
    again, held node2's start behind node1's electing start.  node2 has
    nothing in flight and the scheduler would start it: node1's start ends
    as for a node online all along, instead of waiting out its timeout."""
    host = MySQLHost()
    host.plan = ["node3"]
    host.members = NODES
    host.attrs[("start-failure-is-fatal", "crm_config")] = "false"
    host.attrs[("p_mysql-epoch", "node2")] = f"{UUID}:3:0"
    came = host.now + 10
    host.online_at = {"node3": came}
    host.acted_at = {"node2": host.now, "node3": came + 1}
    code, reason = act(host, "start", election_timeout="300", OCF_RESKEY_CRM_meta_timeout="120000")
    assert code == ExitCode.ERR_GENERIC and "the start of node3 waits behind this one" in reason, reason
    assert mysql.LATE_NODE_GRACE <= host.now - came < mysql.LATE_NODE_GRACE + mysql.PLAN_EVERY
    assert ("p_mysql-epoch", "node1") not in host.attrs and host.claims == {}
    assert not [c for c in host.commands if "--wsrep-new-cluster" in c]


def held_start(plan: Optional[List[str]], fatal: str = "false",
               stops_end: float = 0.0) -> Tuple[MySQLHost, ExitCode, str, float]:
    """All three nodes online all along; node2's and node3's stops end
    stops_end seconds into node1's start, and neither reports: their starts
    were left out of a transition that was aborted before it fired them
    (the CI run of 2026-12-07: Pacemaker throttled them under load, and
    node1's epoch aborted the transition).  ``plan`` is where the scheduler
    would start p_mysql now (None: crm_simulate fails)."""
    host = MySQLHost()
    host.members = NODES
    host.attrs[("start-failure-is-fatal", "crm_config")] = fatal
    began = host.now
    host.stopped_at = {"node2": began + stops_end, "node3": began + stops_end}
    host.plan = plan
    code, reason = act(host, "start", election_timeout="60", OCF_RESKEY_CRM_meta_timeout="150000")
    return host, code, reason, began


def test_a_start_that_holds_back_the_starts_of_nodes_online_all_along_ends() -> None:
    """node2 and node3 have nothing in flight, and the scheduler would start
    the clone there: node1's start ends LATE_NODE_GRACE later (within one
    look at the plan), leaving no epoch and no claim, rather than wait out
    its timeout while Pacemaker waits for it; the next transition starts
    all three together."""
    host, code, reason, began = held_start(["node2", "node3"])
    assert code == ExitCode.ERR_GENERIC, reason
    assert "the start of node2, node3 waits behind this one" in reason, reason
    assert len(reason) <= 128
    assert mysql.LATE_NODE_GRACE <= host.now - began < mysql.LATE_NODE_GRACE + mysql.PLAN_EVERY
    assert ("p_mysql-epoch", "node1") not in host.attrs and host.claims == {}
    assert not [c for c in host.commands if "--wsrep-new-cluster" in c]


def test_the_grace_counts_from_the_end_of_the_peers_stops() -> None:
    """A stop still in flight is Pacemaker at work, not a held start."""
    host, code, reason, began = held_start(["node2", "node3"], stops_end=30)
    assert "waits behind this one" in reason, reason
    assert 30 + mysql.LATE_NODE_GRACE <= host.now - began < \
        30 + mysql.LATE_NODE_GRACE + mysql.PLAN_EVERY


def test_a_silent_node_where_the_scheduler_would_not_start_the_clone_is_waited_for() -> None:
    """node3 is banned (or in standby): no start comes for it however long
    node1 waits, and its position may be the newest.  node1 keeps waiting,
    to its timeout here, as before: the operator decides."""
    host, code, reason, _ = held_start(["node2"])
    assert "the start of node2 waits behind this one" in reason, reason
    host, code, reason, _ = held_start([])
    assert code == ExitCode.ERR_GENERIC and "waits behind" not in reason
    assert "no Primary Component within the start timeout" in reason, reason
    assert not [c for c in host.commands if "--wsrep-new-cluster" in c]


def test_without_the_schedulers_answer_a_start_keeps_waiting() -> None:
    host, code, reason, _ = held_start(None)
    assert "waits behind" not in reason and "within the start timeout" in reason, reason
    asked = [c for c in host.commands if c[0] == "crm_simulate"]
    assert asked and all("--live-check" in c for c in asked)
    assert len(asked) <= 150 / mysql.PLAN_EVERY + 1        # asked at most every PLAN_EVERY


def test_a_held_start_whose_failure_would_ban_its_node_keeps_waiting() -> None:
    host, code, reason, _ = held_start(["node2", "node3"], fatal="true")
    assert "waits behind" not in reason and "within the start timeout" in reason, reason
    assert not [c for c in host.commands if "--wsrep-new-cluster" in c]


# --- 4. a join that finds no Primary Component -------------------------------

def test_a_join_that_finds_no_primary_component_goes_back_to_the_election() -> None:
    """node2's flag is stale (its server left the Primary Component); the
    join times out and the start goes back to the election, where node1's
    epoch is the newest: it bootstraps, instead of failing the start."""
    host = MySQLHost()
    host.members = NODES
    host.ghost_join = True
    host.attrs[("p_mysql-primary", "node2")] = "1"
    host.attrs[("p_mysql-epoch", "node3")] = f"{UUID}:3:0"
    code, reason = act(host, "start", election_timeout="0", election_without_silent="true",
                       OCF_RESKEY_CRM_meta_timeout="300000")
    assert (code, reason) == (ExitCode.SUCCESS, "")
    launches = [c for c in host.commands if c[0].endswith("mysqld_safe")]
    assert ["--wsrep-new-cluster" in c for c in launches] == [False, True]


def test_a_joiner_still_in_its_innodb_recovery_is_not_taken_for_a_ghost() -> None:
    """The bound starts when Galera begins to connect to the group: a joiner
    whose InnoDB recovery takes minutes is never killed and relaunched."""
    host = MySQLHost()
    host.members = NODES
    host.ghost_join = True
    host.logs_connecting = False
    host.attrs[("p_mysql-primary", "node2")] = "1"
    code, _ = act(host, "start", OCF_RESKEY_CRM_meta_timeout="300000")
    assert code == ExitCode.ERR_GENERIC
    assert len([c for c in host.commands if c[0].endswith("mysqld_safe")]) == 1


def test_a_monitor_of_a_non_primary_server_takes_its_flag_back() -> None:
    host = MySQLHost()
    act(host, "start")
    host.cluster_status = "non-Primary"
    assert act(host, "monitor")[0] == ExitCode.ERR_GENERIC
    assert ("p_mysql-primary", "node1") not in host.attrs


# --- 5. an unknown position --------------------------------------------------

@pytest.mark.parametrize("grastate", ["", "# GALERA saved state\nversion: 2.1\nuuid: \x00\x00\n",
                                      f"uuid: {UUID}\nseqno: x7\n", None])
def test_an_unknown_position_fails_the_start(grastate: Optional[str]) -> None:
    host = MySQLHost()
    host.recovered = None                       # --wsrep-recover finds nothing either
    if grastate is None:
        del host.files[f"{host.DATADIR}/grastate.dat"]
    else:
        host.files[f"{host.DATADIR}/grastate.dat"] = grastate
    code, reason = act(host, "start")
    assert code == ExitCode.ERR_GENERIC and "cannot recover the Galera position" in reason
    assert ("p_mysql-epoch", "node1") not in host.attrs and not host.server_running()


def test_the_windows_end_excuses_offline_nodes_only() -> None:
    reports = {"node1": Epoch(UUID, 5), "node2": Epoch(UUID, 4)}
    online_silent = View("node1", NODES, NODES, True, reports, elapsed=400, timeout=300)
    assert decide(online_silent).action == WAIT and "node3" in decide(online_silent).reason
    allowed = View("node1", NODES, NODES, True, reports, elapsed=400, timeout=300,
                   allow_silent=True)
    assert decide(allowed).action == CLAIM
    offline = View("node1", NODES, NODES[:2], True, reports, elapsed=400, timeout=300)
    assert decide(offline).action == CLAIM


def test_a_new_datadir_never_wins_over_nodes_that_have_not_reported() -> None:
    empty = {"node1": Epoch(ZERO_UUID, -1), "node2": Epoch(ZERO_UUID, -1)}
    view = View("node1", NODES, NODES[:2], True, empty, elapsed=400, timeout=300)
    assert decide(view).action == WAIT
    everyone = dict(empty, node3=Epoch(ZERO_UUID, -1))
    assert decide(View("node1", NODES, NODES, True, everyone)).action == CLAIM


# --- 6. nodes without a name in corosync.conf --------------------------------

CMAP_RING0_ONLY = """nodelist.node.0.nodeid (u32) = 1
nodelist.node.0.ring0_addr (str) = 10.0.0.1
nodelist.node.1.nodeid (u32) = 2
nodelist.node.1.ring0_addr (str) = 10.0.0.2
nodelist.node.2.nodeid (u32) = 3
nodelist.node.2.ring0_addr (str) = 10.0.0.3
"""


@pytest.mark.parametrize("crm_node_l", ["1 node1 member\n2 node2 member\n",
                                        "1 node1 member\n2 node2 member\n3 (null) lost\n",
                                        "1 node1 member\n2 node2 member\n3  lost\n"])
def test_a_node_list_of_ring0_addresses_keeps_the_nodes_never_seen(crm_node_l: str) -> None:
    from test_cluster_lib import cluster
    c, _ = cluster({("crm_node", "-l"): (0, crm_node_l, ""), ("crm_node", "-q"): (0, "1\n", ""),
                    ("corosync-cmapctl",): (0, CMAP_RING0_ONLY, "")})
    m = c.membership()
    assert m.nodes == ("node1", "node2", "nodeid-3") and m.online == ("node1", "node2")
    # and the election waits for the third within the window
    reports = {"node1": Epoch(UUID, 5), "node2": Epoch(UUID, 4)}
    assert decide(View("node1", m.nodes, m.online, True, reports, elapsed=10)).action == WAIT


# --- 7. no link is followed as root in the datadir ----------------------------

def test_mark_safe_to_bootstrap_never_follows_a_link(tmp_path: "os.PathLike[str]") -> None:
    import io
    from mirantis_ocf.agent import Context
    from mirantis_ocf.budget import Budget
    from mirantis_ocf.errors import GenericError
    from mirantis_ocf.galera import mark_safe_to_bootstrap
    from mirantis_ocf.log import Log
    from mirantis_ocf.params import Params
    from mirantis_ocf.system import System
    system = System()
    ctx = Context("start", "p_mysql", Params({}), False, 0, Budget(20, system.monotonic),
                  Log("t", "t", {}, io.StringIO()), system, {})
    secret = os.path.join(str(tmp_path), "shadow")
    with open(secret, "w") as f:
        f.write("root:$6$hash:19000:0:99999:7:::\n")
    datadir = os.path.join(str(tmp_path), "data")
    os.mkdir(datadir)
    grastate = os.path.join(datadir, "grastate.dat")
    os.symlink(secret, grastate)
    with pytest.raises(GenericError, match="not a plain file"):
        mark_safe_to_bootstrap(ctx, datadir)
    assert os.readlink(grastate) == secret
    with open(secret) as f:
        assert f.read() == "root:$6$hash:19000:0:99999:7:::\n"
    # a plain file keeps its owner, given through the new file's descriptor
    os.unlink(grastate)
    with open(grastate, "w") as f:
        f.write(f"uuid: {UUID}\nseqno: 4\nsafe_to_bootstrap: 0\n")
    owner = (65534, 65534) if os.getuid() == 0 else (os.getuid(), os.getgid())
    os.chown(grastate, *owner)
    mark_safe_to_bootstrap(ctx, datadir)
    st = os.lstat(grastate)
    assert (st.st_uid, st.st_gid) == owner
    with open(grastate) as f:
        assert "safe_to_bootstrap: 1" in f.read()


# --- 8. test_table ------------------------------------------------------------

@pytest.mark.parametrize("table", ["mysql.user WHERE SLEEP(100)", "mysql.user;DROP TABLE t",
                                   "BENCHMARK(1e9,1)", "user", "a.b.c", "`mysql`.`user`"])
def test_test_table_accepts_only_db_dot_table(table: str) -> None:
    code, reason = act(MySQLHost(), "monitor", test_table=table)
    assert code == ExitCode.ERR_CONFIGURED and "parameter test_table:" in reason


def test_test_table_is_backquoted() -> None:
    host = MySQLHost()
    act(host, "start")
    assert act(host, "monitor", OCF_CHECK_LEVEL="10", test_table="mysql.user")[0] == 0
    assert "SELECT COUNT(*) FROM `mysql`.`user`" in host.statements


# --- 9. secrets in additional_parameters -------------------------------------

@pytest.mark.parametrize("words", [f"--wsrep_sst_auth=sst:{SECRET.split()[0]}",
                                   f"--loose-report-password={SECRET.split()[0]}"])
def test_secret_options_are_refused_in_additional_parameters(words: str) -> None:
    host = MySQLHost()
    code, reason = act(host, "start", additional_parameters=words)
    assert code == ExitCode.ERR_CONFIGURED and "put it in the config file" in reason
    assert SECRET.split()[0] not in reason and host.commands == []


# --- 10. input that used to raise ---------------------------------------------

@pytest.mark.parametrize("address", ["gcomm://a:\u00b2", "gcomm://a:99999", "gcomm://a:",
                                     "gcomm://fd00::1,fd00::2", "gcomm://[fd00::1"])
def test_a_malformed_cluster_address_is_a_configuration_error(address: str) -> None:
    code, reason = act(MySQLHost(), "start", wsrep_cluster_address=address)
    assert code == ExitCode.ERR_CONFIGURED and "parameter wsrep_cluster_address:" in reason


def test_ipv6_node_addresses_are_bracketed_for_galera() -> None:
    host = MySQLHost()
    host.members = ["node1", "node2"]
    host.attrs[("p_mysql-primary", "node2")] = "1"
    assert act(host, "start", node_addresses="node1=fd00::1 node2=fd00::2")[0] == 0
    assert "--wsrep-cluster-address=gcomm://[fd00::1],[fd00::2]" in launch(host)
