"""Credit check use cases: the customer's decision (the recorded credit profile while it is
valid, else the bureau's answer, recorded on the customer: one bureau call per validity period),
checkout's check (`order_checkout`, called by chalicelib/ordering capture), TMF679's credit
reasons (`qualified`, called by chalicelib/rules) and the demo customers' profiles.

The profile lives on the TMF629 customer (`creditProfile`, the current one first): agents read it
there and in the 360 view, and only agents may change it (chalicelib/access.py OWNED_ATTRIBUTES);
a customer reads her own, never another's (chalicelib/customer/access.py).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any, Iterable, Mapping, Sequence

from chalicelib import catalog, db, deferred, idempotency, inventory, ordering, tmf
from chalicelib.credit import bureau, domain
from chalicelib.customer import load_customer, write_customer
from chalicelib.errors import ApiError, Conflict, Unavailable, not_found, unprocessable
from chalicelib.observability import logger
from chalicelib.rules import domain as rules_domain

# imported on first use: importing this module does not load it (chalicelib/deferred.py)
order_domain = deferred.module("chalicelib.ordering.domain")

WRITE_ATTEMPTS = 5
BUREAU_SCOPE, IN_PROGRESS = "credit-bureau", "idempotencyInProgress"   # idempotency.once's in-progress code
PENDING_READ = 50   # open orders read for a line limit (the newest)
BUREAU_WAITS, BUREAU_WAIT_SECONDS = 8, 0.05   # jittered waits, at most about 13 s in all


def _price(pid: str) -> dict[str, Any] | None:
    found = catalog.cache.get("productOfferingPrice", pid)
    return found[0] if found else None


def needs(offering: Mapping[str, Any]) -> str | None:
    """domain.CONTRACT, domain.FINANCING or None, from the offering and its prices (catalogue cache)."""
    prices = (_price(p["id"]) for p in offering.get("productOfferingPrice") or [] if p.get("id"))
    return domain.check_needed(offering, prices, domain.rules())


def pending_lines(customer_id: str) -> int:
    """Contract lines the customer's orders in flight (pending payment, acknowledged, in
    progress) will add once fulfilled: one Query on the open orders' sparse index."""
    def kind(offering_id: str) -> str | None:
        found = catalog.cache.get("productOffering", offering_id)
        return needs(found[0]) if found else None

    orders = [o for o in ordering.in_flight(customer_id, PENDING_READ) if order_domain.in_flight(o)]   # top-level
    return domain.pending_contract_lines(orders, kind)


def first_profile(customer: Mapping[str, Any]) -> dict[str, Any]:
    """A credit profile from the bureau for a customer not written yet (the demo customers)."""
    return domain.new_profile(bureau.current().report(customer), domain.rules(), tmf.now())


