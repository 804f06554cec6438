"""MariaDB servers for the agent's replication mode: a datadir, a my.cnf, a replication user.

Every node is prepared the same way before any server runs (users made in
bootstrap mode, without a binlog), so that the nodes share one empty GTID
history and any of them can be the first master.
"""
import os
import shutil
import subprocess
from typing import Dict

from galera_env import MONITOR_PASSWORD, MONITOR_USER

REPL_USER = "repl"
REPL_PASSWORD = "R3pl secret"       # a space: it goes through pymysql only

MY_CNF = """[mysqld]
user = mysql
datadir = {datadir}
socket = {socket}
pid-file = {pid}
log-error = {log}
bind-address = {address}
port = {port}
server-id = {server_id}
log-bin = mysql-bin
relay-log = relay-bin
binlog_format = ROW
skip-name-resolve
innodb_buffer_pool_size = 32M
innodb_log_file_size = 16M
performance_schema = OFF
[client]
socket = {socket}
[mysqld_safe]
skip-kill-mysqld
"""

BOOTSTRAP_SQL = f"""FLUSH PRIVILEGES;
DELETE FROM mysql.global_priv WHERE User='';
CREATE USER '{MONITOR_USER}'@'localhost' IDENTIFIED BY '{MONITOR_PASSWORD}';
GRANT ALL ON *.* TO '{MONITOR_USER}'@'localhost' WITH GRANT OPTION;
CREATE USER '{REPL_USER}'@'%' IDENTIFIED BY '{REPL_PASSWORD}';
GRANT REPLICATION SLAVE, REPLICATION CLIENT, SLAVE MONITOR, SELECT, RELOAD, LOCK TABLES,
    SHOW VIEW, EVENT, TRIGGER ON *.* TO '{REPL_USER}'@'%';
"""


class ReplicaNode:
    """One server's files under ``root``, listening on ``address``:``port``."""

    def __init__(self, root: str, server_id: int, address: str, port: int,
                 inside: str = "") -> None:
        # ``inside``: the path the node itself sees (a bind mount in a namespace)
        self.root = root
        self.address = address
        self.port = port
        base = inside or root
        self.datadir = os.path.join(base, "data")
        self.socket = os.path.join(base, "run", "mysqld.sock")
        self.pid = os.path.join(base, "run", "mysqld.pid")
        self.log = os.path.join(base, "mysqld.err")
        self.config = os.path.join(base, "my.cnf")
        self.fields = dict(datadir=self.datadir, socket=self.socket, pid=self.pid, log=self.log,
                           address=address, port=port, server_id=server_id)

    def prepare(self, extra_sql: str = "") -> None:
        """A fresh datadir (1-2 s): install-db, then the users, with no binlog yet.
        The root directory itself stays (a node may have it bind-mounted)."""
        os.makedirs(self.root, exist_ok=True)
        for name in os.listdir(self.root):
            path = os.path.join(self.root, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
        data = os.path.join(self.root, "data")
        os.makedirs(data)
        os.makedirs(os.path.join(self.root, "run"))
        os.chmod(self.root, 0o755)
        with open(os.path.join(self.root, "my.cnf"), "w") as f:
            f.write(MY_CNF.format(**self.fields))
        subprocess.run(["chown", "-R", "mysql:mysql", data, os.path.join(self.root, "run")],
                       check=True)
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}",
                        "--user=mysql", "--auth-root-authentication-method=socket",
                        "--skip-test-db", "--innodb-log-file-size=16M"],
                       check=True, capture_output=True)
        subprocess.run(["/usr/sbin/mariadbd", "--no-defaults", f"--datadir={data}",
                        "--user=mysql", "--bootstrap", "--innodb-log-file-size=16M",
                        "--skip-networking", "--skip-log-bin",
                        "--log-error=" + os.path.join(self.root, "bootstrap.err")],
                       input=BOOTSTRAP_SQL + extra_sql, text=True, check=True,
                       capture_output=True)
        subprocess.run(["chown", "-R", "mysql:mysql", data], check=True)

    def params(self, **more: str) -> Dict[str, str]:
        """The agent's parameters for this server (mode=replication)."""
        params = {"mode": "replication", "binary": "/usr/bin/mysqld_safe",
                  "config": self.config, "datadir": self.datadir, "socket": self.socket,
                  "pid": self.pid, "log": self.log, "test_user": MONITOR_USER,
                  "test_passwd": MONITOR_PASSWORD, "replication_user": REPL_USER,
                  "replication_passwd": REPL_PASSWORD, "replication_port": str(self.port)}
        params.update(more)
        return params
