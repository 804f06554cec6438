"""What the cluster faults need besides the seed's cluster (tests/cluster/seed_full.py):
a writer through the management VIP, a sampler of every node's Primary
Component, and network partitions (the sweep for secrets is
tests/secrets_sweep.py, shared with the cluster tier).

The writer and the sampler run in the switch's network namespace (outside
the nodes, as a client would), each in its own thread.  The writer records
each id whose INSERT was acknowledged; an INSERT that failed may or may not
have committed, and its id is never used again.  The sampler reads
``wsrep_cluster_status``, ``wsrep_cluster_state_uuid``,
``wsrep_cluster_conf_id`` and ``wsrep_cluster_size`` from every node about
twice a second.  Two Primary Components at once are two groups of Primary
nodes (by state UUID and configuration id) that are each *whole*: as many
nodes report the group as its size says.  A node that still shows the view
it had before a partition (Primary, size 3, alone in saying so) is not
whole, and counts for nothing: Galera lets it commit nothing.
"""
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import seed_full as sf
from netns import NetnsCluster

STATUS = ("wsrep_cluster_status", "wsrep_cluster_state_uuid", "wsrep_cluster_conf_id",
          "wsrep_cluster_size", "wsrep_local_state_comment")


class Writer:
    """INSERTs of increasing ids through the VIP, ~40 a second, until stop()."""

    def __init__(self, user: str, password: str, database: str, table: str) -> None:
        self.kwargs = dict(host=sf.MGMT_VIP, port=sf.VIP_PORT, user=user, password=password,
                           database=database, connect_timeout=2, read_timeout=5,
                           write_timeout=5, autocommit=True)
        self.table = table
        self.acked: List[Tuple[int, float]] = []     # (id, time.monotonic() of the ack)
        self.failed = 0
        self.last_error = ""
        self._stop = threading.Event()
        self.thread = sf.NetnsThread()
        self.future: Any = None

    def start(self) -> None:
        self.future = self.thread.submit(self._loop)

    def _loop(self) -> None:
        import pymysql
        conn: Any = None
        next_id = 0
        while not self._stop.is_set():
            next_id += 1
            try:
                if conn is None:
                    conn = pymysql.connect(**self.kwargs)
                with conn.cursor() as cur:
                    cur.execute(f"INSERT INTO {self.table} (id, at) VALUES (%s, %s)",
                                (next_id, time.time()))
                self.acked.append((next_id, time.monotonic()))
                time.sleep(0.025)
            except Exception as e:        # any failure: the outcome is unknown, the id spent
                self.failed += 1
                self.last_error = f"{type(e).__name__}: {e}"
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:
                        pass
                conn = None
                time.sleep(0.2)
        if conn is not None:
            conn.close()

    def acks_between(self, t0: float, t1: float) -> int:
        return sum(1 for _, at in self.acked if t0 <= at <= t1)

    def last_ack(self) -> float:
        return self.acked[-1][1] if self.acked else 0.0

    def ids(self) -> Set[int]:
        return {i for i, _ in self.acked}

    def stop(self) -> None:
        self._stop.set()
        if self.future is not None:
            self.future.result(60)
        self.thread.close()


class Sampler:
    """Every node's view of its Primary Component, ~2 rounds a second."""

    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user, password
        self.rounds = 0
        # (time.monotonic(), the groups) of each round with two whole Primary Components
        self.violations: List[Tuple[float, Dict[Tuple[str, str], List[Tuple[int, int]]]]] = []
        # node -> [(time, status, size, conf_id)], one entry per change
        self.changes: Dict[int, List[Tuple[float, str, int, str]]] = {n: [] for n in sf.NODES}
        self._stop = threading.Event()
        self.thread = sf.NetnsThread()
        self.future: Any = None

    def start(self) -> None:
        self.future = self.thread.submit(self._loop)

    def _read(self, conns: Dict[int, Any], n: int) -> Optional[Dict[str, str]]:
        import pymysql
        try:
            if conns.get(n) is None:
                conns[n] = pymysql.connect(host=NetnsCluster.addr(n), port=sf.MYSQL_PORT,
                                           user=self.user, password=self.password,
                                           connect_timeout=1, read_timeout=1, write_timeout=1)
            with conns[n].cursor() as cur:
                cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN ("
                            + ",".join(f"'{v}'" for v in STATUS) + ")")
                return {str(k).lower(): str(v) for k, v in cur.fetchall()}
        except Exception:
            if conns.get(n) is not None:
                try:
                    conns[n].close()
                except Exception:
                    pass
            conns[n] = None
            return None

    def _loop(self) -> None:
        conns: Dict[int, Any] = {}
        while not self._stop.is_set():
            t = time.monotonic()
            sample = {n: self._read(conns, n) for n in sf.NODES}
            self.judge(t, sample)
            self.rounds += 1
            time.sleep(max(0.0, 0.5 - (time.monotonic() - t)))
        for c in conns.values():
            if c is not None:
                c.close()

    def judge(self, t: float, sample: Dict[int, Optional[Dict[str, str]]]) -> None:
        groups: Dict[Tuple[str, str], List[Tuple[int, int]]] = {}
        for n, st in sample.items():
            status = (st or {}).get("wsrep_cluster_status", "-")
            size = int((st or {}).get("wsrep_cluster_size", "0") or 0)
            conf = (st or {}).get("wsrep_cluster_conf_id", "-")
            last = self.changes[n][-1] if self.changes[n] else None
            if last is None or last[1:] != (status, size, conf):
                self.changes[n].append((t, status, size, conf))
            if st and status == "Primary":
                key = (st.get("wsrep_cluster_state_uuid", ""), conf)
                groups.setdefault(key, []).append((n, size))
        whole = [k for k, members in groups.items()
                 if len(members) >= max(size for _, size in members)]
        if len(whole) > 1:
            self.violations.append((t, groups))

    def primary_alone(self, n: int, t0: float, t1: float, below: int) -> List[Tuple[float, int]]:
        """When node n said Primary in a component smaller than ``below``
        between t0 and t1 (a bootstrap there, or a minority kept Primary)."""
        found, state = [], None
        for change in self.changes[n]:
            at, status, size, _ = change
            if at > t1:
                break
            state = change
            if at >= t0 and status == "Primary" and size < below:
                found.append((at, size))
        if state is not None and state[0] < t0 and state[1] == "Primary" and state[2] < below:
            found.insert(0, (t0, state[2]))
        return found

    def stop(self) -> None:
        self._stop.set()
        if self.future is not None:
            self.future.result(60)
        self.thread.close()


# --- network partitions ------------------------------------------------------------

def _route(n: int, peer: int, add: bool) -> None:
    import subprocess
    subprocess.run(["ip", "-n", NetnsCluster.netns(n), "route", "add" if add else "del",
                    "blackhole", f"{NetnsCluster.addr(peer)}/32"],
                   capture_output=True, timeout=30, check=add)


def cut(side_a: Sequence[int], side_b: Sequence[int]) -> None:
    """No packet between the two sides, either way: a blackhole route to
    each peer across, in each node's namespace (the switch still reaches
    every node: the clients, the writer and the sampler are outside)."""
    for a in side_a:
        for b in side_b:
            _route(a, b, True)
            _route(b, a, True)


def heal(side_a: Sequence[int], side_b: Sequence[int]) -> None:
    for a in side_a:
        for b in side_b:
            _route(a, b, False)
            _route(b, a, False)
