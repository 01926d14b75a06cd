"""The last unit over HTTP against the local runtime (its moto server in another process, the
API answering requests in parallel): 20 buyers at once, one reservation; released, it can be
bought again, once."""
import concurrent.futures

from tests.stock.conftest import RESERVE, STOCK, reservation

SID = "po-fast-charger--store-cork-patrick"


def test_twenty_buyers_over_http_one_gets_the_last_unit(local_runtime):
    admin = {"Authorization": f"Bearer {local_runtime.token('catalog-admin')}"}
    web = {"Authorization": f"Bearer {local_runtime.token('channel', channel='web')}"}
    status, _, made = local_runtime.request("POST", STOCK, {
        "productStockLevel": {"amount": 1}, "productStockStatusType": "available",
        "stockedProduct": {"productOffering": {"id": "po-fast-charger"}},
        "place": {"id": "store-cork-patrick", "role": "stockLocation"}}, admin)
    assert status == 201 and made["id"] == SID, made

    def buy(_):
        status, _, body = local_runtime.request("POST", RESERVE, reservation((SID, 1)), web)
        return status, body

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(buy, range(20)))
    won = [body for status, body in answers if status == 201]
    assert len(won) == 1, [(s, b.get("code")) for s, b in answers]
    assert all(s == 409 and b["code"] in ("insufficientStock", "transactionConflict") for s, b in answers if s != 201)
    assert local_runtime.request("GET", f"{STOCK}/{SID}", None, web)[2]["productStockLevel"]["amount"] == 0
    assert local_runtime.request("PATCH", f"{RESERVE}/{won[0]['id']}", {"status": "released"}, web)[0] == 200
    assert local_runtime.request("GET", f"{STOCK}/{SID}", None, web)[2]["productStockLevel"]["amount"] == 1
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        again = [s for s, _ in pool.map(buy, range(20))]
    assert again.count(201) == 1
    assert local_runtime.request("DELETE", f"{STOCK}/{SID}", None, admin)[0] == 204
