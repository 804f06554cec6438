"""MariaDB with Galera: its on-disk position, its server process, its status.

Observation and action helpers for the ``mysql`` agent.  The election
itself is pure and lives in :mod:`mirantis_ocf.election`.  ``pymysql`` is
imported only by the functions that talk SQL, never on the meta-data path
or on a probe of a stopped server.
"""
from __future__ import annotations

import os

from .election import ZERO_UUID, Epoch, parse_grastate, parse_recovered
from .errors import GenericError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Optional, Sequence, Tuple

    from .agent import Context

GRASTATE = "grastate.dat"
SERVER_NAMES = ("mariadbd", "mysqld")
STATUS_KEYS = ("wsrep_cluster_status", "wsrep_ready", "wsrep_local_state_comment",
               "wsrep_cluster_size", "wsrep_last_committed", "wsrep_local_state_uuid",
               "wsrep_connected")


def read_grastate(ctx: Context, datadir: str) -> Optional[Epoch]:
    text = ctx.system.read_text(os.path.join(datadir, GRASTATE))
    return parse_grastate(text) if text else None


def mark_safe_to_bootstrap(ctx: Context, datadir: str) -> None:
    """Set ``safe_to_bootstrap: 1``: mariadbd refuses --wsrep-new-cluster without it.

    Only the election's winner, holding the claim, does this.
    """
    path = os.path.join(datadir, GRASTATE)
    text = ctx.system.read_text(path)
    if text is None:
        return                      # a new datadir: nothing to refuse
    lines = [("safe_to_bootstrap: 1" if ln.startswith("safe_to_bootstrap:") else ln)
             for ln in text.splitlines()]
    if "safe_to_bootstrap: 1" not in lines:
        lines.append("safe_to_bootstrap: 1")
    uid, gid = ctx.system.owner(path)
    ctx.system.write_text(path, "\n".join(lines) + "\n", 0o660)
    ctx.system.chown(path, uid, gid)


def server_binary(binary: str) -> str:
    """The server itself: ``binary`` unless it is the mysqld_safe wrapper."""
    if os.path.basename(binary) == "mysqld_safe":
        for candidate in ("/usr/sbin/mariadbd", "/usr/sbin/mysqld"):
            if os.path.exists(candidate):
                return candidate
    return binary


def recover_position(ctx: Context, server: str, defaults: Sequence[str], datadir: str,
                     user: str, workdir: str) -> Optional[Epoch]:
    """The last committed position after a crash: ``mariadbd --wsrep-recover``.

    It starts InnoDB up to the redo scan (0.2 s on small datadirs) and logs
    ``WSREP: Recovered position: uuid:seqno``.
    """
    log = os.path.join(workdir, f"wsrep-recover.{os.getpid()}.log")
    try:
        result = ctx.run([server, *defaults, f"--datadir={datadir}", f"--user={user}",
                          "--wsrep-recover", f"--log-error={log}", "--skip-networking"],
                         timeout=max(ctx.budget.remaining() - 30.0, 1.0))
        text = ctx.system.read_text(log) or ""
    finally:
        ctx.system.remove(log)
    found = parse_recovered(text)
    if found is None:
        ctx.log.warning(f"--wsrep-recover found no position (rc {result.rc}"
                        + (", timed out" if result.timed_out else "") + ")")
        return None
    return Epoch(found[0], found[1], False)


def current_epoch(ctx: Context, server: str, defaults: Sequence[str], datadir: str, user: str,
                  workdir: str) -> Epoch:
    """This node's epoch, from grastate.dat, or from --wsrep-recover after a crash."""
    state = read_grastate(ctx, datadir)
    if state is not None and state.seqno >= 0:
        return state
    recovered = recover_position(ctx, server, defaults, datadir, user, workdir)
    if recovered is not None and recovered.seqno >= 0:
        # a lone last node that crashed keeps safe_to_bootstrap: 1 with seqno -1
        return Epoch(recovered.uuid, recovered.seqno, bool(state and state.safe))
    if recovered is None and state is not None and state.uuid != ZERO_UUID:
        # A datadir with a history whose position cannot be read must not
        # vote as the oldest (-1): it may hold the newest commits, which a
        # state transfer from a lesser winner would then wipe.
        raise GenericError(f"cannot recover the Galera position of {datadir} "
                           "(mariadbd --wsrep-recover found none; see the error log): "
                           "not taking part in an election with an unknown position")
    if state is not None:
        return state
    return Epoch(ZERO_UUID, -1, False)


