"""What the namespace-cluster benches (bench/galera.py, bench/replication.py)
share: one cluster, the agents installed, and each set-up in turn on it, in
the same run, with its result printed as it comes."""
import json
import os
import subprocess
import sys
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "cluster"))
sys.path.insert(0, os.path.join(REPO, "tests"))

from netns import NetnsCluster  # noqa: E402

STATE = "/var/tmp/mirantis-ocf/netns-bench"


def run_setups(inside: str, setups: Sequence[Tuple[str, Any]],
               scenario: Callable[[NetnsCluster, Any], Dict[str, Any]], size: int = 3
               ) -> Optional[Dict[str, Dict[str, Any]]]:
    """``scenario(cluster, spec)`` for each (name, spec); None, with the
    reason on stderr, when the namespace cluster cannot run here."""
    c = NetnsCluster(state=STATE, size=size)
    reason = c.missing_prerequisites()
    if reason:
        print(reason, file=sys.stderr)
        return None
    subprocess.run(["make", "-s", "-C", REPO, "install"], check=True)
    os.makedirs(inside, exist_ok=True)
    results: Dict[str, Dict[str, Any]] = {}
    try:
        for name, spec in setups:
            print(f"--- {name}", flush=True)
            results[name] = scenario(c, spec)
            print(json.dumps(results[name]), flush=True)
    finally:
        if c.is_running():
            c.stop()
    return results
