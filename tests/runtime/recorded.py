"""What the test handlers (tests/runtime/handlers.py) received, and how they are told to fail."""
from __future__ import annotations

import collections
from typing import Any

received: dict[str, list[Any]] = collections.defaultdict(list)  # handler name -> events/records
attempts: collections.Counter = collections.Counter()             # key -> deliveries seen
fail_times: dict[str, int] = {}                                    # key -> deliveries to fail
waits: dict[str, Any] = {}                                         # key -> threading.Event to wait for
transactions: dict[str, str] = {}                                  # key -> transaction to run on delivery


def reset() -> None:
    received.clear()
    attempts.clear()
    fail_times.clear()
    transactions.clear()
    waits.clear()
