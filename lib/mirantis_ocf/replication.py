"""MariaDB GTID replication: what the ``mysql`` agent's replication mode reads and does.

The mode runs as a promotable clone: the promoted instance is the master
(``read_only=OFF``), the others replicate from it with
``MASTER_USE_GTID=slave_pos`` and ``read_only=ON``.  Which node is promoted
is decided in :mod:`mirantis_ocf.promotion`; this module observes a server
and changes its role.  Every statement goes over pymysql, with its
arguments escaped by pymysql: the replication password is never on a
command line, and never in a log (``CHANGE MASTER`` is not binlogged).
"""
from __future__ import annotations

from .errors import GenericError
from .promotion import MASTER, SLAVE, Report, errant, format_position, holds, parse_position

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Optional, Sequence, Tuple, Union

    from .agent import Context

    Server = Union[str, Tuple[str, int]]     # a socket path, or (host, port)

# MariaDB's error when a replica asks for a GTID the master's binlog never had
ER_MASTER_FATAL_READING_BINLOG = "1236"
STATE_SQL = ("SELECT @@read_only AS ro, @@gtid_binlog_pos AS pos, @@server_id AS id, "
             "@@log_bin AS log_bin, @@log_slave_updates AS lsu, @@gtid_strict_mode AS strict")


class State:
    """One look at a server: its role, position and replication threads."""

    __slots__ = ("read_only", "position", "server_id", "log_bin", "slave")

    def __init__(self, read_only: bool, position: Dict[int, Tuple[int, int]], server_id: int,
                 log_bin: bool, slave: Optional[Dict[str, str]]) -> None:
        self.read_only = read_only
        self.position = position
        self.server_id = server_id
        self.log_bin = log_bin
        self.slave = slave          # SHOW SLAVE STATUS, None when no master is configured

    @property
    def replicating(self) -> bool:
        """A replication thread runs, or tries to (IO "Connecting")."""
        s = self.slave
        return s is not None and (s.get("Slave_SQL_Running") == "Yes"
                                  or s.get("Slave_IO_Running") in ("Yes", "Connecting"))

    def received(self) -> Dict[int, Tuple[int, int]]:
        """What this server holds, applied or still in its relay log."""
        merged = dict(self.position)
        io = parse_position((self.slave or {}).get("Gtid_IO_Pos", "")) or {}
        for domain, (server, seqno) in io.items():
            if domain not in merged or merged[domain][1] < seqno:
                merged[domain] = (server, seqno)
        return merged


def look(ctx: Context, server: Server, user: str, password: str, timeout: float) -> State:
    """The server's state; pymysql's exception when it cannot be asked."""
    rows = _sql(ctx, server, user, password, timeout,
                               [(STATE_SQL, ()), ("SHOW SLAVE STATUS", ())])
    top = rows[0][0]
    position = parse_position(top.get("pos", ""))
    if position is None:
        raise GenericError(f"gtid_binlog_pos {top.get('pos', '')[:60]!r} cannot be read")
    slave = rows[1][0] if rows[1] and rows[1][0].get("Master_Host") else None
    return State(top.get("ro") == "1", position, int(top.get("id") or 0),
                 top.get("log_bin") == "1", slave)


def slave_problem(slave: Optional[Dict[str, str]], max_lag: int) -> str:
    """Why a replica cannot be trusted ("" when it can).  A replica with no
    master yet (a new cluster, or its master is being chosen) is fine, and
    so is an IO thread that reconnects to a master that went away."""
    if slave is None:
        return ""
    if slave.get("Slave_SQL_Running") != "Yes":
        error = slave.get("Last_SQL_Error", "")
        return "the SQL thread is stopped" + (f": {error[:160]}" if error else "")
    if slave.get("Slave_IO_Running") == "No":
        error = slave.get("Last_IO_Error", "")
        return "the IO thread is stopped" + (f": {error[:160]}" if error else "")
    lag = slave.get("Seconds_Behind_Master", "")
    if lag.isdigit() and int(lag) > max_lag:
        return f"it lags {lag} s behind its master, over max_slave_lag ({max_lag} s)"
    return ""


def is_errant_refusal(slave: Optional[Dict[str, str]]) -> bool:
    """The master refused our GTID position: we hold what it never had."""
    return slave is not None and slave.get("Last_IO_Errno") == ER_MASTER_FATAL_READING_BINLOG


def report(state: State, max_lag: int) -> Report:
    """What this node publishes for the promotion."""
    if not state.read_only:
        return Report(MASTER, not state.replicating, state.server_id, state.position,
                      "writable while it replicates" if state.replicating else "")
    problem = slave_problem(state.slave, max_lag)
    return Report(SLAVE, not problem, state.server_id, state.received(), problem)


