"""The faults tier: what the suite survives, and the table that says so.

Each test adds rows with fault_table.record(fault, survived, detail); the
session ends with one table of them, after pytest's own summary."""
import os
import subprocess
import sys
from typing import Iterator

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fault_table import FAULTS  # noqa: E402
from support import ROOT  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def installed() -> Iterator[None]:
    """The agents as Pacemaker finds them (MOCF_AGENTS_DIR: those of a
    checkout instead, without installing: for a developer, while another
    run uses the installed ones)."""
    if not os.environ.get("MOCF_AGENTS_DIR"):
        subprocess.run(["make", "-s", "-C", ROOT, "install"], check=True, capture_output=True)
    yield


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    """Each phase's report on its item (item.rep_call...): a fixture's
    teardown can then tell a failed test, and gather the evidence."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def pytest_terminal_summary(terminalreporter):  # type: ignore[no-untyped-def]
    if not FAULTS:
        return
    terminalreporter.section("faults tried, and what happened")
    width = max(len(f) for f, _, _ in FAULTS)
    for fault, outcome, detail in FAULTS:
        terminalreporter.write_line(f"{fault:<{width}}  {outcome:<8}  {detail}")
    survived = sum(1 for _, o, _ in FAULTS if o == "survived")
    terminalreporter.write_line(f"{survived} of {len(FAULTS)} faults survived")
