#!/usr/bin/python3
"""Measure what one call of the haproxy resource agent costs.

Pacemaker runs every resource's ``monitor`` every few seconds on every node,
and ``meta-data`` whenever the CRM (or crm_resource, pcs, ...) asks for it.
So a Python agent's cost per call (interpreter start-up plus our imports
plus the work) is paid all the time. This script measures, for the agent's
``meta-data`` and ``monitor`` actions, the median wall time and peak memory
(max RSS of the child, from ``wait4``) and compares them with two
references taken in the same run:

  (a) ``/usr/bin/python3 -c pass``, the floor for any Python agent;
  (b) resource-agents' ``heartbeat:anything`` (a shell agent) checking the
      same haproxy, which is what a shell-based setup would pay.

Targets (printed only; timing never makes the run fail): meta-data
<= 1.5x and monitor <= 2.5x the interpreter. Extra informational rows show
what ``import psutil`` and ``import pymysql`` would cost.

How one call is measured: the command is forked by a tiny /bin/sh
trampoline and reaped by us as an orphan (we are a child subreaper). On
Linux, execve() folds the peak RSS of the address space it replaces into
ru_maxrss, and after posix_spawn/vfork that is the parent's (after fork, a
copy of it), so spawning straight from this ~10 MiB Python process would
report >= 10 MiB for everything. Forked from a fresh dash the floor is
~1 MiB, shown in the ``/bin/true`` row. The forked child waits on a pipe
until its dash parent has exited, then execs the command; the clock runs
from releasing it to ``wait4`` returning, and ru_maxrss/CPU include the
command's own children (the shell agent's grep, etc.).

Exit status: 0 when everything required was measured (whatever the
numbers), 1 when something could not be measured, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

PYTHON = "/usr/bin/python3"
OCF_ROOT = "/usr/lib/ocf"
ANYTHING = f"{OCF_ROOT}/resource.d/heartbeat/anything"
HAPROXY = "/usr/sbin/haproxy"
REPO = Path(__file__).resolve().parent.parent
PR_SET_CHILD_SUBREAPER = 36
TARGETS = {"meta-data": 1.5, "monitor": 2.5}  # x the interpreter
# Runs in a fresh dash; forks the measured child, which blocks on fd 3
# until we release it, then execs "$@" with no PWD added by dash.
TRAMPOLINE = ('{ read _ <&3 || exit 99; exec 3<&-; unset PWD; exec "$@"; }'
              ' </dev/null >/dev/null 2>&1 & echo $!')


class BenchError(Exception):
    """Something could not be measured at all."""


@dataclass
class Row:
    """One command to measure, and its samples (measured runs only)."""
    key: str
    label: str
    argv: list[str]
    env: dict[str, str]
    required: bool = True
    samples: dict[str, list[float]] = field(
        default_factory=lambda: {"wall_ms": [], "maxrss_mib": [], "cpu_ms": []})
    error: str | None = None

    def stats(self) -> dict[str, dict[str, float]]:
        return {m: {"median": statistics.median(v), "p90": pct(v, 90)}
                for m, v in self.samples.items()}

    def median(self, metric: str) -> float:
        return statistics.median(self.samples[metric])


@dataclass
class Ratio:
    what: str
    vs: str
    wall: float
    maxrss: float
    target: float | None = None


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(tmp: Path) -> Path:
    cfg = tmp / "haproxy.cfg"
    cfg.write_text(f"""\
global
    stats socket {tmp}/haproxy.sock mode 600 level admin

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend bench
    bind 127.0.0.1:{free_port()}
    mode http
    http-request return status 200 content-type text/plain string ok