def follow(ctx: Context, local: str, user: str, password: str, master: Tuple[str, int],
           repl_user: str, repl_password: str, semi_sync: bool, timeout: float) -> None:
    """Make the local server a replica of ``master`` (host, port), from its own
    position.  GenericError, with the replication left stopped, when it holds
    transactions the master never had."""
    mine = look(ctx, local, user, password, timeout)
    try:
        theirs: Optional[State] = look(ctx, master, repl_user, repl_password, min(timeout, 5.0))
    except Exception as exc:        # noqa: BLE001  (unreachable now: the IO thread retries)
        ctx.log.warning(f"cannot read the position of {master[0]}:{master[1]}: {reason_of(exc)}")
        theirs = None
    if theirs is not None:
        extra = errant(mine.position, theirs.position)
        if extra:
            raise GenericError(f"this node holds transactions that the master {master[0]} "
                               f"never received (errant GTIDs {extra}; ours "
                               f"{format_position(mine.position)}, the master's "
                               f"{format_position(theirs.position) or 'empty'})")
    statements: List[Tuple[str, Sequence[object]]] = [
        ("STOP SLAVE", ()),
        # our binlog holds every transaction we applied (log_slave_updates),
        # also those of our own time as a master: replicate from there
        ("SET GLOBAL gtid_slave_pos = @@gtid_binlog_pos", ()),
        ("CHANGE MASTER TO MASTER_HOST=%s, MASTER_PORT=%s, MASTER_USER=%s, MASTER_PASSWORD=%s, "
         "MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1", (master[0], master[1], repl_user,
                                                                repl_password)),
        ("SET GLOBAL rpl_semi_sync_master_enabled = OFF", ()),
        (f"SET GLOBAL rpl_semi_sync_slave_enabled = {'ON' if semi_sync else 'OFF'}", ()),
        ("SET GLOBAL read_only = ON", ()),
        ("START SLAVE", ()),
    ]
    _sql(ctx, local, user, password, timeout, statements)


# what mariadb-dump needs on the master to seed a replica (besides the
# REPLICATION SLAVE that replication itself needs)
SEED_GRANTS = "SELECT, RELOAD, LOCK TABLES, SHOW VIEW, EVENT, TRIGGER, REPLICATION CLIENT"


def seed(ctx: Context, local: str, user: str, password: str, master: Tuple[str, int],
         repl_user: str, repl_password: str, timeout: float) -> Dict[int, Tuple[int, int]]:
    """Copy the master's databases into this server, which holds no GTID
    history: ``mariadb-dump --single-transaction --gtid --master-data`` from
    the master, loaded here with ``sql_log_bin=0``.  Our binlog state then
    becomes the dump's position, so that :func:`follow` replicates from
    there, and a restart still knows where the copy ends.  Both clients read
    their password from a 0600 option file, never from argv.  The position
    the copy ends at; GenericError, with this server's GTID state untouched,
    when the copy fails (a later start copies again)."""
    dump = ctx.system.which("mariadb-dump") or ctx.system.which("mysqldump")
    client = ctx.system.which("mariadb") or ctx.system.which("mysql")
    if dump is None or client is None:
        raise GenericError("an empty replica is seeded with mariadb-dump and mariadb "
                           "(package mariadb-client): not found")
    theirs = ctx.system.secret_file(_client_options(repl_user, repl_password))
    try:
        ours = ctx.system.secret_file(_client_options(user, password))
        try:
            got, put = ctx.system.pipe(
                [dump, f"--defaults-extra-file={theirs}", f"--host={master[0]}",
                 f"--port={master[1]}", "--all-databases",
                 "--single-transaction", "--gtid", "--master-data=1", "--routines", "--events",
                 "--triggers", "--hex-blob", "--flush-privileges"],
                [client, f"--defaults-extra-file={ours}", f"--socket={local}", "--binary-mode",
                 "--init-command=SET SESSION sql_log_bin=0"], timeout)
        finally:
            ctx.system.remove(ours)
    finally:
        ctx.system.remove(theirs)
    if got.timed_out:
        raise GenericError(f"the copy from {master[0]} did not finish within {timeout:.0f} s: "
                           "raise the operation's timeout, or seed this node by hand")
    if not got.ok:
        line = got.first_line("rror") or got.first_line() or f"exit {got.rc}"
        hint = f" (replication_user needs {SEED_GRANTS} on the master to seed a replica)" \
            if "denied" in line else ""
        raise GenericError(f"mariadb-dump from {master[0]} failed: {line[:200]}{hint}")
    if not put.ok:
        line = put.first_line("ERROR") or put.first_line() or f"exit {put.rc}"
        raise GenericError(f"loading the copy from {master[0]} failed: {line[:200]}")
    text = _sql(ctx, local, user, password, 10.0,
                [("SELECT @@gtid_slave_pos AS pos", ())])[0][0].get("pos", "")
    position = parse_position(text)
    if not position:
        raise GenericError(f"the copy from {master[0]} carries no GTID position ({text[:60]!r})")
    # our binlog holds no transaction (we had no GTID history): start it
    # at the copy's position, which is what we now hold
    _sql(ctx, local, user, password, 10.0,
         [("RESET MASTER", ()), ("SET GLOBAL gtid_binlog_state = %s", (text,))])
    return position


