"""Pacemaker's and the shells' own tools accept the installed agents' meta-data."""
import subprocess

import pytest

from support import agent_class, agent_names


def params_of(name: str) -> list:
    return [p.name for p in agent_class(name).params]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", agent_names())
@pytest.mark.parametrize("tool", [["crm", "ra", "info"], ["pcs", "resource", "describe"]])
def test_shells_describe_every_parameter(name: str, tool: list) -> None:
    proc = subprocess.run(tool + [f"ocf:mirantis:{name}"], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    for param in params_of(name):
        assert param in proc.stdout, (param, proc.stdout[:500])


@pytest.mark.parametrize("name", agent_names())
def test_crm_resource_shows_the_meta_data(name: str) -> None:
    proc = subprocess.run(["crm_resource", "--show-metadata", f"ocf:mirantis:{name}"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert f'<resource-agent name="{name}"' in proc.stdout and "<version>1.1</version>" in proc.stdout


def test_crm_resource_validate_names_the_bad_parameter() -> None:
    proc = subprocess.run(["crm_resource", "--validate", "--class", "ocf", "--provider", "mirantis",
                           "--agent", "haproxy", "--option", "conffile=relative.cfg",
                           "--output-as=xml"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 6, proc.stdout
    assert "conffile" in proc.stdout and "must be an absolute path" in proc.stdout
