"""AWS calls per basket operation (TMF663, TMF679) through the HTTP API, and how adding a line
grows with the lines in the basket (1, 100, 1,000) and with the catalogue's size (1,000 vs 20,000
offerings generated in moto)."""
from __future__ import annotations

import json
import time
from typing import Any

from bench.harness import Recorder, headers, aws, measure, table

CARTS = "/tmf-api/shoppingCart/v4/shoppingCart"
POQ = "/tmf-api/productOfferingQualification/v4"


def _item(offering: str, **chars: str) -> dict[str, Any]:
    out: dict[str, Any] = {"productOffering": {"id": offering}}
    if chars:
        out["product"] = {"productCharacteristic": [{"name": k, "value": v} for k, v in chars.items()]}
    return out


def _generate_offerings(count: int) -> None:
    """`count` published offerings in the catalogue table (as a big catalogue would have)."""
    from chalicelib.catalog.models import CatalogRecord

    with CatalogRecord.batch_write() as batch:
        for n in range(count):
            doc = {"id": f"po-gen-{n}", "name": f"Generated offer {n}", "@type": "ProductOffering",
                   "lifecycleStatus": "active", "isSellable": True, "productOfferingPrice": [{"id": "pop-tv-monthly"}],
                   "channel": [{"id": "web"}], "category": [{"id": "cat-tv"}]}
            batch.save(CatalogRecord(f"productOffering#{doc['id']}", kind="productOffering",
                                     sort=f"generated offer {n}#{doc['id']}", body=doc, version=1))


