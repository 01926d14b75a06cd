"""Lists that page in DynamoDB (issue 16, chalicelib/documents.paged): what one page costs with
few and with many documents stored, and that walking the pages shows every document once."""
from __future__ import annotations

from typing import Any, Callable

from bench.harness import Calls

OFFSET, LIMIT = 3, 4
# The many documents a page's cost is compared at (with 10): six times as many is enough for a
# list that read them all to show it (the COUNT reads MANY-10 more items, nothing else may);
# 200 seeded through the stores cost a fifth of the suite's in-process CPU for the same answer.
# bench/lists.py measures at 20,000.
FEW, MANY = 10, 60


def _with(path: str, query: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{query}"


def page_costs(api: Any, path: str, who: dict[str, str], seed: Callable[[int, int], None],
               sizes: tuple[int, int] = (FEW, MANY), query: str = "") -> list[tuple[list[dict[str, Any]], int, Calls]]:
    """Store documents 0 .. each size (`seed(first, last)` adds first .. last-1), then GET the page
    offset=3&limit=4 of `path`: [(the page, its X-Total-Count, the AWS calls it made)] per size."""
    out, stored = [], 0
    api.call("GET", _with(path, "limit=1"), who)   # the caller's first request reads its session: not the list's
    for size in sizes:
        seed(stored, size)
        stored = size
        calls = Calls()
        with calls.counting():
            status, body, headers = api.call("GET", _with(path, f"offset={OFFSET}&limit={LIMIT}{'&' + query if query else ''}"),
                                             who)
        assert status == 200, body
        out.append((body, int(headers["X-Total-Count"]), calls))
    return out


def assert_same_cost(costs: list[tuple[list[dict[str, Any]], int, Calls]], table: str,
                     sizes: tuple[int, int] = (FEW, MANY), queries: int = 2) -> None:
    """A page costs the same whatever is stored: the same calls, two Queries on the list's `table`
    (a COUNT and the page; `queries` when a filter drops items in the page's way), the same items sent back (offset+limit of the list's, plus what the
    caller's access check reads); the items read differ only by what the COUNT reads: every item
    under the key (none returned)."""
    from chalicelib import settings

    (small, small_total, few), (big, big_total, many) = costs
    assert (small_total, big_total) == sizes
    assert len(small) == len(big) == LIMIT
    assert few.counts == many.counts, (few.summary(), many.summary())
    on_table = few.on_table(settings.table_name(table)), many.on_table(settings.table_name(table))
    assert on_table[0] == on_table[1] and on_table[0]["Query"] == queries, on_table
    assert few.items_returned == many.items_returned >= OFFSET + LIMIT, (few.items_returned, many.items_returned)
    if few.total() == queries == 2:   # nothing but the list: exactly offset+limit documents returned
        assert few.items_returned == OFFSET + LIMIT, few.items_returned
    assert many.items_read - few.items_read == sizes[1] - sizes[0], (few.items_read, many.items_read)


def walk(api: Any, path: str, who: dict[str, str], limit: int) -> tuple[list[str], set[int]]:
    """Every page of `path`, `limit` at a time until an empty one: (the ids in order, the totals)."""
    ids: list[str] = []
    totals: set[int] = set()
    offset = 0
    while True:
        status, body, headers = api.call("GET", _with(path, f"offset={offset}&limit={limit}"), who)
        assert status == 200, body
        totals.add(int(headers["X-Total-Count"]))
        if not body:
            return ids, totals
        ids += [d["id"] for d in body]
        offset += limit


def assert_bad_paging_refused(api: Any, path: str, who: dict[str, str]) -> None:
    for query in ("offset=-1", "offset=x", "limit=0", "limit=100000", "limit=two", "offset=1.5"):
        status, body, _ = api.call("GET", _with(path, query), who)
        assert status == 400 and body["code"] and "must" in body["message"], (query, status, body)


def next_link(headers: Any) -> str | None:
    """The path and query of a list answer's `Link: <url>; rel="next"` (None: it has none)."""
    import re
    import urllib.parse

    link = headers.get("Link")
    if link is None:
        return None
    found = re.fullmatch(r'<([^>]+)>; rel="next"', link)
    assert found, link
    url = urllib.parse.urlsplit(found.group(1))
    assert url.scheme in ("http", "https") and url.netloc, link   # absolute, as RFC 8288 clients expect
    return f"{url.path}?{url.query}"


def follow(api: Any, path: str, who: dict[str, str]) -> tuple[list[str], list[dict[str, Any]]]:
    """GET `path`, then every rel="next" Link until an answer has none: (the ids in order, each
    answer's headers). None of them may say a total (the list is past its window)."""
    ids: list[str] = []
    seen: list[dict[str, Any]] = []
    at: str | None = path
    while at is not None:
        status, body, headers = api.call("GET", at, who)
        assert status == 200 and "X-Total-Count" not in headers, (at, status, body, headers)
        assert headers["X-Result-Count"] == str(len(body)), headers
        ids += [d["id"] for d in body]
        seen.append(dict(headers))
        at = next_link(headers)
        assert len(seen) < 100, "the links do not end"
    return ids, seen
