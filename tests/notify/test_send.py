"""notify.service.send with moto in-process: SMS really lands in moto's SNS, email in SES,
consent and quiet hours decide, one SMS per message id (also across a real Step Functions retry),
provider failures are retryable and never recorded as completed, no contact data in logs."""
import io
import json
import logging
import pathlib
import time
import uuid

import boto3
import pytest

from chalicelib import settings
from chalicelib.customer import store as customer_store
from chalicelib.notify import service, store
from chalicelib.notify.service import MessageRequest, SendRefused, TemplateError, TransientSendError
from chalicelib.observability import logger
from infra import resources
from infra.resources import StateMachine
from tests.notify.conftest import ANDREA_EMAIL, ANDREA_MOBILE, STACY_MOBILE, customer_interactions
from tests.support.fixtures import NIGHT, NOON
from tests.support.stored import emails_sent, sms_sent, stored_items

REMINDER = {"sms": "Hi {firstName}, need a hand with your basket? {link}",
            "email": "Dear {firstName},\nyour basket is waiting: {link}"}
MACHINE = StateMachine("notify-send-test", str(pathlib.Path(__file__).with_name("send_machine.asl.json")),
                       functions={"NotifySendArn": "notify-send"})


def remind(message_id="reminder-1-b1", customer_id="cust-andrea", **kw):
    kw.setdefault("fields", {"link": "https://shop.example/l/tok"})
    return service.send(message_id, MessageRequest(
        customer_id=customer_id, purpose=kw.pop("purpose", "service"), content=kw.pop("content", REMINDER),
        journey_key="jrn-b1", related=[{"id": "b1", "@referredType": "ShoppingCart"}], **kw))


def test_sms_lands_in_sns_with_message_and_interaction(demo, clock):
    outcome = remind(reason="abandoned basket reminder")
    assert (outcome.status, outcome.channel, outcome.duplicate) == ("sent", "sms", False)
    assert sms_sent() == [(ANDREA_MOBILE, "Hi Andrea, need a hand with your basket? https://shop.example/l/tok")]
    doc = store.load("reminder-1-b1").doc
    assert doc["state"] == "completed" and doc["messageType"] == "SMS" and doc["tryTimes"] == 1
    assert doc["sendTime"] and doc["sendTimeComplete"] and doc["journeyKey"] == "jrn-b1"
    assert doc["receiver"][0]["party"]["id"] == "cust-andrea" and "phoneNumber" not in doc["receiver"][0]
    touch = next(i for i in customer_interactions("cust-andrea") if i["id"] == "message-reminder-1-b1")
    assert touch["journeyKey"] == "jrn-b1" and touch["direction"] == "outbound" and touch["channel"][0]["id"] == "sms"
    assert touch["reason"] == "abandoned basket reminder"
    assert {i["item"]["id"] for i in touch["interactionItem"]} == {"reminder-1-b1", "b1"}
    assert outcome.to_dict() == {"messageId": "reminder-1-b1", "status": "sent", "reason": "consent given",
                                 "channel": "sms", "notBefore": None, "duplicate": False, "state": "completed"}


def test_email_lands_in_ses_from_the_sender(demo, clock):
    outcome = remind(channels=["email"], subject="Your basket, {firstName}")
    assert (outcome.status, outcome.channel) == ("sent", "email")
    assert emails_sent() == [(resources.EMAIL_SENDER, [ANDREA_EMAIL], "Your basket, Andrea",
                              "Dear Andrea,\nyour basket is waiting: https://shop.example/l/tok")]
    assert sms_sent() == [] and store.load("reminder-1-b1").doc["messageType"] == "Email"


def test_no_consent_gets_nothing_and_says_why(demo, clock):
    outcome = remind("promo-stacy", "cust-stacy", channels=["email"])
    assert (outcome.status, outcome.reason) == ("skipped", "no service consent for email")
    outcome = remind("promo-acme", "cust-acme", purpose="marketing")
    assert outcome.status == "skipped"
    assert outcome.reason == "no marketing consent for sms; no marketing consent for email"
    assert sms_sent() == [] and emails_sent() == []
    doc = store.load("promo-acme").doc
    assert doc["state"] == "cancelled" and doc["stateReason"].startswith("not sent: no marketing consent")
    assert not any(i["id"] == "message-promo-acme" for i in customer_interactions("cust-acme"))
    assert remind("nobody", "cust-nobody").reason == "unknown customer"


