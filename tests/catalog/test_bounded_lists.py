"""Catalogue lists read what the page needs: an admin page is a COUNT on the keys-only index, a
skip over keys to the offset, and one Query with Limit; a channel's warm list reads nothing.
Measured in AWS calls and items read (bench.harness.Calls), 30 vs 300 offerings."""
import json

from bench.harness import measure
from chalicelib.catalog import store

BASE = "/tmf-api/productCatalogManagement/v4"


def add_offerings(first, last, **extra):
    for n in range(first, last):
        store.insert("productOffering", {"id": f"po-bulk-{n:04d}", "name": f"Bulk {n:04d}", "@type": "ProductOffering",
                                         "lifecycleStatus": "active", **extra})


def listing(client, headers, query=""):
    r = client.http.get(f"{BASE}/productOffering{query}", headers=headers)
    assert r.status_code == 200, r.body
    return json.loads(r.body), r.headers


def test_an_admin_page_reads_the_same_whatever_the_size_of_the_kind(client, admin):
    add_offerings(0, 30)
    results, costs = [], []
    for first, last in ((30, 30), (30, 300)):
        add_offerings(first, last)
        calls = measure(lambda: results.append(listing(client, admin, "?offset=10&limit=5&fields=name")))
        costs.append((dict(calls.counts), calls.items_read))
    (small, small_headers), (big, big_headers) = results
    assert [o["id"] for o in small] == [o["id"] for o in big] == [f"po-bulk-{n:04d}" for n in range(10, 15)]
    assert (small_headers["X-Total-Count"], big_headers["X-Total-Count"]) == ("30", "300")
    # COUNT (keys index), skip 10 keys (keys index), the page (5 documents): 3 Queries either way
    assert costs[0][0] == costs[1][0] == {"dynamodb:Query": 3}, costs
    # items read: the COUNT counts every key (no document), plus 10 keys skipped and 5 documents
    assert costs[0][1] == 30 + 15 and costs[1][1] == 300 + 15, costs


def test_admin_pages_walk_the_whole_kind_in_order(client, admin):
    add_offerings(0, 23)
    seen, offset = [], 0
    while True:
        page, headers = listing(client, admin, f"?offset={offset}&limit=7")
        assert headers["X-Total-Count"] == "23"
        if not page:
            break
        seen += [o["id"] for o in page]
        offset += 7
    assert seen == [f"po-bulk-{n:04d}" for n in range(23)]
    assert listing(client, admin, "?offset=23&limit=7")[0] == []
    assert listing(client, admin, "?offset=500&limit=7")[0] == []


def test_an_admin_name_filter_reads_that_name_only(client, admin):
    add_offerings(0, 200)
    results: list = []
    calls = measure(lambda: results.append(listing(client, admin, "?name=Bulk%200042")))
    page, headers = results[0]
    assert [o["id"] for o in page] == ["po-bulk-0042"] and headers["X-Total-Count"] == "1"
    assert calls.items_read == 1, calls.items_read


def test_a_warm_channel_list_reads_nothing(client, token):
    add_offerings(0, 50)
    web = {"Authorization": f"Bearer {token('channel', channel='web')}"}
    store.cache.clear()
    listing(client, web)
    warm = [measure(lambda: listing(client, web)) for _ in range(5)]
    assert all(c.items_read == 0 and "dynamodb:Query" not in c.counts for c in warm), [c.summary() for c in warm]
