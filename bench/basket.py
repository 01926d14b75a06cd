"""AWS calls per basket operation (TMF663, TMF679) through the HTTP API, and how adding an item
grows with the number of items in the basket and with the catalogue's size (1,000 vs 20,000
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

            growth = []
            for size in (1, 10, 25, 49):
                cid = call("post", CARTS, web, {})["id"]
                for start in range(0, size, 10):
                    call("patch", f"{CARTS}/{cid}", web,
                         {"cartItem": [_item("po-broadband-500")] * min(10, size - start)})
                path = f"{CARTS}/{cid}"
                added: list[dict] = []
                calls = measure(lambda: added.append(call("patch", path, web, {"cartItem": [_item("po-tv-max")]})))
                call("patch", path, web, {"cartItem": [{"id": added[0]["cartItem"][-1]["id"], "action": "delete"}]})
                started = time.perf_counter()
                for _ in range(10):
                    doc = call("patch", path, web, {"cartItem": [_item("po-tv-max")]})
                    call("patch", path, web, {"cartItem": [{"id": doc["cartItem"][-1]["id"], "action": "delete"}]})
                ms = (time.perf_counter() - started) * 1000 / 20
                kept = basket_store.load_header(cid)
                assert kept is not None
                stored = len(json.dumps(kept.doc, separators=(",", ":")))
                growth.append((f"{size} items", calls.total(), calls.summary(), f"{ms:.1f}", f"{stored // 1024} KB"))
            table("PATCH add 1 item vs items already in the basket (warm cache)",
                  ("basket holds", "calls", "which", "ms per change (mean of 20)", "basket size"), growth)

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

