"""Bad input: every parameter of every installed agent, every action, fuzzed.

The agents run as real subprocesses, as pacemaker-execd runs them.  What a
case must show: no traceback; an OCF exit code; an error with an
``ocf-exit-reason:``; a stop that succeeds whatever the configuration; a
probe that never says "running" or "error" for what is not there; and
shell injection that changes nothing on the host (a canary file that a
successful injection would create).

The parameters that locate a process or a datadir get fuzzed values that
can never be a real one on this host (injection strings, relative paths,
paths in a scratch directory): a stop with the defaults would stop this
machine's own MariaDB or haproxy.  The daemon's program is a path that does
not exist for start, reload and promote, so that no case starts a daemon.
"""
import os
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from typing import Dict, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fault_table import record
from support import INSTALLED, agent_names, bare_env, reason_of

AGENTS = os.environ.get("MOCF_AGENTS_DIR") or INSTALLED
CANARY = "/tmp/mocf-fuzz-pwned"
SCRATCH = tempfile.mkdtemp(prefix="mocf-fuzz-")
INJECTIONS = [f"$(touch {CANARY})", f"`touch {CANARY}`", f"x; touch {CANARY}",
              f"x\ntouch {CANARY}", f"x && touch {CANARY}", f"x | touch {CANARY}",
              "../../../../etc/passwd", "/etc/../etc/shadow", "-rf /", "--help", "'\"\\",
              "\x00", "%s%n", "${IFS}", "a" * 5000]
# what locates a process or a datadir: never fuzzed with a real path
IDENTITY = {"mysql": ("binary", "config", "datadir", "pid", "socket", "log"),
            "haproxy": ("binpath", "conffile", "pidfile", "stats_socket"),
            "network": ("binary", "config", "pid", "log_file", "plugin_config", "agent_config")}
PROGRAM = {"mysql": "binary", "haproxy": "binpath", "network": "binary"}
OCF_CODES = {0, 1, 2, 3, 5, 6, 7, 8}
TRIED: Dict[str, int] = {}
CODES: Dict[str, Dict[int, int]] = {}      # agent -> exit code -> cases


def family(agent: str) -> str:
    return agent if agent in ("mysql", "haproxy") else "network"


def meta(agent: str) -> Tuple[Dict[str, str], List[str]]:
    """The agent's parameters (name -> content type) and actions."""
    out = subprocess.run([os.path.join(AGENTS, agent), "meta-data"], capture_output=True,
                         text=True, timeout=30, env=bare_env()).stdout
    root = ET.fromstring(out)
    params = {p.get("name", ""): (p.find("content").get("type", "string")   # type: ignore[union-attr]
                                  if p.find("content") is not None else "string")
              for p in root.iter("parameter")}
    actions = sorted({a.get("name", "") for a in root.iter("action")})
    return params, actions


scratch_paths = st.sampled_from([f"{SCRATCH}/a", f"{SCRATCH}/no/such/dir/x", "relative/path",
                                 f"{SCRATCH}/x y", f"{SCRATCH}/../{os.path.basename(SCRATCH)}/b",
                                 "", "/"]) | st.sampled_from(INJECTIONS)
anything = st.sampled_from(INJECTIONS) | st.text(max_size=40) | \
    st.integers(-2**70, 2**70).map(str) | st.sampled_from(
        ["", "0", "-1", "yes", "no", "true", "false", "on", "off", "1e309", "nan", "0x10",
         " 5", "5 ", "١٢", "3306abc", "65536", "99999999999999999999"])


@st.composite
def cases(draw, agent: str):  # type: ignore[no-untyped-def]
    params, actions = meta(agent)
    action = draw(st.sampled_from(actions + ["monitor-probe", "no-such-action"]))
    kind = family(agent)
    values = {}
    for name in IDENTITY[kind]:
        if name in params:
            values[name] = draw(scratch_paths)
    others = sorted(n for n in params if n not in IDENTITY[kind])
    for name in draw(st.lists(st.sampled_from(others), max_size=4, unique=True)) if others else []:
        values[name] = draw(anything)
    if action in ("start", "reload", "promote") and PROGRAM[kind] in params:
        values[PROGRAM[kind]] = f"{SCRATCH}/no-such-program"
    return action, values


def run(agent: str, action: str, values: Dict[str, str]) -> Tuple[int, str]:
    env = bare_env(**{k: v.replace("\x00", "") for k, v in values.items()})
    env.update({"OCF_RESOURCE_INSTANCE": "p_fuzz", "OCF_RESKEY_CRM_meta_timeout": "20000",
                "HA_RSCTMP": SCRATCH})
    argv_action = action
    if action == "monitor-probe":
        argv_action = "monitor"
        env["OCF_RESKEY_CRM_meta_interval"] = "0"
    elif action == "monitor":
        env["OCF_RESKEY_CRM_meta_interval"] = "10000"
    proc = subprocess.run([os.path.join(AGENTS, agent), argv_action], env=env, cwd=SCRATCH,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    return proc.returncode, proc.stdout + proc.stderr


def check(agent: str, action: str, values: Dict[str, str]) -> None:
    rc, out = run(agent, action, values)
    TRIED[agent] = TRIED.get(agent, 0) + 1
    codes = CODES.setdefault(agent, {})
    codes[rc] = codes.get(rc, 0) + 1
    case = f"{agent} {action} {values!r}"[:300]
    assert "Traceback" not in out, case + "\n" + out[-2000:]
    assert not os.path.exists(CANARY), f"an injection ran: {case}"
    assert rc in OCF_CODES, f"exit {rc}: {case}\n{out[-500:]}"
    if rc in (2, 6):                           # a configuration error says what
        reason = reason_of(out)
        assert reason.strip(), f"exit {rc} without a reason: {case}\n{out[-500:]}"
        if action != "no-such-action":
            named = [n for n in values if n in reason] + \
                [w for w in ("action", "parameter", "mode", "clone") if w in reason]
            assert named, f"the reason names no parameter: {reason!r}: {case}"
    if action == "stop":
        assert rc == 0, f"stop failed on configuration ({rc}, {reason_of(out)!r}): {case}"
    if action == "monitor-probe":
        assert rc not in (0, 8, 1, 5), f"the probe says {rc} ({reason_of(out)!r}): {case}"
    if action in ("monitor", "status"):
        assert rc not in (0, 8), f"{action} says running ({rc}): {case}"


@pytest.mark.parametrize("agent", agent_names())
def test_bad_input_never_crashes_lies_or_runs_a_shell(agent: str) -> None:
    if os.path.exists(CANARY):
        os.remove(CANARY)

    @settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "120")), deadline=None,
              suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    @given(cases(agent))
    def fuzz(case: Tuple[str, Dict[str, str]]) -> None:
        check(agent, *case)
    try:
        fuzz()
    finally:
        codes = ", ".join(f"exit {rc}: {n}" for rc, n in sorted(CODES.get(agent, {}).items()))
        record(f"bad input: {agent}", not os.path.exists(CANARY),
               f"{TRIED.get(agent, 0)} cases ({codes}), 0 tracebacks")
    assert not os.path.exists(CANARY)
