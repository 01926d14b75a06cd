"""Done means (issue #5), against the local runtime with OMNISHOP_BASKET_IDLE_SECONDS=2 and the
real state machine executing in moto: an idle basket of a consenting customer produces exactly
one SMS to her number (read from moto's /moto-api/data.json) within a few seconds; editing the
basket before then delays it; ordering it cancels it."""
import itertools
import time

import boto3
import pytest

from chalicelib import settings
from tests.support import runtimes
from tests.support.appointments import installed_over_http

IDLE = runtimes.IDLE_BASKETS["OMNISHOP_BASKET_IDLE_SECONDS"]
# the abandoned-basket journey's runtime; mostly waits on idle timers (tests/support/scheduling.py)
pytestmark = [runtimes.shared(runtimes.IDLE_BASKETS, waits=True), pytest.mark.waits]
CARTS = "/tmf-api/shoppingCart/v4/shoppingCart"
CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
_numbers = itertools.count(100)


@pytest.fixture(scope="module")
def runtime(local_runtime_factory):
    # the stack delay only to share the abandoned-basket journey's runtime (tests/journeys)
    return local_runtime_factory(**runtimes.IDLE_BASKETS)


def auth(runtime, role, **claims):
    return {"Authorization": f"Bearer {runtime.token(role, **claims)}"}


def new_customer(runtime, consent=True):
    """A customer with a mobile number of her own, SMS/email consent for service messages and no
    quiet hours; (customer id, number, her headers)."""
    number = f"+4477009{next(_numbers):05d}"
    agent = auth(runtime, "agent", channel="callcenter", sub="agent-runtime")
    status, _, body = runtime.request("POST", CUSTOMERS, {
        "name": "Paula Test", "engagedParty": {"id": f"party-{number[1:]}", "@referredType": "Individual"},
        "contactMedium": [{"mediumType": "mobile", "preferred": True, "characteristic": {"phoneNumber": number}},
                          {"mediumType": "email", "characteristic": {"emailAddress": f"{number[1:]}@example.com"}}],
        "contactPreference": {"consent": {"sms": {"service": consent}, "email": {"service": consent}},
                              "preferredChannel": "sms"}}, agent)
    assert status == 201, body
    cid = body["id"]
    return cid, number, auth(runtime, "customer", channel="web", customerId=cid, sub=cid)


def sms_to(runtime, number, about="/recovery/link/"):
    """The basket-recovery SMS moto's SNS sent to `number` (from /moto-api/data.json)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("phone_number") == number and about in str(node.get("message")):
                found.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(runtime.moto_data().get("sns", {}))
    return found


def basket_with_item(runtime, headers):
    status, _, cart = runtime.request("POST", CARTS, {"cartItem": [{"productOffering": {"id": "po-home-security"}}]},
                                      headers)
    assert status == 201, cart
    return cart


def wait_for_sms(runtime, number, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = sms_to(runtime, number)
        if sent:
            return sent, time.monotonic()
        time.sleep(0.25)
    return [], time.monotonic()


def test_idle_basket_gets_exactly_one_sms_within_seconds(runtime):
    _, number, her = new_customer(runtime)
    start = time.monotonic()
    cart = basket_with_item(runtime, her)
    sent, at = wait_for_sms(runtime, number, timeout=120)
    assert len(sent) == 1, runtime.moto_data().get("sns")
    assert at - start < 12
    # Nothing more comes: once the basket's workflow waits for its second reminder (an email, a
    # day later) or has ended, the SMS log is read again.
    wait_until_parked(runtime, cart["id"])
    assert len(sms_to(runtime, number)) == 1


def wait_until_parked(runtime, basket_id, timeout=60, ended=False):
    """Until every recovery execution of the basket (at least one) has ended or (unless `ended`)
    waits in its Wait state (runtime's moto, read with Step Functions' own API)."""
    sfn = boto3.client("stepfunctions", endpoint_url=runtime.moto_url, region_name=settings.region())
    machine = next(m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]
                   if m["name"] == settings.resource_name("abandoned-basket"))
    deadline = time.monotonic() + timeout
    while True:
        mine = [e for e in sfn.list_executions(stateMachineArn=machine)["executions"] if basket_id in e["name"]]
        if mine and all(e["status"] != "RUNNING" or not ended and
                        sfn.get_execution_history(executionArn=e["executionArn"])["events"][-1]["type"]
                        == "WaitStateEntered" for e in mine):
            return
        assert time.monotonic() < deadline, f"the recovery of basket {basket_id} still busy after {timeout} s"
        time.sleep(0.25)


SLOW_IDLE = 6  # seconds: edits 1 s apart never leave the basket idle that long, even on a busy machine


@pytest.fixture(scope="module")
def slow_runtime(local_runtime_factory):
    return local_runtime_factory(OMNISHOP_BASKET_IDLE_SECONDS=str(SLOW_IDLE))


def test_editing_the_basket_delays_the_sms(slow_runtime):
    runtime = slow_runtime
    _, number, her = new_customer(runtime)
    cart = basket_with_item(runtime, her)
    start = last_edit = time.monotonic()
    for n in range(6):   # keep editing for ~6 s or more: never idle for SLOW_IDLE
        time.sleep(1)
        status, _, body = runtime.request("PATCH", f"{CARTS}/{cart['id']}", {
            "cartItem": [{"id": cart["cartItem"][0]["id"], "quantity": 1 + n % 2}]}, her)
        assert status == 200, body
        assert time.monotonic() - last_edit < SLOW_IDLE, "the machine was too slow to keep the basket busy"
        last_edit = time.monotonic()
        assert sms_to(runtime, number) == []
    sent, at = wait_for_sms(runtime, number, timeout=30)
    assert len(sent) == 1
    assert at - last_edit >= SLOW_IDLE - 1 and at - start >= 6 + SLOW_IDLE - 1


def wait_status(runtime, cart_id, headers, wanted, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        _, _, body = runtime.request("GET", f"{CARTS}/{cart_id}", None, headers)
        if body["status"] == wanted or time.monotonic() > deadline:
            return body
        time.sleep(0.25)


def test_ordering_the_basket_cancels_the_reminder(runtime):
    """Ordered before it went idle (an agent prepared it, she approved it: the approval submits
    the order): no reminder ever goes out."""
    cid, number, her = new_customer(runtime)
    agent = auth(runtime, "agent", channel="callcenter", sub="agent-fast")
    cart = basket_with_item(runtime, her)
    installed_over_http(runtime, agent, cid, "po-home-security", postcode="BS1 4DJ")   # the engineer's visit
    for headers, status in ((agent, "withAgent"), (agent, "awaitingApproval"), (her, "approved")):
        code, _, body = runtime.request("PATCH", f"{CARTS}/{cart['id']}", {"status": status}, headers)
        assert code == 200, body
    assert wait_status(runtime, cart["id"], her, "ordered")["status"] == "ordered"
    wait_until_parked(runtime, cart["id"], ended=True)   # the order ended its reminder
    assert sms_to(runtime, number) == []
