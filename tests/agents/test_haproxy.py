"""ocf:mirantis:haproxy against the real haproxy binary, serving a real port on loopback."""
import http.client
import os
import signal
import subprocess
import threading
import time
from typing import Dict, List, Tuple

import pytest

from support import INSTALLED, bare_env, call, free_port, pids_of, reason_of

AGENT = os.path.join(INSTALLED, "haproxy")

CONFIG = """global
    stats socket {dir}/admin.sock mode 600 level admin expose-fd listeners
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain string "hello {tag}\\n"
"""


class HAProxyWorld:
    def __init__(self, directory: str) -> None:
        self.dir = directory
        self.port = free_port()
        self.conf = os.path.join(directory, "haproxy.cfg")
        self.pidfile = os.path.join(directory, "haproxy.pid")
        self.write_config()

    def write_config(self, tag: str = "v1", extra: str = "") -> None:
        with open(self.conf, "w") as f:
            f.write(CONFIG.format(dir=self.dir, port=self.port, tag=tag) + extra)

    def env(self, **more: str) -> Dict[str, str]:
        params = {"OCF_RESOURCE_INSTANCE": "p_haproxy", "conffile": self.conf,
                  "pidfile": self.pidfile, "OCF_RESKEY_CRM_meta_interval": "20000"}
        params.update(more)
        return bare_env(**params)

    def __call__(self, action: str, **more: str) -> Tuple[int, str]:
        rc, out, err = call(AGENT, action, self.env(**more))
        assert "Traceback" not in err
        assert out == "" or action in ("meta-data", "usage")
        return rc, reason_of(err)

    def pid(self) -> int:
        with open(self.pidfile) as f:
            return int(f.read().strip())

    def get(self) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", "/")
            return conn.getresponse().read().decode()
        finally:
            conn.close()

    def processes(self) -> List[int]:
        return pids_of(f"haproxy.*{self.conf}")


@pytest.fixture
def hx(workdir: str):  # type: ignore[no-untyped-def]
    world = HAProxyWorld(workdir)
    yield world
    call(AGENT, "stop", world.env())
    for pid in world.processes():
        os.kill(pid, signal.SIGKILL)


def test_lifecycle(hx: HAProxyWorld) -> None:
    assert hx("validate-all") == (0, "")
    assert hx("monitor", OCF_RESKEY_CRM_meta_interval="0") == (7, "")
    assert hx("monitor") == (7, "")
    assert hx("start") == (0, "")
    assert hx.get() == "hello v1\n"
    first = hx.pid()
    assert hx("start") == (0, "")           # double start: already running
    assert hx.pid() == first and len(hx.processes()) == 1
    assert hx("monitor") == (0, "")
    assert hx("monitor", OCF_RESKEY_CRM_meta_interval="0") == (0, "")
    assert hx("stop") == (0, "")
    assert hx.processes() == [] and not os.path.exists(hx.pidfile)
    assert hx("stop") == (0, "")            # double stop
    assert hx("monitor") == (7, "")