def _client_options(user: str, password: str) -> str:
    """A [client] option group; values quoted and escaped as option files read them."""
    def quoted(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return f"[client]\nuser={quoted(user)}\npassword={quoted(password)}\n"


def wait_connected(ctx: Context, local: str, user: str, password: str, seconds: float) -> State:
    """Wait, at most ``seconds``, for the IO thread to connect; the last state.
    GenericError when the master refuses our position (errant transactions)."""
    end = ctx.system.monotonic() + seconds
    while True:
        state = look(ctx, local, user, password, 5.0)
        if is_errant_refusal(state.slave):
            error = (state.slave or {}).get("Last_IO_Error", "")[:200]
            _sql(ctx, local, user, password, 5.0, [("STOP SLAVE", ())])
            raise GenericError(f"the master refuses our position: this node holds transactions "
                               f"it never received ({error})")
        if (state.slave or {}).get("Slave_IO_Running") == "Yes" or ctx.system.monotonic() >= end:
            return state
        ctx.system.sleep(0.2)


def drain(ctx: Context, local: str, user: str, password: str, seconds: float) -> State:
    """Let the SQL thread apply what the IO thread received (at most ``seconds``)."""
    end = ctx.system.monotonic() + seconds
    while True:
        state = look(ctx, local, user, password, 5.0)
        if state.slave is None or holds(state.position, state.received()) \
                or state.slave.get("Slave_SQL_Running") != "Yes" or ctx.system.monotonic() >= end:
            return state
        ctx.system.sleep(0.2)


def become_master(ctx: Context, local: str, user: str, password: str, semi_sync: bool,
                  timeout: float) -> None:
    """Stop replicating, forget the old master, and accept writes."""
    statements: List[Tuple[str, Sequence[object]]] = [
        ("STOP SLAVE", ()),
        ("RESET SLAVE ALL", ()),
        ("SET GLOBAL rpl_semi_sync_slave_enabled = OFF", ()),
    ]
    if semi_sync:
        # a commit returns to its client only once a replica has it; never
        # fall back to asynchronous commits silently (the longest timeout)
        statements += [("SET GLOBAL rpl_semi_sync_master_wait_point = AFTER_SYNC", ()),
                       ("SET GLOBAL rpl_semi_sync_master_timeout = 4294967295", ()),
                       ("SET GLOBAL rpl_semi_sync_master_enabled = ON", ())]
    else:
        statements.append(("SET GLOBAL rpl_semi_sync_master_enabled = OFF", ()))
    statements.append(("SET GLOBAL read_only = OFF", ()))
    _sql(ctx, local, user, password, timeout, statements)


def stop_writes(ctx: Context, local: str, user: str, password: str, timeout: float) -> int:
    """read_only=ON, then end the client sessions that could still write
    (read_only does not stop a user with SUPER); the number ended."""
    rows = _sql(ctx, local, user, password, timeout, [
        ("SET GLOBAL read_only = ON", ()),
        ("SELECT ID AS id FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() "
         "AND COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon') "
         "AND USER NOT IN ('system user', 'event_scheduler')", ())])[1]
    ended = 0
    for row in rows:
        try:
            _sql(ctx, local, user, password, timeout,
                                [("KILL CONNECTION %s", (int(row["id"]),))])
            ended += 1
        except Exception as exc:     # noqa: BLE001  (gone already)
            ctx.log.debug(f"KILL {row['id']}: {reason_of(exc)}")
    return ended


def _sql(ctx: Context, server: Server, user: str, password: str, timeout: float,
         statements: Sequence[Tuple[str, Sequence[object]]]) -> List[List[Dict[str, str]]]:
    """System.sql_rows, with the server's refusal as a GenericError that says where."""
    try:
        return ctx.system.sql_rows(server, user, password, timeout, statements)
    except Exception as exc:    # noqa: BLE001  (pymysql's errors carry the server's message)
        where = server if isinstance(server, str) else f"{server[0]}:{server[1]}"
        raise GenericError(f"the server on {where}: {reason_of(exc)}") from None


def reason_of(exc: BaseException) -> str:
    args: Sequence[object] = getattr(exc, "args", ())
    return str(args[1]) if len(args) > 1 else str(exc)
