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
# In the error log, in Galera's "Quorum results" once a node is a member of
# a Primary Component (measured on Galera 4 / MariaDB 10.11)
PRIMARY_LOG_LINE = "component  = PRIMARY,"
# ... and when its Galera begins to connect to the group (after InnoDB is up)
CONNECTING_LOG_LINE = "gcomm: connecting to group"
# ... and when a member has left its group for good: an IST that fell short
# ("IST didn't contain all write sets"), then its JOIN refused.  The server
# stays up, in no group, until it is restarted, and may answer no query.
LEFT_GROUP_LOG_LINES = ("node restart required", "Failed to JOIN the cluster",
                        "Received SELF-LEAVE")
SERVER_NAMES = ("mariadbd", "mysqld")
STATUS_KEYS = ("wsrep_cluster_status", "wsrep_ready", "wsrep_local_state_comment",
               "wsrep_cluster_size", "wsrep_last_committed", "wsrep_local_state_uuid",
               "wsrep_connected")


def read_grastate(ctx: Context, datadir: str) -> Optional[Epoch]:
    text = ctx.system.read_text(os.path.join(datadir, GRASTATE))
    return parse_grastate(text) if text else None


def mark_safe_to_bootstrap(ctx: Context, datadir: str) -> None:
    """Set ``safe_to_bootstrap: 1``: mariadbd refuses --wsrep-new-cluster without it.

    Only the election's winner, holding the claim, does this.  It runs as
    root in a directory that the server's user owns: the file is never
    followed through a link, and the new one is given its owner through its
    own descriptor before it replaces the old (no chown of a path after).
    """
    path = os.path.join(datadir, GRASTATE)
    try:
        uid, gid = ctx.system.owner(path)          # lstat: a link is refused below
    except FileNotFoundError:
        return                      # a new datadir: nothing to refuse
    text = ctx.system.read_text(path, follow=False)
    if text is None:
        raise GenericError(f"{path} is not a plain file: not marking it safe_to_bootstrap")
    lines = [("safe_to_bootstrap: 1" if ln.startswith("safe_to_bootstrap:") else ln)
             for ln in text.splitlines()]
    if "safe_to_bootstrap: 1" not in lines:
        lines.append("safe_to_bootstrap: 1")
    ctx.system.write_text(path, "\n".join(lines) + "\n", 0o660, owner=(uid, gid))


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
    """This node's epoch, from grastate.dat, or from --wsrep-recover after a crash.

    A position that cannot be known fails: a node must never vote as the
    oldest (-1) while it may hold the newest commits, which a state transfer
    from a lesser winner would then wipe.  Only a datadir that recovery
    reads as the zero UUID (never part of a Galera cluster) votes as new.
    """
    path = os.path.join(datadir, GRASTATE)
    text = ctx.system.read_text(path)
    state = parse_grastate(text) if text is not None else None
    if state is not None and state.seqno >= 0:
        return state
    recovered = recover_position(ctx, server, defaults, datadir, user, workdir)
    if recovered is None:
        what = ("is unreadable" if text is not None and state is None else
                "has no position" if text is not None else "is missing")
        raise GenericError(f"cannot recover the Galera position of {datadir} ({GRASTATE} {what}, "
                           "and mariadbd --wsrep-recover found none; see the error log): not "
                           "taking part in an election with an unknown position")
    if recovered.seqno >= 0:
        # a lone last node that crashed keeps safe_to_bootstrap: 1 with seqno -1
        if state is not None and state.uuid not in (ZERO_UUID, recovered.uuid):
            ctx.log.warning(f"{GRASTATE} names history {state.uuid}, InnoDB {recovered.uuid}: "
                            "voting with InnoDB's")
        return Epoch(recovered.uuid, recovered.seqno, bool(state and state.safe))
    if state is not None and state.uuid != ZERO_UUID:
        raise GenericError(f"cannot recover the Galera position of {datadir}: {GRASTATE} "
                           f"names history {state.uuid}, but mariadbd --wsrep-recover finds no "
                           "committed position: not taking part in an election with an "
                           "unknown position")
    if recovered.uuid != ZERO_UUID:
        # a history with nothing committed in it yet: as old as it gets
        return Epoch(recovered.uuid, -1, bool(state and state.safe))
    return Epoch(ZERO_UUID, -1, False)


