"""Campaign API and runs (moto in-process, chalice test client, real SQS messages and stream records
drained by the pump): bad input schedules nothing, targeting, consent and frequency-cap
suppression, one message per customer however often it runs, attribution, the report."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from chalicelib import aws, settings, tmf
from tests.campaign.conftest import CAMPAIGNS, CARTS, home_security, make_customer, schedules, sms_sent, stored


def create(api, marketing, body):
    status, doc, headers = api.call("POST", CAMPAIGNS, marketing, body)
    assert status == 201, doc
    return doc


def run(api, marketing, pump, cid):
    status, doc, _ = api.call("POST", f"{CAMPAIGNS}/{cid}/run", marketing)
    assert status == 202, doc
    pump.drain()
    return doc


def report(api, marketing, cid):
    status, doc, _ = api.call("GET", f"{CAMPAIGNS}/{cid}/report", marketing)
    assert status == 200, doc
    return doc


def later(seconds):
    return tmf.iso(tmf.now() + dt.timedelta(seconds=seconds))


@pytest.mark.parametrize("change, status, code", [
    ({"schedule": {"cron": "0 9 * * MON *"}}, 400, "invalidSchedule"),
    ({"schedule": {"cron": "not a cron"}}, 400, "invalidSchedule"),
    ({"schedule": {"at": "2020-01-01T00:00:00Z"}}, 400, "scheduleInPast"),
    ({"targetSegment": {"rule": [{"attribute": "shoeSize", "value": ["42"]}]}}, 400, "unknownAttribute"),
    ({"messageTemplate": {"sms": "Hi {firstName}, your {shoeSize}"}}, 400, "invalidTemplate"),
    ({"messageTemplate": {"sms": "Your order {orderId}"}}, 400, "invalidTemplate"),
    ({"channel": [{"id": "sms"}, {"id": "email"}]}, 400, "invalidTemplate"),
    ({"channel": [{"id": "fax"}]}, 400, "invalidInput"),
    ({"productOffering": {"id": "po-broadband-1000"}}, 422, "offeringNotActive"),
    ({"productOffering": {"id": "po-nothing"}}, 422, "offeringNotActive"),
    ({"validFor": {"endDateTime": "2020-01-01T00:00:00Z"}}, 400, "invalidValidity"),
])
def test_bad_input_is_a_clear_4xx_and_nothing_is_scheduled(api, marketing, demo, change, status, code):
    got, body, _ = api.call("POST", CAMPAIGNS, marketing, home_security(**{"schedule": {"at": later(60)}, **change}))
    assert (got, body["code"], body["@type"]) == (status, code, "Error"), body
    assert body["message"]
    assert schedules() == [] and stored() == []


def test_only_marketing_manages_campaigns(api, marketing, agent, headers, demo):
    customer = headers("customer", channel="web", customerId="cust-andrea", sub="cust-andrea")
    for who in (agent, customer):
        status, body, _ = api.call("POST", CAMPAIGNS, who, home_security(schedule={"at": later(60)}))
        assert (status, body["code"]) == (403, "forbidden")
    assert schedules() == [] and stored() == []
    doc = create(api, marketing, home_security())
    assert api.call("GET", f"{CAMPAIGNS}/{doc['id']}", agent)[0] == 200      # agents may read
    assert api.call("POST", f"{CAMPAIGNS}/{doc['id']}/run", agent)[0] == 403
    assert api.call("GET", f"{CAMPAIGNS}/{doc['id']}", customer)[0] == 403


def test_a_scheduled_campaign_gets_an_eventbridge_schedule_that_invokes_the_runner(api, marketing, demo):
    when = later(3600)
    doc = create(api, marketing, home_security(schedule={"at": when}))
    assert doc["@type"] == "Campaign" and doc["lifecycleStatus"] == "active"
    assert doc["productOffering"]["name"] == "Home Security"
    made = aws.client("scheduler").get_schedule(Name=doc["schedule"]["name"])
    assert made["ScheduleExpression"] == f"at({when[:19]})"
    assert made["Target"]["Arn"] == settings.campaign_runner_arn()
    assert json.loads(made["Target"]["Input"])["detail"] == {"campaignId": doc["id"]}
    # a recurring schedule replaces it; retiring the campaign removes it
    status, doc, _ = api.call("PATCH", f"{CAMPAIGNS}/{doc['id']}", marketing, {"schedule": {"at": None, "cron": "0 9 ? * MON *"}})
    assert status == 200, doc
    assert aws.client("scheduler").get_schedule(Name=doc["schedule"]["name"])["ScheduleExpression"] == "cron(0 9 ? * MON *)"
    assert api.call("PATCH", f"{CAMPAIGNS}/{doc['id']}", marketing, {"lifecycleStatus": "retired"})[0] == 200
    assert schedules() == []
    assert api.call("DELETE", f"{CAMPAIGNS}/{doc['id']}", marketing)[0] == 204
    assert api.call("GET", f"{CAMPAIGNS}/{doc['id']}", marketing)[0] == 404


def test_a_run_sends_to_targeted_consenting_customers_only(api, marketing, demo, pump):
    make_customer("bob", sms=False, phone="+447700900002")                           # targeted, no consent
    make_customer("carol", phone="+447700900003", held=(("po-broadband-500", 400),))  # contract not ending
    make_customer("dan", phone="+447700900004", segment="business")                  # not residential
    make_customer("erin", phone="+447700900005", postcode="IV1 1AA")                  # targeted (any region)
    make_customer("fay", phone="+447700900006")                                       # targeted, consent
    doc = create(api, marketing, home_security())
    run(api, marketing, pump, doc["id"])
    sent = sms_sent()
    numbers = sorted(n for n, _ in sent)
    assert numbers == ["+447700900005", "+447700900006", "+447700900123"]           # erin, fay and andrea
    text = dict(sent)["+447700900006"]
    assert text.startswith("Hi Fay, Home Security is here for you: ") and f"/c/{doc['id']}." in text
    got = report(api, marketing, doc["id"])
    assert (got["targeted"], got["sent"], got["suppressed"]) == (4, 3, {"consent": 1, "frequencyCap": 0})
    assert got["runs"] == 1


def test_each_message_is_a_tmf681_communication_and_an_interaction_with_a_tracking_code(api, marketing, demo, pump, agent):
    doc = create(api, marketing, home_security())
    run(api, marketing, pump, doc["id"])
    from chalicelib.campaign import domain

    code = domain.tracking_code(doc["id"], "cust-andrea")
    status, message, _ = api.call("GET", f"/tmf-api/communicationManagement/v4/communicationMessage/"
                                         f"{domain.message_id(doc['id'], 'cust-andrea')}", marketing)
    assert status == 200 and message["state"] == "completed" and code in message["content"]
    assert message["relatedEntity"][0]["@referredType"] == "Campaign"
    status, found, _ = api.call("GET", f"/tmf-api/partyInteraction/v4/partyInteraction?journeyKey={code}", agent)
    assert status == 200 and [i["channel"][0]["id"] for i in found] == ["sms"]


def test_one_message_per_customer_however_often_it_runs(api, marketing, demo, pump):
    from chalicelib.campaign import runner, sender

    make_customer("fay", phone="+447700900006")
    doc = create(api, marketing, home_security())
    run(api, marketing, pump, doc["id"])
    run(api, marketing, pump, doc["id"])                                   # a second run
    sender.send_batch({"type": "send", "campaignId": doc["id"], "runId": "again",
                        "customers": ["fay", "cust-andrea"]})              # a redelivered batch
    runner.start_run(doc["id"], "retried")
    runner.run(doc["id"], "retried", lambda: 10 ** 9)                    # a retried schedule firing
    runner.run(doc["id"], "retried", lambda: 10 ** 9)
    pump.drain()
    assert sorted(n for n, _ in sms_sent()) == ["+447700900006", "+447700900123"]
    got = report(api, marketing, doc["id"])
    assert (got["targeted"], got["sent"], got["runs"]) == (2, 2, 3)


def test_the_frequency_cap_suppresses_marketing_beyond_n_a_week(api, marketing, demo, pump, monkeypatch):
    monkeypatch.setenv("OMNISHOP_CAMPAIGN_FREQUENCY_CAP", "1")
    make_customer("fay", phone="+447700900006")
    first = create(api, marketing, home_security())
    run(api, marketing, pump, first["id"])
    second = create(api, marketing, home_security(name="Home Security reminder"))
    run(api, marketing, pump, second["id"])
    assert len(sms_sent()) == 2                                              # the first campaign only
    got = report(api, marketing, second["id"])
    assert (got["targeted"], got["sent"], got["suppressed"]["frequencyCap"]) == (2, 0, 2)


def test_quiet_hours_defer_the_send_until_they_end(api, marketing, demo, pump):
    from chalicelib.campaign import domain, sender, store

    now = tmf.now()
    start, end = (now - dt.timedelta(hours=1)).strftime("%H:%M"), (now + dt.timedelta(hours=1)).strftime("%H:%M")
    make_customer("gus", phone="+447700900007", quiet={"start": start, "end": end, "timeZone": "UTC"})
    doc = create(api, marketing, home_security(targetSegment={"rule": [
        {"attribute": "productsHeld", "value": ["po-broadband-500"]}, {"attribute": "region", "value": ["South West England"]}]}))
    counts = sender.send_batch({"type": "send", "campaignId": doc["id"], "runId": "r", "customers": ["gus"]})
    assert counts == {"deferred": 1} and sms_sent() == []
    assert store.load_target(doc["id"], domain.tag(doc["id"], "gus")).state == "deferred"
    assert report(api, marketing, doc["id"])["deferred"] == 1


def test_a_crashed_run_resumes_from_its_checkpoint(api, marketing, demo, pump, monkeypatch):
    from chalicelib.campaign import runner, store

    monkeypatch.setenv("OMNISHOP_CAMPAIGN_PAGE_SIZE", "1")
    for n in range(3):
        make_customer(f"fan{n}", phone=f"+44770090010{n}")
    doc = create(api, marketing, home_security())
    runner.start_run(doc["id"], "r1")
    first = runner.run(doc["id"], "r1", lambda: 0)                   # out of time after one page
    assert first["state"] == "continued" and first["pages"] == 1
    assert store.load_run(doc["id"], "r1").pages == 1
    pump.drain()                                                       # the queue carries it on
    run_record = store.load_run(doc["id"], "r1")
    assert run_record.state == "done" and run_record.candidates == 6   # 3 demo + 3 made customers
    assert sorted(n for n, _ in sms_sent()) == ["+447700900100", "+447700900101", "+447700900102", "+447700900123"]


def test_a_basket_with_the_tracking_code_is_attributed_and_an_order_brings_revenue(api, marketing, demo, pump, headers):
    from chalicelib.campaign import domain

    doc = create(api, marketing, home_security())
    run(api, marketing, pump, doc["id"])
    code = domain.tracking_code(doc["id"], "cust-andrea")
    status, landed, _ = api.call("GET", f"/c/{code}", {})
    assert status == 200 and landed["productOffering"]["id"] == "po-home-security" and landed["firstVisit"]
    assert api.call("GET", f"/c/{code}", {})[1]["firstVisit"] is False
    assert api.call("GET", "/c/nonsense", {})[0] == 404
    andrea = headers("customer", channel="web", customerId="cust-andrea", sub="cust-andrea")
    status, cart, _ = api.call("POST", CARTS, andrea, {"cartItem": [{"productOffering": {"id": "po-home-security"},
                                                                    "quantity": 1}],
                                                       "context": {"campaignCode": code}})
    assert status == 201, cart
    api.call("POST", CARTS, andrea, {"context": {"campaignCode": "camp-unknown"}})    # not ours: ignored
    pump.drain()
    pump.drain()
    got = report(api, marketing, doc["id"])
    assert (got["landed"], got["baskets"], got["orders"]) == (1, 1, 0)
    from chalicelib.campaign import attribution

    ordered = {**cart, "status": "ordered"}
    assert attribution.attribute(cart, ordered) == ["order"]
    assert attribution.attribute(cart, ordered) == []                     # redelivered: counted once
    got = report(api, marketing, doc["id"])
    assert got["orders"] == 1 and got["revenue"]["value"] == domain.revenue(cart["cartTotalPrice"]) > 0


def test_social_posts_go_to_the_outbox_queue(api, marketing, demo, pump):
    from chalicelib.customer import store as customer_store

    make_customer("hal", sms=False, phone="+447700900008")
    found, version = customer_store.load_customer("hal")
    found["contactMedium"].append({"mediumType": "socialNetwork", "characteristic": {"socialNetworkId": "@hal"}})
    found["contactPreference"]["consent"]["social"] = {"marketing": True}
    customer_store.write_customer(found, version)
    body = home_security(channel=[{"id": "sms"}, {"id": "social"}],
                         messageTemplate={"sms": "Hi {firstName}: {link}", "social": "{offerName} for you {link}"})
    doc = create(api, marketing, body)
    run(api, marketing, pump, doc["id"])
    url = settings.queue_url("campaign-social")
    messages = aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    posts = [json.loads(m["Body"]) for m in messages]
    assert [(p["messageType"], p["receiver"][0]["id"]) for p in posts] == [("Social", "hal")]
    assert posts[0]["content"].startswith("Home Security for you ")
    assert report(api, marketing, doc["id"])["sent"] == 2                # andrea by SMS, hal socially


def test_the_inventory_stream_projects_what_a_customer_holds_onto_its_customer_item(demo, pump):
    from chalicelib.customer import store as customer_store

    make_customer("holder", held=(("po-broadband-500", 30),))
    make_customer("nothing", held=())
    assert customer_store.customers_by_id(["holder"])["holder"][1] is None   # not projected yet
    pump.drain()
    found = customer_store.customers_by_id(["holder", "nothing", "nobody"])
    (offering, end), = found["holder"][1]["held"]
    assert offering == "po-broadband-500" and end > tmf.now_iso()
    assert found["nothing"][1] is None and "nobody" not in found   # no inventory change: no facts yet


def test_the_runner_queues_only_customers_whose_facts_may_match_or_are_not_projected(api, marketing, demo, pump,
                                                                                     monkeypatch):
    from chalicelib.campaign import runner, sender
    from chalicelib.customer import store as customer_store

    make_customer("near", held=(("po-broadband-500", 30),), phone="+447700900201")
    make_customer("far", held=(("po-broadband-500", 400),), phone="+447700900202")
    make_customer("business", segment="business", phone="+447700900203")
    make_customer("unknown", held=(), phone="+447700900204")
    pump.drain()                                              # facts projected from the inventory stream
    for cid in ("near", "far", "business"):
        assert customer_store.customers_by_id([cid])[cid][1] is not None
    doc = create(api, marketing, home_security())
    queued, enqueue = [], runner.enqueue
    monkeypatch.setattr(runner, "enqueue", lambda bodies, delay=0: queued.extend(
        c for b in bodies for c in b.get("customers", [])))
    runner.start_run(doc["id"], "r1")
    assert runner.run(doc["id"], "r1", lambda: 10 ** 9)["state"] == "done"
    assert "near" in queued and "unknown" in queued           # matches / no facts yet: the sender decides
    assert "far" not in queued and "business" not in queued   # its page says the rules cannot hold
    monkeypatch.setattr(runner, "enqueue", enqueue)
    # the sender projects the facts of a customer without them, so the next run skips it
    sender.send_batch({"type": "send", "campaignId": doc["id"], "runId": "r1", "customers": ["unknown", "near"]})
    assert customer_store.customers_by_id(["unknown"])["unknown"][1] == {"held": []}
    assert [n for n, _ in sms_sent()] == ["+447700900201"]


def test_a_throttled_provider_sends_the_rest_of_the_batch_later_and_nothing_twice(api, marketing, demo, pump,
                                                                                   monkeypatch):
    from chalicelib.notify import transport

    for n in range(3):
        make_customer(f"slow{n}", phone=f"+44770090030{n}")
    publish, refused = transport.send_sms, []

    def throttled(phone, text, purpose):
        if phone == "+447700900301" and not refused:   # the provider refuses one publish: Throttling
            refused.append(phone)
            raise transport.ProviderError("sns Publish failed: Throttling", True, "Throttling")
        return publish(phone, text, purpose)

    monkeypatch.setattr(transport, "send_sms", throttled)
    from chalicelib.campaign import runner

    enqueue, later_ = runner.enqueue, []
    monkeypatch.setattr(runner, "enqueue", lambda bodies, delay=0: (
        later_.extend(b["customers"] for b in bodies if b.get("hops")), enqueue(bodies, delay)))
    doc = create(api, marketing, home_security())
    run(api, marketing, pump, doc["id"])
    assert later_ and later_[0][0] == "slow1"                    # the rest of the batch, from the refused one
    numbers = [n for n, _ in sms_sent()]
    assert refused and len(numbers) == len(set(numbers))          # nobody twice
    assert {"+447700900300", "+447700900301", "+447700900302"} <= set(numbers)
    got = report(api, marketing, doc["id"])
    assert got["sent"] == len(numbers) and got["failed"] == 0


def test_a_throttled_database_sends_the_rest_of_the_batch_later_not_to_the_dlq(api, marketing, demo, pump,
                                                                                monkeypatch):
    """DynamoDB refusing one customer's target write for now (throttling) puts the rest of the batch
    back on the queue, as a throttled provider does; the whole message does not fail."""
    from chalicelib.campaign import runner, store
    from chalicelib.errors import Unavailable

    for n in range(3):
        make_customer(f"busy{n}", phone=f"+44770090040{n}")
    place, refused = store.place_target, []

    def throttled(*args, **kwargs):
        if "busy1" in str(args) and not refused:
            refused.append(args)
            raise Unavailable("the database refused the write (ThrottlingError); nothing was written: retry later",
                              "databaseUnavailable")
        return place(*args, **kwargs)

    monkeypatch.setattr(store, "place_target", throttled)
    together = store.place_targets   # the batch's shared transaction, refused as a throttled one is
    monkeypatch.setattr(store, "place_targets", lambda cid, placements, *args: (
        False if "busy1" in str(placements) and not refused else together(cid, placements, *args)))
    enqueue, later_ = runner.enqueue, []
    monkeypatch.setattr(runner, "enqueue", lambda bodies, delay=0: (
        later_.extend(b["customers"] for b in bodies if b.get("hops")), enqueue(bodies, delay)))
    doc = create(api, marketing, home_security())
    run(api, marketing, pump, doc["id"])
    assert refused and later_ and later_[0][0] == "busy1"
    numbers = [n for n, _ in sms_sent()]
    assert len(numbers) == len(set(numbers))
    assert {"+447700900400", "+447700900401", "+447700900402"} <= set(numbers)


# --- issue 16: target, cap and message claim in one transaction; the finish in another ----------------
class Crash(BaseException):
    """The sender's process dies here (a BaseException: no handler catches it)."""


