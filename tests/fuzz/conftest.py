"""The fuzz run's figures per spec, printed at the end of the pytest run (tests/fuzz/report.py)."""
from __future__ import annotations

import pytest

from tests.fuzz import report


class _Report:
    def __init__(self, node: pytest.Item):
        self.node = node

    def append(self, run) -> None:
        self.node.user_properties.append((report.PROPERTY, report.figures(run)))


@pytest.fixture
def fuzz_report(request) -> _Report:
    """fuzz_report.append(run): the figures of this test's SpecRun go into the summary."""
    return _Report(request.node)
