"""Large business quotes and orders (issue 13 part 4): AWS calls and time to create a quote of
50, 300 and 1,000 lines and to change one of its lines; then one order from an accepted
1,000-line quote and its decomposition into child orders per stack, site and page (moto
in-process, through the HTTP API; the decomposition called as the workflow's task calls it)."""
from __future__ import annotations

import json
import time
from typing import Any

from bench.harness import Recorder, aws, headers, measure, table

QUOTES = "/tmf-api/quoteManagement/v4/quote"
ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
SITES = ("acme-bristol", "acme-bath")


def _lines(count: int) -> list[dict[str, Any]]:
    return [{"productOffering": {"id": "po-business-mobile"}, "quantity": 1 + n % 10,
             "product": {"place": [{"id": SITES[n % 2], "role": "site"}]}} for n in range(count)]


def _timed(fn: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - started) * 1000


def run() -> None:
    with aws():
        from chalice.test import Client

        from app import app
        from chalicelib import demo
        from chalicelib.ordering import fulfilment
        from chalicelib.ordering import store as orders
        from infra.local.pump import Pump

        demo.load_all()
        Pump().drain()
        agent = headers({"role": "agent", "channel": "callcenter", "sub": "agent-bench"})
        manager = headers({"role": "sales-manager", "sub": "mgr-bench"})
        buyer = headers({"role": "customer", "channel": "web", "customerId": "cust-acme", "sub": "raj",
                         "partyId": "party-acme-raj"})
        party = [{"id": "cust-acme", "role": "customer", "@referredType": "Customer"}]
        with Client(app) as client:
            call = Recorder(client).call

            def patch_line(qid: str, line: int, quantity: int) -> Any:
                """One line's quantity, by JSON Patch (RFC 6902): the request names only that line."""
                response = client.http.patch(f"{QUOTES}/{qid}?fields=id,state", body=json.dumps(
                    [{"op": "replace", "path": f"/quoteItem/{line}/quantity", "value": quantity}]),
                    headers={**agent, "Content-Type": "application/json-patch+json"})
                assert response.status_code == 200, response.body
                return response
            rows = []
            quote: dict[str, Any] = {}
            for size in (50, 300, 1000):
                created = measure(lambda: quote.update(call("post", QUOTES, agent,
                                                            {"quoteItem": _lines(size), "relatedParty": party})))
                _, create_ms = _timed(lambda: call("post", QUOTES, agent, {"quoteItem": _lines(size), "relatedParty": party}))
                line = len(quote["quoteItem"]) - 1
                patch = measure(lambda: patch_line(quote["id"], line, 20))
                _, patch_ms = _timed(lambda: patch_line(quote["id"], line, 21))
                rows.append((f"{size:,} lines", created.total(), created.summary(), f"{create_ms:.0f}",
                             patch.total(), patch.summary(), f"{patch_ms:.0f}"))
            table("A business quote vs its lines: POST it; PATCH one line's quantity by JSON Patch (RFC 6902; "
                  "the request names one line; the quote is validated and priced whole, which grows with it; "
                  "the writes do not: the header and the one page of 50 lines that changed). Floor: a GetItem "
                  "and a Query to read, one write (PutItem whole, TransactWriteItems header + changed pages), the "
                  "catalogue and customer reads pricing needs",
                  ("quote", "POST calls", "which", "POST ms", "PATCH calls", "which", "PATCH ms"), rows)

            # one order from the accepted 1,000-line quote, then its decomposition
            path = f"{QUOTES}/{quote['id']}"
            sent = call("patch", path, agent, {"state": "approved"})
            if sent["state"] == "pending":
                sent = call("patch", path, manager, {"state": "approved", "stateReason": "bench"})
            call("patch", path, buyer, {"state": "accepted", "version": sent["version"]})
            order: dict[str, Any] = {}
            ordered, order_ms = _timed(lambda: measure(lambda: order.update(
                call("post", f"{ORDERS}?fields=id,state", buyer, {"quote": [{"id": quote["id"]}]}))))
            plan: dict[str, Any] = {}
            split, split_ms = _timed(lambda: measure(lambda: plan.update(fulfilment.decompose(order["id"]))))
            children = orders.load_many(c for wave in plan["waves"] for c in wave)
            whole = orders.load(order["id"])
            assert whole is not None
            size = len(json.dumps(whole.doc, separators=(",", ":")))
            largest = max(len(json.dumps(c.doc, separators=(",", ":"))) for c in children.values())
            table("One order from an accepted 1,000-line quote (limits: 400 KB an item, 100 actions and 4 MB a "
                  "transaction). Floor: the order's header and its 10 pages of 100 items, written with the "
                  "quote's header in one transaction; the split writes the parent's changed pages and every "
                  "child order in one more",
                  ("step", "calls", "which", "ms", "what was written"),
                  [("POST productOrder {quote}", ordered.total(), ordered.summary(), f"{order_ms:.0f}",
                    f"the order: {size // 1024} KB in 1 header + 10 pages"),
                   ("decompose (the workflow's first task)", split.total(), split.summary(), f"{split_ms:.0f}",
                    f"{len(children)} child orders, the largest {largest // 1024} KB")])
