"""What one page of each TMF list costs with 200 documents stored (issue 16: bounded reads): the
page offset=3&limit=4 without a filter (DynamoDB pages: a COUNT Query and one Query with Limit,
chalicelib/documents.paged) beside the same page with a filter every document matches (the
candidates read whole and filtered in Python, which is what every one of these lists did before
without a filter too); then the same lists past a small list window (OMNISHOP_LIST_WINDOW=50): what
a page, the last page inside the window and a deeper offset read. Also the lists' definitions the
tests page through (tests/lists)."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

from bench.harness import Calls, aws, table

CUSTOMER, OTHER = "cust-andrea", "cust-stacy"
OFFSET, LIMIT = 3, 4
AGENT = {"role": "agent", "channel": "callcenter", "sub": "agent-007"}
MARKETING = {"role": "marketing", "sub": "mkt-mia"}


def customer(customer_id: str) -> dict[str, str]:
    return {"role": "customer", "channel": "web", "customerId": customer_id, "sub": customer_id}


def _at(n: int) -> str:
    return f"2026-01-01T00:{n // 6000:02d}:{n // 100 % 60:02d}.{n % 100:02d}0Z"


def _party(customer_id: str) -> dict[str, str]:
    return {"id": customer_id, "href": f"http://localhost/tmf-api/customerManagement/v4/customer/{customer_id}",
            "role": "customer", "@referredType": "Customer"}


def _order(n: int, cid: str, odd: bool) -> dict[str, Any]:
    return {"id": f"po-{cid}-{n:04d}", "@type": "ProductOrder", "state": "inProgress" if odd else "completed",
            "orderDate": _at(n), "relatedParty": [_party(cid)],
            "productOrderItem": [{"id": "1", "action": "add", "state": "completed", "@type": "ProductOrderItem",
                                  "productOffering": {"id": "po-mobile-basic"}}]}


def _quote(n: int, cid: str, odd: bool) -> dict[str, Any]:
    return {"id": f"q-{cid}-{n:04d}", "@type": "Quote", "state": "accepted" if odd else "inProgress",
            "quoteDate": _at(n), "version": "1", "relatedParty": [_party(cid)],
            "quoteItem": [{"id": "1", "action": "add", "state": "inProgress", "quantity": 1,
                           "productOffering": {"id": "po-mobile-basic"}}]}


def _message(n: int, cid: str, odd: bool) -> dict[str, Any]:
    return {"id": f"msg-{cid}-{n:04d}", "@type": "CommunicationMessage", "messageType": "Email" if odd else "SMS",
            "content": f"message {n}", "state": "completed", "creationDate": _at(n),
            "receiver": [{"id": cid, "@type": "Receiver"}], "sender": {"id": "omnishop", "@type": "Sender"}}


def _interaction(n: int, cid: str, odd: bool) -> dict[str, Any]:
    return {"id": f"pi-{cid}-{n:04d}", "@type": "PartyInteraction", "reason": "visit" if odd else "call",
            "status": "completed", "interactionDate": {"startDateTime": _at(n)}, "relatedParty": [_party(cid)]}


def _product(n: int, cid: str, odd: bool, stack: str = "csp-stack-a") -> dict[str, Any]:
    return {"id": f"prod-{cid}-{n:04d}", "@type": "Product", "name": f"Line {n}", "startDate": _at(n),
            "status": "terminated" if odd else "active", "productOffering": {"id": "po-mobile-basic"},
            "relatedParty": [{k: v for k, v in _party(cid).items() if k != "href"},
                             {"id": stack, "name": stack, "role": "fulfilmentStack", "@referredType": "Organization"}]}


def _promotion(n: int, cid: str, odd: bool) -> dict[str, Any]:
    return {"id": f"promo-{cid}-{n:04d}", "@type": "Promotion", "name": f"Promo {cid} {n:04d}",
            "lifecycleStatus": "draft" if odd else "active", "promotionType": "Discount",
            "validFor": {"startDateTime": "2026-01-01T00:00:00.000Z", "endDateTime": "2027-01-01T00:00:00.000Z"}}


def _campaign(n: int, cid: str, odd: bool) -> dict[str, Any]:
    return {"id": f"camp-{cid}-{n:04d}", "@type": "Campaign", "name": f"Campaign {cid} {n:04d}",
            "lifecycleStatus": "retired" if odd else "active"}


def _basket(n: int, cid: str, odd: bool, at: str | None = None) -> dict[str, Any]:
    """A basket header (no lines): a customer's in the agents' worklist, or (cid "") an anonymous one."""
    return {"id": f"cart-{cid or 'anon'}-{n:04d}", "@type": "ShoppingCart", "creationDate": at or _at(n),
            "lastUpdate": at or _at(n), "status": ("assistanceOffered" if odd else "withAgent") if cid else "active",
            "context": {"originatingChannel": "web", "currentChannel": "web"},
            **({"relatedParty": [{k: v for k, v in _party(cid).items() if k != "href"}]} if cid else {})}


def _put_basket(doc: dict[str, Any], cid: str) -> None:
    import time

    from chalicelib.basket import store
    store.write(doc, None, {}, int(time.time()) + 86400, {})


def _put_order(doc: dict[str, Any], cid: str) -> None:
    from chalicelib.ordering import store
    store.insert(doc)


def _put_quote(doc: dict[str, Any], cid: str) -> None:
    from chalicelib.quote import store
    store.insert(doc)


def _put_message(doc: dict[str, Any], cid: str) -> None:
    from chalicelib import db
    from chalicelib.notify import store
    from chalicelib.notify.domain import MessageRequest

    with db.transaction() as tx:
        store.insert_in(tx, doc, MessageRequest(customer_id=cid, purpose="service", content=doc["content"]))


def _put_interaction(doc: dict[str, Any], cid: str) -> None:
    from chalicelib.customer import store
    store.insert_interaction(store.customer_pk(cid), doc, doc["interactionDate"]["startDateTime"])


def _put_product(doc: dict[str, Any], cid: str) -> None:
    from chalicelib.inventory import store
    store.insert(doc)


def _put_promotion(doc: dict[str, Any], cid: str) -> None:
    from chalicelib.promotion import store
    store.insert(doc)


def _put_campaign(doc: dict[str, Any], cid: str) -> None:
    from chalicelib.campaign import store
    store.write(doc, None)


def _payment(n: int, cid: str, odd: bool) -> dict[str, Any]:
    return {"id": f"pay-{cid}-{n:04d}", "@type": "Payment", "status": "failed" if odd else "authorized",
            "paymentDate": _at(n), "statusDate": _at(n), "totalAmount": {"unit": "EUR", "value": 10.0 + n},
            "account": {"id": f"acc-{cid}", "name": cid, "@referredType": "BillingAccount"},
            "paymentMethod": {"id": "card-visa-4242", "@referredType": "PaymentMethod"},
            "payer": {"id": cid, "role": "customer", "@referredType": "Customer"}}


def _refund(n: int, cid: str, odd: bool) -> dict[str, Any]:
    payment = _payment(n, cid, False)
    return {"id": f"ref-{cid}-{n:04d}", "@type": "Refund", "status": "failed" if odd else "succeeded",
            "refundDate": _at(n), "statusDate": _at(n), "description": "order cancelled",
            "account": payment["account"], "paymentMethod": payment["paymentMethod"],
            "totalAmount": {"unit": "EUR", "value": 5.0},
            "payment": {"id": payment["id"], "href": f"http://localhost/tmf-api/paymentManagement/v4/payment/"
                                                       f"{payment['id']}", "@referredType": "Payment"},
            "requestor": payment["payer"]}


def _stock(n: int, cid: str, odd: bool) -> dict[str, Any]:
    """A stock of an offering named after the customer (the stock list is nobody's: `cid` only
    tells the tests' two sets apart)."""
    return {"id": f"po-{cid}-{n:04d}--central", "@type": "ProductStock", "name": f"Stock {cid} {n:04d}",
            "productStockStatusType": "unavailable" if odd else "available", "creationDate": _at(n),
            "lastUpdate": _at(n), "stockedProduct": {"productOffering": {"id": f"po-{cid}-{n:04d}"}},
            "place": {"id": "central", "name": "Central warehouse", "role": "stockLocation",
                      "@referredType": "GeographicSite"},
            "productStockLevel": {"amount": 5, "units": "unit"}}


def _reservation(n: int, cid: str, odd: bool) -> dict[str, Any]:
    return {"id": f"rps-{cid}-{n:04d}", "@type": "ReserveProductStock", "creationDate": _at(n),
            "status": "released" if odd else "reserved", "reserveProductStockState": "done",
            "validFor": {"startDateTime": _at(n), "endDateTime": "2026-01-01T01:00:00.000Z"},
            "reserveProductStockItem": [{"id": "1", "quantityRequested": {"amount": 1, "units": "unit"},
                                         "reserveProductStockState": "done",
                                         "quantityReserved": {"amount": 0, "units": "unit"},
                                         "requestedProduct": {"productOffering": {"id": "po-phone-x"}}}],
            "relatedParty": [{"id": cid, "role": "customer", "@referredType": "Customer"}]}


def _customer(n: int, cid: str, odd: bool) -> dict[str, Any]:
    """A customer named after `cid` (the list of customers is nobody's: `cid` tells the sets apart)."""
    return {"id": f"{cid}-{n:04d}", "@type": "Customer", "name": f"Customer {cid} {n:04d}",
            "status": "initialized" if odd else "approved",
            "engagedParty": {"id": f"ind-{cid}-{n:04d}", "name": f"Customer {cid} {n:04d}", "@referredType": "Individual"}}


def _qualification(n: int, cid: str, odd: bool) -> dict[str, Any]:
    return {"id": f"poq-{cid}-{n:04d}", "@type": "ProductOfferingQualification", "state": "done",
            "instantSyncQualification": True, "productOfferingQualificationDate": _at(n),
            "qualificationResult": "unqualified" if odd else "qualified", "relatedParty": [_party(cid)],
            "productOfferingQualificationItem": [{"id": "1", "state": "done", "qualificationItemResult":
                                                  "unqualified" if odd else "qualified",
                                                  "productOffering": {"id": "po-mobile-basic"},
                                                  "@type": "ProductOfferingQualificationItem"}]}


def _rule(n: int, cid: str, odd: bool) -> dict[str, Any]:
    """A central rule named after `cid` (the rules are nobody's: `cid` tells the sets apart)."""
    return {"id": f"rule-{cid}-{n:04d}", "@type": "QualificationRule", "name": f"Rule {cid} {n:04d}",
            "ruleType": "channel", "lifecycleStatus": "retired" if odd else "active",
            "productOffering": [{"id": "po-mobile-basic"}], "channel": ["web"]}


def _put_payment(doc: dict[str, Any], cid: str) -> None:
    from chalicelib.payment import store
    assert store.insert(doc)


def _put_refund(doc: dict[str, Any], cid: str) -> None:
    from chalicelib.payment import store
    assert store.insert(doc, "refund")


def _put_stock(doc: dict[str, Any], cid: str) -> None:
    from chalicelib.stock import store
    assert store.insert_stock(doc)


def _put_reservation(doc: dict[str, Any], cid: str) -> None:
    from chalicelib.stock import store
    assert store.reserve(doc, {})   # holding nothing: no stock taken


def _put_customer(doc: dict[str, Any], cid: str) -> None:
    from chalicelib.customer import store
    store.write_customer(doc, None)


def _put_qualification(doc: dict[str, Any], cid: str) -> None:
    import time

    from chalicelib.rules import store
    store.insert(doc, cid, int(time.time()) + 86400)


def _put_rule(doc: dict[str, Any], cid: str) -> None:
    from chalicelib import catalog
    catalog.insert("qualificationRule", doc)


@dataclasses.dataclass(frozen=True)
class Listed:
    """One TMF list: where it is, the table it reads, how to make and store its n-th document of a
    customer (`odd`: one the `filter` leaves out), who lists everything, whether a customer lists
    her own, each list's order, and the TMF spec its answers follow."""
    name: str
    path: str
    table: str
    make: Callable[[int, str, bool], dict[str, Any]]
    put: Callable[[dict[str, Any], str], None]
    filter: str
    everyone: dict[str, str] = dataclasses.field(default_factory=lambda: AGENT)
    owned: bool = True
    newest_first: bool = False         # the list of everything
    own_newest_first: bool = False     # a customer's own
    spec: tuple[str, str] | None = None
    fields: str = ""                   # the cost pages' `fields=` (a basket's lines are priced: left out)
    keys: int = 1                      # index keys the list of everything is made of (a COUNT each)
    skips: int = 0                     # Queries that skip the offset on a keys-only index (the catalogue's)

    def href(self, doc: dict[str, Any]) -> dict[str, Any]:
        return {"href": f"http://localhost{self.path}/{doc['id']}", **doc}

    def seed(self, cid: str, first: int, last: int, odd: bool = False) -> None:
        for n in range(first, last):
            self.put(self.href(self.make(n, cid, odd)), cid)

    def ids(self, cid: str, ns: range) -> list[str]:
        return [self.make(n, cid, False)["id"] for n in ns]


LISTS = (
    Listed("productOrder", "/tmf-api/productOrderingManagement/v4/productOrder", "order", _order, _put_order,
           "state=completed", own_newest_first=True, spec=("TMF622-ProductOrder-v4.0.0", "/productOrder")),
    Listed("quote", "/tmf-api/quoteManagement/v4/quote", "quote", _quote, _put_quote, "state=inProgress",
           spec=("TMF648-Quote-v4.0.0", "/quote")),
    Listed("communicationMessage", "/tmf-api/communicationManagement/v4/communicationMessage", "notify", _message,
           _put_message, "messageType=SMS", newest_first=True, own_newest_first=True,
           spec=("TMF681-Communication-v4.0.0", "/communicationMessage")),
    Listed("partyInteraction", "/tmf-api/partyInteraction/v4/partyInteraction", "customer", _interaction,
           _put_interaction, "reason=call", newest_first=True, own_newest_first=True,
           spec=("TMF683-PartyInteraction-v4.0.0", "/partyInteraction")),
    Listed("product", "/tmf-api/productInventory/v4/product", "inventory", _product, _put_product, "status=active",
           spec=("TMF637-ProductInventory-v4.0.0", "/product")),
    Listed("promotion", "/tmf-api/promotionManagement/v4/promotion", "promotion", _promotion, _put_promotion,
           "lifecycleStatus=active", everyone=MARKETING, owned=False, spec=("TMF671-Promotion-v4.0.0", "/promotion")),
    Listed("shoppingCart", "/tmf-api/shoppingCart/v4/shoppingCart", "basket", _basket, _put_basket, "status=withAgent",
           newest_first=True, own_newest_first=True, spec=("TMF663-ShoppingCart-v4.0.0", "/shoppingCart"),
           fields="fields=id,status,lastUpdate,relatedParty", keys=2),
    Listed("campaign", "/tmf-api/campaignManagement/v4/campaign", "campaign", _campaign, _put_campaign,
           "lifecycleStatus=active", everyone=MARKETING, owned=False),
    Listed("payment", "/tmf-api/paymentManagement/v4/payment", "payment", _payment, _put_payment, "status=authorized",
           spec=("TMF676-Payment-v4.0.0", "/payment")),
    Listed("refund", "/tmf-api/paymentManagement/v4/refund", "payment", _refund, _put_refund, "status=succeeded",
           spec=("TMF676-Payment-v4.0.0", "/refund")),
    Listed("productStock", "/tmf-api/stockManagement/v4/productStock", "stock", _stock, _put_stock,
           "productStockStatusType=available", owned=False, spec=("TMF687-Stock-v4.0.0", "/productStock")),
    Listed("reserveProductStock", "/tmf-api/stockManagement/v4/reserveProductStock", "stock", _reservation, _put_reservation,
           "status=reserved", spec=("TMF687-Stock-v4.0.0", "/reserveProductStock")),
    Listed("customer", "/tmf-api/customerManagement/v4/customer", "customer", _customer, _put_customer,
           "status=approved", owned=False, spec=("TMF629-Customer-v4.0.0", "/customer")),
    Listed("productOfferingQualification", "/tmf-api/productOfferingQualification/v4/productOfferingQualification",
           "qualification", _qualification, _put_qualification, "qualificationResult=qualified", newest_first=True,
           own_newest_first=True,
           spec=("TMF679-ProductOfferingQualification-v4.0.0", "/productOfferingQualification")),
    Listed("qualificationRule", "/tmf-api/productOfferingQualification/v4/qualificationRule", "catalog", _rule,
           _put_rule, "lifecycleStatus=active", owned=False, skips=1),
)


def page(call: Callable[[str], Any], listed: Listed, query: str = "") -> Calls:
    """The AWS calls of GET <list>?offset=3&limit=4 (and `query`, and the list's `fields`) by `call`."""
    calls = Calls()
    with calls.counting():
        call(f"{listed.path}?offset={OFFSET}&limit={LIMIT}" + "".join(f"&{q}" for q in (query, listed.fields) if q))
    return calls


WINDOW = 50   # the list window of the second table (OMNISHOP_LIST_WINDOW)


def past_the_window(get: Callable[..., Any], headers: dict[str, str], listed: Listed, who: str) -> tuple[Any, ...]:
    """GET <list>?offset=..&limit=4 at offsets 3, WINDOW-1, WINDOW and 5,000,000 with the list window
    set to WINDOW: (the list, whether offset 3 sent X-Total-Count and a Link, "<status> <items read>"
    per offset)."""
    import os

    os.environ["OMNISHOP_LIST_WINDOW"] = str(WINDOW)
    try:
        out: list[Any] = [f"{listed.name} ({who})"]
        for offset in (OFFSET, WINDOW - 1, WINDOW, 5_000_000):
            calls = Calls()
            with calls.counting():
                r = get(f"{listed.path}?offset={offset}&limit={LIMIT}" + (f"&{listed.fields}" if listed.fields else ""),
                        headers=headers)
            if offset == OFFSET:
                out += ["X-Total-Count" in r.headers, "Link" in r.headers]
            out.append(f"{r.status_code}: {calls.items_read}")
        return tuple(out)
    finally:
        del os.environ["OMNISHOP_LIST_WINDOW"]


def run(stored: int = 200) -> None:
    import json

    with aws():
        from chalice.test import Client

        from app import app
        from chalicelib import auth

        rows, windowed = [], []
        with Client(app) as client:
            for listed in LISTS:
                listed.seed(CUSTOMER, 0, stored)
                for who, claims in (("all", listed.everyone), ("own", customer(CUSTOMER) if listed.owned else None)):
                    if claims is None:
                        continue
                    headers = {"Authorization": "Bearer " + auth.issue_local_token(claims)}

                    def call(path: str, headers: dict[str, str] = headers) -> Any:
                        r = client.http.get(path, headers=headers)
                        assert r.status_code == 200, r.body
                        return json.loads(r.body)

                    call(listed.path + "?limit=1")   # the caller's first request reads its session
                    paged, filtered = page(call, listed), page(call, listed, listed.filter)
                    rows.append((f"{listed.name} ({who})", paged.total(), paged.items_returned, paged.items_read,
                                 filtered.total(), filtered.items_returned, filtered.items_read))
                    windowed.append(past_the_window(client.http.get, headers, listed, who))
    table(f"One page (offset={OFFSET}, limit={LIMIT}) of each list with {stored} documents stored: "
          "paged in DynamoDB vs read whole and filtered (as before)",
          ("list (caller)", "calls", "items returned", "items read", "calls filtered", "returned filtered",
           "read filtered"), rows)
    table(f"The same lists with OMNISHOP_LIST_WINDOW={WINDOW} ({stored} stored: past the window), limit={LIMIT}: "
          "status and DynamoDB items read per request at each offset",
          ("list (caller)", "total sent", "next linked", f"offset={OFFSET}", f"offset={WINDOW - 1}",
           f"offset={WINDOW}", "offset=5000000"), windowed)
    print(f"bound: window+1 ({WINDOW + 1}) to count, offset+limit to page, plus a customer's access check; an "
          "offset at or past the window is a 400 after the count alone.")
    print(f"floor: {OFFSET + LIMIT} items returned (the offset is read and dropped: no keys-only index on "
          "by-kind/by-owner) and 2 Queries; the COUNT for X-Total-Count still reads every item under the key "
          f"({stored}) but returns none (1 call per MB). A customer's list adds her access check's reads.")
