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
from tests.support.concurrency import at_once

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


# --- issue 16: the claim, the finishing transaction, and an attacker's repeats --------------------
class Crash(BaseException):
    """The process dies here (a BaseException: no handler catches it)."""


def _calls(fn):
    from bench.harness import measure

    result = []
    calls = measure(lambda: result.append(fn()))
    return result[0], calls


def test_an_sms_is_four_aws_calls_and_three_with_the_customer_given(demo, clock):
    outcome, calls = _calls(lambda: remind("cost-1", customer_id="cust-stacy"))
    assert outcome.status == "sent"
    assert calls.counts == {"dynamodb:GetItem": 1, "dynamodb:PutItem": 1, "dynamodb:TransactWriteItems": 1,
                            "sns:Publish": 1}, calls.summary()
    stacy = customer_store.load_customer("cust-stacy")[0]
    outcome, calls = _calls(lambda: service.send("cost-2", MessageRequest(
        customer_id="cust-stacy", purpose="service", content="Hi {firstName}"), stacy))
    assert outcome.status == "sent"
    assert calls.counts == {"dynamodb:PutItem": 1, "dynamodb:TransactWriteItems": 1, "sns:Publish": 1}, calls.summary()
    stored = store.load("cost-2")
    assert stored.doc["state"] == "completed" and stored.doc["sendTimeComplete"]
    assert [i["id"] for i in customer_interactions("cust-stacy") if i["id"] == "message-cost-2"] == ["message-cost-2"]


def test_twenty_concurrent_sends_of_one_message_are_one_sms_and_one_interaction(demo, clock):
    answers = at_once(20, lambda _: remind("race-1").status)
    assert all(isinstance(r, (str, TransientSendError)) for r in answers), answers
    results = [str(r) for r in answers]
    assert len(sms_sent()) == 1, results
    assert all(r == "sent" or "another attempt" in r for r in results), results
    assert sum(i["id"] == "message-race-1" for i in customer_interactions("cust-andrea")) == 1
    assert remind("race-1").duplicate is True and len(sms_sent()) == 1   # and once it is recorded
    assert store.load("race-1").doc["state"] == "completed"


def test_a_crash_between_the_claim_and_the_provider_is_retried_not_lost(demo, clock, monkeypatch):
    from chalicelib.notify import transport

    real = transport.send

    def dies(*args, **kwargs):
        raise Crash()

    monkeypatch.setattr(transport, "send", dies)
    with pytest.raises(Crash):
        remind("crash-1")
    monkeypatch.setattr(transport, "send", real)
    assert store.load("crash-1").doc["state"] == "inProgress" and sms_sent() == []
    with pytest.raises(TransientSendError, match="another attempt"):   # its lease holds it a while
        remind("crash-1")
    stored = store.load("crash-1")
    store.write(stored.doc, stored.request, stored.version, attempts=stored.attempts,
                lease=int(time.time()) - 1)   # the lease of the attempt that died has ended
    outcome = remind("crash-1")
    assert (outcome.status, outcome.duplicate) == ("sent", False) and len(sms_sent()) == 1
    assert store.load("crash-1").doc["state"] == "completed"
    assert sum(i["id"] == "message-crash-1" for i in customer_interactions("cust-andrea")) == 1



def _dies_finishing(monkeypatch, message_id):
    """Send `message_id` in a process that dies (Crash) writing the message's completion, after
    the provider accepted it."""
    real = store.write

    def dies_on_finish(doc, *args, **kwargs):
        if doc.get("state") == "completed":
            raise Crash()
        return real(doc, *args, **kwargs)

    monkeypatch.setattr(store, "write", dies_on_finish)
    with pytest.raises(Crash):
        remind(message_id)
    monkeypatch.setattr(store, "write", real)

