"""Cluster helpers: the real wrapper's commands, and the recording fake."""
import io
import xml.etree.ElementTree as ET
from typing import Dict, List, Tuple

from fakehost import FakeHost
from mirantis_ocf.agent import Context
from mirantis_ocf.budget import Budget
from mirantis_ocf.cluster import CrmCluster
from mirantis_ocf.fakes import FakeCluster
from mirantis_ocf.log import Log
from mirantis_ocf.params import Params
from mirantis_ocf.system import CommandResult


class ScriptedHost(FakeHost):
    """Answers Pacemaker's tools from a script; records argv."""

    def __init__(self, answers: Dict[Tuple[str, ...], Tuple[int, str, str]]) -> None:
        super().__init__()
        self.answers = answers

    def run(self, argv, timeout, env=None, input_text=None, detach=False):  # type: ignore[no-untyped-def]
        self.commands.append(tuple(argv))
        for prefix, (rc, out, err) in self.answers.items():
            if tuple(argv[: len(prefix)]) == prefix:
                return CommandResult(tuple(argv), rc, out, err)
        return CommandResult(tuple(argv), 0, "", "")


def cluster(answers: Dict[Tuple[str, ...], Tuple[int, str, str]]) -> Tuple[CrmCluster, ScriptedHost]:
    host = ScriptedHost(answers)
    ctx = Context("start", "p_mysql", Params({}), False, 0, Budget(20, host.monotonic),
                  Log("t", "t", {}, io.StringIO()), host, {})
    return CrmCluster(ctx), host


def test_membership_from_crm_node() -> None:
    c, _ = cluster({("crm_node", "-l"): (0, "1 node1 member\n2 node2 lost\n3 node3 member\n", ""),
                    ("crm_node", "-q"): (0, "1\n", "")})
    m = c.membership()
    assert m.nodes == ("node1", "node2", "node3") and m.online == ("node1", "node3") and m.quorate


def test_attributes_use_crm_attribute_with_lifetime() -> None:
    c, host = cluster({("crm_attribute",): (0, "42\n", "")})
    c.set_attr("gcomm-epoch", "uuid:42", node="node2")
    assert c.get_attr("gcomm-epoch", node="node2") == "42"
    assert host.commands[0] == ("crm_attribute", "--name", "gcomm-epoch", "--lifetime", "reboot",
                                "--node", "node2", "--update", "uuid:42")


def test_missing_attribute_is_none() -> None:
    c, _ = cluster({("crm_attribute",): (6, "", "Error performing operation: No such device or address")})
    assert c.get_attr("nothing") is None


def test_promotion_score_names_the_instance() -> None:
    c, host = cluster({})
    c.set_promotion_score(100)
    assert host.commands[-1] == ("crm_attribute", "--promotion=p_mysql", "--update", "100")


def test_claim_is_a_create_and_a_lost_claim_names_the_holder() -> None:
    c, host = cluster({("cibadmin", "--create"): (76, "", "Name not unique on network"),
                       ("cibadmin", "--query"): (0, '<nvpair id="x" name="owner" value="node2"/>', "")})
    assert c.claim("galera-bootstrap", "node1") is False
    assert host.commands[0][:4] == ("cibadmin", "--create", "--scope", "crm_config")
    assert "mirantis-claim-galera-bootstrap" in host.commands[0][-1]
    assert c.claim("galera-bootstrap", "node2") is True   # idempotent for the holder


def test_claim_owner_is_escaped() -> None:
    c, host = cluster({})
    owner = 'evil"/><x a=\'b'
    assert c.claim("k", owner) is True
    element = ET.fromstring(host.commands[0][-1])
    assert [n.get("value") for n in element] == [owner]


def test_fake_cluster_claim_is_atomic_and_recorded() -> None:
    fake = FakeCluster(node="node1", nodes=("node1", "node2"))
    assert fake.claim("boot", "node1") is True
    assert fake.claim("boot", "node2") is False
    assert fake.claim_owner("boot") == "node1"
    fake.release("boot")
    assert fake.claim("boot", "node2") is True
    assert ("claim", "boot", "node2") in fake.calls


def test_a_claim_given_back_during_our_attempt_is_not_ours_and_not_an_error() -> None:
    c, _ = cluster({("cibadmin", "--create"): (108, "", "Call cib_create failed: File exists"),
                    ("cibadmin", "--query"): (105, "", "")})
    assert c.claim("galera-join-p_mysql", "node2") is False


def test_a_claim_that_cannot_be_written_is_an_error() -> None:
    import pytest
    from mirantis_ocf.errors import GenericError
    c, _ = cluster({("cibadmin", "--create"): (102, "", "Could not connect to the CIB"),
                    ("cibadmin", "--query"): (102, "", "")})
    with pytest.raises(GenericError, match="Could not connect"):
        c.claim("galera-p_mysql", "node2")
