"""Recovery rules without AWS: sessions, the workflow's decisions, message requests."""
import datetime as dt

from chalicelib.recovery import domain

T0 = dt.datetime(2026, 6, 1, 11, 0, tzinfo=dt.timezone.utc)


def cart(status="active", items=1, customer=True, last="2026-06-01T11:00:00Z"):
    parties = [{"id": "cust-1", "role": "customer"}] if customer else [{"id": "v-1", "role": "visitor"}]
    return {"id": "b-1", "status": status, "relatedParty": parties, "lastUpdate": last,
            "cartItem": [{"id": f"i{n}", "productOffering": {"id": "po"}} for n in range(items)]}


def test_a_session_starts_only_when_the_basket_becomes_recoverable():
    assert domain.session_starts(None, cart(), T0)
    assert domain.session_starts(cart(items=0), cart(), T0)
    assert not domain.session_starts(cart(), cart(items=2), T0)          # an edit in the session
    assert not domain.session_starts(None, cart(customer=False), T0)     # anonymous
    assert domain.session_starts(cart(status="assistanceOffered"), cart(), T0)   # resumed
    assert domain.execution_name("b-1", 7) == "b-1-v7" and len(domain.execution_name("x" * 90, 1)) == 80


def test_the_workflow_waits_until_idle_then_sends_then_ends():
    state = {"phase": "recover", "reminder": 1, "idleSeconds": 3600, "secondReminderSeconds": 86400}
    step = domain.next_step(state, cart(), T0 + dt.timedelta(minutes=10))
    assert step.next == "wait" and step.until.startswith("2026-06-01T12:00:00")
    assert domain.next_step(state, cart(), T0 + dt.timedelta(hours=1)).next == "send"
    for doc, why in ((None, "gone"), (cart(status="ordered"), "ordered"), (cart(items=0), "emptied"),
                     (cart(status="withAgent"), "withAgent")):
        step = domain.next_step(state, doc, T0 + dt.timedelta(hours=2))
        assert step.next == "end" and why in step.reason


def test_the_second_reminder_only_if_nothing_happened():
    state = {"phase": "recover", "reminder": 2, "idleSeconds": 1, "secondReminderSeconds": 86400,
             "sentAt": "2026-06-01T12:00:00Z", "since": "2026-06-01T12:00:00Z"}
    offered = cart(status="assistanceOffered", last="2026-06-01T12:00:00Z")
    assert domain.next_step(state, offered, T0 + dt.timedelta(hours=2)).next == "wait"
    assert domain.next_step(state, offered, T0 + dt.timedelta(hours=26)).next == "send"
    edited = cart(status="assistanceOffered", last="2026-06-01T13:00:00Z")
    assert domain.next_step(state, edited, T0 + dt.timedelta(hours=26)).next == "end"
    assert domain.next_step({**state, "reminder": 3}, offered, T0).next == "end"


def test_quiet_hours_turn_a_send_into_a_wait_and_waits_are_whole_seconds():
    send = domain.Step("send", "idle")
    held = domain.after_quiet_hours(send, {"status": "deferred", "notBefore": "2026-06-01T12:00:00Z"}, T0)
    assert held.next == "wait" and held.until == "2026-06-01T12:00:00Z"
    assert domain.after_quiet_hours(send, {"status": "sent"}, T0) is send
    assert domain.seconds_until("2026-06-01T11:00:00.500Z", T0) == 1
    assert domain.seconds_until("2026-06-01T10:00:00Z", T0) == 1


def test_messages_carry_the_link_and_no_contact_data():
    first = domain.reminder_request("b-1", 1, "https://x/recovery/link/t", "jrn", "/b-1")
    assert first["channels"] == ["sms", "email"] and first["messageId"] == "basket-b-1-reminder-1"
    second = domain.reminder_request("b-1", 2, "https://x/l/t", None, None)
    assert second["channels"] == ["email"] and set(second["content"]) == {"email"}
    doc = {**cart(), "cartItem": [{"id": "i", "quantity": 2, "productOffering": {"id": "po", "name": "Kit {x}"},
                                   "ItemTotalPrice": [{"priceType": "recurring", "recurringChargePeriod": "month",
                                                       "price": {"taxIncludedAmount": {"unit": "EUR", "value": 10}}}]}],
           "cartTotalPrice": [{"priceType": "recurring", "recurringChargePeriod": "month",
                               "price": {"taxIncludedAmount": {"unit": "EUR", "value": 20}}}]}
    approval = domain.approval_request(doc, 4, "https://x/l/t")
    text = approval["content"]["email"]
    assert "2 x Kit {{x}}: 10.00 EUR per month" in text and "Total: 20.00 EUR per month" in text
    assert approval["messageId"] == "basket-b-1-approval-v4"
    assert domain.parse_approval_subject(domain.approval_subject("b-1", 4)) == ("b-1", 4)
    assert domain.parse_approval_subject("b-1") is None
