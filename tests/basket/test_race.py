"""Two channels write to one basket at the same time: no item is lost."""
import threading

from tests.basket.conftest import CARTS
from tests.support.orders import item
from tests.support.stored import stored_items


def test_two_writers_racing_never_lose_an_item(api, headers, demo):
    web = headers("customer", channel="web", customerId="cust-andrea", sub="cust-andrea")
    app = headers("customer", channel="app", customerId="cust-andrea", sub="cust-andrea")
    _, doc, _ = api.call("POST", CARTS, web, {})
    path = f"{CARTS}/{doc['id']}"
    per_writer, results, start = 8, [], threading.Barrier(2)

    def writer(who, offering):
        start.wait()
        for _ in range(per_writer):
            status, body, _ = api.call("PATCH", path, who, {"cartItem": [item(offering)]})
            results.append((status, body if status != 200 else None))

    threads = [threading.Thread(target=writer, args=(web, "po-phone-x")),
               threading.Thread(target=writer, args=(app, "po-fast-charger"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r for r in results if r[0] != 200] == []
    _, final, headers_ = api.call("GET", path, web)
    offerings = [i["productOffering"]["id"] for i in final["cartItem"]]
    assert offerings.count("po-phone-x") == per_writer and offerings.count("po-fast-charger") == per_writer
    assert headers_["ETag"] == f'"{1 + 2 * per_writer}"'                   # one version per change
    assert len({i["id"] for i in final["cartItem"]}) == 2 * per_writer
    assert final["context"]["changes"][-1]["by"]["channel"] in ("web", "app")


def test_with_if_match_the_slower_writer_gets_412_and_the_current_basket(api, web, demo):
    _, doc, _ = api.call("POST", CARTS, web, {})
    path = f"{CARTS}/{doc['id']}"
    statuses, start = [], threading.Barrier(2)

    def writer(offering):
        start.wait()
        status, body, _ = api.call("PATCH", path, {**web, "If-Match": '"1"'}, {"cartItem": [item(offering)]})
        statuses.append((status, body))

    threads = [threading.Thread(target=writer, args=(o,)) for o in ("po-phone-x", "po-tv-max")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(s for s, _ in statuses) == [200, 412]
    winner = next(b for s, b in statuses if s == 200)
    loser = next(b for s, b in statuses if s == 412)
    assert [i["id"] for i in loser["cartItem"]] == [i["id"] for i in winner["cartItem"]]   # the current basket
    (row,) = stored_items("basket")
    assert row["version"]["N"] == "2"
