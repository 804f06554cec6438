"""MariaDB replication on the namespace cluster: the nodes' files, a writer
that records every commit it saw acknowledged, and what the cluster looks
like.  Shared by tests/cluster/test_replication_cluster.py and
bench/replication.py.
"""
import os
import subprocess
from typing import Any, Dict, List, Optional, Set

from galera_env import MONITOR_PASSWORD, MONITOR_USER
from netns import NetnsCluster
from replication_env import REPL_PASSWORD, REPL_USER, ReplicaNode

HOST_ROOT = "/var/tmp/mirantis-ocf/replication"
INSIDE = "/srv/mocf-repl"
NODES = (1, 2, 3)
PORT = 3306
WRITER_USER, WRITER_PASSWORD = "writer", "writer-pw"
WRITER_SQL = f"""CREATE USER '{WRITER_USER}'@'%' IDENTIFIED BY '{WRITER_PASSWORD}';
GRANT SELECT, INSERT, CREATE ON t.* TO '{WRITER_USER}'@'%';
"""

WRITER = r'''
import os, sys, time
import pymysql
addresses, stop, out = sys.argv[1].split(","), sys.argv[2], open(sys.argv[3], "a", buffering=1)
conn, next_id = None, 0
while not os.path.exists(stop):
    try:
        if conn is None:
            for address in addresses:
                try:
                    c = pymysql.connect(host=address, user="%s", password="%s", autocommit=True,
                                        connect_timeout=2, read_timeout=10, write_timeout=10)
                    with c.cursor() as cur:
                        cur.execute("SELECT @@read_only")
                        if cur.fetchone()[0] == 0:
                            conn = c
                            break
                    c.close()
                except Exception:
                    pass
            if conn is None:
                time.sleep(0.05)
                continue
        next_id += 1                   # a fresh id for every attempt
        with conn.cursor() as cur:
            cur.execute("INSERT INTO t.w (id) VALUES (%%s)", (next_id,))
        out.write("%%d %%.3f\n" %% (next_id, time.time()))
    except Exception as exc:
        out.write("# %%.3f %%r\n" %% (time.time(), exc))
        conn = None
    time.sleep(0.005)
''' % (WRITER_USER, WRITER_PASSWORD)


def timing(what: str, seconds: float) -> None:
    print(f"\nTIMING {what}: {seconds:.2f}s")


class Replication:
    def __init__(self, cluster: NetnsCluster, resource: str = "", root: str = HOST_ROOT,
                 rsc: str = "p_mysql") -> None:
        self.c = cluster
        self.resource = resource       # the crm text; {placeholders} filled by load()
        self.root = root
        self.rsc = rsc
        self.nodes = {n: ReplicaNode(f"{root}/n{n}", n, NetnsCluster.addr(n), PORT,
                                     inside=INSIDE) for n in NODES}
        self.writer: Optional["subprocess.Popen[bytes]"] = None
        self.sweep: Any = None          # a secrets_sweep.SecretSweep, for the module's run

    def sql(self, n: int, statement: str, check: bool = True) -> List[List[str]]:
        out = self.c.exec(n, ["mariadb", f"--socket={INSIDE}/run/mysqld.sock", "-N", "-B",
                              "-e", statement], check=check, timeout=30)
        return [line.split("\t") for line in out.stdout.splitlines()]

    def slave(self, n: int) -> Dict[str, str]:
        out = self.c.exec(n, ["mariadb", f"--socket={INSIDE}/run/mysqld.sock", "-e",
                              "SHOW SLAVE STATUS\\G"], check=False, timeout=30).stdout
        found = {}
        for line in out.splitlines():
            key, sep, value = line.strip().partition(": ")
            if sep:
                found[key] = value
        return found

    def load(self, semi: bool) -> None:
        path = f"{self.root}/resource.crm"
        with open(path, "w") as f:
            f.write(self.resource.format(
                inside=INSIDE, user=MONITOR_USER, password=MONITOR_PASSWORD, repl=REPL_USER,
                repl_password=REPL_PASSWORD, semi=str(semi).lower()))
        self.c.exec(1, ["crm", "configure", "load", "update", path], timeout=60)

    def roles(self) -> Dict[str, List[str]]:
        found: Dict[str, List[str]] = {}
        for res in self.c.crm_mon_xml(1).iter("resource"):
            if res.get("id", "").split(":")[0] == self.rsc and res.get("active") == "true" \
                    and res.get("failed") == "false":
                for node in res.findall("node"):
                    found.setdefault(str(res.get("role")), []).append(str(node.get("name")))
        return found

    def settled(self):  # type: ignore[no-untyped-def]
        """One master, and every other running node replicating from it."""
        roles = self.roles()
        masters = roles.get("Promoted", [])
        if len(masters) != 1:
            return False, roles
        address = NetnsCluster.addr(NetnsCluster.number(masters[0]))
        replicas = {}
        for name in roles.get("Unpromoted", []):
            s = self.slave(NetnsCluster.number(name))
            replicas[name] = (s.get("Master_Host"), s.get("Slave_IO_Running"),
                              s.get("Slave_SQL_Running"))
        ok = all(v == (address, "Yes", "Yes") for v in replicas.values())
        return ok, (masters[0], replicas)

    def pacemaker_log(self, n: int) -> str:
        try:
            with open(self.c.node_dir(n) / "log" / "pacemaker.log", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def master(self) -> int:
        return NetnsCluster.number(self.roles()["Promoted"][0])

    def ids(self, n: int) -> Set[int]:
        return {int(r[0]) for r in self.sql(n, "SELECT id FROM t.w")}

    # --- the writer ---------------------------------------------------------------
    def start_writer(self, n: int = 3) -> None:
        for name in ("writer.stop", "writer.log"):
            if os.path.exists(f"{self.root}/{name}"):
                os.remove(f"{self.root}/{name}")
        with open(f"{self.root}/writer.py", "w") as f:
            f.write(WRITER)
        addresses = ",".join(NetnsCluster.addr(m) for m in NODES)
        with open(f"{self.root}/writer.err", "w") as err:
            self.writer = subprocess.Popen(
                self.c.exec_argv(n, ["python3", f"{self.root}/writer.py", addresses,
                                     f"{self.root}/writer.stop", f"{self.root}/writer.log"]),
                stdin=subprocess.DEVNULL, stdout=err, stderr=err)

    def acked(self) -> List[List[float]]:
        try:
            with open(f"{self.root}/writer.log") as f:
                return [[float(x) for x in line.split()] for line in f if line[0].isdigit()]
        except FileNotFoundError:          # not yet opened
            assert self.writer is None or self.writer.poll() is None, self.writer_errors()
            return []

    def writer_errors(self) -> str:
        try:
            with open(f"{self.root}/writer.err") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop_writer(self) -> None:
        open(f"{self.root}/writer.stop", "w").close()
        if self.writer is not None:
            try:
                self.writer.wait(30)
            except subprocess.TimeoutExpired:
                self.writer.kill()
            self.writer = None


