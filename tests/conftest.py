"""Shared test configuration: tier markers from folder names."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# devstack (deploy/local) is a tool, not a package; tests reuse its process helpers.
sys.path.insert(0, str(ROOT / "deploy" / "local"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier (unit / integration / e2e / cluster) from its folder."""
    for item in items:
        tier = Path(str(item.fspath)).parent.name
        if tier in {"unit", "integration", "e2e", "cluster"}:
            item.add_marker(getattr(pytest.mark, tier))