def decision(customer_id: str, customer: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The customer's valid credit profile: `customer`'s (already read) while valid; else the
    bureau is asked once and its answer recorded on the customer (a conditional write; a
    concurrent checkout that recorded one first is reused, not asked again)."""
    at = tmf.now()
    found = domain.current(customer, at)
    if found:
        return found
    report: Any = None
    profile: dict[str, Any] = {}

    def load() -> tuple[dict[str, Any], int]:
        loaded = load_customer(customer_id)
        if loaded is None:
            raise not_found("customer", customer_id)
        return loaded

    def decide(doc: dict[str, Any], _version: int) -> dict[str, Any] | None:
        nonlocal report, profile
        found = domain.current(doc, tmf.now())   # now: one recorded meanwhile starts after `at`
        if found:                       # recorded meanwhile by a concurrent checkout: reused
            profile = found
            return None
        report = report or _ask(customer_id, doc)   # asked once, whatever the retries and concurrent checkouts
        profile = domain.new_profile(report, domain.rules(), at)
        return domain.recorded(doc, profile)

    def record(doc: dict[str, Any], version: int) -> int:
        new_version = write_customer(doc, version)
        logger.info("credit checked", extra={"customerId": customer_id, "decision": profile["decision"],
                                             "bureau": report.bureau, "reference": report.reference})
        return new_version

    db.change(f"customer {customer_id}", load, decide, record, attempts=WRITE_ATTEMPTS)
    return profile


def _ask(customer_id: str, customer: Mapping[str, Any]) -> domain.Report:
    """The bureau's answer about the customer, asked once however many checkouts want it at the
    same moment (Powertools idempotency, keyed by the customer and the profile she has now: a new
    question once that one is replaced or expires). A checkout that finds the question in
    progress waits for its answer (jittered back-off), then 503 creditCheckInProgress."""
    now_held = json.dumps((customer.get("creditProfile") or [None])[0], sort_keys=True, default=str)
    key = f"{customer_id}#{hashlib.sha256(now_held.encode()).hexdigest()[:16]}"
    for attempt in range(BUREAU_WAITS):
        try:
            return domain.Report(**idempotency.once(BUREAU_SCOPE, key,
                                                    lambda: dataclasses.asdict(bureau.current().report(customer))))
        except Conflict as exc:
            if exc.code != IN_PROGRESS:
                raise
            db.back_off(attempt, BUREAU_WAIT_SECONDS)   # another checkout is asking the bureau about her
    raise Unavailable(f"the credit bureau is still being asked about customer {customer_id} by another request; "
                      "nothing was ordered: retry", "creditCheckInProgress", headers={"Retry-After": "2"})


def _refused(code: str, message: str, items: Iterable[Mapping[str, Any]]) -> ApiError:
    error = unprocessable(message, code)
    error.items = tuple(i["id"] for i in items)
    return error


def order_checkout(customer_id: str | None, customer: Mapping[str, Any] | None, items: list[dict[str, Any]],
                   offerings: Mapping[str, Mapping[str, Any]], held: Mapping[str, Mapping[str, Any]],
                   totals: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Checkout's credit check: nothing to do unless the order adds a contract product or device
    financing; then 422 creditCheckRequired (no customer named), creditRefused or
    lineLimitExceeded; an approval with a deposit adds a one-off "Deposit" price to each checked
    item and to the order's one-off total (what payment charges). Returns (items, totals)."""
    kinds = {i["id"]: needs(offerings[i["id"]]) for i in items if i.get("action") == "add" and i["id"] in offerings}
    checked = [i for i in items if kinds.get(i["id"])]
    if not checked:
        return items, totals
    if customer_id is None:
        raise _refused(domain.REQUIRED, "contract products and device financing need a credit check: name the "
                                        "customer (relatedParty with role customer)", checked)
    profile = decision(customer_id, customer)
    lines = domain.contract_lines(items, kinds, held, tmf.now())
    if profile["decision"] == domain.LINE_LIMIT:   # orders not fulfilled yet hold lines too
        lines += pending_lines(customer_id)
    found = domain.refusal(profile, lines)
    if found:
        raise _refused(*found, checked)
    deposits = {}
    for item in checked:
        quantity = int(item.get("quantity") or 1)
        owed = domain.deposit(profile, quantity)
        if owed:
            deposits[item["id"]] = order_domain.order_price(domain.deposit_price(*owed, quantity))
    if not deposits:
        return items, totals
    items = [{**i, "itemPrice": [*i.get("itemPrice", []), deposits[i["id"]]]} if i["id"] in deposits else i
             for i in items]
    return items, order_domain.with_fees(totals, deposits.values())


def qualified(answers: Sequence[dict[str, Any]], customer_id: str | None) -> list[dict[str, Any]]:
    """TMF679 for a known customer: an offering that needs a credit check is `undetermined`
    (creditCheckRequired) without a valid decision, `unqualified` when the decision refuses it
    (creditRefused, lineLimitExceeded). Anonymous answers are about offering and place only."""
    wanted = [n for n, a in enumerate(answers) if customer_id and a.get("productOffering")]
    kinds = {}
    for n in wanted:
        found = catalog.cache.get("productOffering", answers[n]["productOffering"].get("id", ""))
        kinds[n] = needs(found[0]) if found else None
    if not any(kinds.values()):
        return list(answers)
    loaded = load_customer(customer_id or "")
    profile = domain.current(loaded[0] if loaded else None, tmf.now())
    lines = 0
    if profile and profile["decision"] == domain.LINE_LIMIT:
        lines = domain.contract_lines([], {}, {p["id"]: p for p in inventory.held(customer_id or "")}, tmf.now()) \
            + pending_lines(customer_id or "")
    out = []
    for n, answer in enumerate(answers):
        kind = kinds.get(n)
        why = domain.qualification_reason(profile, lines + (kind == domain.CONTRACT)) if kind else None
        if why is None:
            out.append(answer)
            continue
        result = rules_domain.UNDETERMINED if why["code"] == domain.REQUIRED else rules_domain.UNQUALIFIED
        if answer["qualificationItemResult"] == rules_domain.UNQUALIFIED:
            result = rules_domain.UNQUALIFIED
        out.append({**answer, "qualificationItemResult": result, "reasons": [*answer.get("reasons", []), why]})
    return out
