"""The abandoned-basket workflow executing for real in moto (in-process), fed by real basket
stream records through the pump."""
import pytest

from tests.recovery.conftest import ANDREA_MOBILE, CARTS, executions, settle, wait_for
from tests.support.orders import item
from tests.support.stored import sms_sent

pytestmark = pytest.mark.waits   # mostly waits (on idle timers and retries in moto's workflows): tests/support/scheduling.py


def test_idle_basket_gets_one_sms_and_is_offered_assistance(recovery, api, andrea, pump):
    status, cart, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-home-security")]})
    assert status == 201, cart
    pump.drain()
    pump.drain()   # a duplicate delivery starts nothing more
    assert len(executions()) == 1
    wait_for(lambda: sms_sent())
    settle(pump)
    sms = sms_sent()
    assert len(sms) == 1 and sms[0][0] == ANDREA_MOBILE
    assert "/recovery/link/" in sms[0][1]
    status, body, _ = api.call("GET", f"{CARTS}/{cart['id']}", andrea)
    assert body["status"] == "assistanceOffered"


def _outreach_failed(cart_id):
    """The execution failed with OutreachFailed naming the basket (the alarm's metric)."""
    from chalicelib import aws as clients

    wait_for(lambda: executions("FAILED"), timeout=60)
    failed = executions("FAILED")
    assert len(failed) == 1
    described = clients.client("stepfunctions").describe_execution(executionArn=failed[0]["executionArn"])
    assert described["error"] == "OutreachFailed" and f"basket {cart_id}" in described["cause"], described


@pytest.mark.expects_failed_workflow
def test_sms_provider_failing_is_retried_then_fails_the_execution_naming_the_basket(recovery, api, andrea, pump,
                                                                                     failing):
    left = failing("sns", "publish", "InternalFailure", times=99, status=500)
    status, cart, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-home-security")]})
    assert status == 201, cart
    pump.drain()
    _outreach_failed(cart["id"])
    assert 99 - left["n"] > 1            # retried before giving up
    assert sms_sent() == []
    status, body, _ = api.call("GET", f"{CARTS}/{cart['id']}", andrea)
    assert body["status"] == "active"    # unchanged: it can be recovered again


@pytest.mark.expects_failed_workflow
def test_sms_refused_is_not_retried_and_fails_the_execution(recovery, api, andrea, pump, failing):
    left = failing("sns", "publish", "InvalidParameter", times=99, status=400)
    status, cart, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-home-security")]})
    pump.drain()
    _outreach_failed(cart["id"])
    assert 99 - left["n"] == 1 and sms_sent() == []
    assert api.call("GET", f"{CARTS}/{cart['id']}", andrea)[1]["status"] == "active"