def _batch(cid, *customers):
    from chalicelib.campaign import sender

    return sender.send_batch({"type": "send", "campaignId": cid, "runId": "r-16", "customers": list(customers)})


def test_a_targeted_customer_costs_two_aws_calls_and_a_share_in_the_sender(api, marketing, demo, pump):
    """Per SMS sent: the provider's Publish and the transaction finishing message, interaction and
    target; the batch's targets, caps and message claims are placed in one transaction shared by
    the batch (durable before any Publish), as are its reads of the campaign and its customers."""
    from bench.harness import measure
    from chalicelib.campaign import targeting

    ids = [make_customer(f"cost{n}", phone=f"+44770090050{n}") for n in range(4)]
    for cid in ids:   # their facts projected, as the inventory stream leaves them
        targeting.project_targeting(cid)
    doc = create(api, marketing, home_security())
    _batch(doc["id"], ids[0])   # the first batch also reads the offer (then cached)
    three = measure(lambda: _batch(doc["id"], *ids[1:]))
    assert len(sms_sent()) == 4
    shared = {"dynamodb:GetItem": 1, "dynamodb:BatchGetItem": 1, "dynamodb:TransactWriteItems": 1}
    assert three.counts == {**shared, "dynamodb:TransactWriteItems": 1 + 3, "sns:Publish": 3}, three.summary()
    got = report(api, marketing, doc["id"])
    assert (got["targeted"], got["sent"]) == (4, 4)