def test_a_crash_after_the_provider_before_the_record_is_final_sends_nothing_while_leased(demo, clock, monkeypatch):
    """The provider accepted the SMS and the process died before the finishing transaction: the
    message stays inProgress and no interaction is written (the transaction is all or nothing).
    A retry while the lease holds sends nothing; after it, the message is sent again (no write
    can be atomic with the provider's call: the lease is what keeps a quick retry from a double)."""
    _dies_finishing(monkeypatch, "crash-2")
    assert len(sms_sent()) == 1 and store.load("crash-2").doc["state"] == "inProgress"
    assert not any(i["id"] == "message-crash-2" for i in customer_interactions("cust-andrea"))
    for _ in range(3):
        with pytest.raises(TransientSendError, match="another attempt"):
            remind("crash-2")
    assert len(sms_sent()) == 1
    stored = store.load("crash-2")
    store.write(stored.doc, stored.request, stored.version, attempts=stored.attempts, lease=int(time.time()) - 1)
    assert remind("crash-2").status == "sent" and len(sms_sent()) == 2
    assert store.load("crash-2").doc["state"] == "completed"
    assert sum(i["id"] == "message-crash-2" for i in customer_interactions("cust-andrea")) == 1


def test_a_message_whose_interaction_is_there_already_is_still_completed(demo, clock):
    """The finishing transaction refused only for the interaction (a message recorded sent and
    set back): the message is completed alone, not left inProgress to be sent again and again."""
    from chalicelib import customer as customers

    customers.record_interaction("message-pre-1", occurred_at=clock_now_iso(), reason="x", channel="sms",
                                 direction="outbound", customer_id="cust-andrea")
    assert remind("pre-1").status == "sent" and store.load("pre-1").doc["state"] == "completed"
    assert len(sms_sent()) == 1


def clock_now_iso():
    from chalicelib import tmf

    return tmf.now_iso()


@pytest.mark.parametrize("event, where", [
    ({"customerId": "cust-stacy", "content": "Hi"}, "messageId"),
    ({"messageId": "poison-1", "customerId": "cust-stacy"}, "content"),
    ({"messageId": "", "customerId": "cust-stacy", "content": "Hi"}, "messageId"),
    ({"messageId": "poison-2", "customerId": "cust-stacy", "content": 42}, "content"),
    ({"messageId": "poison-3", "customerId": "cust-stacy", "content": "Hi", "fields": "x"}, "fields"),
    ({"messageId": "x" * 300, "customerId": "cust-stacy", "content": "Hi"}, "messageId"),
    ("not a task", "body"),
])
def test_a_malformed_notify_send_input_is_a_clear_validation_failure(demo, clock, event, where):
    from chalicelib.errors import Invalid
    from functions import notify_send

    with pytest.raises(Invalid) as err:
        notify_send.handler(event, None)
    assert err.value.status == 400 and where in str(err.value) and "notify-send input" in str(err.value)
    assert stored_items("notify") == [] and sms_sent() == []


def test_a_well_formed_notify_send_input_sends(demo, clock):
    from functions import notify_send

    out = notify_send.handler({**TASK, "related": None, "subject": None, "extra": "ignored"}, None)
    assert (out["status"], out["channel"], out["state"]) == ("sent", "sms", "completed") and len(sms_sent()) == 1


def _sms_counted(capsys) -> int:
    """SmsSent business counts (EMF lines) written since the last call."""
    return sum(1 for line in capsys.readouterr().out.splitlines()
               if line.startswith("{") and "SmsSent" in json.loads(line))


def test_an_sms_is_counted_once_by_the_write_that_completes_it(demo, clock, capsys, monkeypatch):
    """SmsSent is counted with the transaction that moves the message to completed (which holds
    once): a retry, twenty sends at once, an email count nothing more; a crash before the
    completion counts nothing, and the retry that completes it counts it."""
    capsys.readouterr()
    assert remind("count-1").status == "sent" and _sms_counted(capsys) == 1
    assert remind("count-1").duplicate and _sms_counted(capsys) == 0
    at_once(20, lambda _: remind("count-race"))
    assert len([n for n, _ in sms_sent() if n == ANDREA_MOBILE]) == 2 and _sms_counted(capsys) == 1
    assert remind("count-email", channels=["email"]).channel == "email" and _sms_counted(capsys) == 0
    _dies_finishing(monkeypatch, "count-crash")
    assert _sms_counted(capsys) == 0
    stored = store.load("count-crash")
    store.write(stored.doc, stored.request, stored.version, attempts=stored.attempts, lease=int(time.time()) - 1)
    assert remind("count-crash").status == "sent" and _sms_counted(capsys) == 1
