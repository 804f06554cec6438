"""The library is typed, and mypy --strict is clean on it."""
import os
import subprocess

from support import ROOT


def test_mypy_strict_is_clean() -> None:
    result = subprocess.run(["mypy", "--strict", "--no-incremental", "--cache-dir", "/dev/null",
                             os.path.join(ROOT, "lib", "mirantis_ocf")],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_library_is_stdlib_only_and_lazy() -> None:
    """meta-data and the library's import pull in no third-party module."""
    code = ("import sys; sys.path.insert(0, 'lib'); import mirantis_ocf.runner, mirantis_ocf.agent, "
            "mirantis_ocf.proc, mirantis_ocf.cluster, mirantis_ocf.election, mirantis_ocf.galera, mirantis_ocf.osagent; "
            "bad = [m for m in ('pymysql', 'psutil', 'typing', 'dataclasses', 'subprocess') "
            "if m in sys.modules]; print(bad)")
    result = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip() == "[]", result.stderr


def test_pymysql_loads_without_its_tls_and_rsa_modules() -> None:
    """The monitor's pymysql import skips ssl and cryptography, and leaves them importable.

    Skipping them is what keeps the mysql monitor under the galera agent's
    cost (see bench/galera.py); a local socket uses neither.
    """
    code = ("import sys; sys.path.insert(0, 'lib'); from mirantis_ocf.system import _import_pymysql; "
            "m = _import_pymysql(); "
            "print(sorted(n for n in ('ssl', 'cryptography') if n in sys.modules), "
            "m._auth._have_cryptography, m.connections.SSL_ENABLED); "
            "import ssl, cryptography; print('importable')")
    result = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.split("\n")[:2] == ["[] False False", "importable"], result.stdout + result.stderr