def test_consent_withdrawn_meanwhile_means_nothing(demo, clock):
    doc, version = customer_store.load_customer("cust-stacy")
    doc["contactPreference"]["consent"]["sms"]["service"] = False
    customer_store.write_customer(doc, version)
    assert remind("r-stacy", "cust-stacy").status == "skipped" and sms_sent() == []


def test_quiet_hours_defer_then_the_same_id_sends(demo, clock):
    clock(NIGHT)
    outcome = remind()
    assert (outcome.status, outcome.not_before, outcome.reason) == ("deferred", "2026-06-02T07:00:00.000Z", "quiet hours")
    stored = store.load("reminder-1-b1")
    assert stored.doc["state"] == "initial" and stored.doc["scheduledSendTime"] == outcome.not_before
    assert sms_sent() == [] and store.due("2026-06-03T00:00:00Z") == []   # the caller waits, not the sweep
    clock(NOON.replace(day=2))
    assert remind().status == "sent" and len(sms_sent()) == 1
    assert "scheduledSendTime" not in store.load("reminder-1-b1").doc


def test_duplicate_send_is_one_sms(demo, clock):
    first, second = remind(), remind()
    assert (first.duplicate, second.duplicate, second.status) == (False, True, "sent")
    assert len(sms_sent()) == 1
    assert sum(i["id"] == "message-reminder-1-b1" for i in customer_interactions("cust-andrea")) == 1


def test_sns_failure_is_retryable_and_never_completed(demo, clock, failing):
    failing("sns", "publish", "Throttling", times=1)
    with pytest.raises(TransientSendError) as err:
        remind()
    assert STACY_MOBILE not in str(err.value) and ANDREA_MOBILE not in str(err.value)
    stored = store.load("reminder-1-b1")
    assert stored.doc["state"] == "failed" and stored.retryable and sms_sent() == []
    assert not any(i["id"] == "message-reminder-1-b1" for i in customer_interactions("cust-andrea"))
    outcome = remind()   # the retry
    assert outcome.status == "sent" and len(sms_sent()) == 1
    assert store.load("reminder-1-b1").doc["tryTimes"] == 2


def test_provider_5xx_and_network_errors_are_transient(demo, clock, failing):
    failing("ses", "send_email", "ServiceUnavailable", times=1, status=503)
    with pytest.raises(TransientSendError):
        remind(channels=["email"])


def test_refusal_is_final_and_not_retried(demo, clock, failing):
    left = failing("sns", "publish", "InvalidParameter", times=5)
    with pytest.raises(SendRefused):
        remind()
    with pytest.raises(SendRefused):
        remind()
    assert left["n"] == 4 and store.load("reminder-1-b1").doc["state"] == "failed"


def test_an_attempt_in_progress_holds_the_message(demo, clock):
    remind("held", channels=["email"], purpose="marketing", content="x")  # Andrea: sent by email
    stored = store.load("held")
    doc = {**stored.doc, "state": "inProgress"}
    store.write(doc, stored.request, stored.version, lease=int(time.time()) + 60)
    with pytest.raises(TransientSendError, match="another attempt"):
        service.send("held", MessageRequest(customer_id="cust-andrea", purpose="marketing", content="x",
                                            channels=["email"]))
    stored = store.load("held")
    store.write(doc, stored.request, stored.version, lease=int(time.time()) - 1)   # that attempt died
    assert service.send("held", MessageRequest(customer_id="cust-andrea", purpose="marketing", content="x",
                                               channels=["email"])).status == "sent"
    assert len(emails_sent()) == 2


def test_bad_template_writes_nothing(demo, clock):
    with pytest.raises(TemplateError):
        remind(content="Hi {phoneNumber}")
    with pytest.raises(TemplateError):
        remind(content="Order {orderId} is {status}", fields={"orderId": "o-1"})   # status has no value
    assert stored_items("notify") == [] and sms_sent() == []


def test_cancel_before_sending(demo, clock):
    clock(NIGHT)
    assert remind().status == "deferred"
    assert service.cancel("reminder-1-b1", "basket ordered") is True
    clock(NOON.replace(day=2))
    outcome = remind()
    assert (outcome.status, outcome.duplicate) == ("skipped", True) and sms_sent() == []
    assert service.cancel("unknown") is False


