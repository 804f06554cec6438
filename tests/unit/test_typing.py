"""The library, the agents and q-agent-cleanup are typed, and mypy --strict
is clean on them."""
import os
import subprocess

from support import ROOT


def scripts() -> list:
    """The agents (the neutron-* names are links to the quantum-* files) and q-agent-cleanup."""
    agents = os.path.join(ROOT, "agents")
    return sorted(os.path.join(agents, a) for a in os.listdir(agents)
                  if os.path.isfile(os.path.join(agents, a))
                  and not os.path.islink(os.path.join(agents, a))) + \
        [os.path.join(ROOT, "tools", "q-agent-cleanup")]


def test_mypy_strict_is_clean() -> None:
    result = subprocess.run(["mypy", "--strict", "--no-incremental", "--cache-dir", "/dev/null",
                             os.path.join(ROOT, "lib", "mirantis_ocf")],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean_on_the_agents_and_tools() -> None:
    """Each agent is a script that mypy reads as a module of its own; the
    library is found on MYPYPATH, as the installed agents find it."""
    assert len(scripts()) == 7
    result = subprocess.run(["mypy", "--strict", "--scripts-are-modules", "--no-incremental",
                             "--cache-dir", "/dev/null", *scripts()],
                            capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "MYPYPATH": os.path.join(ROOT, "lib")})
    assert result.returncode == 0 and "Success" in result.stdout, result.stdout + result.stderr


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


def test_pymysql_loads_without_openssl_hashes_and_traceback_and_still_works() -> None:
    """hashlib then uses Python's own SHA-1/SHA-256 (the same digests: the
    mysql_native_password scramble is checked against a known answer), and
    traceback is imported on its first use: a failed connection still
    carries pymysql's formatted traceback."""
    code = ("import sys; sys.path.insert(0, 'lib'); from mirantis_ocf.system import _import_pymysql; "
            "m = _import_pymysql(); "
            "print(sorted(n for n in ('_hashlib', 'traceback', 'linecache') if n in sys.modules)); "
            "print(m._auth.scramble_native_password(b'secret', b'12345678901234567890').hex()); "
            "e = None\n"
            "try:\n"
            "    m.connect(unix_socket='/nonexistent/socket', user='u', password='p', connect_timeout=1)\n"
            "except m.err.OperationalError as exc:\n"
            "    e = exc\n"
            "print(e.args[0], 'Traceback' in e.traceback, 'traceback' in sys.modules)")
    result = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True, cwd=ROOT)
    # the scramble: SHA1(password) XOR SHA1(salt + SHA1(SHA1(password))), as OpenSSL computes it
    import hashlib
    stage1 = hashlib.sha1(b"secret").digest()
    stage2 = hashlib.sha1(b"12345678901234567890" + hashlib.sha1(stage1).digest()).digest()
    expected = bytes(a ^ b for a, b in zip(stage1, stage2)).hex()
    assert result.stdout.split("\n")[:3] == ["[]", expected, "2003 True True"], \
        result.stdout + result.stderr
