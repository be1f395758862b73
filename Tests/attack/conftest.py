"""Fixtures for the hostile-LAN tests: a namespace LAN with honest daemons and an attacker host."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lan import LAN, available  # noqa: E402

OK, WHY = available()


def pytest_report_header(config):
    return "hostile LAN: " + ("namespaces available" if OK else f"SKIPPED: {WHY}")


@pytest.fixture
def lan():
    """Two honest daemons (lan.daemons[0] = a, [1] = b) and the attacker host, torn down afterwards."""
    if not OK:
        pytest.skip(WHY)
    with LAN(honest=2) as net:
        yield net
        for d in net.daemons:
            assert d.proc is None or d.running, f"{d.name} died:\n{d.log_tail()}"
