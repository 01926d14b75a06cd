"""AWS calls of a campaign per targeted customer (the runner paging 10,000 customers and queueing
them; the sender deciding and sending), and per TMF680 recommendation request, moto in-process.

One customer in ten is targeted (broadband ending within 60 days, SMS marketing consent); the
others hold nothing the campaign wants. The runner pages all 10,000; the sender runs over every
queued batch of a 2,000-customer campaign (moto sends SMS one call at a time, so all 10,000 would
only take longer, not change the per-customer figures)."""
from __future__ import annotations

import collections
import contextlib
import datetime as dt
import json
import time
from typing import Any, Iterator

from bench.harness import Calls, aws, headers, mean_ms, table

# The floor per SMS sent in the campaign-send Lambda: the provider's Publish, and one transaction
# recording the message completed with its interaction and the target's outcome (after the
# provider answered: no write before it can say it was sent). Shared by the batch (up to 25
# customers a message): one transaction placing every target (counted) with the customer's
# weekly cap and the message's claim (all must hold before any provider call, or a retried batch
# could send twice or past the cap; 30 targets a transaction, inside DynamoDB's 100 actions), the
# BatchGetItem of its customers and its campaign GetItem.
SEND_FLOOR = 2
# End to end, per targeted customer: the sender's 2 and its batch's share, the runner's page
# (Query, checkpoint, SendMessageBatch per 100 customers: 0.3 at one in ten targeted), and the
# notify stream's hub work (a subscription-stamp GetItem per stream batch). No business-count
# write: SmsSent is counted by the completing transaction itself.
END_TO_END_GOAL = 3
NOON = dt.datetime.now(dt.timezone.utc).replace(hour=13, minute=0, second=0, microsecond=0)   # see _daytime


def _customers(count: int, start: int = 0, facts: bool = True) -> int:
    """`count` customers (one in ten targeted) written in batches; how many are targeted. With
    `facts`, each customer item carries its projected targeting facts, as the inventory stream
    (functions/campaign_targeting.py) leaves them, so the setup's stream records are not drained
    into the figure."""
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
            end = tmf.iso(NOON + dt.timedelta(days=30))
            held = {"held": [["po-broadband-500", end]] if hit else []} if facts else None
            item = CustomerItem(customer_pk(cid), CUSTOMER_SK, kind="customer", sort=f"bench {n:06d}#{cid}", body=doc)
            if facts:
                item.targeting = held
            batch.save(item)
            if hit:
                targeted += 1
                product = {"id": f"h-{n}", "status": "active", "productOffering": {"id": "po-broadband-500"},
                           "productTerm": [{"validFor": {"endDateTime": end}}]}
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


@contextlib.contextmanager
def _daytime() -> Iterator[None]:
    """The code's clock (tmf.now) at 13:00 UTC today, still moving: the demo customers keep quiet
    hours (Andrea: 21:00-08:00 London), and a bench run in them would wait on delayed messages
    until morning instead of measuring the send path (as tests/campaign/conftest.py's daytime)."""
    from chalicelib import tmf

    real = tmf.now
    offset = real().replace(hour=13, minute=0, second=0, microsecond=0) - real()
    tmf.now = lambda: real() + offset
    try:
        yield
    finally:
        tmf.now = real


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
    with aws(), _daytime():
        from chalice.test import Client

        from app import app
        from chalicelib.campaign import runner, service

        _setup()
        marketing = headers({"role": "marketing", "sub": "bench"})
        with Client(app) as client:
            # the runner over 10,000 customers: pages and queues them (no sending)
            targeted = _customers(10_000)
            cid = _create(client, marketing)
            runner.start_run(cid, "bench-10k")
            calls, started = Calls(), time.perf_counter()
            with calls.counting():
                result = runner.run(cid, "bench-10k", lambda: 10 ** 9)
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
    with aws(), _daytime():
        from chalice.test import Client

        from app import app
        from chalicelib.campaign import runner, sender, store

        pump = _setup()
        marketing = headers({"role": "marketing", "sub": "bench"})
        with Client(app) as client:
            _customers(2_000)
            cid = _create(client, marketing)
            runner.start_run(cid, "bench-2k")
            calls, started = Calls(), time.perf_counter()
            inside: collections.Counter[str] = collections.Counter()   # the campaign-send Lambda's own calls
            send_batch = sender.send_batch

            def counted(message: Any) -> Any:
                before = collections.Counter(calls.counts)
                try:
                    return send_batch(message)
                finally:
                    inside.update(calls.counts - before)
            sender.send_batch = counted   # the pump calls its handlers in this thread, one at a time
            try:
                with calls.counting():
                    runner.run(cid, "bench-2k", lambda: 10 ** 9)
                    pump.drain(timeout=1800)
            finally:
                sender.send_batch = send_batch
            stats = store.stats(cid)
            hit = int(stats.get("targeted", 0))
            # the pump's delivery (stream reads, queue receives and deletes) is what Lambda's event
            # source mappings do in AWS, not calls of the campaign's code
            delivery = sum(n for name, n in calls.counts.items() if name.startswith("dynamodbstreams:")
                           or name in ("sqs:ReceiveMessage", "sqs:DeleteMessageBatch", "sqs:GetQueueAttributes"))
            rows.append((f"campaign end to end (runner + sender), 2,000 customers (goal {END_TO_END_GOAL} without the pump)",
                         f"{hit} targeted, {int(stats.get('sent', 0))} sent", calls.total(),
                         f"{calls.total() / max(hit, 1):.1f} ({(calls.total() - delivery) / max(hit, 1):.1f} "
                         "without the pump's delivery)", f"{time.perf_counter() - started:.1f} s",
                         calls.summary()))
            sent = int(stats.get("sent", 0))
            rows.append((f"of which the campaign-send Lambda (sender.send_batch; floor {SEND_FLOOR} a send + the batch's share)",
                         f"{sent} sent", sum(inside.values()), f"{sum(inside.values()) / max(hit, 1):.2f}", "",
                         ", ".join(f"{k} x{v}" for k, v in sorted(inside.items()))))
    table("Campaign: AWS calls per targeted customer (one customer in ten targeted), moto in-process",
          ("what", "outcome", "calls", "per targeted customer", "time", "which"), rows)
    table("TMF680 queryProductRecommendation (Andrea + Home Security basket), moto in-process",
          ("request", "first item", "calls", "which"), recs)