def test_kill_9_then_monitor_is_not_running(hx: HAProxyWorld) -> None:
    assert hx("start")[0] == 0
    os.kill(hx.pid(), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while hx.processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hx("monitor") == (7, "")
    assert hx("start")[0] == 0 and hx.get() == "hello v1\n"   # and it comes back


def test_stale_pidfile_whose_pid_was_reused(hx: HAProxyWorld) -> None:
    impostor = subprocess.Popen(["sleep", "60"])
    try:
        with open(hx.pidfile, "w") as f:
            f.write(f"{impostor.pid}\n")
        assert hx("monitor") == (7, "")
        assert hx("monitor", OCF_RESKEY_CRM_meta_interval="0") == (7, "")
        assert hx("stop") == (0, "")
        assert impostor.poll() is None      # the impostor was not touched
        assert hx("start")[0] == 0 and hx.pid() != impostor.pid
    finally:
        impostor.kill()
        impostor.wait()


def test_empty_pidfile_is_not_running(hx: HAProxyWorld) -> None:
    open(hx.pidfile, "w").close()
    assert hx("monitor") == (7, "")


def test_bad_configuration_is_6_with_haproxys_reason(hx: HAProxyWorld) -> None:
    hx.write_config(extra="frontend broken\n    bogus_keyword here\n")
    rc, reason = hx("start")
    assert rc == 6
    assert "bogus_keyword" in reason and "haproxy -c" in reason
    assert hx.processes() == []


def test_start_fails_fast_when_the_port_is_taken(hx: HAProxyWorld) -> None:
    import socket
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", hx.port))
        squatter.listen()
        rc, reason = hx("start")
    # haproxy's own answer, not "did not start within the timeout": start failed fast
    assert rc == 1 and "bind" in reason.lower() and "timeout" not in reason
    assert hx.processes() == []


def test_deep_monitor_asks_the_stats_socket(hx: HAProxyWorld) -> None:
    assert hx("start")[0] == 0
    assert hx("monitor", OCF_CHECK_LEVEL="10") == (0, "")
    os.rename(os.path.join(hx.dir, "admin.sock"), os.path.join(hx.dir, "moved.sock"))
    rc, reason = hx("monitor", OCF_CHECK_LEVEL="10")
    assert rc == 1 and "admin.sock" in reason
    assert hx("monitor") == (0, "")     # level 0 is the process only


def test_soft_reload_never_drops_a_request(hx: HAProxyWorld) -> None:
    assert hx("start")[0] == 0
    results: List[str] = []
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            try:
                results.append(hx.get())
            except Exception as exc:  # any failure counts
                results.append(f"FAILED: {exc!r}")

    thread = threading.Thread(target=client)
    thread.start()
    try:
        pids = [hx.pid()]
        for tag in ("v2", "v3", "v4"):
            time.sleep(0.3)
            hx.write_config(tag=tag)
            assert hx("reload") == (0, "")
            pids.append(hx.pid())
        time.sleep(0.3)
    finally:
        stop.set()
        thread.join()
    failures = [r for r in results if r.startswith("FAILED")]
    assert failures == [] and len(results) > 50
    assert len(set(pids)) == 4                       # a new process each time
    assert results[-1] == "hello v4\n" and "hello v1\n" in results


def test_reload_with_a_bad_configuration_keeps_serving(hx: HAProxyWorld) -> None:
    assert hx("start")[0] == 0
    before = hx.pid()
    hx.write_config(extra="frontend broken\n    bogus_keyword\n")
    rc, reason = hx("reload")
    assert rc == 6 and "bogus_keyword" in reason
    assert hx.pid() == before and hx.get() == "hello v1\n"
    assert hx("monitor") == (0, "")


def test_reload_of_a_stopped_haproxy_does_not_start_it(hx: HAProxyWorld) -> None:
    assert hx("reload")[0] == 7
    assert hx.processes() == []


def test_stop_also_ends_processes_left_finishing_after_a_reload(hx: HAProxyWorld) -> None:
    assert hx("start")[0] == 0
    # a client holding a keep-alive connection keeps the old process alive after -sf
    conn = http.client.HTTPConnection("127.0.0.1", hx.port, timeout=5)
    conn.request("GET", "/")
    conn.getresponse().read()
    assert hx("reload")[0] == 0
    assert hx("stop") == (0, "")
    assert hx.processes() == []
    conn.close()


@pytest.mark.parametrize("value", ["$(touch {marker})", "; touch {marker}", "`touch {marker}`",
                                   "'\" ; touch {marker}", "x\ntouch {marker}"])
def test_no_parameter_value_reaches_a_shell(hx: HAProxyWorld, value: str) -> None:
    marker = os.path.join(hx.dir, "pwned")
    hostile = value.format(marker=marker)
    for param in ("extraconf", "conffile", "pidfile", "binpath", "stats_socket"):
        for action in ("validate-all", "start", "monitor", "reload", "stop"):
            rc, out, err = call(AGENT, action, hx.env(**{param: hostile}))
            assert "Traceback" not in err
            assert rc in (0, 1, 2, 5, 6, 7), (param, action, rc, err)
        assert not os.path.exists(marker), (param, hostile)
    assert hx.processes() == []


def test_ocf_tester_passes_on_the_installed_agent(hx: HAProxyWorld) -> None:
    proc = subprocess.run(["ocf-tester", "-n", "p_haproxy", "-o", f"conffile={hx.conf}",
                           "-o", f"pidfile={hx.pidfile}", AGENT],
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passed all tests" in proc.stdout
    assert hx.processes() == []


def test_stop_finds_haproxy_even_when_another_parameter_is_now_invalid(hx: HAProxyWorld) -> None:
    assert hx("start")[0] == 0
    assert hx("monitor", OCF_RESKEY_CRM_meta_interval="0", extraconf="-q") == (0, "")
    assert hx("stop", extraconf="-q") == (0, "")
    assert hx.processes() == []


@pytest.mark.parametrize("content", ["²\n", "12abc", "\x00\x01", "-1"])
def test_garbage_pidfile_never_fails_stop_or_probe(hx: HAProxyWorld, content: str) -> None:
    with open(hx.pidfile, "w") as f:
        f.write(content)
    assert hx("monitor", OCF_RESKEY_CRM_meta_interval="0") == (7, "")
    assert hx("stop") == (0, "")


def test_a_pidfile_that_is_a_directory_never_fails_stop(hx: HAProxyWorld) -> None:
    os.mkdir(os.path.join(hx.dir, "piddir"))
    env = {"pidfile": os.path.join(hx.dir, "piddir")}
    assert hx("monitor", OCF_RESKEY_CRM_meta_interval="0", **env) == (7, "")
    assert hx("stop", **env) == (0, "")