def test_a_batch_replayed_or_delivered_twenty_times_at_once_sends_each_customer_once(api, marketing, demo, pump):
    """The same batch again (SQS redelivery), and twenty deliveries of another at the same moment:
    the shared placement is refused for all but one, the others fall back one by one and find
    every customer handled; one SMS each, counted once."""
    from tests.support.concurrency import at_once

    ids = [make_customer(f"rep{n}", phone=f"+44770090070{n}") for n in range(6)]
    doc = create(api, marketing, home_security())
    assert _batch(doc["id"], *ids[:3]) == {"sent": 3}
    assert _batch(doc["id"], *ids[:3]) == {"duplicate": 3}
    answers = at_once(20, lambda _: _batch(doc["id"], *ids[3:]))
    assert all(isinstance(a, dict) for a in answers), answers
    numbers = [n for n, _ in sms_sent()]
    assert sorted(numbers) == sorted(f"+44770090070{n}" for n in range(6)), numbers
    got = report(api, marketing, doc["id"])
    assert (got["targeted"], got["sent"]) == (6, 6)


def test_a_full_cap_in_a_batch_places_the_others_one_by_one(api, marketing, demo, pump):
    """One customer's weekly cap is full: the shared transaction is refused whole (nothing of it
    written), each is placed on its own, she is suppressed and the others are sent."""
    from chalicelib.campaign import domain, store

    ids = [make_customer(f"capb{n}", phone=f"+44770090071{n}") for n in range(3)]
    for n in range(settings.campaign_frequency_cap()):
        assert store.reserve_cap(ids[1], domain.week(tmf.now()), f"other-{n}", settings.campaign_frequency_cap())
    doc = create(api, marketing, home_security())
    assert _batch(doc["id"], *ids) == {"sent": 2, "suppressedCap": 1}
    assert sorted(n for n, _ in sms_sent()) == ["+447700900710", "+447700900712"]
    got = report(api, marketing, doc["id"])
    assert (got["targeted"], got["sent"]) == (3, 2), got