def query_status(ctx: Context, socket: str, user: str, password: str, timeout: float,
                 test_table: str = "") -> Dict[str, str]:
    """The wsrep status over the local socket (and a test query, if asked)."""
    keys = ",".join(f"'{k}'" for k in STATUS_KEYS)
    statements = [f"SHOW GLOBAL STATUS WHERE Variable_name IN ({keys})"]
    if test_table:
        statements.append(f"SELECT COUNT(*) FROM {quote_table(test_table)}")
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
_IDENT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")


def check_table(value: str) -> Optional[str]:
    """``db.table``, plain identifiers: the monitor runs it as root."""
    parts = value.split(".")
    if len(parts) != 2 or not all(p and len(p) <= 64 and set(p) <= _IDENT for p in parts):
        return "must be db.table (letters, digits, _ and $ only)"
    return None


def quote_table(value: str) -> str:
    if check_table(value):
        raise GenericError("test_table " + str(check_table(value)))
    return ".".join(f"`{p}`" for p in value.split("."))


def _port(text: str) -> int:
    # isdigit() takes '²' and other digits that int() refuses
    if not 0 < len(text) <= 5 or not all("0" <= c <= "9" for c in text) \
            or not 0 < int(text) < 65536:
        raise ValueError(f"bad port {text[:10]!r}")
    return int(text)


def parse_gcomm(address: str) -> Tuple[List[Tuple[str, Optional[int]]], Dict[str, str]]:
    """``gcomm://a,b:4568,[::1]:4567?pc.wait_prim=no``: its peers as (host,
    port or None) and its options.  ValueError with a reason if malformed."""
    if not address.startswith("gcomm://"):
        raise ValueError("must start with gcomm://")
    hosts, _, query = address[len("gcomm://"):].partition("?")
    peers: List[Tuple[str, Optional[int]]] = []
    for item in hosts.split(","):
        item = item.strip()
        if not item:
            continue
        if item.startswith("["):                         # [v6] or [v6]:port
            host, sep, rest = item[1:].partition("]")
            if not sep or (rest and not rest.startswith(":")):
                raise ValueError(f"bad address {item[:60]!r}")
            port = rest[1:] if rest else None
        elif item.count(":") == 1:
            host, port = item.split(":")
        elif ":" in item:
            raise ValueError(f"IPv6 address {item[:60]!r} must be written in brackets")
        else:
            host, port = item, None
        if not host or any(c.isspace() or c in "/@" for c in host):
            raise ValueError(f"bad address {item[:60]!r}")
        peers.append((host, _port(port) if port is not None else None))
    options = provider_options(query.replace("&", ";"))
    return peers, options


def gcomm_peers(address: str, ports: Sequence[int] = (GCOMM_PORT,)) -> List[Tuple[str, int]]:
    """The (host, port) pairs to probe; a peer without a port is tried on
    each of ``ports`` (the local node's configured Galera ports)."""
    try:
        peers, _ = parse_gcomm(address)
    except ValueError:
        return []
    return [(host, port) for host, given in peers
            for port in ((given,) if given is not None else tuple(ports))]


def format_host(address: str) -> str:
    """An address as Galera wants it in gcomm://: IPv6 literals in brackets."""
    if ":" in address and not address.startswith("[") and "]" not in address:
        return f"[{address}]"
    return address


def provider_options(text: str) -> Dict[str, str]:
    """``gcache.size=32M; gmcast.listen_addr=tcp://1.2.3.4:4567``, keys lowercased."""
    found: Dict[str, str] = {}
    for item in text.split(";"):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            found[key.strip().lower()] = value.strip()
    return found


def galera_ports(options: Dict[str, str]) -> List[int]:
    """Where this node's Galera listens, and where it looks for a peer given
    without a port: ``base_port`` (4567 by default; measured: a peer without
    a port is reached there) and the port of ``gmcast.listen_addr``."""
    ports = []
    for candidate in (options.get("base_port", ""),
                      options.get("gmcast.listen_addr", "").rpartition(":")[2]):
        try:
            ports.append(_port(candidate.strip()))
        except ValueError:
            continue
    if not options.get("base_port"):
        ports.insert(0, GCOMM_PORT)
    return sorted(set(ports), key=ports.index)


# Provider options that let a node form a Primary Component on its own, or
# keep one on each side of a split: the agent decides when a node bootstraps.
UNSAFE_PROVIDER_OPTIONS = ("pc.bootstrap", "pc.ignore_sb", "pc.ignore_quorum")
# The server options that the agent sets itself, on every start.
RESERVED_SERVER_OPTIONS = ("wsrep-new-cluster", "wsrep-cluster-address", "wsrep-start-position",
                           "wsrep-recover", "datadir", "pid-file", "socket", "user", "log-error",
                           "defaults-file", "defaults-extra-file", "no-defaults")
