"""Meta-data: golden files, the DTD ocf-tester uses, and its structure."""
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

from support import AGENTS_DIR, ROOT, agent_class, agent_names
from mirantis_ocf.metadata import DTD_ACTIONS, ActionSpec

DTD = "/usr/share/resource-agents/ra-api-1.dtd"
GOLDEN = os.path.join(ROOT, "tests", "unit", "golden")


def metadata(name: str) -> str:
    return agent_class(name).metadata()  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize("name", agent_names())
def test_golden(name: str) -> None:
    """A change to an agent's meta-data is deliberate: `make golden` regenerates these."""
    with open(os.path.join(GOLDEN, f"{name}.xml")) as f:
        assert metadata(name) == f.read()


@pytest.mark.parametrize("name", agent_names())
def test_dtd_valid(name: str) -> None:
    result = subprocess.run(["xmllint", "--noout", "--dtdvalid", DTD, "-"],
                            input=metadata(name), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", agent_names())
def test_structure(name: str) -> None:
    cls = agent_class(name)
    root = ET.fromstring(metadata(name).split("\n", 2)[2])
    assert root.tag == "resource-agent" and root.get("name") == name
    assert [c.tag for c in root] == ["version", "longdesc", "shortdesc", "parameters", "actions"]
    assert root.findtext("version") == "1.1"
    names = [p.get("name") for p in root.iter("parameter")]
    assert names == [p.name for p in cls.params]
    for p in root.iter("parameter"):
        assert p.find("longdesc").get("lang") == "en" and p.find("content").get("type")
    actions = {a.get("name") for a in root.iter("action")}
    assert {"start", "stop", "monitor", "meta-data"} <= actions <= DTD_ACTIONS
    assert "reload-agent" not in actions
    assert metadata(name).startswith('<?xml version="1.0"?>\n<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">')


def test_escaping_is_done_by_elementtree() -> None:
    from mirantis_ocf.metadata import render
    from mirantis_ocf.params import Param
    text = render("x", "1", "a & b <c>", "\"quotes\" & <tags>",
                  [Param("p", "<short>", default="a&b")], [ActionSpec("start", 10)])
    root = ET.fromstring(text.split("\n", 2)[2])
    assert root.findtext("shortdesc") == "a & b <c>"
    assert root.find(".//content").get("default") == "a&b"


def test_action_names_outside_the_dtd_are_refused() -> None:
    with pytest.raises(ValueError):
        ActionSpec("reload-agent", 10)
    with pytest.raises(ValueError):
        ActionSpec("monitor", 10, role="Master")


def test_secret_parameters_say_so() -> None:
    from mirantis_ocf.metadata import render
    from mirantis_ocf.params import Param
    text = render("x", "1", "s", "l", [Param("password", "pw", secret=True)], [ActionSpec("start", 10)])
    assert "never appears in logs" in text


def test_every_agent_file_is_executable() -> None:
    for name in agent_names():
        assert os.access(os.path.join(AGENTS_DIR, name), os.X_OK), name
