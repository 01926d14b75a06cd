"""Many callers at once: the one way tests make concurrent requests in-process (enemy tests)."""
from __future__ import annotations

import threading
from typing import Callable, TypeVar

T = TypeVar("T")


def at_once(count: int, call: Callable[[int], T], timeout: float = 300.0) -> list[T | Exception]:
    """`call(i)` for each i in range(count), from `count` threads released together by a barrier:
    each one's result, or the exception it raised, in the order of i."""
    start = threading.Barrier(count, timeout=timeout)
    results: list[T | Exception] = [RuntimeError("no answer")] * count

    def one(i: int) -> None:
        start.wait()
        try:
            results[i] = call(i)
        except Exception as exc:   # noqa: BLE001 (the caller asserts on what each one got)
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(t.is_alive() for t in threads), f"callers still running after {timeout} s"
    return results