def test_a_throttled_provider_mid_batch_gives_the_rest_back_and_they_go_at_once(api, marketing, demo, pump,
                                                                               monkeypatch):
    """The provider throttles the second of four: the batch's claims for the third and fourth
    (placed with the batch, never sent) are given back, so the next message sends them at once
    instead of waiting out their leases; everyone gets one SMS."""
    from chalicelib.campaign import runner
    from chalicelib.notify import transport

    ids = [make_customer(f"thr{n}", phone=f"+44770090072{n}") for n in range(4)]
    doc = create(api, marketing, home_security())
    real, refused = transport.send, []

    def throttles_once(channel, address, *args, **kwargs):
        if address == "+447700900721" and not refused:
            refused.append(address)
            raise transport.ProviderError("sns Publish failed: Throttling", True, "Throttling")
        return real(channel, address, *args, **kwargs)

    monkeypatch.setattr(transport, "send", throttles_once)
    later_: list = []
    monkeypatch.setattr(runner, "enqueue", lambda bodies, delay=0: later_.extend(bodies))
    assert _batch(doc["id"], *ids) == {"sent": 1, "retryLater": 3}
    assert [_message(doc["id"], c).lease for c in ids[2:]] == [0, 0]   # given back, not leased
    (again,) = later_
    assert again["customers"] == ids[1:]
    assert _batch(doc["id"], *again["customers"]) == {"sent": 3}        # at once: no lease to wait out
    assert sorted(n for n, _ in sms_sent()) == sorted(f"+44770090072{n}" for n in range(4))