def run() -> None:
    with aws():
        from chalice.test import Client

        from app import app
        from chalicelib import demo
        from chalicelib.basket import store as basket_store
        from chalicelib.catalog import store as catalog_store
        from infra.local.pump import Pump

        demo.load_all()
        pump = Pump()
        pump.drain()
        web = headers({"role": "channel", "channel": "web", "sub": "portal"})
        andrea = headers({"role": "customer", "channel": "web", "customerId": "cust-andrea", "sub": "cust-andrea"})
        agent = headers({"role": "agent", "channel": "callcenter", "sub": "agent-bench"})
        with Client(app) as client:
            recorder = Recorder(client)
            call, row, rows = recorder.call, recorder.row, recorder.rows

            catalog_store.cache.clear()
            anon = row("POST shoppingCart {} (anonymous web visitor, cold catalogue cache)",
                       lambda: call("post", CARTS, web, {}))["id"]
            catalog_store.cache.clear()
            row("PATCH add 1 item, anonymous, cold catalogue cache",
                lambda: call("patch", f"{CARTS}/{anon}", web, {"cartItem": [_item("po-broadband-500")]}))
            row("PATCH add 1 item, anonymous, warm cache",
                lambda: call("patch", f"{CARTS}/{anon}", web, {"cartItem": [_item("po-broadband-500")]}))
            row("PATCH add 1 item, anonymous, offering not read before (3 cache misses)",
                lambda: call("patch", f"{CARTS}/{anon}", web, {"cartItem": [_item("po-phone-x", colour="silver")]}))
            mine = row("POST shoppingCart with 1 item, known customer (+ customer facts)",
                       lambda: call("post", CARTS, andrea, {"cartItem": [_item("po-tv-max")]}))["id"]
            row("PATCH add 1 item, known customer, facts fresh, warm cache",
                lambda: call("patch", f"{CARTS}/{mine}", andrea, {"cartItem": [_item("po-tv-max")]}))
            etag = client.http.get(f"{CARTS}/{mine}", headers=andrea).headers["ETag"]
            row("PATCH add 1 item with If-Match", lambda: call(
                "patch", f"{CARTS}/{mine}", {**andrea, "If-Match": etag}, {"cartItem": [_item("po-tv-max")]}))
            row("GET shoppingCart/{id}", lambda: call("get", f"{CARTS}/{mine}", andrea))
            row("GET shoppingCart (the customer's baskets)", lambda: call("get", CARTS, andrea))
            row("GET shoppingCart (channel: today's anonymous baskets)", lambda: call("get", CARTS, web))
            row("PATCH status withAgent (customer hands over)",
                lambda: call("patch", f"{CARTS}/{mine}", andrea, {"status": "withAgent"}))
            row("GET shoppingCart?status=withAgent (agent worklist)",
                lambda: call("get", f"{CARTS}?status=withAgent", agent))
            row("PATCH agent takes over + adds an item (offering cached)",
                lambda: call("patch", f"{CARTS}/{mine}", agent, {"status": "withAgent",
                                                                 "cartItem": [_item("po-tv-max")]}))
            row("POST productOfferingQualification (3 items, known customer)", lambda: call(
                "post", f"{POQ}/productOfferingQualification", andrea, {"productOfferingQualificationItem": [
                    {"id": str(n), "productOffering": {"id": o}}
                    for n, o in enumerate(("po-extreme-bundle", "po-phone-x", "po-phone-x-plan-24"))]}))
            row("GET guidedSelling/po-phone-x", lambda: call("get", f"{POQ}/guidedSelling/po-phone-x", web))
            pump.drain()
            table("AWS calls per basket operation (through the HTTP API, moto in-process)",
                  ("operation", "calls", "which"), rows)

            # Adding one line vs the lines the basket holds (issue 13: lines are records of their
            # own). Acme's buyer (a business customer: up to 1,000 lines). The answer asks for
            # fields=cartTotalPrice, so the lines are not read back; the whole-basket GET is shown
            # beside it (one Query of every line, priced: it grows with the basket, as it must).
            buyer = headers({"role": "customer", "channel": "web", "customerId": "cust-acme", "sub": "raj",
                             "partyId": "party-acme-raj"})
            growth = []
            for size in (1, 100, 999):   # 999: the 1,000th line is the one added
                cid = call("post", CARTS, buyer, {})["id"]
                for start in range(0, size, 99):
                    call("patch", f"{CARTS}/{cid}?fields=id", buyer,
                         {"cartItem": [_item("po-mobile-unlimited")] * min(99, size - start)})
                path = f"{CARTS}/{cid}?fields=cartTotalPrice"
                add = {"cartItem": [{**_item("po-mobile-unlimited"), "id": "bench-added"}]}
                remove = {"cartItem": [{"id": "bench-added", "action": "delete"}]}
                calls = measure(lambda: call("patch", path, buyer, add))
                spent = 0.0
                for _ in range(20):   # each add timed, the line deleted again in between
                    call("patch", path, buyer, remove)
                    started = time.perf_counter()
                    call("patch", path, buyer, add)
                    spent += time.perf_counter() - started
                ms = spent * 1000 / 20
                whole = measure(lambda: call("get", f"{CARTS}/{cid}", buyer))
                started = time.perf_counter()
                call("get", f"{CARTS}/{cid}", buyer)
                get_ms = (time.perf_counter() - started) * 1000
                header = basket_store.load_header(cid)
                assert header is not None
                stored = len(json.dumps(header.doc, separators=(",", ":"))) + len(json.dumps(header.composition))
                growth.append((f"{size:,} lines", calls.total(), calls.summary(), f"{ms:.1f}", f"{stored // 1024} KB",
                               whole.total(), f"{get_ms:.0f}"))
            table("PATCH add 1 line (its id given by the client) vs lines already in the basket (warm cache). "
                  "Floor: the same calls at 1 and 1,000 lines (the header's GetItem; a BatchGetItem checking the "
                  "named id is new; one TransactWriteItems of the header and the line; the Query reads the "
                  "promotions, every request locally, once per 5 s in AWS: OMNISHOP_PROMOTION_CACHE_SECONDS) "
                  "and time within 1.5x",
                  ("basket holds", "calls", "which", "ms per add (mean of 20)", "header size",
                   "GET whole: calls", "GET whole: ms"), growth)

            sizes = []
            generated = 0
            for count in (1_000, 20_000):
                _generate_offerings(count - generated)  # (their stream records are not needed here)
                generated = count
                cid = call("post", CARTS, web, {})["id"]
                catalog_store.cache.clear()
                cold = measure(lambda: call("patch", f"{CARTS}/{cid}", web, {"cartItem": [_item("po-gen-7")]}))
                warm = measure(lambda: call("patch", f"{CARTS}/{cid}", web, {"cartItem": [_item("po-gen-8")]}))
                started = time.perf_counter()
                for n in range(10):
                    call("patch", f"{CARTS}/{cid}", web, {"cartItem": [_item(f"po-gen-{100 + n}")]})
                ms = (time.perf_counter() - started) * 100
                sizes.append((f"{count:,} offerings", cold.total(), cold.summary(), warm.total(), warm.summary(),
                              f"{ms:.1f}"))
            table("PATCH add 1 item vs catalogue size (offerings generated in moto)",
                  ("catalogue", "cold cache calls", "which", "next offering (1 miss)", "which",
                   "ms per add (mean of 10)"),
                  sizes)

