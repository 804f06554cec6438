"""What mode=replication reads from a server (mirantis_ocf.replication), pure parts."""
from typing import Dict, List, Optional, Sequence, Tuple

import pytest

from mirantis_ocf.promotion import MASTER, SLAVE
from mirantis_ocf.replication import State, is_errant_refusal, report, slave_problem

pytestmark = pytest.mark.unit

WORKING = {"Master_Host": "10.0.0.1", "Slave_IO_Running": "Yes", "Slave_SQL_Running": "Yes",
           "Seconds_Behind_Master": "0", "Gtid_IO_Pos": "0-1-12", "Last_IO_Errno": "0"}


def test_a_replica_is_trusted_only_with_its_sql_thread_running_and_within_its_lag() -> None:
    assert slave_problem(None, 10) == ""                       # no master yet
    assert slave_problem(WORKING, 10) == ""
    gone = dict(WORKING, Slave_IO_Running="Connecting", Seconds_Behind_Master="")
    assert slave_problem(gone, 10) == ""                       # its master went away
    stale = dict(WORKING, Slave_SQL_Running="No", Last_SQL_Error="Duplicate entry '1'")
    assert slave_problem(stale, 10) == "the SQL thread is stopped: Duplicate entry '1'"
    stopped = dict(WORKING, Slave_IO_Running="No", Last_IO_Error="")
    assert slave_problem(stopped, 10) == "the IO thread is stopped"
    late = dict(WORKING, Seconds_Behind_Master="11")
    assert "over max_slave_lag (10 s)" in slave_problem(late, 10)


def test_the_report_holds_what_was_received_and_says_what_is_wrong() -> None:
    state = State(True, {0: (1, 10)}, 2, True, WORKING)
    r = report(state, 10)
    assert (r.role, r.ok, r.server_id, r.position) == (SLAVE, True, 2, {0: (1, 12)})
    master = report(State(False, {0: (1, 12)}, 1, True, None), 10)
    assert (master.role, master.ok) == (MASTER, True)
    two_writers = report(State(False, {0: (1, 12)}, 1, True, WORKING), 10)
    assert (two_writers.role, two_writers.ok) == (MASTER, False)
    stale = report(State(True, {0: (1, 10)}, 2, True, dict(WORKING, Slave_SQL_Running="No")), 10)
    assert not stale.ok and "SQL thread" in stale.why


def test_the_masters_refusal_of_our_position_is_recognised() -> None:
    assert is_errant_refusal(dict(WORKING, Slave_IO_Running="No", Last_IO_Errno="1236"))
    assert not is_errant_refusal(WORKING) and not is_errant_refusal(None)


def test_a_probe_of_a_stopped_server_exits_7_without_importing_pymysql() -> None:
    import os
    import subprocess

    from support import ROOT
    env = {"OCF_ROOT": "/usr/lib/ocf", "OCF_RESOURCE_INSTANCE": "p_mysql",
           "OCF_RESKEY_CRM_meta_interval": "0", "OCF_RESKEY_mode": "replication",
           "OCF_RESKEY_replication_user": "repl", "OCF_RESKEY_datadir": "/nonexistent/mysql"}
    proc = subprocess.run(["/usr/bin/python3", "-X", "importtime", "-B",
                           os.path.join(ROOT, "agents", "mysql"), "monitor"],
                          env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 7, proc.stderr[-500:]
    imported = [line.split("|")[-1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:")]
    assert "mirantis_ocf.runner" in imported
    assert not [m for m in imported if m.startswith("pymysql")]


def test_seeding_keeps_the_passwords_in_0600_files_and_takes_the_copys_position() -> None:
    """The argv and option files that seed() gives mariadb-dump and mariadb.
    The System is faked here because this checks what is handed to the
    clients; the cluster tier (test_f) runs the real copy between real servers."""
    import io
    import os
    import stat

    from mirantis_ocf.agent import Context
    from mirantis_ocf.budget import Budget
    from mirantis_ocf.log import Log
    from mirantis_ocf.params import Params
    from mirantis_ocf.replication import seed
    from mirantis_ocf.system import CommandResult, System

    password, repl_password = 'pw "with" \\ and space', "R3pl secret"

    class Host(System):
        def __init__(self) -> None:
            super().__init__()
            self.argvs: List[List[str]] = []
            self.files: Dict[str, Tuple[int, str]] = {}
            self.statements: List[Tuple[str, Sequence[object]]] = []

        def which(self, name: str) -> Optional[str]:
            return f"/usr/bin/{name}"

        def pipe(self, producer, consumer, timeout):  # type: ignore[no-untyped-def]
            for argv in (producer, consumer):
                self.argvs.append(list(argv))
                path = argv[1].split("=", 1)[1]
                with open(path) as f:
                    self.files[argv[0]] = (stat.S_IMODE(os.stat(path).st_mode), f.read())
            return (CommandResult(tuple(producer), 0, "", ""),
                    CommandResult(tuple(consumer), 0, "", ""))

        def sql_rows(self, server, user, password, timeout, statements):  # type: ignore[no-untyped-def]
            self.statements += list(statements)
            return [[{"pos": "0-1-42"}]] * len(statements)

    host = Host()
    ctx = Context("start", "p_mysql", Params({}), False, 0, Budget(20, host.monotonic),
                  Log("t", "t", {}, io.StringIO()), host, {})
    assert seed(ctx, "/run/mysqld.sock", "monitor", password, ("10.0.0.1", 3306), "repl",
                repl_password, 60) == {0: (1, 42)}
    dump, load = host.argvs
    assert dump[1].startswith("--defaults-extra-file=") and load[1].startswith(
        "--defaults-extra-file=")                     # mariadb reads it only when first
    assert "--single-transaction" in dump and "--gtid" in dump and "--master-data=1" in dump
    assert "--init-command=SET SESSION sql_log_bin=0" in load
    assert not [a for a in dump + load if "secret" in a or "space" in a]
    assert host.files["/usr/bin/mariadb-dump"] == (
        0o600, '[client]\nuser="repl"\npassword="R3pl secret"\n')
    assert host.files["/usr/bin/mariadb"] == (
        0o600, '[client]\nuser="monitor"\npassword="pw \\"with\\" \\\\ and space"\n')
    for argv in (dump, load):
        assert not os.path.exists(argv[1].split("=", 1)[1])     # removed after
    assert host.statements[-2:] == [("RESET MASTER", ()),
                                    ("SET GLOBAL gtid_binlog_state = %s", ("0-1-42",))]
