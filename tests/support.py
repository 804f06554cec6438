"""Helpers shared by the test tiers: the repo's paths and the agents as modules."""
import importlib.machinery
import importlib.util
import os
import socket
import subprocess
import types
from typing import Dict, List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENTS_DIR = os.path.join(ROOT, "agents")
OCF_ROOT = "/usr/lib/ocf"
INSTALLED = os.path.join(OCF_ROOT, "resource.d", "mirantis")


def agent_names() -> List[str]:
    # files only: not the __pycache__ that load_agent's imports may write there
    return sorted(n for n in os.listdir(AGENTS_DIR)
                  if not n.startswith(".") and os.path.isfile(os.path.join(AGENTS_DIR, n)))


def load_agent(name: str) -> types.ModuleType:
    """Import an agent file (it has no .py suffix) as a module, without running main()."""
    path = os.path.join(AGENTS_DIR, name)
    loader = importlib.machinery.SourceFileLoader(f"agent_{name.replace('-', '_')}", path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def agent_class(name: str) -> type:
    """The Agent class an agent file runs as (an alias's flavour included)."""
    module = load_agent(name)
    from mirantis_ocf.agent import Agent
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, Agent) and value.__module__ == module.__name__:
            for_file = getattr(value, "for_file", None)
            return for_file(os.path.join(AGENTS_DIR, name)) if for_file else value
    raise AssertionError(f"no Agent subclass in agents/{name}")


def bare_env(**params: str) -> Dict[str, str]:
    """The environment Pacemaker gives an agent: nothing inherited, parameters as OCF_RESKEY_*."""
    env = {"OCF_ROOT": OCF_ROOT, "OCF_RA_VERSION_MAJOR": "1", "OCF_RA_VERSION_MINOR": "1",
           "OCF_RESKEY_CRM_meta_timeout": "20000"}
    for key, value in params.items():
        if key.startswith(("OCF_", "HA_")):
            env[key] = value
        else:
            env["OCF_RESKEY_" + key] = value
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reason_of(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.startswith("ocf-exit-reason:")]
    return lines[-1][len("ocf-exit-reason:"):] if lines else ""


def call(agent: str, action: str, env: Dict[str, str], timeout: float = 60) -> Tuple[int, str, str]:
    """Run an agent exactly as pacemaker-execd does: argv[1] is the action, env is all it gets."""
    proc = subprocess.run([agent, action], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd="/", stdin=subprocess.DEVNULL)
    return proc.returncode, proc.stdout, proc.stderr


def pids_of(pattern: str) -> List[int]:
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


class GaleraGreeter:
    """A listener on loopback that greets first and hangs up, as a Galera
    server's group port starts its handshake: what the agent's probe of a
    peer's port takes for a running server.  For the agent's side of a
    peer, in or out of a Primary Component, that no test can make real."""

    def __init__(self) -> None:
        import threading
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                conn.sendall(b"$\x00\x00\x02")       # the start of a gmcast handshake
            except OSError:
                pass
            conn.close()

    def close(self) -> None:
        self.sock.close()
