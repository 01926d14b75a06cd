"""The abandoned-basket workflow executing for real in moto (in-process), fed by real basket
stream records through the pump."""
from tests.recovery.conftest import (ANDREA_MOBILE, CARTS, executions, item, settle, sms_sent, wait_for)


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
