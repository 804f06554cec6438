"""Shared test configuration: tier markers by directory, and the repo paths."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests"))

TIERS = {"unit": "unit", "agents": "agent", "cluster": "cluster"}


def pytest_collection_modifyitems(items):  # type: ignore[no-untyped-def]
    for item in items:
        rel = os.path.relpath(str(item.fspath), os.path.join(ROOT, "tests"))
        tier = TIERS.get(rel.split(os.sep)[0])
        if tier:
            item.add_marker(getattr(pytest.mark, tier))
