"""Abandoned-basket rules as plain functions over plain values (no AWS, no Chalice).

- When a basket becomes *recoverable* (a customer's, active, with active items) a recovery
  session starts: one workflow execution, named after the basket and the version at which it
  became recoverable. Later edits start nothing: the workflow waits until the last change plus
  the idle time, reads the basket again and waits again if it changed.
- `next_step` is the workflow's decision at each wake-up: wait (until when), send (which
  message), or end (why). Each message has an id derived from the basket and its purpose, so a
  repeated step or a second session never sends it twice (notify is idempotent on the id).
- Messages carry a signed link (chalicelib.notify.links) naming only the basket: no personal data.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any, Mapping, Sequence

from chalicelib.view import ref_id
from chalicelib import tmf
from chalicelib.basket import domain as basket

RECOVER, APPROVAL = "recover", "approval"
LINK_RECOVER, LINK_APPROVE = "basket.recover", "basket.approve"
REMINDERS = 2   # the first (SMS, else email) after the idle time; the second (email) a day later; then stop

FIRST_SMS = ("Hi {firstName}, you left something in your Omnishop basket. Would you like help from one of "
             "our advisers to finish it, or to pick up where you left off? {link}")
FIRST_EMAIL = ("Hi {firstName},\n\nYou left something in your Omnishop basket. One of our advisers can help "
               "you finish it, or you can pick up where you left off:\n\n{link}\n\nThe link works for a "
               "limited time.\n\nOmnishop")
SECOND_EMAIL = ("Hi {firstName},\n\nYour Omnishop basket is still waiting for you. Would you like an adviser "
                "to help you complete it? Or carry on yourself:\n\n{link}\n\nWe will not remind you again "
                "about this basket.\n\nOmnishop")
REMINDER_SUBJECT = "Your Omnishop basket"
APPROVAL_SUBJECT = "Your basket is ready for your approval"


# --- sessions ---------------------------------------------------------------------------------
def active_items(doc: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return [i for i in (doc or {}).get("cartItem") or [] if i.get("status", "active") == "active"]


def recoverable(doc: Mapping[str, Any] | None, at: dt.datetime) -> bool:
    """A basket the process looks after: a known customer's, active (with the customer), with items."""
    if not doc:
        return False
    return basket.customer_of(doc) is not None \
        and basket.effective_status(doc, at) == basket.ACTIVE and basket.item_count(doc) > 0


def session_starts(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, at: dt.datetime) -> bool:
    """Does this change open a recovery session? Only the change that makes a basket recoverable:
    a basket edited 30 times in a session opens one."""
    return recoverable(new, at) and not recoverable(old, at)


def in_recovery(doc: Mapping[str, Any] | None, at: dt.datetime) -> bool:
    """A basket a recovery session may still be looking after: recoverable, or offered assistance
    (waiting for an answer to the first message)."""
    if not doc:
        return False
    return basket.customer_of(doc) is not None and basket.item_count(doc) > 0 \
        and basket.effective_status(doc, at) in (basket.ACTIVE, basket.OFFERED)


# The statuses the abandoned-basket process puts a basket in: assistance offered, with an agent,
# handed back for approval, approved.
ENGAGED = (basket.OFFERED, basket.WITH_AGENT, basket.AWAITING, basket.APPROVED)