def _sms_numbers() -> list[str]:
    """The phone number of every SMS moto's SNS recorded."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns import sns_backends

    from chalicelib import settings

    return [m[0] for m in sns_backends[DEFAULT_ACCOUNT_ID][settings.region()].sms_messages.values()]


class Crash(BaseException):
    """The sender's process dies here (a BaseException: no handler or batch processor catches it)."""


def _simulated(customers: int, rate: float, crash_after_sends: int, in_window: bool) -> tuple[Any, ...]:
    """A campaign over `customers` (one in ten targeted) sent through campaign-send by the real
    handler, the SMS provider throttling beyond `rate` sends a second (a token bucket; a refused
    publish is SNS's Throttling, transient). The sender crashes once: right after the provider
    accepted SMS number `crash_after_sends` (`in_window`: before notify recorded it; else at the
    sixth AWS call after it, between customers' steps), then a fresh sender carries on."""
    import os

    from botocore.client import BaseClient

    os.environ.update({"OMNISHOP_NOTIFY_LEASE_SECONDS": "2"})   # a crashed attempt's lease, shortened
    with aws(), _daytime():
        from chalice.test import Client

        from app import app
        from chalicelib import settings
        from chalicelib.campaign import runner, service
        from chalicelib.notify import transport
        from infra.local.pump import Pump
        from infra.resources import function

        _setup()
        with Client(app) as client:
            targeted = _customers(customers, facts=True)
            cid = _create(client, headers({"role": "marketing", "sub": "bench"}))
        # in-flight messages of a crashed sender come back after 3 s (the real queue says 180 s)
        url = settings.queue_url(runner.SEND_QUEUE)
        from chalicelib import aws as clients
        clients.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "3"})
        runner.start_run(cid, "sim")
        runner.run(cid, "sim", lambda: 10 ** 9)
        accepted: list[float] = []
        throttled = [0]
        tokens, last = [rate], [time.monotonic()]
        publish = transport.send_sms

        def limited(phone: str, text: str, purpose: str) -> str:
            now = time.monotonic()
            tokens[0], last[0] = min(rate, tokens[0] + (now - last[0]) * rate), now
            if tokens[0] < 1:
                throttled[0] += 1
                raise transport.ProviderError("sns Publish failed: Throttling", True, "Throttling")
            tokens[0] -= 1
            out = publish(phone, text, purpose)
            accepted.append(now)
            return out

        setattr(transport, "send_sms", limited)   # noqa: B010 (the provider, rate-limited for the simulation)
        calls_after = [-1]
        original = BaseClient._make_api_call

        def dying(client: Any, operation: str, params: Any) -> Any:
            if len(accepted) >= crash_after_sends and calls_after[0] < 0:
                calls_after[0] = 0
            if calls_after[0] >= 0:
                calls_after[0] += 1
                if calls_after[0] == (1 if in_window else 6):
                    calls_after[0] = -10 ** 9       # once
                    raise Crash()
            return original(client, operation, params)

        pump = Pump([function("campaign-send")], retry_delay=1)
        started = time.monotonic()
        BaseClient._make_api_call = dying
        try:
            pump.drain(timeout=1800)
            crashed_at = None
        except Crash:
            crashed_at = len(accepted)
        finally:
            BaseClient._make_api_call = original
        # a new sender process: nothing of the old one's memory, the queue as the crash left it
        service.forget_live_campaigns()
        from chalicelib import idempotency
        idempotency.reset()
        time.sleep(3.5)                                   # the crashed batch's messages come back
        Pump([function("campaign-send")], retry_delay=1).drain(timeout=1800)
        transport.send_sms = publish
        elapsed = time.monotonic() - started
        numbers = _sms_numbers()
        duplicates = len(numbers) - len(set(numbers))
        resumed = len(accepted) - (crashed_at or 0)
        peak = max((sum(1 for t in accepted if s <= t < s + 1) for s in accepted), default=0)
        where = "before notify recorded the SMS" if in_window else "6th AWS call after an SMS"
        return (f"crash after SMS {crash_after_sends}, {where}", targeted, len(set(numbers)), duplicates,
                crashed_at, resumed, throttled[0], f"{len(accepted) / elapsed:.1f} (peak {peak} in 1 s)")


def simulate(customers: int = 1_000, rate: float = 2.0, crash_after_sends: int = 40) -> None:
    """`python -m bench campaign-sim`: the campaign sender against an SMS rate limit, crashed once
    mid-run and restarted; every targeted customer gets one SMS."""
    rows = [_simulated(customers, rate, crash_after_sends, in_window) for in_window in (False, True)]
    table(f"Campaign sender against a {rate:.0f} SMS/s limit, crashed once and restarted "
          f"({customers:,} customers, one in ten targeted), moto in-process",
          ("scenario", "targeted", "sent (distinct numbers)", "duplicates", "crashed after sends",
           "sent after restart", "throttled publishes", "SMS/s overall"), rows)