""")
    return cfg


def set_subreaper(on: bool) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
        raise BenchError(f"prctl(PR_SET_CHILD_SUBREAPER): "
                         f"{os.strerror(ctypes.get_errno())}")


def measure_once(argv: list[str], env: dict[str, str]) -> tuple[int, float, int, float]:
    """Run argv once; return (exit code, wall s, max RSS KiB, cpu s)."""
    pid_r, pid_w = os.pipe()
    go_r, go_w = os.pipe()
    try:
        sh = os.posix_spawn("/bin/sh", ["/bin/sh", "-c", TRAMPOLINE, "sh", *argv], env,
                            file_actions=[(os.POSIX_SPAWN_DUP2, pid_w, 1),
                                          (os.POSIX_SPAWN_DUP2, go_r, 3)])
    except OSError:
        os.close(pid_r)
        os.close(go_w)
        raise
    finally:
        os.close(pid_w)
        os.close(go_r)
    try:
        with os.fdopen(pid_r, closefd=False) as f:
            text = f.read()
        os.waitpid(sh, 0)  # the child is now ours, and blocked on fd 3
        child = int(text)
        start = time.perf_counter()
        os.write(go_w, b"\n")
        _, status, ru = os.wait4(child, 0)
        wall = time.perf_counter() - start
    finally:
        os.close(pid_r)
        os.close(go_w)
    while True:  # reap anything the command left behind (now reparented to us)
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break
    return os.waitstatus_to_exitcode(status), wall, ru.ru_maxrss, ru.ru_utime + ru.ru_stime


def diagnose(row: Row, rc: int) -> str:
    res = subprocess.run(row.argv, env=row.env, capture_output=True, text=True, timeout=60)
    tail = (res.stderr or res.stdout).strip().splitlines()[-3:]
    return f"exit {rc}: {' | '.join(tail) or 'no output'}"


def run_rows(rows: list[Row], warmup: int, runs: int) -> None:
    """Round-robin over the rows so background noise hits all of them alike."""
    set_subreaper(True)
    try:
        for i in range(warmup + runs):
            for row in rows:
                if row.error:
                    continue
                try:
                    rc, wall, rss, cpu = measure_once(row.argv, row.env)
                except (OSError, ValueError) as e:
                    rc, row.error = -1, f"spawn failed: {e}"
                if rc != 0 and not row.error:
                    row.error = diagnose(row, rc)
                if row.error:
                    if row.required:
                        raise BenchError(f"{row.label}: {row.error}")
                    continue
                if i >= warmup:
                    row.samples["wall_ms"].append(wall * 1000)
                    row.samples["maxrss_mib"].append(rss / 1024)  # ru_maxrss is KiB
                    row.samples["cpu_ms"].append(cpu * 1000)
    finally:
        set_subreaper(False)


def agent_call(agent: str, action: str, env: dict[str, str]) -> str | None:
    """Run an agent action unmeasured; return None on exit 0, else what went wrong."""
    try:
        res = subprocess.run([agent, action], env=env, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return f"{agent} {action}: timed out"
    if res.returncode == 0:
        return None
    return f"{agent} {action}: exit {res.returncode}: {res.stderr.strip()[-500:]}"


def compute_ratios(rows: dict[str, Row]) -> list[Ratio]:
    def ratio(key: str, ref: str, target: float | None = None) -> Ratio:
        a, b = rows[key], rows[ref]
        return Ratio(a.label, b.label, a.median("wall_ms") / b.median("wall_ms"),
                     a.median("maxrss_mib") / b.median("maxrss_mib"), target)

    out = []
    for action in ("meta-data", "monitor"):
        out.append(ratio(f"agent {action}", "python", TARGETS[action]))
        out.append(ratio(f"agent {action}", f"anything {action}"))
    out += [ratio(k, "python") for k in ("import psutil", "import pymysql") if not rows[k].error]
    return out


def print_report(rows: list[Row], ratios: list[Ratio], header: str) -> None:
    print(f"\n{header}\n")
    print(f"{'command':<36}{'wall ms':>9}{'p90':>8}{'cpu ms':>8}{'maxRSS MiB':>12}{'p90':>7}")
    for r in rows:
        if r.error:
            print(f"{r.label:<36}  not measured: {r.error}")
            continue
        st = r.stats()
        w, c, m = st["wall_ms"], st["cpu_ms"], st["maxrss_mib"]
        print(f"{r.label:<36}{w['median']:>9.1f}{w['p90']:>8.1f}{c['median']:>8.1f}"
              f"{m['median']:>12.1f}{m['p90']:>7.1f}")
    print(f"\n{'ratio of medians':<62}{'wall':>7}{'maxRSS':>8}   target")
    for q in ratios:
        verdict = ""
        if q.target is not None:
            verdict = (f"<= {q.target}x: wall {'ok' if q.wall <= q.target else 'OVER'}, "
                       f"RSS {'ok' if q.maxrss <= q.target else 'OVER'}")
        print(f"{q.what + ' / ' + q.vs:<62}{q.wall:>6.2f}x{q.maxrss:>7.2f}x   {verdict}".rstrip())
    print("\n(max RSS floor is ~1 MiB, see /bin/true; timing never fails the run)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agent", default=str(REPO / "agents" / "haproxy"),
                    help="agent to bench (default: the repo's agents/haproxy)")
    ap.add_argument("--runs", type=int, default=30, help="measured runs per command (default 30)")
    ap.add_argument("--warmup", type=int, default=3, help="warm-up runs per command (default 3)")
    ap.add_argument("--json", default=str(REPO / "bench" / "results.json"), help="where to write JSON")
    args = ap.parse_args()
    if args.runs < 1 or args.warmup < 0:
        ap.error("--runs must be >= 1 and --warmup >= 0")
    agent = os.path.abspath(args.agent)
    for path in (agent, ANYTHING, PYTHON, HAPROXY):
        if not os.access(path, os.X_OK):
            print(f"bench: cannot run {path}", file=sys.stderr)
            return 1

    tmp = Path(tempfile.mkdtemp(prefix="ocf-bench-"))
    pidfile = str(tmp / "haproxy.pid")
    # A bare environment, as pacemaker-execd gives an agent.
    env = {"OCF_ROOT": OCF_ROOT, "OCF_RESOURCE_INSTANCE": "bench",
           "OCF_RESKEY_conffile": str(write_config(tmp)), "OCF_RESKEY_pidfile": pidfile,
           "OCF_RESKEY_CRM_meta_timeout": "20000", "OCF_RESKEY_CRM_meta_interval": "20000",
           "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    # heartbeat:anything's monitor only reads OCF_RESKEY_pidfile, greps the
    # pid out of it and does `kill -0` (no state of its own, so it never
    # needs to have started the process). binfile is only used by
    # start/validate-all; it is set so the parameters describe this haproxy.
    anything_env = {k: v for k, v in env.items() if k != "OCF_RESKEY_conffile"}
    anything_env["OCF_RESKEY_binfile"] = HAPROXY
    rows = [
        Row("python", "python3 -c pass", [PYTHON, "-c", "pass"], env),
        Row("anything meta-data", "heartbeat:anything meta-data", [ANYTHING, "meta-data"], anything_env),
        Row("anything monitor", "heartbeat:anything monitor", [ANYTHING, "monitor"], anything_env),
        Row("agent meta-data", "agent meta-data", [agent, "meta-data"], env),
        Row("agent monitor", "agent monitor", [agent, "monitor"], env),
        Row("import psutil", "python3 -c 'import psutil' (info)", [PYTHON, "-c", "import psutil"], env, False),
        Row("import pymysql", "python3 -c 'import pymysql' (info)", [PYTHON, "-c", "import pymysql"], env, False),
        Row("floor", "/bin/true (RSS floor, info)", ["/bin/true"], env, False),
    ]
    try:
        failure = agent_call(agent, "start", env)
        if failure:
            raise BenchError(failure)
        run_rows(rows, args.warmup, args.runs)
    except BenchError as e:
        print(f"bench: could not measure: {e}", file=sys.stderr)
        return 1
    finally:  # stop even after a failed start: it may have half-started
        failure = agent_call(agent, "stop", env)
        if failure:
            print(f"bench: WARNING: {failure}", file=sys.stderr)
            try:  # we started this haproxy, so do not leave it behind
                os.kill(int(Path(pidfile).read_text().split()[0]), signal.SIGTERM)
            except (OSError, ValueError, IndexError):
                pass
        shutil.rmtree(tmp, ignore_errors=True)

    by_key = {row.key: row for row in rows}
    ratios = compute_ratios(by_key)
    header = (f"agent: {agent}\nruns: {args.runs} per command (+{args.warmup} warm-up), "
              f"round-robin; python {platform.python_version()}, kernel {platform.release()}")
    print_report(rows, ratios, header)
    results = {
        "agent": agent, "runs": args.runs, "warmup": args.warmup,
        "python_version": platform.python_version(), "kernel": platform.release(),
        "haproxy_version": subprocess.run([HAPROXY, "-v"], capture_output=True,
                                          text=True).stdout.split("\n")[0],
        "targets_vs_interpreter": TARGETS,
        "results": {r.key: {"label": r.label, "argv": r.argv, "error": r.error}
                    | ({} if r.error else r.stats()) for r in rows},
        "ratios": [asdict(q) for q in ratios],
    }
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