def test_a_batch_placed_too_long_ago_hands_the_rest_on(api, marketing, demo, pump, monkeypatch):
    """A provider so slow that the batch's claims near the end of their lease: the rest go back on
    the queue (their claims given back) rather than being sent under an ending lease."""
    from chalicelib.campaign import runner, sender
    from chalicelib.notify import transport

    ids = [make_customer(f"slow{n}", phone=f"+44770090073{n}") for n in range(3)]
    doc = create(api, marketing, home_security())
    real = transport.send

    def slow(*args, **kwargs):   # the provider takes so long that the next claims' leases are ending
        monkeypatch.setattr(sender, "LEASE_MARGIN_SECONDS", settings.notify_lease_seconds() + 1)
        return real(*args, **kwargs)

    monkeypatch.setattr(transport, "send", slow)
    later_: list = []
    monkeypatch.setattr(runner, "enqueue", lambda bodies, delay=0: later_.extend(bodies))
    assert _batch(doc["id"], *ids) == {"sent": 1, "retryLater": 2}
    assert later_[0]["customers"] == ids[1:]
    assert [_message(doc["id"], c).lease for c in ids[1:]] == [0, 0]
    assert len(sms_sent()) == 1


def _message(cid, customer_id):
    from chalicelib.campaign import domain
    from chalicelib.notify import store as notify_store

    return notify_store.load(domain.message_id(cid, customer_id))


