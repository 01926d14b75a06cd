"""AWS calls per customer operation (TMF629, TMF683, the 360 view), through the HTTP API, and the
360 view for a customer with 10 and with 1,000 interactions."""
from __future__ import annotations

from bench.harness import Recorder, headers, Calls, aws, mean_ms, measure, table

BASE = "/tmf-api/customerManagement/v4"
PI = "/tmf-api/partyInteraction/v4"
CUSTOMER = {"name": "Bench Customer", "engagedParty": {"id": "party-bench", "@referredType": "Individual"},
            "contactMedium": [{"mediumType": "mobile", "characteristic": {"phoneNumber": "+447700900999"}}]}
CONSENT = {"contactPreference": {"consent": {"sms": {"service": True, "marketing": True}}}}


def _history(customer_id: str, size: int) -> None:
    from chalicelib.customer import interactions

    for n in range(size):
        interactions.save(interactions.build(f"bench-{customer_id}-{n}", reason="page view", channel="web",
                                             direction="inbound", customer_id=customer_id,
                                             journey_key=f"jrn-{customer_id}-{n // 25}"))


def run() -> None:
    with aws():
        from chalice.test import Client

        from app import app
        from chalicelib import tmf
        from chalicelib.customer import demo, interactions
        from infra.local.listener import Listener
        from infra.local.pump import Pump

        demo.load()
        pump = Pump()
        pump.drain()
        agent = headers({"role": "agent", "channel": "callcenter", "sub": "agent-bench"})
        web = headers({"role": "channel", "channel": "web", "sub": "portal"})
        with Client(app) as client:
            recorder = Recorder(client)
            call, row, rows = recorder.call, recorder.row, recorder.rows

            plain = row("POST customer (no consent)", lambda: call("post", f"{BASE}/customer", agent, CUSTOMER))
            cid = row("POST customer with consent (+ audit, one transaction)",
                      lambda: call("post", f"{BASE}/customer", agent, {**CUSTOMER, **CONSENT}))["id"]
            me = headers({"role": "customer", "channel": "web", "customerId": cid, "sub": cid})
            row("GET customer/{id} as the customer", lambda: call("get", f"{BASE}/customer/{cid}", me))
            row("GET customer/{id} as an agent (+ audit interaction)", lambda: call("get", f"{BASE}/customer/{cid}", agent))
            row("GET customer list as an agent (5 customers)", lambda: call("get", f"{BASE}/customer", agent))
            row("GET customer?id= as an agent", lambda: call("get", f"{BASE}/customer?id={plain['id']}", agent))
            row("PATCH customer/{id} (name)", lambda: call("patch", f"{BASE}/customer/{cid}", me, {"name": "Bench B"}))
            row("PATCH customer/{id} (consent, + audit)", lambda: call(
                "patch", f"{BASE}/customer/{cid}", me, {"contactPreference": {"consent": {"sms": {"marketing": False}}}}))
            row("GET customer/{id}/consentAudit as the customer", lambda: call("get", f"{BASE}/customer/{cid}/consentAudit", me))
            row("POST customer/{id}/product", lambda: call("post", f"{BASE}/customer/{cid}/product", agent, {
                "name": "Broadband 500", "contract": {"startDate": "2025-01-01T00:00:00Z", "endDate": "2027-01-01T00:00:00Z"}}))
            row("GET customer/{id}/product as the customer", lambda: call("get", f"{BASE}/customer/{cid}/product", me))
            visit = {"reason": "browsed", "direction": "inbound", "relatedParty": [{"id": "v-bench", "role": "visitor"}]}
            row("POST partyInteraction (visitor, not identified)", lambda: call("post", f"{PI}/partyInteraction", web, visit))
            iid = row("POST partyInteraction (customer)", lambda: call("post", f"{PI}/partyInteraction", me,
                                                                     {"reason": "chat", "direction": "inbound"}))["id"]
            row("GET partyInteraction/{id}", lambda: call("get", f"{PI}/partyInteraction/{iid}", me))
            row("GET partyInteraction list as the customer", lambda: call("get", f"{PI}/partyInteraction", me))
            row("POST customer/{id}/identityLink", lambda: call("post", f"{BASE}/customer/{cid}/identityLink", web,
                                                               {"visitorId": "v-bench"}))
            values = dict(reason="order submitted", channel="web", direction="inbound", customer_id=cid,
                          occurred_at=tmf.now_iso())
            row("record_interaction (platform, first time)", lambda: interactions.record_interaction("bench-order", **values))
            row("record_interaction (same id again)", lambda: interactions.record_interaction("bench-order", **values))
            pump.drain()
            with Listener() as listener:
                call("post", f"{BASE}/hub", agent, {"callback": listener.url})
                call("patch", f"{BASE}/customer/{cid}", agent, {"status": "approved"})
                calls = Calls()
                with calls.counting():
                    pump.drain()
            event_calls = {k: v for k, v in calls.counts.items()
                           if not k.startswith("dynamodbstreams") and k != "sqs:ReceiveMessage"}
            rows.append(("stream: customer change -> hub event -> listener (excl. polling)", sum(event_calls.values()),
                         ", ".join(f"{k} x{v}" for k, v in sorted(event_calls.items()))))
            table("AWS calls per customer operation (through the HTTP API, moto in-process)",
                  ("operation", "calls", "which"), rows)

            views = []
            for size in (10, 1000):
                vid = call("post", f"{BASE}/customer", agent, {**CUSTOMER, "name": f"History {size}"})["id"]
                _history(vid, size)
                own = headers({"role": "customer", "channel": "web", "customerId": vid, "sub": vid})
                for who, auth_headers in (("the customer", own), ("an agent", agent)):
                    path = f"{BASE}/customer/{vid}/view360"
                    calls = measure(lambda: call("get", path, auth_headers))
                    ms = mean_ms(lambda: call("get", path, auth_headers), n=20)
                    views.append((f"{size} interactions, as {who}", calls.total(), calls.summary(), f"{ms:.1f}"))
            table("GET customer/{id}/view360 (last 20 interactions + current journey), moto in-process",
                  ("history", "calls", "which", "ms (mean of 20)"), views)

            # Orders and baskets finished before: the view reads the open ones through the sparse
            # open-by-owner indexes with a limit, so the items read do not grow with them.
            from chalicelib.basket import store as baskets
            from chalicelib.ordering import store as orders

            rid = call("post", f"{BASE}/customer", agent, {**CUSTOMER, "name": "Order history"})["id"]
            own = headers({"role": "customer", "channel": "web", "customerId": rid, "sub": rid})
            party = [{"id": rid, "role": "customer", "@referredType": "Customer"}]
            path = f"{BASE}/customer/{rid}/view360"
            history = []
            written = 0
            for finished in (0, 200):
                for n in range(written, finished + 2):
                    orders.insert({"id": f"bench-{rid}-{n}", "href": f"/o/{n}", "@type": "ProductOrder",
                                   "state": "inProgress" if n < 2 else "completed",
                                   "orderDate": f"2026-01-01T{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z",
                                   "productOrderItem": [{"id": "1"}] * 3, "relatedParty": party})
                for n in range(written, finished):
                    baskets.write({"id": f"bench-b-{rid}-{n}", "href": f"/b/{n}", "status": "ordered",
                                   "lastUpdate": f"2026-01-01T00:00:{n % 60:02d}Z", "creationDate": "2026-01-01T00:00:00Z",
                                   "relatedParty": party}, None, None, 4102444800, None)
                written = finished + 2
                calls = measure(lambda: call("get", path, own))
                ms = mean_ms(lambda: call("get", path, own), n=20)
                history.append((f"2 in flight + {finished} finished orders, {finished} ordered baskets", calls.total(),
                                calls.items_read, calls.summary(), f"{ms:.1f}"))
            table("GET customer/{id}/view360 vs order history. Floor: the same calls and items read whatever the "
                  "history (sparse open-by-owner indexes, read with a limit). The ms are moto's: its index Query "
                  "walks every item of the table in Python (moto/dynamodb/models/table.py), DynamoDB's reads "
                  "the index partition only",
                  ("history", "calls", "items read", "which", "ms (mean of 20)"), history)
