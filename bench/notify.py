"""AWS calls per outreach through chalicelib.notify (SMS and email, a retried send, a customer
without consent, quiet hours) and per TMF681 POST, moto in-process, each beside its floor.

The floor of a new SMS is 4 calls, 3 when the caller hands over the customer it just read (a
campaign batch): the customer's GetItem (consent, quiet hours and the number are judged on it);
the claim, an insert conditional on the message id being new, before the provider (without it a
retried task could publish twice: nothing else stops a second attempt); the provider's Publish;
and one transaction recording the message completed with its TMF683 interaction (without it a
retry after the lease would send again, and the history would miss the touch). Claim and
completion cannot be one write: the claim must be durable before the provider is called, and
the completion can only be written after it answered.

Why a standalone SMS (the customer not read by the caller) stays at 4, not 3 (session 11):
- The claim cannot carry the completion. SNS and SES take no idempotency key, so only a write
  after the provider answered tells a retry "sent" from "died before sending": with the claim
  alone, a retry after the lease either sends again (a double for every retried success) or
  never (a crash before the provider is lost).
- The customer read cannot become the claim. DynamoDB answers with an item only from a read or
  from a write on that same item (UpdateItem ReturnValues); a transaction's ConditionCheck
  returns nothing, and TransactGetItems cannot write. So one call that reads the customer and
  claims the message must be a write on the customer's record: every SMS would then be a change
  of the customer (a customer stream record, a TMF629 hub event to every subscriber, the
  targeting and 360 readers woken), and the customer's versioned saves (a whole-item PutItem)
  would drop a claim written beside them, so a retry could send twice.
- A cached customer checked by version in the claim's transaction (a ConditionCheck) would make
  it 3 only for a customer this container read before; a standalone SMS (a reminder, a TMF681
  POST) goes to a customer not read before, so it is still 4.
The campaign sends at 2 a message plus a shared batch transaction (bench `campaign`): its batch
read gives the customer, and its targets' claims go together."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable

from bench.harness import aws, mean_ms, measure, table

WHY_NOT_THREE = (
    "Why a standalone SMS is 4, not 3: the completion cannot go (SNS/SES take no idempotency key: only "
    "a write after the provider answered tells a retry 'sent' from 'died before sending'); the customer "
    "read cannot be the claim (DynamoDB returns an item only from a write on that item, so it would be a "
    "write on the customer's record per SMS: a customer stream record and TMF629 event each, and the "
    "customer's whole-item saves would drop the claim). With the customer given by its caller: 3.")

REMINDER = {"sms": "Hi {firstName}, need a hand with your basket? {link}",
            "email": "Dear {firstName},\nyour basket is waiting: {link}"}
NOON = dt.datetime(2026, 6, 1, 11, 0, tzinfo=dt.timezone.utc)
NIGHT = dt.datetime(2026, 6, 1, 22, 30, tzinfo=dt.timezone.utc)


def run() -> None:
    with aws():
        from chalice.test import Client

        from app import app
        from chalicelib import auth, tmf
        from chalicelib.customer import demo
        from chalicelib.notify import links, service

        demo.load()
        real_now = tmf.now
        tmf.now = lambda: NOON  # outside Andrea's quiet hours
        link = links.url(links.sign("basket.assist", "b-bench"))
        rows: list[tuple[Any, ...]] = []

        def send(mid: str, customer: str, **kw: Any) -> Callable[[], Any]:
            return lambda: service.send(mid, service.MessageRequest(
                customer_id=customer, purpose=kw.pop("purpose", "service"), content=REMINDER,
                fields={"link": link}, journey_key="jrn-bench", **kw))

        def row(name: str, fn: Callable[[], Any], floor: int | str, why: str) -> None:
            result: list[Any] = []
            calls = measure(lambda: result.append(fn()))
            rows.append((name, result[0].status, calls.total(), floor, why, calls.summary()))

        from chalicelib.customer import load_customer

        stacy = (load_customer("cust-stacy") or ({}, 0))[0]
        sent = "customer GetItem, claim, provider, completion + interaction transaction"
        try:
            row("SMS (consent, mobile)", send("b-sms", "cust-stacy"), 4, sent)
            row("SMS, the caller's customer given (campaign)", lambda: service.send("b-given", service.MessageRequest(
                customer_id="cust-stacy", purpose="service", content=REMINDER, fields={"link": link}), stacy),
                3, "claim, provider, completion + interaction transaction")
            row("email (channels=['email'])", send("b-email", "cust-andrea", channels=["email"]), 4, sent)
            row("same message id again (retry)", send("b-sms", "cust-stacy"), "-",
                "not a floor, the calls made: customer GetItem, claim refused, the stored message read")
            row("no consent for the purpose: nothing sent", send("b-none", "cust-acme", purpose="marketing"), "-",
                "not a floor, the calls made: customer GetItem, the message recorded cancelled (a repeat finds it)")
            tmf.now = lambda: NIGHT
            row("quiet hours: deferred", send("b-later", "cust-andrea"), "-",
                "not a floor, the calls made: customer GetItem, the message recorded deferred")
            tmf.now = lambda: NOON + dt.timedelta(days=1)
            row("deferred one, called again after quiet hours", send("b-later", "cust-andrea"), "-",
                "not a floor, the calls made: customer GetItem, claim refused, stored read, claim at its version, provider, transaction")
            ms_sms = mean_ms(lambda: service.send(f"b-{tmf.new_id()}", service.MessageRequest(
                customer_id="cust-stacy", purpose="service", content="Hi {firstName}")), n=30)
            headers = {"Authorization": "Bearer " + auth.issue_local_token({"role": "agent", "channel": "callcenter"}),
                       "Content-Type": "application/json"}
            body = json.dumps({"content": "Hello {firstName}", "messageType": "SMS",
                               "receiver": [{"party": {"id": "cust-stacy"}}]})
            with Client(app) as client:
                path = "/tmf-api/communicationManagement/v4/communicationMessage"
                calls = measure(lambda: client.http.post(path, headers=headers, body=body))
                rows.append(("POST communicationMessage (SMS to a customer)", "completed", calls.total(), 4,
                             "an SMS's 4 (the answer is the message as the finishing transaction wrote it)",
                             calls.summary()))
        finally:
            tmf.now = real_now
        table("AWS calls per outreach (chalicelib.notify.service.send, moto in-process)",
              ("outreach", "outcome", "calls", "floor", "why: the floor's calls", "which"), rows)
        print(f"\nsend() of one SMS, mean of 30 (moto in-process): {ms_sms:.1f} ms")
        print(WHY_NOT_THREE)
