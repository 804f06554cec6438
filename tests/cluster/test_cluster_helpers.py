"""The library's cluster helpers (mirantis_ocf.cluster.CrmCluster) on the real cluster.

The Galera election will rely on these; the claim in particular must be
atomic when several nodes race for it.
"""
import io
import os
import sys
import threading

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))

from mirantis_ocf.agent import Context  # noqa: E402
from mirantis_ocf.budget import Budget  # noqa: E402
from mirantis_ocf.cluster import CrmCluster  # noqa: E402
from mirantis_ocf.log import Log  # noqa: E402
from mirantis_ocf.params import Params  # noqa: E402
from mirantis_ocf.system import System  # noqa: E402

pytestmark = pytest.mark.cluster


def crm_cluster(instance: str = "p_test") -> CrmCluster:
    system = System()
    ctx = Context("start", instance, Params({}), False, 0, Budget(60, system.monotonic),
                  Log("test", instance, {}, io.StringIO()), system, {})
    return CrmCluster(ctx)


def test_node_membership_and_quorum(pcmk_cluster) -> None:  # type: ignore[no-untyped-def]
    c = crm_cluster()
    assert c.node_name() == pcmk_cluster.node
    m = c.membership()
    assert m.nodes == (pcmk_cluster.node,) and m.online == (pcmk_cluster.node,) and m.quorate


@pytest.mark.parametrize("lifetime", ["reboot", "forever"])
def test_node_attributes_round_trip(pcmk_cluster, lifetime: str) -> None:  # type: ignore[no-untyped-def]
    c = crm_cluster()
    name = f"mirantis-test-{lifetime}"
    assert c.get_attr(name, lifetime=lifetime) is None
    c.set_attr(name, "uuid:42", lifetime=lifetime)
    assert c.get_attr(name, lifetime=lifetime) == "uuid:42"
    assert c.get_attr(name, node=pcmk_cluster.node, lifetime=lifetime) == "uuid:42"
    c.delete_attr(name, lifetime=lifetime)
    assert c.get_attr(name, lifetime=lifetime) is None


def test_promotion_score(pcmk_cluster) -> None:  # type: ignore[no-untyped-def]
    c = crm_cluster("p_scored")
    c.set_promotion_score(100)
    assert c.get_attr("master-p_scored") == "100"
    c.delete_promotion_score()
    assert c.get_attr("master-p_scored") is None


def test_claim_is_atomic_under_a_race(pcmk_cluster) -> None:  # type: ignore[no-untyped-def]
    key = "race-test"
    results = {}
    barrier = threading.Barrier(6)

    def contender(owner: str) -> None:
        c = crm_cluster()
        barrier.wait()
        results[owner] = c.claim(key, owner)

    threads = [threading.Thread(target=contender, args=(f"node{i}",)) for i in range(6)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        winners = [o for o, won in results.items() if won]
        assert len(results) == 6 and len(winners) == 1, results
        c = crm_cluster()
        assert c.claim_owner(key) == winners[0]
        assert c.claim(key, winners[0]) is True          # the holder may ask again
        assert c.claim(key, "someone-else") is False
    finally:
        crm_cluster().release(key)
    assert crm_cluster().claim_owner(key) is None
