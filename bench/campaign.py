"""AWS calls of a campaign per targeted customer (the runner paging 10,000 customers and queueing
them; the sender deciding and sending), and per TMF680 recommendation request, moto in-process.

One customer in ten is targeted (broadband ending within 60 days, SMS marketing consent); the
others hold nothing the campaign wants. The runner pages all 10,000; the sender runs over every
queued batch of a 2,000-customer campaign (moto sends SMS one call at a time, so all 10,000 would
only take longer, not change the per-customer figures)."""
from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from bench.harness import Calls, aws, headers, mean_ms, table

NOON = dt.datetime.now(dt.timezone.utc)   # bench customers have no quiet hours: any time will do


def _customers(count: int, start: int = 0) -> int:
    """`count` customers (one in ten targeted) written in batches; how many are targeted."""
    from chalicelib import tmf
    from chalicelib.customer import domain, service
    from chalicelib.customer.models import CustomerItem
    from chalicelib.customer.store import CUSTOMER_SK, customer_pk
    from chalicelib.inventory.models import ProductRecord

    targeted = 0
    with CustomerItem.batch_write() as batch, ProductRecord.batch_write() as products:
        for n in range(start, start + count):
            cid, hit = f"bench-{n:06d}", n % 10 == 0
            body = {"name": f"Bench {n:06d}", "engagedParty": {"id": f"p-{n}", "@referredType": "Individual"},
                    "contactMedium": [{"mediumType": "mobile", "characteristic": {"phoneNumber": f"+4477{n:08d}"}}],
                    "contactPreference": {"consent": {"sms": {"marketing": hit}}}}
            doc = domain.new_customer(body, cid, service.customer_href(cid), tmf.iso(NOON), "agent")
            batch.save(CustomerItem(customer_pk(cid), CUSTOMER_SK, kind="customer", sort=f"bench {n:06d}#{cid}", body=doc))
            if hit:
                targeted += 1
                product = {"id": f"h-{n}", "status": "active", "productOffering": {"id": "po-broadband-500"},
                           "productTerm": [{"validFor": {"endDateTime": tmf.iso(NOON + dt.timedelta(days=30))}}]}
                products.save(ProductRecord(f"h-{n}", kind="product", sort=f"#h-{n}", owner=customer_pk(cid),
                                            body=product))
    return targeted


def _campaign() -> dict[str, Any]:
    from chalicelib import tmf

    return {"name": "Bench Home Security", "productOffering": {"id": "po-home-security"},
            "targetSegment": {"rule": [{"attribute": "productsHeld", "value": ["po-broadband-500"]},
                                       {"attribute": "contractEndWithinDays", "operator": "lte", "value": 60}]},
            "channel": [{"id": "sms"}], "messageTemplate": {"sms": "Hi {firstName}, {offerName}: {link}"},
            "validFor": {"startDateTime": tmf.iso(NOON - dt.timedelta(days=1)),
                         "endDateTime": tmf.iso(NOON + dt.timedelta(days=30))}}


def _setup() -> Any:
    from chalicelib.catalog import demo as catalog_demo
    from chalicelib.customer import demo as customer_demo
    from chalicelib.rules import demo as rules_demo
    from infra.local.pump import Pump

    catalog_demo.load()
    customer_demo.load()
    rules_demo.load()
    pump = Pump(retry_delay=0)
    pump.drain()
    return pump


def _create(client: Any, marketing: dict[str, str]) -> str:
    r = client.http.post("/tmf-api/campaignManagement/v4/campaign", headers=marketing, body=json.dumps(_campaign()))
    assert r.status_code == 201, r.body
    return json.loads(r.body)["id"]


def run() -> None:
    rows: list[tuple[Any, ...]] = []
    recs: list[tuple[Any, ...]] = []
    with aws():
        from chalice.test import Client

        from app import app
        from chalicelib.campaign import service

        _setup()
        marketing = headers({"role": "marketing", "sub": "bench"})
        with Client(app) as client:
            # the runner over 10,000 customers: pages and queues them (no sending)
            targeted = _customers(10_000)
            cid = _create(client, marketing)
            service.start_run(cid, "bench-10k")
            calls, started = Calls(), time.perf_counter()
            with calls.counting():
                result = service.run(cid, "bench-10k", lambda: 10 ** 9)
            rows.append(("runner: page 10,000 customers and queue them", f"{result['pages']} pages",
                         calls.total(), f"{calls.total() / targeted:.2f}", f"{time.perf_counter() - started:.1f} s",
                         calls.summary()))
            # recommendations for Andrea with a Home Security basket
            andrea = headers({"role": "customer", "channel": "web", "customerId": "cust-andrea", "sub": "cust-andrea"})
            r = client.http.post("/tmf-api/shoppingCart/v4/shoppingCart", headers=andrea, body=json.dumps(
                {"cartItem": [{"productOffering": {"id": "po-home-security"}, "quantity": 1}]}))
            agent = headers({"role": "agent", "channel": "callcenter", "sub": "agent-bench"})
            body = json.dumps({"relatedParty": {"id": "cust-andrea", "@referredType": "Customer"},
                               "shoppingCart": [{"id": json.loads(r.body)["id"]}]})
            path = "/tmf-api/recommendationManagement/v4/queryProductRecommendation"
            service.forget_live_campaigns()
            for label in ("first request (reads the live campaigns)", "next request (live campaigns cached)"):
                calls = Calls()
                with calls.counting():
                    r = client.http.post(path, headers=agent, body=body)
                assert r.status_code == 201, r.body
                first = json.loads(r.body)["recommendationItem"][0]["productOffering"]["id"]
                recs.append((label, first, calls.total(), calls.summary()))
            ms = mean_ms(lambda: client.http.post(path, headers=agent, body=body), n=20)
            recs.append(("mean time, warm (20 requests)", "", "", f"{ms:.1f} ms"))
    with aws():
        from chalice.test import Client

        from app import app
        from chalicelib.campaign import service, store

        pump = _setup()
        marketing = headers({"role": "marketing", "sub": "bench"})
        with Client(app) as client:
            _customers(2_000)
            cid = _create(client, marketing)
            service.start_run(cid, "bench-2k")
            calls, started = Calls(), time.perf_counter()
            with calls.counting():
                service.run(cid, "bench-2k", lambda: 10 ** 9)
                pump.drain(timeout=1800)
            stats = store.stats(cid)
            hit = int(stats.get("targeted", 0))
            rows.append(("campaign end to end (runner + sender), 2,000 customers",
                         f"{hit} targeted, {int(stats.get('sent', 0))} sent", calls.total(),
                         f"{calls.total() / max(hit, 1):.1f}", f"{time.perf_counter() - started:.1f} s",
                         calls.summary()))
    table("Campaign: AWS calls per targeted customer (one customer in ten targeted), moto in-process",
          ("what", "outcome", "calls", "per targeted customer", "time", "which"), rows)
    table("TMF680 queryProductRecommendation (Andrea + Home Security basket), moto in-process",
          ("request", "first item", "calls", "which"), recs)
