"""A sweep for secrets, shared by the faults and the cluster tiers: every
process on the host (its command line and its environment), sampled while
the agents run, and the files they leave (logs)."""
import os
import threading
from typing import List, Sequence, Tuple


class SecretSweep:
    """Every process on the host, its command line and its environment,
    searched for the secrets every ~0.3 s.  The agents themselves are
    skipped: pacemaker-execd hands them their parameters in their
    environment (OCF_RESKEY_*), which is the OCF interface; everything they
    start must be clean of them."""

    def __init__(self, secrets: Sequence[str]) -> None:
        self.secrets = [s.encode() for s in secrets]
        self.found: List[str] = []
        self.scans = 0
        self.processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="secret-sweep", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            for name in os.listdir("/proc"):
                if not name.isdigit() or int(name) == me:
                    continue
                try:
                    argv = self._read(name, "cmdline")
                    if b"/resource.d/" in argv:
                        continue
                    env = self._read(name, "environ")
                    # An empty command line beside a whole environment is a
                    # process caught between two states (the CI run of
                    # 2026-12-07 read one, with both of an agent's secrets,
                    # once in 17273 readings: an agent being exec'd): it is
                    # read again, until it says what it is, for 0.1 s.
                    for _ in range(10):
                        if argv or not env:
                            break
                        self._stop.wait(0.01)
                        argv = self._read(name, "cmdline")
                    if b"/resource.d/" in argv:
                        continue
                except OSError:
                    continue
                self.processes += 1
                for secret in self.secrets:
                    for where, text in (("argv", argv), ("environ", env)):
                        if secret in text and len(self.found) < 50:
                            self.found.append(f"pid {name} {where}: "
                                              + argv.replace(b"\0", b" ")[:120].decode(
                                                  "utf-8", "replace"))
            self.scans += 1
            self._stop.wait(0.3)

    @staticmethod
    def _read(pid: str, what: str) -> bytes:
        with open(f"/proc/{pid}/{what}", "rb") as f:
            return f.read()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


def search_files(roots: Sequence[str], secrets: Sequence[str],
                 skip: Sequence[str] = ()) -> Tuple[int, List[str]]:
    """(files read, "path: secret" for each file holding one of them)."""
    read, found = 0, []
    for root in roots:
        for folder, _, files in os.walk(root):
            for name in files:
                path = os.path.join(folder, name)
                if any(s in path for s in skip) or not os.path.isfile(path):
                    continue
                try:
                    with open(path, "rb") as f:
                        data = f.read()
                except OSError:
                    continue
                read += 1
                found += [f"{path}: {s[:3]}..." for s in secrets if s.encode() in data]
    return read, found


def pacemaker_log_lines(text: str, secrets: Sequence[str]) -> Tuple[List[int], List[str]]:
    """A pacemaker.log's lines that hold a secret: (the numbers of those
    that are Pacemaker's own log of a CIB change, the others).  pacemaker-based
    logs every change of the CIB with its values, so a configuration loaded
    with a secret in plain text is there (cibsecret keeps it out); no other
    line may hold one: an agent's, the executor's, the scheduler's.  The
    others come back with each secret cut to its first three characters."""
    cib, others = [], []
    for i, line in enumerate(text.splitlines()):
        if not any(s in line for s in secrets):
            continue
        if "pacemaker-based" in line and "cib_perform_op" in line:
            cib.append(i)
        else:
            for secret in secrets:
                line = line.replace(secret, secret[:3] + "...")
            others.append(line[:160])
    return cib, others
