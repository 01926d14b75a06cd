"""One reminder per customer at a time (issue 12 point 5), with the abandoned-basket workflow
executing in moto: three open baskets give one reminder SMS, about the newest; a basket left
after she was reminded about another gets none while the cap (a setting) is full."""
import pytest

from chalicelib.notify import links
from tests.recovery.conftest import CARTS, executions, settle, wait_for
from tests.support.orders import item
from tests.support.stored import sms_sent

pytestmark = pytest.mark.waits   # mostly waits (on idle timers and reminders in moto's workflows): tests/support/scheduling.py

TOKEN_BASKET = "/recovery/link/"


def _basket(api, andrea, offering):
    status, cart, _ = api.call("POST", CARTS, andrea, {"cartItem": [item(offering)]})
    assert status == 201, cart
    return cart["id"]


def _about(sms_text):
    token = sms_text.split(TOKEN_BASKET, 1)[1].split()[0]
    return links.verify(token).subject


def test_three_open_baskets_give_one_reminder_about_the_newest(recovery, api, andrea, pump):
    ids = [_basket(api, andrea, o) for o in ("po-home-security", "po-tv-max", "po-phone-x")]
    pump.drain()
    assert len(executions()) == 3          # every basket has its session...
    wait_for(lambda: sms_sent())
    settle(pump)
    sms = sms_sent()
    assert len(sms) == 1, sms              # ...but she hears once
    assert _about(sms[0][1]) == ids[-1]    # the newest basket speaks for all
    # the two that stayed silent ended as decided, not failed on a missing message (an alarm each)
    assert sorted(e["status"] for e in executions()) == ["SUCCEEDED"] * 3, executions()


def test_the_cap_is_a_setting(recovery, api, andrea, pump, monkeypatch):
    first = _basket(api, andrea, "po-home-security")
    pump.drain()
    wait_for(lambda: sms_sent())
    settle(pump)
    second = _basket(api, andrea, "po-tv-max")      # she leaves another basket after the reminder
    pump.drain()
    settle(pump)
    assert [_about(t) for _, t, *_ in sms_sent()] == [first]       # cap 1: not again this week
    monkeypatch.setenv("OMNISHOP_RECOVERY_BASKETS_PER_CUSTOMER", "2")
    third = _basket(api, andrea, "po-phone-x")
    pump.drain()
    wait_for(lambda: len(sms_sent()) == 2)
    settle(pump)
    assert [_about(t) for _, t, *_ in sms_sent()] == [first, third]
    assert second not in [_about(t) for _, t, *_ in sms_sent()]
    assert {e["status"] for e in executions()} == {"SUCCEEDED"}, executions()   # the capped one too


def test_the_cap_holds_when_many_baskets_ask_at_once(recovery):
    """Twenty of her baskets' workflows reach the cap at the same moment (AWS runs them in
    parallel): exactly one is let through, and it stays let through when asked again; the others
    are not, even across what a fixed window would have called a new week."""
    import threading

    from chalicelib.recovery import workflow

    week = 7 * 24 * 3600
    at = (1_800_000_000 // week + 1) * week - 1     # a second before a fixed weekly window would reset
    barrier, admitted = threading.Barrier(20), []

    def ask(n: int) -> None:
        barrier.wait(30)
        if workflow._cap_admits("cust-race", f"basket-{n}", at, week, 1):
            admitted.append(f"basket-{n}")

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(admitted) == 1, admitted
    assert workflow._cap_admits("cust-race", admitted[0], at + 5, week, 1)
    assert not any(workflow._cap_admits("cust-race", f"basket-{n}", at + 2, week, 1)
                   for n in range(20) if f"basket-{n}" != admitted[0])
