"""Cluster helpers: the real wrapper's commands, and the recording fake."""
import io
import xml.etree.ElementTree as ET
from typing import Dict, List, Tuple

from fakehost import FakeHost
from mirantis_ocf.agent import Context
from mirantis_ocf.budget import Budget
from mirantis_ocf.cluster import CrmCluster
from fakecluster import FakeCluster
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


CIB = """<cib epoch="7" num_updates="3"><configuration><crm_config>
<cluster_property_set id="cib-bootstrap-options"><nvpair id="o" name="owner" value="nobody"/>
</cluster_property_set>
<cluster_property_set id="mirantis-claim-galera-p_mysql">
<nvpair id="mirantis-claim-galera-p_mysql-owner" name="owner" value="node2|uuid:9"/>
</cluster_property_set></crm_config></configuration>
<status><node_state uname="node1"><transient_attributes id="1"><instance_attributes id="s1">
<nvpair id="a" name="p_mysql-epoch" value="uuid:7"/><nvpair id="b" name="other" value="x"/>
</instance_attributes></transient_attributes></node_state>
<node_state uname="node2"><transient_attributes id="2"><instance_attributes id="s2">
<nvpair id="c" name="p_mysql-epoch" value="uuid:9"/><nvpair id="d" name="p_mysql-primary" value="1"/>
</instance_attributes></transient_attributes></node_state></status></cib>"""


def test_a_snapshot_is_one_read_of_the_whole_cib() -> None:
    c, host = cluster({("cibadmin", "--query"): (0, CIB, "")})
    look = c.snapshot(("p_mysql-epoch", "p_mysql-primary", "absent"),
                      ("galera-p_mysql", "galera-join-p_mysql"))
    assert host.commands == [("cibadmin", "--query")]
    assert look.attrs == {"p_mysql-epoch": {"node1": "uuid:7", "node2": "uuid:9"},
                          "p_mysql-primary": {"node2": "1"}, "absent": {}}
    # only a claim's own set counts (another set's "owner" is not a claim)
    assert look.claims == {"galera-p_mysql": "node2|uuid:9", "galera-join-p_mysql": None}


def test_a_snapshot_that_cannot_be_read_is_an_error() -> None:
    import pytest
    from mirantis_ocf.errors import GenericError
    c, _ = cluster({("cibadmin", "--query"): (102, "", "Could not connect to the CIB")})
    with pytest.raises(GenericError, match="cibadmin failed: Could not connect"):
        c.snapshot(("p_mysql-epoch",), ("galera-p_mysql",))


def test_the_node_list_of_corosync_is_read_again_only_after_its_ttl() -> None:
    c, host = cluster({("crm_node", "-l"): (0, "1 node1 member\n2 node2 member\n", ""),
                       ("crm_node", "-q"): (0, "1\n", ""),
                       ("corosync-cmapctl",): (0, "nodelist.node.0.name (str) = node1\n"
                                                  "nodelist.node.1.name (str) = node2\n"
                                                  "nodelist.node.2.name (str) = node3\n", "")})
    for _ in range(3):
        assert c.membership().nodes == ("node1", "node2", "node3")
    host.now += CrmCluster.NODELIST_TTL
    c.membership()
    assert sum(1 for cmd in host.commands if cmd[0] == "corosync-cmapctl") == 2
    assert sum(1 for cmd in host.commands if cmd[:2] == ("crm_node", "-q")) == 4
