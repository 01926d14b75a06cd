"""AWS calls per outreach through chalicelib.notify (SMS and email, a retried send, a customer
without consent, quiet hours) and per TMF681 POST, moto in-process."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable

from bench.harness import aws, mean_ms, measure, table

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

        def row(name: str, fn: Callable[[], Any]) -> None:
            result: list[Any] = []
            calls = measure(lambda: result.append(fn()))
            rows.append((name, result[0].status, calls.total(), calls.summary()))

        try:
            row("SMS (consent, mobile)", send("b-sms", "cust-stacy"))
            row("email (channels=['email'])", send("b-email", "cust-andrea", channels=["email"]))
            row("same message id again (retry)", send("b-sms", "cust-stacy"))
            row("no consent for the purpose: nothing sent", send("b-none", "cust-acme", purpose="marketing"))
            tmf.now = lambda: NIGHT
            row("quiet hours: deferred", send("b-later", "cust-andrea"))
            tmf.now = lambda: NOON + dt.timedelta(days=1)
            row("deferred one, called again after quiet hours", send("b-later", "cust-andrea"))
            ms_sms = mean_ms(lambda: service.send(f"b-{tmf.new_id()}", service.MessageRequest(
                customer_id="cust-stacy", purpose="service", content="Hi {firstName}")), n=30)
            headers = {"Authorization": "Bearer " + auth.issue_local_token({"role": "agent", "channel": "callcenter"}),
                       "Content-Type": "application/json"}
            body = json.dumps({"content": "Hello {firstName}", "messageType": "SMS",
                               "receiver": [{"party": {"id": "cust-stacy"}}]})
            with Client(app) as client:
                path = "/tmf-api/communicationManagement/v4/communicationMessage"
                calls = measure(lambda: client.http.post(path, headers=headers, body=body))
                rows.append(("POST communicationMessage (SMS to a customer)", "completed", calls.total(),
                             calls.summary()))
        finally:
            tmf.now = real_now
        table("AWS calls per outreach (chalicelib.notify.service.send, moto in-process)",
              ("outreach", "outcome", "calls", "which"), rows)
        print(f"\nsend() of one SMS, mean of 30 (moto in-process): {ms_sms:.1f} ms")