def _lease_ends(cid, customer_id):
    from chalicelib.campaign import domain
    from chalicelib.notify import store as notify_store

    stored = notify_store.load(domain.message_id(cid, customer_id))
    notify_store.write(stored.doc, stored.request, stored.version, attempts=stored.attempts, lease=1)


def test_a_crash_after_the_claim_before_the_provider_is_sent_once_later(api, marketing, demo, pump, monkeypatch):
    from chalicelib.campaign import runner
    from chalicelib.notify import transport

    gus = make_customer("gus", phone="+447700900601")
    doc = create(api, marketing, home_security())
    real = transport.send
    monkeypatch.setattr(transport, "send", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        _batch(doc["id"], gus)
    monkeypatch.setattr(transport, "send", real)
    assert _message(doc["id"], gus).doc["state"] == "inProgress" and sms_sent() == []
    monkeypatch.setattr(runner, "enqueue", lambda bodies, delay=0: None)   # the redelivery is this test's
    assert _batch(doc["id"], gus) == {"retryLater": 1}          # its lease still holds: nothing sent
    assert sms_sent() == []
    _lease_ends(doc["id"], gus)
    assert _batch(doc["id"], gus) == {"sent": 1}
    assert _batch(doc["id"], gus) == {"duplicate": 1}
    assert [n for n, _ in sms_sent()] == ["+447700900601"]
    got = report(api, marketing, doc["id"])
    assert (got["targeted"], got["sent"]) == (1, 1)


def test_a_crash_after_the_provider_before_the_finish_sends_nothing_twice_while_leased(api, marketing, demo, pump,
                                                                                      monkeypatch):
    from chalicelib.campaign import runner
    from chalicelib.notify import store as notify_store

    hal = make_customer("hal", phone="+447700900602")
    doc = create(api, marketing, home_security())
    real = notify_store.write

    def dies_on_finish(message, *args, **kwargs):
        if message.get("state") == "completed":
            raise Crash()
        return real(message, *args, **kwargs)

    monkeypatch.setattr(notify_store, "write", dies_on_finish)
    with pytest.raises(Crash):
        _batch(doc["id"], hal)
    monkeypatch.setattr(notify_store, "write", real)
    assert len(sms_sent()) == 1 and _message(doc["id"], hal).doc["state"] == "inProgress"
    monkeypatch.setattr(runner, "enqueue", lambda bodies, delay=0: None)
    for _ in range(3):   # redeliveries while the lease holds: no second SMS, the target still pending
        assert _batch(doc["id"], hal) == {"retryLater": 1}
    assert len(sms_sent()) == 1
    got = report(api, marketing, doc["id"])
    assert (got["targeted"], got["sent"]) == (1, 0)


def test_a_message_claimed_before_its_target_is_not_sent_again(api, marketing, demo, pump):
    """The message id is there already (sent by an earlier attempt whose target is gone): the
    placing transaction is refused whole, nothing is counted, and no second SMS goes out."""
    from chalicelib.campaign import domain
    from chalicelib.notify import service as notify_service

    ivy = make_customer("ivy", phone="+447700900603")
    doc = create(api, marketing, home_security())
    notify_service.send(domain.message_id(doc["id"], ivy), notify_service.MessageRequest(
        customer_id=ivy, purpose="marketing", content="earlier"))
    assert _batch(doc["id"], ivy) == {"duplicate": 1}
    assert [t for _, t in sms_sent()] == ["earlier"]
    assert report(api, marketing, doc["id"])["targeted"] == 0


def test_a_finish_refused_for_the_callers_write_still_completes_the_message_with_its_interaction(demo):
    """dispatch's finishing transaction refused for the caller's write (here: a target that is not
    pending): the message is completed with its interaction all the same, and the caller told."""
    from chalicelib import db, notify
    from chalicelib.campaign import store
    from chalicelib.customer import load_customer
    from chalicelib.customer import store as customer_store
    from chalicelib.notify import store as notify_store

    jo = make_customer("jo", phone="+447700900604")
    claim = notify.prepare("m-jo", notify.MessageRequest(customer_id=jo, purpose="marketing", content={"sms": "Hi"},
                                                         channels=["sms"]), load_customer(jo)[0])
    assert claim is not None
    with db.versioned(), db.transaction() as tx:
        notify.claim_in(tx, claim)
    outcome = notify.dispatch(claim, lambda tx: store.finish_target_in(tx, "no-campaign", "no-tag", "sent", "sms"))
    assert (outcome.status, outcome.finished_with) == ("sent", False)
    assert notify_store.load("m-jo").doc["state"] == "completed" and [t for _, t in sms_sent()] == ["Hi"]
    assert [i["id"] for i in customer_store.interactions(customer_store.customer_pk(jo))] == ["message-m-jo"]


def test_a_poison_message_in_a_campaign_send_batch_fails_alone_and_a_replay_sends_nothing_twice(
        api, marketing, demo, pump):
    """An SQS batch of campaign-send with a malformed message between two good ones: only the poison
    is reported failed (partial batch failure); the good ones send once. The whole batch delivered
    again (as SQS does for the failed one, and may for all) sends nobody a second SMS."""
    from functions import campaign_send
    from infra import resources
    from infra.local import lambdas

    ids = [make_customer(f"poi{n}", phone=f"+44770090074{n}") for n in range(4)]
    doc = create(api, marketing, home_security())

    def record(n, body):
        return {"messageId": f"m-{n}", "receiptHandle": f"r-{n}", "body": body, "attributes": {},
                "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-2:000000000000:campaign-send", "awsRegion": "eu-west-2"}

    def batch(*customers):
        return json.dumps({"type": "send", "campaignId": doc["id"], "runId": "r-poison", "customers": list(customers)})

    event = {"Records": [record(1, batch(*ids[:2])), record(2, "{not json"), record(3, batch(*ids[2:]))]}
    context = lambdas.context_for(resources.function("campaign-send"))
    assert campaign_send.handler(event, context) == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    assert campaign_send.handler(event, context) == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    assert sorted(n for n, _ in sms_sent()) == sorted(f"+44770090074{n}" for n in range(4))
    got = report(api, marketing, doc["id"])
    assert (got["targeted"], got["sent"]) == (4, 4)