def test_no_contact_data_in_logs(demo, clock, failing, caplog, monkeypatch):
    powertools = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", powertools)
    caplog.set_level(logging.INFO)
    remind()
    remind("e-1", channels=["email"])
    failing("sns", "publish", "Throttling", times=1)
    with pytest.raises(TransientSendError):
        remind("r-2", "cust-stacy")
    assert "message sent" in powertools.getvalue() and "message send failed" in powertools.getvalue()
    text = powertools.getvalue() + "\n".join(f"{r.name} {r.getMessage()} {r.__dict__}" for r in caplog.records)
    for secret in (ANDREA_MOBILE, ANDREA_EMAIL, STACY_MOBILE, "Andrea,", "shop.example/l/tok"):
        assert secret not in text


def _run_machine(execution_input):
    from infra.local.provision import provision

    provision(tables=[], queues=[], functions=[resources.function("notify-send")], state_machines=[MACHINE],
              schedules=[], topics=[], email_sender=None)
    sfn = boto3.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=settings.state_machine_arn(MACHINE.name), name=str(uuid.uuid4()),
                              input=json.dumps(execution_input))["executionArn"]
    deadline = time.monotonic() + 30
    while True:
        execution = sfn.describe_execution(executionArn=arn)
        if execution["status"] != "RUNNING" or time.monotonic() > deadline:
            return execution
        time.sleep(0.1)


TASK = {"messageId": "wf-reminder-b2", "customerId": "cust-stacy", "purpose": "service",
        "content": REMINDER, "fields": {"link": "https://shop.example/l/t2"}, "journeyKey": "jrn-b2"}


def test_step_functions_retry_sends_one_sms(demo, failing):
    failing("sns", "publish", "Throttling", times=2)
    execution = _run_machine(TASK)
    assert execution["status"] == "SUCCEEDED", execution
    result = json.loads(execution["output"])
    assert (result["status"], result["channel"], result["state"]) == ("sent", "sms", "completed")
    assert sms_sent() == [(STACY_MOBILE, "Hi Stacy, need a hand with your basket? https://shop.example/l/t2")]
    assert store.load("wf-reminder-b2").doc["tryTimes"] == 3
    again = _run_machine(TASK)   # the whole task delivered again: same id, nothing more sent
    assert json.loads(again["output"])["duplicate"] is True and len(sms_sent()) == 1


def test_step_functions_catch_a_refusal_by_name(demo, failing):
    failing("sns", "publish", "InvalidParameter", times=9)
    execution = _run_machine(TASK)
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["error"]["Error"] == "SendRefused" and sms_sent() == []


def test_a_customer_the_caller_just_read_is_not_read_again_and_decides(demo, clock):
    """A campaign batch reads its customers in one call and hands each to send(): no second read
    of the customer (one call fewer per message), and consent is judged on that document; a
    document of another customer is not used (her own record is read)."""
    from bench.harness import Calls

    andrea = customer_store.load_customer("cust-andrea")[0]
    calls = Calls()
    with calls.counting():
        outcome = service.send("known-1", MessageRequest(customer_id="cust-andrea", purpose="service",
                                                         content="Hi {firstName}"), andrea)
    assert outcome.status == "sent" and sms_sent()[-1] == (ANDREA_MOBILE, "Hi Andrea")
    customer_table = settings.table_name("customer")
    assert calls.on_table(customer_table).get("GetItem", 0) == 0, calls.summary()
    no_sms = {**andrea, "contactPreference": {"consent": {"sms": {"service": False}}}}
    assert service.send("known-2", MessageRequest(customer_id="cust-andrea", purpose="service", content="Hi",
                                                  channels=["sms"]), no_sms).status == "skipped"
    stacy = customer_store.load_customer("cust-stacy")[0]
    calls = Calls()
    with calls.counting():
        outcome = service.send("known-3", MessageRequest(customer_id="cust-andrea", purpose="service",
                                                         content="Hi {firstName}"), stacy)
    assert outcome.status == "sent" and sms_sent()[-1] == (ANDREA_MOBILE, "Hi Andrea")   # hers, not Stacy's
    assert calls.on_table(customer_table).get("GetItem", 0) == 1
