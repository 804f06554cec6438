"""The System's SQL: statements over a MySQL socket with pymysql, imported
on the first query only and without what a unix socket never uses.

A part of the facade (:class:`mirantis_ocf.system.System`).  The password
goes over the socket, never on a command line.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any, Dict, List, Sequence, Tuple, Union


class Sql:
    """Queries on a MariaDB server."""

    def sql(self, socket: str, user: str, password: str, timeout: float,
            statements: Sequence[str]) -> List[List[Tuple[str, ...]]]:
        """Run statements over a MySQL unix socket; the rows of each, as text.

        pymysql is imported here only: the password goes over the socket,
        never on a command line.
        """
        pymysql = _import_pymysql()
        seconds = max(int(timeout), 1)
        conn = pymysql.connect(unix_socket=socket, user=user, password=password,
                               connect_timeout=seconds, read_timeout=seconds,
                               write_timeout=seconds)
        try:
            results = []
            with conn.cursor() as cur:
                for statement in statements:
                    cur.execute(statement)
                    results.append([tuple(str(v) for v in row) for row in cur.fetchall()])
            return results
        finally:
            conn.close()

    def sql_rows(self, server: Union[str, Tuple[str, int]], user: str, password: str,
                 timeout: float, statements: Sequence[Tuple[str, Sequence[object]]]
                 ) -> List[List[Dict[str, str]]]:
        """Run statements with their arguments (escaped by pymysql, never
        formatted by hand) on a server, by unix socket (a path) or TCP (host,
        port); the rows of each, as {column: text}, NULL as "".

        Over TCP MariaDB authenticates with mysql_native_password or
        ed25519, which need neither ssl nor cryptography."""
        pymysql = _import_pymysql()
        seconds = max(int(timeout), 1)
        where: Dict[str, Any] = {"unix_socket": server} if isinstance(server, str) else \
            {"host": server[0], "port": server[1]}
        conn = pymysql.connect(user=user, password=password, connect_timeout=seconds,
                               read_timeout=seconds, write_timeout=seconds, autocommit=True,
                               **where)
        try:
            results = []
            with conn.cursor() as cur:
                for statement, args in statements:
                    cur.execute(statement, tuple(args) or None)
                    names = [d[0] for d in cur.description or ()]
                    results.append([{n: ("" if v is None else str(v)) for n, v in zip(names, row)}
                                    for row in cur.fetchall()])
            return results
        finally:
            conn.close()


def add_site_packages() -> None:
    """The agents run as ``python3 -S``: no ``site`` at start, whose .pth
    files (OpenStack's namespace packages among them) cost more than the
    interpreter itself.  The one third-party import, pymysql, needs the
    site directories on sys.path: they are added here, without running any
    .pth file (``site`` imported under -S does not run its main())."""
    import sys
    if not sys.flags.no_site:
        return
    import site
    for folder in site.getsitepackages():
        if folder not in sys.path:
            sys.path.append(folder)


def _import_pymysql() -> "ModuleType":
    """pymysql, without what a query over a unix socket never uses.

    - pymysql imports ``cryptography`` (for MySQL's sha256 and caching_sha2
      RSA exchange over TCP) and ``ssl`` if they are there, and carries on
      without them if not.  Over a local socket neither is used: MariaDB
      authenticates with mysql_native_password (hashlib), unix_socket or
      ed25519, and pymysql counts a unix socket as secure, so even
      caching_sha2 sends the password without RSA.
    - ``hashlib`` loads OpenSSL's ``_hashlib`` when it can; without it, it
      uses Python's own SHA-1 and SHA-256, the same digests.
    - ``traceback`` (with linecache and tokenize) serves pymysql only when a
      connection fails; it is imported on its first use.

    Together they were two thirds of pymysql's import, paid by every
    monitor.  They are kept out while pymysql loads, and left importable
    for anything else afterwards.
    """
    import sys
    import types
    add_site_packages()

    class Deferred(types.ModuleType):
        """A stand-in for a module, which imports the real one on its first use."""

        def __getattr__(self, attr: str) -> Any:
            import importlib
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            return getattr(importlib.import_module(self.__name__), attr)

    blocked = [name for name in ("cryptography", "ssl") if name not in sys.modules]
    if "hashlib" not in sys.modules:
        blocked.append("_hashlib")
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    deferred = [name for name in ("traceback",) if name not in sys.modules]
    for name in deferred:
        sys.modules[name] = Deferred(name)
    try:
        import pymysql
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
        for name in deferred:
            if isinstance(sys.modules.get(name), Deferred):
                del sys.modules[name]
    module: ModuleType = pymysql
    return module
