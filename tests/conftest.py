"""Shared test configuration: tier markers by directory, and the repo paths."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests"))

TIERS = {"unit": "unit", "agents": "agent", "cluster": "cluster", "faults": "faults"}


def pytest_collection_modifyitems(items):  # type: ignore[no-untyped-def]
    for item in items:
        rel = os.path.relpath(str(item.fspath), os.path.join(ROOT, "tests"))
        tier = TIERS.get(rel.split(os.sep)[0])
        if tier:
            item.add_marker(getattr(pytest.mark, tier))


def pytest_terminal_summary(terminalreporter):  # type: ignore[no-untyped-def]
    """What the tests measured (their record_property values: failover and
    reassembly times...), printed after the run, so that `make check` and CI
    show them without -s.  Nothing asserts on them."""
    lines = []
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "") != "call":
                continue
            for name, value in getattr(report, "user_properties", []):
                test = report.nodeid.split("::")[-1][:60]
                lines.append(f"{report.nodeid.split('::')[0]}::{test}: {name} = {value}")
    if lines:
        terminalreporter.section("measured by the tests (no test asserts on a time)")
        for line in lines:
            terminalreporter.write_line(line)
