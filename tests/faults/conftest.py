"""The faults tier: what the suite survives, and the table that says so.

Each test adds rows to FAULTS (``record(fault, outcome, detail)``); the
session ends with one table of them, after pytest's own summary."""
import os
import subprocess
from typing import Iterator, List, Tuple

import pytest

from support import ROOT

FAULTS: List[Tuple[str, str, str]] = []      # (fault, survived?, detail)


def record(fault: str, survived: bool, detail: str) -> None:
    FAULTS.append((fault, "survived" if survived else "FAILED", detail))


@pytest.fixture(scope="session", autouse=True)
def installed() -> Iterator[None]:
    """The agents as Pacemaker finds them (MOCF_AGENTS_DIR: those of a
    checkout instead, without installing: for a developer, while another
    run uses the installed ones)."""
    if not os.environ.get("MOCF_AGENTS_DIR"):
        subprocess.run(["make", "-s", "-C", ROOT, "install"], check=True, capture_output=True)
    yield


def pytest_terminal_summary(terminalreporter):  # type: ignore[no-untyped-def]
    if not FAULTS:
        return
    terminalreporter.section("faults tried, and what happened")
    width = max(len(f) for f, _, _ in FAULTS)
    for fault, outcome, detail in FAULTS:
        terminalreporter.write_line(f"{fault:<{width}}  {outcome:<8}  {detail}")
    survived = sum(1 for _, o, _ in FAULTS if o == "survived")
    terminalreporter.write_line(f"{survived} of {len(FAULTS)} faults survived")
