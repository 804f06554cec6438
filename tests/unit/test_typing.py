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
