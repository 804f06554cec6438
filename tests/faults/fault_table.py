"""The rows of the faults tier's closing table (see conftest.py)."""
from typing import List, Tuple

FAULTS: List[Tuple[str, str, str]] = []      # (fault, outcome, detail)


def record(fault: str, survived: bool, detail: str) -> None:
    FAULTS.append((fault, "survived" if survived else "FAILED", detail))
