#!/usr/bin/python3
"""The monitor cost of the four network agents, against heartbeat:anything.

A real RabbitMQ (loopback) and a private Open vSwitch are started
(tests/neutron_env.py); each of ocf:mirantis:quantum-agent-{ovs,dhcp,l3,
metadata} starts its real Debian neutron agent.  Then, round-robin, in the
same run: our monitor, our monitor with the AMQP check (amqp_check=true),
and resource-agents' ocf:heartbeat:anything monitor pointed at the same pid
file (a shell kill -0: the cheapest monitor there is), plus
``python3 -c pass``, the floor of any Python agent.

Prints a table and writes bench/network-results.json.  It never fails on a
time; only if something could not be measured.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bench"))
sys.path.insert(0, os.path.join(REPO, "tests"))

import run as core  # noqa: E402  (bench/run.py: the measuring machinery)
from neutron_env import OVS, NeutronConf, Rabbit  # noqa: E402

AGENT_DIR = f"{core.OCF_ROOT}/resource.d/mirantis"
KINDS = {"ovs": "openvswitch", "dhcp": "dhcp", "l3": "l3", "metadata": "metadata"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json", default=os.path.join(REPO, "bench", "network-results.json"))
    args = ap.parse_args()
    base = tempfile.mkdtemp(prefix="ocf-bench-net-", dir="/tmp")
    os.chmod(base, 0o755)
    rabbit, ovs = Rabbit(), OVS()
    envs = {}
    rows = []
    try:
        rabbit.start(os.path.join(base, "rabbit"))
        ovs.start(os.path.join(base, "ovs"))
        conf = NeutronConf(os.path.join(base, "neutron"), rabbit.url,
                           ovsdb_connection=ovs.connection).write()
        python_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        rows.append(core.Row("python", "python3 -c pass", [core.PYTHON, "-c", "pass"], python_env))
        for kind, name in KINDS.items():
            second = "agent_config" if kind == "metadata" else "plugin_config"
            pidfile = os.path.join(base, f"{kind}.pid")
            env = {"OCF_ROOT": core.OCF_ROOT, "OCF_RESOURCE_INSTANCE": f"p_{kind}",
                   "OCF_RESKEY_CRM_meta_timeout": "60000", "OCF_RESKEY_CRM_meta_interval": "20000",
                   "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                   "OCF_RESKEY_binary": conf.binary(name), "OCF_RESKEY_config": conf.neutron_conf,
                   f"OCF_RESKEY_{second}": conf.ini(name), "OCF_RESKEY_user": "neutron",
                   "OCF_RESKEY_pid": pidfile, "OCF_RESKEY_amqp_server_port": str(rabbit.port),
                   "OCF_RESKEY_log_file": os.path.join(conf.log_dir, f"{kind}-ocf.log")}
            agent = f"{AGENT_DIR}/quantum-agent-{kind}"
            envs[kind] = (agent, env)
            failure = core.agent_call(agent, "start", env)
            if failure:
                raise core.BenchError(failure)
            # heartbeat:anything's monitor reads the pid file and does kill -0
            anything = {"OCF_ROOT": core.OCF_ROOT, "OCF_RESOURCE_INSTANCE": f"a_{kind}",
                        "OCF_RESKEY_CRM_meta_timeout": "20000", "OCF_RESKEY_CRM_meta_interval": "20000",
                        "PATH": env["PATH"], "OCF_RESKEY_binfile": conf.binary(name),
                        "OCF_RESKEY_pidfile": pidfile}
            rows += [
                core.Row(f"{kind} ours", f"quantum-agent-{kind} monitor", [agent, "monitor"], env),
                core.Row(f"{kind} amqp", f"quantum-agent-{kind} monitor, AMQP check",
                         [agent, "monitor"], dict(env, OCF_RESKEY_amqp_check="true")),
                core.Row(f"{kind} anything", f"heartbeat:anything monitor ({kind})",
                         [core.ANYTHING, "monitor"], anything),
            ]
        # the AMQP check passes only once every daemon has connected
        import neutron_env
        for kind, (agent, env) in envs.items():
            if not neutron_env.wait_for(lambda: core.agent_call(
                    agent, "monitor", dict(env, OCF_RESKEY_amqp_check="true")) is None, 60, 0.5):
                raise core.BenchError(f"{kind}: no AMQP connection within 60 s")
        core.run_rows(rows, args.warmup, args.runs)
    except (core.BenchError, neutron_env_error()) as e:
        print(f"bench: could not measure: {e}", file=sys.stderr)
        return 1
    finally:
        for kind, (agent, env) in envs.items():
            failure = core.agent_call(agent, "stop", env)
            if failure:
                print(f"bench: WARNING: {failure}", file=sys.stderr)
        rabbit.stop()
        ovs.stop()
        shutil.rmtree(base, ignore_errors=True)
    by_key = {r.key: r for r in rows}
    ratios = []
    for kind in KINDS:
        for mine in (f"{kind} ours", f"{kind} amqp"):
            for ref in (f"{kind} anything", "python"):
                a, b = by_key[mine], by_key[ref]
                ratios.append(core.Ratio(a.label, b.label, a.median("wall_ms") / b.median("wall_ms"),
                                         a.median("maxrss_mib") / b.median("maxrss_mib")))
    core.print_report(rows, ratios, f"network agents: monitor, {args.runs} runs per command "
                                    f"(+{args.warmup} warm-up), round-robin")
    results = {"runs": args.runs, "warmup": args.warmup,
               "results": {r.key: {"label": r.label, "error": r.error} | ({} if r.error else r.stats())
                           for r in rows},
               "ratios": [vars(q) for q in ratios]}
    with open(args.json, "w") as f:
        json.dump(results, f, indent=2)
    print(f"wrote {args.json}")
    return 0


def neutron_env_error() -> type:
    from neutron_env import StartError
    return StartError


if __name__ == "__main__":
    sys.exit(main())
