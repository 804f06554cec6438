"""MariaDB + Galera test nodes: a datadir, a my.cnf, and SQL over the socket.

Used by the agent tier (one node on loopback) and the cluster tier (one per
network namespace).  Everything lives under a directory the test owns.
"""
import os
import shutil
import subprocess
from typing import Any, Dict, List, Optional

MONITOR_USER = "ocf_monitor"
MONITOR_PASSWORD = "M0n!tor pass"   # a space and a quote-free symbol: passed only via pymysql

MY_CNF = """[mysqld]
user = mysql
datadir = {datadir}
socket = {socket}
pid-file = {pid}
log-error = {log}
bind-address = {bind}
port = {port}
skip-name-resolve
binlog_format = ROW
default_storage_engine = InnoDB
innodb_autoinc_lock_mode = 2
innodb_buffer_pool_size = 32M
innodb_log_file_size = 16M
performance_schema = OFF
wsrep_on = ON
wsrep_provider = /usr/lib/galera/libgalera_smm.so
wsrep_cluster_name = {cluster}
wsrep_cluster_address = gcomm://
wsrep_node_address = {address}
wsrep_node_name = {name}
wsrep_sst_method = rsync
wsrep_provider_options = "gcache.size=32M; base_port={gport}; gmcast.listen_addr=tcp://{address}:{gport}; ist.recv_addr={address}:{istport}"
[client]
socket = {socket}
[mysqld_safe]
skip-kill-mysqld
"""

BOOTSTRAP_SQL = f"""FLUSH PRIVILEGES;
DELETE FROM mysql.global_priv WHERE User='';
CREATE USER '{MONITOR_USER}'@'localhost' IDENTIFIED BY '{MONITOR_PASSWORD}';
GRANT USAGE, PROCESS ON *.* TO '{MONITOR_USER}'@'localhost';
GRANT SELECT ON mysql.user TO '{MONITOR_USER}'@'localhost';
"""


class GaleraNode:
    """One node's files.  ``root`` is where they live on the host."""

    def __init__(self, root: str, name: str = "node1", address: str = "127.0.0.1",
                 port: int = 3306, gport: int = 4567, cluster: str = "mocf",
                 inside: Optional[str] = None) -> None:
        # ``inside``: the path the node itself sees (a bind mount in a namespace)
        self.root = root
        self.name = name
        self.address = address
        base = inside or root
        self.datadir = os.path.join(base, "data")
        self.socket = os.path.join(base, "run", "mysqld.sock")
        self.pid = os.path.join(base, "run", "mysqld.pid")
        self.log = os.path.join(base, "mysqld.err")
        self.config = os.path.join(base, "my.cnf")
        self.fields = dict(datadir=self.datadir, socket=self.socket, pid=self.pid, log=self.log,
                           bind=address, port=port, cluster=cluster, address=address, name=name,
                           gport=gport, istport=gport + 1)

    def host_path(self, path: str) -> str:
        inside = os.path.dirname(self.datadir)
        return os.path.join(self.root, os.path.relpath(path, inside))

    def prepare(self, extra_sql: str = "") -> None:
        """A fresh datadir and my.cnf (1-2 s): install-db, then a bootstrap SQL run
        (BOOTSTRAP_SQL, then ``extra_sql``: e.g. more users, made before any
        server runs, so every node of a Galera cluster has them)."""
        shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(os.path.join(self.root, "data"))
        os.makedirs(os.path.join(self.root, "run"))
        os.chmod(self.root, 0o755)
        with open(os.path.join(self.root, "my.cnf"), "w") as f:
            f.write(MY_CNF.format(**self.fields))
        real_data = os.path.join(self.root, "data")
        subprocess.run(["chown", "-R", "mysql:mysql", real_data, os.path.join(self.root, "run")],
                       check=True)
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={real_data}",
                        "--user=mysql", "--auth-root-authentication-method=socket",
                        "--skip-test-db", "--innodb-log-file-size=16M"],
                       check=True, capture_output=True)
        subprocess.run(["/usr/sbin/mariadbd", "--no-defaults", f"--datadir={real_data}",
                        "--user=mysql", "--bootstrap", "--innodb-log-file-size=16M",
                        "--skip-networking", "--log-error=" + os.path.join(self.root, "bootstrap.err")],
                       input=BOOTSTRAP_SQL + extra_sql, text=True, check=True, capture_output=True)
        subprocess.run(["chown", "-R", "mysql:mysql", real_data], check=True)

    def params(self, **more: str) -> Dict[str, str]:
        """The agent's parameters for this node."""
        params = {"binary": "/usr/bin/mysqld_safe", "config": self.config,
                  "datadir": self.datadir, "socket": self.socket, "pid": self.pid,
                  "log": self.log, "test_user": MONITOR_USER, "test_passwd": MONITOR_PASSWORD}
        params.update(more)
        return params


def sql(socket: str, statement: str, user: str = MONITOR_USER,
        password: str = MONITOR_PASSWORD) -> List[Any]:
    import pymysql
    conn = pymysql.connect(unix_socket=socket, user=user, password=password, connect_timeout=5,
                           autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return list(cur.fetchall())
    finally:
        conn.close()


def wsrep(socket: str) -> Dict[str, str]:
    return {k.lower(): v for k, v in sql(socket, "SHOW GLOBAL STATUS LIKE 'wsrep_%'")}