# Real options that are prefixes of a reserved one (mariadbd takes unique prefixes).
_NOT_PREFIXES = ("wsrep-provider",)
# What takes the short options mariadbd knows: -h is --datadir, -u --user.
_SHORT_RESERVED = "hu"
_SHORT_WITH_VALUE = "bCrhLPtuTWV"


def option_name(word: str) -> str:
    """``--loose-wsrep_new_cluster=1`` -> ``wsrep-new-cluster``."""
    name = word[2:].partition("=")[0].lower().replace("_", "-")
    stripped = True
    while stripped:
        stripped = False
        for prefix in ("loose-", "enable-", "disable-", "skip-", "maximum-"):
            if name.startswith(prefix):
                name, stripped = name[len(prefix):], True
    return name


def is_secret_option(name: str) -> bool:
    return name == "wsrep-sst-auth" or name.endswith(("password", "passwd"))


def unsafe_in_provider_options(text: str) -> Optional[str]:
    options = provider_options(text)
    return next((o for o in UNSAFE_PROVIDER_OPTIONS if o in options), None)


def check_server_words(words: Sequence[str]) -> Optional[str]:
    """Why extra server arguments are refused, naming the option (never its value)."""
    for i, word in enumerate(words):
        if word.startswith("--"):
            name = option_name(word)
            if is_secret_option(name):
                return (f"must not contain --{name}, a secret: put it in the config file "
                        "(arguments are visible in /proc and in the logs)")
            # the name, or a prefix longer than the real option wsrep-provider
            if "wsrep-provider-options".startswith(name) and len(name) > len("wsrep-provider"):
                value = word.partition("=")[2] if "=" in word else " ".join(words[i + 1:i + 2])
                unsafe = unsafe_in_provider_options(value)
                if unsafe:
                    return (f"must not set {unsafe} in --wsrep_provider_options: the election "
                            "decides which node bootstraps")
                continue
            for reserved in RESERVED_SERVER_OPTIONS:
                if name == reserved or (len(name) >= 3 and reserved.startswith(name)
                                        and name not in _NOT_PREFIXES):
                    return f"must not contain --{reserved}: the agent sets it on every start"
        elif word.startswith("-") and len(word) > 1:
            for letter in word[1:]:
                if letter in _SHORT_RESERVED:
                    return f"must not contain -{letter}: the agent sets it on every start"
                if letter in _SHORT_WITH_VALUE or not letter.isalpha():
                    break
    return None


def config_problem(options: Sequence[str]) -> Optional[str]:
    """What in the configuration file (its options, as the server reads them)
    would make every start bootstrap."""
    for word in options:
        if not word.startswith("--"):
            continue
        name, value = option_name(word), word.partition("=")[2]
        if name == "wsrep-new-cluster" and not word.startswith(("--skip", "--disable")) \
                and value.strip().lower() not in ("0", "off", "false"):
            return "sets wsrep-new-cluster: every start would bootstrap a new cluster"
        if name == "wsrep-provider-options":
            unsafe = unsafe_in_provider_options(value)
            if unsafe:
                return f"sets {unsafe} in wsrep_provider_options: the election decides that"
    return None


def server_options(ctx: Context, defaults: Sequence[str]) -> List[str]:
    """The options the server reads from its configuration files, as
    ``my_print_defaults --mysqld`` gives them (includes followed).  Empty
    if that tool is missing or fails."""
    result = ctx.run(["my_print_defaults", *defaults, "--mysqld"], timeout=ctx.budget.cap(10.0))
    if not result.ok:
        # the Galera ports and the bootstrap-forcing options of the file go unchecked
        ctx.log.warning("cannot read the server's configuration with my_print_defaults: "
                        f"{result.first_line() or result.rc}")
        return []
    return result.stdout.splitlines()


def last_option(words: Sequence[str], name: str) -> Optional[str]:
    """The value of the last ``--name=value`` among ``words`` (the one the
    server ends up with), in any of its spellings; None if none is there."""
    found = None
    for word in words:
        if word.startswith("--") and option_name(word) == name:
            found = word.partition("=")[2]
    return found


def configured_provider_options(words: Sequence[str]) -> Dict[str, str]:
    """wsrep_provider_options as the server ends up with them: the last one given."""
    return provider_options(last_option(words, "wsrep-provider-options") or "")


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