def query_status(ctx: Context, socket: str, user: str, password: str, timeout: float,
                 test_table: str = "") -> Dict[str, str]:
    """The wsrep status over the local socket (and a test query, if asked)."""
    keys = ",".join(f"'{k}'" for k in STATUS_KEYS)
    statements = [f"SHOW GLOBAL STATUS WHERE Variable_name IN ({keys})"]
    if test_table:
        statements.append(f"SELECT COUNT(*) FROM {test_table}")
    rows = ctx.system.sql(socket, user, password, timeout, statements)[0]
    return {row[0].lower(): row[1] for row in rows if len(row) >= 2}


def healthy(status: Dict[str, str]) -> Optional[str]:
    """None if the node is a healthy member of a Primary Component, else why not."""
    cluster = status.get("wsrep_cluster_status", "?")
    ready = status.get("wsrep_ready", "?")
    state = status.get("wsrep_local_state_comment", "?")
    if cluster != "Primary":
        return f"wsrep_cluster_status is {cluster}, not Primary"
    if ready != "ON":
        return f"wsrep_ready is {ready}"
    if state not in ("Synced", "Donor/Desynced", "Donor"):
        return f"local state is {state}, not Synced"
    return None


def status_or_error(ctx: Context, socket: str, user: str, password: str, timeout: float,
                    test_table: str = "") -> Dict[str, str]:
    try:
        return query_status(ctx, socket, user, password, timeout, test_table)
    except Exception as exc:   # pymysql's errors carry the server's message
        args: Sequence[object] = getattr(exc, "args", ())
        detail = args[1] if len(args) > 1 else str(exc)
        raise GenericError(f"cannot query the server on {socket}: {detail}") from None


GCOMM_PORT = 4567


def gcomm_peers(address: str) -> List[Tuple[str, int]]:
    """The (host, port) pairs of a ``gcomm://a,b:4568,[::1]`` address."""
    peers = []
    for item in address[len("gcomm://"):].split("?", 1)[0].split(","):
        item = item.strip()
        if not item:
            continue
        if item.startswith("["):                         # [v6] or [v6]:port
            host, _, rest = item[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else ""
        elif item.count(":") == 1:
            host, port = item.split(":")
        else:
            host, port = item, ""
        peers.append((host, int(port) if port.isdigit() else GCOMM_PORT))
    return peers


def listening(peers: Sequence[Tuple[str, int]], timeout: float) -> List[str]:
    """Which peers have a Galera server on their port, all probed at once
    within ``timeout``: one that accepts the connection and speaks first, as
    Galera's group transport does (its handshake), whether it is in a Primary
    Component or trying to reach one.  A bare TCP accept (a proxy, another
    service) is not enough; unresolvable or silent peers are not listed."""
    import errno
    import select
    import socket
    import time
    connecting: Dict[socket.socket, str] = {}
    for host, port in peers:
        try:
            family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
            sock = socket.socket(family, kind, proto)
        except OSError:
            continue
        sock.setblocking(False)
        if sock.connect_ex(addr) in (0, errno.EINPROGRESS):
            connecting[sock] = f"{host}:{port}"
        else:
            sock.close()
    greeting: Dict[socket.socket, str] = {}
    found = []
    end = time.monotonic() + timeout
    try:
        while (connecting or greeting) and time.monotonic() < end:
            readable, writable, _ = select.select(list(greeting), list(connecting), [],
                                                  max(end - time.monotonic(), 0))
            for sock in writable:
                peer = connecting.pop(sock)
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    greeting[sock] = peer
                else:
                    sock.close()
            for sock in readable:
                peer = greeting.pop(sock)
                try:
                    if sock.recv(64):
                        found.append(peer)
                except OSError:
                    pass
                sock.close()
    finally:
        for sock in (*connecting, *greeting):
            sock.close()
    return sorted(found)