def recovered(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
    """An abandoned basket won back (the business metric BasketsRecovered): ordered from a status
    the process put it in. One ordered straight from active is an ordinary checkout."""
    return bool(old and new) and (old or {}).get("status") in ENGAGED and (new or {}).get("status") == basket.ORDERED


def session_ends(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, at: dt.datetime) -> bool:
    """Does this change end the basket's recovery session at once? It was in recovery and is not
    any more: ordered, emptied, expired or deleted, or with an agent / handed back (by any means)."""
    return in_recovery(old, at) and not in_recovery(new, at)


RECOVERY_CHANNELS = ("sms", "email")   # the reminders' channels (purpose service)


def consent_withdrawn(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
    """Did the customer withdraw consent to the reminders' messages (service messages by SMS or
    email) in this change? Her baskets' recovery sessions end at once."""
    from chalicelib.customer import domain as customer

    if not old or not new:
        return False
    return any(customer.consent(old, ch, "service") and not customer.consent(new, ch, "service")
               for ch in RECOVERY_CHANNELS)


def assistance_accepted(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
    """The basket went to the agents' worklist (withAgent, no agent yet): it is queued for them."""
    if not new:
        return False
    return new.get("status") == basket.WITH_AGENT and basket.customer_of(new) is not None \
        and not basket.agent_of(new) and (old or {}).get("status") != basket.WITH_AGENT


def execution_name(basket_id: str, version: int, phase: str = RECOVER) -> str:
    """Step Functions execution names are unique per state machine (90 days): a duplicate
    stream record starts nothing. At most 80 characters."""
    return (f"{basket_id}-v{version}" if phase == RECOVER else f"{basket_id}-{phase}-v{version}")[:80]


def handed_back(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
    """An agent handed the basket back for approval: the approval email goes out."""
    if not old or not new:
        return False
    return old.get("status") == basket.WITH_AGENT and new.get("status") == basket.AWAITING


def approved(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
    if not new:
        return False
    return new.get("status") == basket.APPROVED and (old or {}).get("status") != basket.APPROVED


def reminder_id(basket_id: str, n: int) -> str:
    """Once per basket, whatever the session: the customer is reminded at most twice."""
    return f"basket-{basket_id}-reminder-{n}"


def approval_id(basket_id: str, version: int) -> str:
    return f"basket-{basket_id}-approval-v{version}"


def speaker(doc: Mapping[str, Any], others: Sequence[Mapping[str, Any]], at: dt.datetime) -> str | None:
    """One reminder per customer at a time: the newest of her baskets in recovery speaks for all.
    The id of a newer one than `doc` among `others` (her open baskets), else None."""
    mine = (doc.get("lastUpdate") or "", doc["id"])
    newer = [(o.get("lastUpdate") or "", o["id"]) for o in others
             if o["id"] != doc["id"] and in_recovery(o, at) and (o.get("lastUpdate") or "", o["id"]) > mine]
    return max(newer)[1] if newer else None


def cap_admits(reminded: Mapping[str, int], basket_id: str, at: int, window: int, cap: int) -> dict[str, int] | None:
    """The per-customer outreach cap over a rolling window: `reminded` maps the baskets she was
    reminded about to when (epoch seconds). The map after reminding her about `basket_id` at `at`
    (entries older than `window` seconds dropped; a basket already in it keeps its time), or None
    when `cap` other baskets were reminded about within the last `window` seconds."""
    recent = {b: int(t) for b, t in reminded.items() if int(t) > at - window}
    if basket_id in recent:
        return recent
    if len(recent) >= cap:
        return None
    return {**recent, basket_id: at}


# --- the workflow's decisions -----------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Step:
    next: str                      # wait | send | end
    reason: str
    until: str | None = None       # wait: ISO 8601 UTC


def _end(reason: str) -> Step:
    return Step("end", reason)


def _closed(doc: Mapping[str, Any] | None, at: dt.datetime) -> str | None:
    """Why the process has nothing left to do for this basket, if so."""
    if doc is None:
        return "the basket is gone"
    if basket.customer_of(doc) is None:
        return "the basket has no known customer"
    status = basket.effective_status(doc, at)
    if status in (basket.EXPIRED, basket.ORDERED):
        return f"the basket is {status}"
    if basket.item_count(doc) == 0:
        return "the basket was emptied"
    return None


def next_step(state: Mapping[str, Any], doc: Mapping[str, Any] | None, at: dt.datetime) -> Step:
    """What the workflow does now for `state` (its input: phase, reminder, idleSeconds, since)."""
    closed = _closed(doc, at)
    if closed:
        return _end(closed)
    assert doc is not None
    status = basket.effective_status(doc, at)
    if state.get("phase") == APPROVAL:
        if status != basket.AWAITING or int(state.get("version") or 0) != int(state.get("currentVersion") or -1):
            return _end(f"the basket is {status} and changed since it was handed back")
        return Step("send", "handed back for approval")
    reminder = int(state.get("reminder") or 1)
    if reminder > REMINDERS:
        return _end("every reminder was sent")
    if reminder == 1:
        if status != basket.ACTIVE:
            return _end(f"the basket is {status}: someone else is looking after it")
        due = tmf.parse_datetime(doc["lastUpdate"], "lastUpdate") + dt.timedelta(seconds=int(state["idleSeconds"]))
        if due > at:
            return Step("wait", "the basket is not idle yet", tmf.iso(due))
        return Step("send", "the basket is idle")
    # the second reminder: only if nothing happened since the first
    if status != basket.OFFERED or doc.get("lastUpdate") != state.get("since"):
        return _end(f"something happened since the first message (the basket is {status})")
    due = tmf.parse_datetime(state["sentAt"], "sentAt") + dt.timedelta(seconds=int(state["secondReminderSeconds"]))
    if due > at:
        return Step("wait", "waiting for the second reminder", tmf.iso(due))
    return Step("send", "no answer to the first message")


def after_quiet_hours(step: Step, sent: Mapping[str, Any] | None, at: dt.datetime) -> Step:
    """The message was held by the customer's quiet hours: a send waits until they end."""
    if step.next == "send" and sent and sent.get("status") == "deferred" and sent.get("notBefore"):
        if tmf.parse_datetime(sent["notBefore"], "notBefore") > at:
            return Step("wait", "quiet hours", sent["notBefore"])
    return step


def seconds_until(until: str, at: dt.datetime) -> int:
    """A Wait's SecondsPath: whole seconds to `until`, at least 1 (never a busy loop)."""
    left = (tmf.parse_datetime(until, "until") - at).total_seconds()
    return max(1, int(left) + (0 if left == int(left) else 1))


# --- messages ---------------------------------------------------------------------------------
def _money(value: Any) -> str:
    amount = (value or {}).get("value")
    if amount is None:
        return ""
    return f"{Decimal(str(amount)):.2f} {(value or {}).get('unit') or 'EUR'}"


def _literal(text: Any) -> str:
    """Text placed in a template as it is (catalogue names may hold braces)."""
    return str(text or "").replace("{", "{{").replace("}", "}}")


def _period(price: Mapping[str, Any]) -> str:
    kind = price.get("priceType") or "oneTime"
    return f" per {price['recurringChargePeriod']}" if price.get("recurringChargePeriod") else (
        "" if kind in ("oneTime", "one time") else f" ({kind})")


def basket_summary(doc: Mapping[str, Any]) -> dict[str, Any]:
    """What a link page and the approval email show of a basket: items, quantities and prices.
    No personal data (no names, numbers, addresses)."""
    items = []
    for item in active_items(doc):
        prices = [{"priceType": p.get("priceType"), "recurringChargePeriod": p.get("recurringChargePeriod"),
                   "price": (p.get("price") or {}).get("taxIncludedAmount")}
                  for p in item.get("ItemTotalPrice") or item.get("itemTotalPrice") or []]
        items.append({"id": item["id"], "name": (item.get("productOffering") or {}).get("name")
                      or ref_id(item, "productOffering"),
                      "quantity": item.get("quantity", 1), "itemTotalPrice": prices})
    totals = [{"priceType": p.get("priceType"), "recurringChargePeriod": p.get("recurringChargePeriod"),
               "price": (p.get("price") or {}).get("taxIncludedAmount")} for p in doc.get("cartTotalPrice") or []]
    return {"id": doc["id"], "status": doc.get("status"), "lastUpdate": doc.get("lastUpdate"),
            "cartItem": items, "cartTotalPrice": totals}


def summary_lines(summary: Mapping[str, Any]) -> list[str]:
    lines = []
    for item in summary["cartItem"]:
        prices = ", ".join(f"{_money(p['price'])}{_period(p)}" for p in item["itemTotalPrice"] if p.get("price"))
        lines.append(f"- {item['quantity']} x {item['name']}" + (f": {prices}" if prices else ""))
    totals = ", ".join(f"{_money(p['price'])}{_period(p)}" for p in summary["cartTotalPrice"] if p.get("price"))
    if totals:
        lines.append(f"Total: {totals}")
    return lines


def approval_email(summary: Mapping[str, Any]) -> str:
    body = "\n".join(_literal(line) for line in summary_lines(summary))
    return ("Hi {firstName},\n\nYour adviser has prepared your basket. Please review it and approve it to "
            f"place your order:\n\n{body}\n\nReview and approve: {{link}}\n\nOmnishop")


def reminder_request(basket_id: str, reminder: int, link: str, journey_key: str | None,
                     basket_href: str | None) -> dict[str, Any]:
    """The notify-send task input for reminder 1 (SMS, else email) or 2 (email only)."""
    content = {"sms": FIRST_SMS, "email": FIRST_EMAIL} if reminder == 1 else {"email": SECOND_EMAIL}
    return {"messageId": reminder_id(basket_id, reminder), "purpose": "service", "content": content,
            "channels": ["sms", "email"] if reminder == 1 else ["email"], "subject": REMINDER_SUBJECT,
            "fields": {"link": link, "basketId": basket_id}, "journeyKey": journey_key,
            "related": [{"id": basket_id, "href": basket_href, "@referredType": basket.TYPE}],
            "reason": f"abandoned basket: reminder {reminder}"}


def approval_request(doc: Mapping[str, Any], version: int, link: str) -> dict[str, Any]:
    summary = basket_summary(doc)
    return {"messageId": approval_id(doc["id"], version), "purpose": "service",
            "content": {"email": approval_email(summary)}, "channels": ["email"], "subject": APPROVAL_SUBJECT,
            "fields": {"link": link, "basketId": doc["id"]},
            "journeyKey": basket.Basket(doc).journey_key,
            "related": [{"id": doc["id"], "href": doc.get("href"), "@referredType": basket.TYPE}],
            "reason": "basket handed back for approval: approval email"}


NOT_ORDERED_SMS = ("Hi {firstName}, we could not place the order for your approved Omnishop basket: {why} "
                   "{next} {link}")
NOT_ORDERED_EMAIL = ("Hi {firstName},\n\nWe could not place the order for the basket you approved:\n\n{why}\n\n"
                     "{next}\n\n{link}\n\nOmnishop")
NOT_ORDERED_SUBJECT = "We could not place your order yet"


def not_ordered_id(basket_id: str, version: int) -> str:
    return f"basket-{basket_id}-not-ordered-v{version}"


def not_ordered_request(doc: Mapping[str, Any], version: int, reason: str, to_agent: bool, link: str
                        ) -> dict[str, Any]:
    """The notify-send input telling the customer her approved basket was not ordered and why, in
    the channel she approved it from (the approval email), with a link back to the basket."""
    after = ("Your adviser has it again and will be in touch; you can also review it here:" if to_agent else
             "It is back in your basket: review it and order again here:")
    fill = {"why": _literal(reason[:300]), "next": _literal(after)}
    return {"messageId": not_ordered_id(doc["id"], version), "purpose": "service",
            "content": {"sms": NOT_ORDERED_SMS.format(firstName="{firstName}", link="{link}", **fill),
                        "email": NOT_ORDERED_EMAIL.format(firstName="{firstName}", link="{link}", **fill)},
            "channels": ["email", "sms"], "subject": NOT_ORDERED_SUBJECT,
            "fields": {"link": link, "basketId": doc["id"]}, "journeyKey": basket.Basket(doc).journey_key,
            "related": [{"id": doc["id"], "href": doc.get("href"), "@referredType": basket.TYPE}],
            "reason": "approved basket not ordered: message"}


def approval_subject(basket_id: str, version: int) -> str:
    """An approval link names the basket version the customer reviews: a later change voids it."""
    return f"{basket_id}:v{version}"


def parse_approval_subject(subject: str) -> tuple[str, int] | None:
    head, _, version = subject.rpartition(":v")
    return (head, int(version)) if head and version.isdigit() else None
