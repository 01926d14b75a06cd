"""AWS calls per catalogue operation, through the HTTP API, and request overhead vs raw DynamoDB."""
from __future__ import annotations

import json

from bench.harness import Calls, aws, mean_ms, measure, table

BASE = "/tmf-api/productCatalogManagement/v4"


def run() -> None:
    with aws():
        from chalice.test import Client

        from app import app
        from chalicelib import auth, aws as clients, settings
        from chalicelib.catalog import demo, store
        from infra.local.listener import Listener
        from infra.local.pump import Pump

        demo.load()
        pump = Pump()
        pump.drain()
        admin = {"Authorization": "Bearer " + auth.issue_local_token({"role": "catalog-admin"}),
                 "Content-Type": "application/json"}
        web = {"Authorization": "Bearer " + auth.issue_local_token({"role": "channel", "channel": "web"})}
        rows = []
        with Client(app) as client:
            def row(name: str, fn) -> None:
                calls = measure(fn)
                rows.append((name, calls.total(), calls.summary()))

            created = {}

            def create() -> None:
                r = client.http.post(f"{BASE}/productOffering", headers=admin,
                                     body=json.dumps({"name": "Bench offer", "category": [{"id": "cat-tv"}]}))
                created.update(json.loads(r.body))

            row("POST productOffering (1 category reference)", create)
            rid = created["id"]
            row("GET productOffering/{id} as catalog-admin (table read)",
                lambda: client.http.get(f"{BASE}/productOffering/{rid}", headers=admin))
            store.cache.clear()
            row("GET productOffering/{id} as channel, cold cache",
                lambda: client.http.get(f"{BASE}/productOffering/po-tv-max", headers=web))
            row("GET productOffering/{id} as channel, warm cache",
                lambda: client.http.get(f"{BASE}/productOffering/po-tv-max", headers=web))
            row("GET productOffering list as catalog-admin",
                lambda: client.http.get(f"{BASE}/productOffering", headers=admin))
            store.cache.clear()
            row("GET productOffering list as channel, cold cache",
                lambda: client.http.get(f"{BASE}/productOffering", headers=web))
            row("GET productOffering list as channel, warm cache",
                lambda: client.http.get(f"{BASE}/productOffering", headers=web))
            row("PATCH productOffering/{id}",
                lambda: client.http.patch(f"{BASE}/productOffering/{rid}", headers=admin,
                                          body=json.dumps({"description": "patched"})))
            row("POST productOffering with Idempotency-Key (first)",
                lambda: client.http.post(f"{BASE}/productOffering", headers={**admin, "Idempotency-Key": "b1"},
                                         body=json.dumps({"name": "Idem"})))
            row("POST productOffering with Idempotency-Key (replay)",
                lambda: client.http.post(f"{BASE}/productOffering", headers={**admin, "Idempotency-Key": "b1"},
                                         body=json.dumps({"name": "Idem"})))
            listener = Listener().__enter__()
            row("POST hub (subscribe)",
                lambda: client.http.post(f"{BASE}/hub", headers=admin,
                                         body=json.dumps({"callback": listener.url})))
            pump.drain()
            client.http.patch(f"{BASE}/productOffering/{rid}", headers=admin,
                              body=json.dumps({"lifecycleStatus": "active"}))
            calls = Calls()
            with calls.counting():
                pump.drain()
            listener.__exit__()
            event_calls = {k: v for k, v in calls.counts.items()
                           if not k.startswith("dynamodbstreams") and k != "sqs:ReceiveMessage"}
            rows.append(("publish: stream record -> hub event -> listener (excl. polling)",
                         sum(event_calls.values()), ", ".join(f"{k} x{v}" for k, v in sorted(event_calls.items()))))
            row("DELETE productOffering/{id} (after retiring)", lambda: (
                client.http.patch(f"{BASE}/productOffering/{rid}", headers=admin,
                                  body=json.dumps({"lifecycleStatus": "retired"})),
                client.http.delete(f"{BASE}/productOffering/{rid}", headers=admin)))
            rows[-1] = ("PATCH to retired + DELETE productOffering/{id}",) + rows[-1][1:]

            table("AWS calls per catalogue operation (through the HTTP API, moto in-process)",
                  ("operation", "calls", "which"), rows)

            ddb = clients.client("dynamodb")
            name = settings.table_name("catalog")
            raw = mean_ms(lambda: ddb.get_item(TableName=name, Key={"pk": {"S": "productOffering#po-tv-max"}},
                                               ConsistentRead=True))
            api_admin = mean_ms(lambda: client.http.get(f"{BASE}/productOffering/po-tv-max", headers=admin))
            api_web = mean_ms(lambda: client.http.get(f"{BASE}/productOffering/po-tv-max", headers=web))
            table("Request overhead vs the raw DynamoDB call (mean of 50, moto in-process)",
                  ("request", "ms"),
                  [("raw GetItem", f"{raw:.2f}"), ("GET productOffering/{id} as catalog-admin", f"{api_admin:.2f}"),
                   ("GET productOffering/{id} as channel (cache)", f"{api_web:.2f}")])

            # An admin page as the kind grows: COUNT on the keys-only index, a skip over keys, one
            # Query with Limit (it loaded the whole kind before: 1 -> 7 Queries from 1,000 to 20,000).
            sizes, written, pages = (500, 2000), len(store.query_kind("productOffering")), []
            for size in sizes:
                for n in range(written, size):
                    store.insert("productOffering", {"id": f"po-bench-{n:05d}", "name": f"Bench {n:05d}",
                                                     "@type": "ProductOffering", "lifecycleStatus": "active"})
                written = max(written, size)
                page = f"{BASE}/productOffering?offset=100&limit=20"
                calls = measure(lambda: client.http.get(page, headers=admin))
                ms = mean_ms(lambda: client.http.get(page, headers=admin), n=3)
                pages.append((f"{size} offerings", calls.total(), calls.items_read, calls.summary(), f"{ms:.1f}"))
            table("GET productOffering?offset=100&limit=20 as catalog-admin vs the kind's size. Floor: the "
                  "same calls whatever the size; items read = the COUNT's keys (no document) + 100 keys skipped "
                  "+ 20 documents. The ms are moto's: its index Query walks every item of the table in Python",
                  ("kind", "calls", "items read", "which", "ms (mean of 3)"), pages)
