"""TMF637 products a customer holds: what a product is, which status moves are allowed, who may
see or change it, and how a completed order item creates or changes one. Plain values only.

Life cycle (TMF637 ProductStatusType; same-status writes are always fine):

    created --> pendingActive --> active <--> suspended
       |             |              |            |
       |             |              v            v
       |             |        pendingTerminate --+--> terminated (final)
       +-------------+-----------------------------> terminated

Product ids made from orders derive from the order and its item (`<order id>-<item id>`), and a
product lists in `productOrderItem` every order item applied to it: a completion delivered twice
creates nothing and changes nothing the second time.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from chalicelib.view import ref_id
from chalicelib import deferred, tmf
from chalicelib.errors import bad_request, unprocessable
from chalicelib.view import Document

if TYPE_CHECKING:
    from chalicelib.customer import domain as customer_domain
else:   # only validating a product needs it: the inventory stream publishes without it (cold start)
    customer_domain = deferred.module("chalicelib.customer.domain")

# imported on first use: importing this module does not load it (chalicelib/deferred.py)
schemas = deferred.module("chalicelib.inventory.schemas")

API_ROOT = "/tmf-api/productInventory/v4"
API_NAME = "productInventory"
RESOURCE = "product"
TYPE = "Product"
CUSTOMER_ROLE = "customer"
STACK_ROLE = "fulfilmentStack"      # as on catalogue specifications and child orders
SERVER_OWNED = ("id", "href")
READ_ONLY = ("id", "href", "@type", "productOrderItem")
ACTIVE, TERMINATED = "active", "terminated"
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "created": ("pendingActive", "active", "terminated"),
    "pendingActive": ("active", "terminated"),
    "active": ("suspended", "pendingTerminate", "terminated"),
    "suspended": ("active", "pendingTerminate", "terminated"),
    "pendingTerminate": ("active", "terminated"),
    "terminated": (),
}
CONTRACT_UNITS = {"month": 1, "months": 1, "year": 12, "years": 12}


# --- reading a product ------------------------------------------------------------------------
class Product(Document):
    """A thin typed view of a product a customer holds (TMF637; chalicelib/view.py)."""

    @property
    def stack(self) -> str | None:
        return self.party(STACK_ROLE)

    @property
    def offering_id(self) -> str | None:
        return self.ref("productOffering")

    @property
    def held(self) -> bool:
        """Still the customer's (billed, counted by the rules): anything not terminated."""
        return self.status != TERMINATED


def customer_of(doc: Mapping[str, Any]) -> str | None:
    return Product(doc).party(CUSTOMER_ROLE)


def stack_of(doc: Mapping[str, Any]) -> str | None:
    return Product(doc).stack


def offering_of(doc: Mapping[str, Any]) -> str | None:
    return Product(doc).offering_id


def is_held(doc: Mapping[str, Any]) -> bool:
    return Product(doc).held


def applied(doc: Mapping[str, Any], order_id: str, item_id: str) -> bool:
    return any(r.get("productOrderId") == order_id and r.get("orderItemId") == item_id
               for r in doc.get("productOrderItem") or [])


# --- who may do what --------------------------------------------------------------------------
def visible_to(doc: Mapping[str, Any], role: str, customer_id: str | None, stack: str | None) -> bool:
    """Agents see every product, a customer hers, a stack the products it provides (who may read
    products at all is chalicelib/access.py's)."""
    if role == "agent":
        return True
    if role == "customer":
        return customer_id is not None and customer_of(doc) == customer_id
    if role == "stack":
        return stack is not None and stack_of(doc) == stack
    return False


# --- making and changing ----------------------------------------------------------------------
def party(customer_id: str, href: str | None, name: str | None = None) -> dict[str, Any]:
    out = {"id": customer_id, "href": href, "name": name, "role": CUSTOMER_ROLE, "@referredType": "Customer"}
    return {k: v for k, v in out.items() if v is not None}


def stack_party(stack: str) -> dict[str, Any]:
    return {"id": stack, "name": stack, "role": STACK_ROLE, "@referredType": "Organization"}


def billing_account(customer: Mapping[str, Any]) -> dict[str, Any]:
    """The account a customer's products are billed to: their first BillingAccount (TMF629
    `account`), else the customer's own account, which Omnishop names after the customer."""
    for account in customer.get("account") or []:
        if account.get("@referredType") in (None, "BillingAccount") and account.get("id"):
            return {k: account[k] for k in ("id", "href", "name") if account.get(k)} | {"@referredType": "BillingAccount"}
    return {"id": customer["id"], "name": customer.get("name") or customer["id"], "@referredType": "BillingAccount"}


def _checked(doc: dict[str, Any]) -> dict[str, Any]:
    customer_domain.validate_payload("product", schemas.Product, doc)
    for field in ("startDate", "terminationDate", "orderDate"):
        if doc.get(field) is not None:
            tmf.parse_datetime(doc[field], field)
    for n, term in enumerate(doc.get("productTerm") or []):
        period = term.get("validFor") or {}
        tmf.check_period(period.get("startDateTime"), period.get("endDateTime"), f"productTerm.{n}.validFor")
    customers = [p for p in doc["relatedParty"] if p.get("role") == CUSTOMER_ROLE]
    if len(customers) != 1:
        raise bad_request("relatedParty must name exactly one party with role 'customer' (who holds the product)")
    if len([p for p in doc["relatedParty"] if p.get("role") == STACK_ROLE]) > 1:
        raise bad_request("relatedParty names at most one fulfilmentStack")
    customer_domain.check_size("product", doc)
    return doc


def new_product(body: Mapping[str, Any], rid: str, href: str, customer: Mapping[str, Any],
                stack: str | None) -> dict[str, Any]:
    """A product from a TMF637 Product_Create body for `customer` (the stored TMF629 document):
    status is required; the customer party, the billing account and empty characteristic/price
    lists are filled in; `stack` (a stack creating it) is its fulfilment stack."""
    if "status" not in body:
        raise bad_request("status is mandatory (TMF637 Product_Create)")
    doc: dict[str, Any] = {k: v for k, v in body.items() if k not in SERVER_OWNED}
    if body.get("@type") not in (None, TYPE):
        doc["@baseType"] = TYPE
    doc["@type"] = body.get("@type") or TYPE
    if not isinstance(doc.get("relatedParty", []), list):
        raise bad_request("relatedParty must be a list")
    parties = [p for p in doc.get("relatedParty") or [] if not isinstance(p, Mapping) or
               p.get("role") not in (CUSTOMER_ROLE, STACK_ROLE)]
    named_stack = stack_of(doc)
    if stack is not None and named_stack not in (None, stack):
        raise bad_request(f"a stack records its own products: relatedParty fulfilmentStack must be {stack!r}")
    stack = stack or named_stack
    doc["relatedParty"] = [party(customer["id"], customer.get("href"), customer.get("name")), *parties,
                           *([stack_party(stack)] if stack else [])]
    doc.setdefault("billingAccount", billing_account(customer))
    doc.setdefault("productCharacteristic", [])
    doc.setdefault("productPrice", [])
    return _checked({"id": rid, "href": href, **doc})


def without_contract(body: Mapping[str, Any]) -> dict[str, Any]:
    """A body in the shape of the route before TMF637 (`contract: {startDate, endDate}`) with the
    contract as a productTerm."""
    out = {k: v for k, v in body.items() if k != "contract"}
    if "contract" not in body:
        return out
    contract = body["contract"]
    if not isinstance(contract, Mapping) or not contract.get("startDate"):
        raise bad_request("contract must be an object with startDate (and endDate)")
    period = {"startDateTime": contract["startDate"], "endDateTime": contract.get("endDate")}
    term = {"name": "contract", "validFor": {k: v for k, v in period.items() if v}, "@type": "ProductTerm"}
    return {**out, "productTerm": [*(out.get("productTerm") or []), term]}


def check_move(old: str, new: str) -> None:
    if old != new and new not in TRANSITIONS.get(old, ()):
        allowed = ", ".join(TRANSITIONS.get(old, ())) or "none: it is final"
        raise unprocessable(f"status cannot go from {old} to {new} (allowed: {allowed})", "invalidStatusTransition")


def patched(current: Mapping[str, Any], patch: Mapping[str, Any], at: str) -> dict[str, Any]:
    """A JSON merge patch (TMF637 Product_Update). Server-owned attributes and the customer who
    holds the product cannot change; status moves follow TRANSITIONS; terminating stamps
    terminationDate."""
    for field in READ_ONLY:
        if field in patch and patch[field] != current.get(field):
            raise bad_request(f"{field} cannot be changed")
    doc = tmf.merge_patch(dict(current), dict(patch))
    if not isinstance(doc.get("relatedParty"), list) or customer_of(doc) != customer_of(current) \
            or stack_of(doc) != stack_of(current):
        raise bad_request("the customer holding a product and its fulfilmentStack (relatedParty) cannot be changed")
    if not isinstance(doc.get("status"), str):
        raise bad_request("status is mandatory: it cannot be removed")
    check_move(str(current.get("status")), doc["status"])
    if doc["status"] == TERMINATED and current.get("status") != TERMINATED:
        doc.setdefault("terminationDate", at)
    return _checked(doc)


# --- from orders ------------------------------------------------------------------------------
def add_months(start: str, months: int) -> str:
    moment = tmf.parse_datetime(start, "startDate")
    year, month = divmod(moment.month - 1 + months, 12)
    return tmf.iso(moment.replace(year=moment.year + year, month=month + 1, day=min(moment.day, 28)))


def terms(item_terms: Iterable[Mapping[str, Any]], start: str) -> list[dict[str, Any]]:
    """productTerm from an order item's terms (durations in months or years), dated from `start`."""
    out = []
    for term in item_terms:
        duration = term.get("duration") or {}
        months = int(float(duration.get("amount") or 0) * CONTRACT_UNITS.get(str(duration.get("units")), 0))
        if months <= 0:
            continue
        out.append({"name": term.get("name") or "contract", "duration": {"amount": months, "units": "month"},
                    "validFor": {"startDateTime": start, "endDateTime": add_months(start, months)},
                    "@type": "ProductTerm"})
    return out


def prices(item_prices: Iterable[Mapping[str, Any]], start: str) -> list[dict[str, Any]]:
    """productPrice from an order item's prices: each promotion (priceAlteration) keeps its
    duration and gets the date it ends (validFor.endDateTime, counted in months from `start`)."""
    out = []
    for price in item_prices:
        alterations = []
        for alt in price.get("priceAlteration") or []:
            one = {k: v for k, v in alt.items() if k not in ("@type",)} | {"@type": "PriceAlteration"}
            if isinstance(alt.get("applicationDuration"), int) and alt.get("recurringChargePeriod") == "month":
                one["validFor"] = {"startDateTime": start, "endDateTime": add_months(start, alt["applicationDuration"])}
            alterations.append(one)
        keep = ("name", "description", "priceType", "recurringChargePeriod", "unitOfMeasure", "price",
                "productOfferingPrice")
        out.append({**{k: price[k] for k in keep if price.get(k) is not None},
                    "productPriceAlteration": alterations, "@type": "ProductPrice"})
    return out


def _order_item_ref(order: Mapping[str, Any], item_id: str, action: str) -> dict[str, Any]:
    return {"productOrderId": order["id"], "productOrderHref": order.get("href"), "orderItemId": item_id,
            "orderItemAction": action, "role": "origin", "@referredType": "ProductOrderItem"}


def product_id(order_id: str, item_id: str) -> str:
    return f"{order_id}-{item_id}"


def bundled_in(item: Mapping[str, Any]) -> str | None:
    """The order item of the bundle a child order item is a component of."""
    return next((r.get("id") for r in item.get("productOrderItemRelationship") or []
                 if r.get("relationshipType") == "bundledIn"), None)


def from_order_item(order: Mapping[str, Any], item: Mapping[str, Any], rid: str, href: str, at: str,
                    customer: Mapping[str, Any], stack: str | None, item_prices: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The product an `add` item of `order` (the customer's order) created when it completed."""
    offering = item.get("productOffering") or {}
    product = item.get("product") or {}
    body: dict[str, Any] = {
        "name": offering.get("name") or offering.get("id") or "product", "status": ACTIVE, "isBundle": False,
        "startDate": at, "orderDate": order.get("orderDate"),
        "productOffering": {k: offering[k] for k in ("id", "href", "name") if offering.get(k)}
        | {"@referredType": "ProductOffering"},
        "productCharacteristic": list(product.get("productCharacteristic") or []),
        "productPrice": prices(item_prices, at), "productTerm": terms(item.get("itemTerm") or [], at),
        "productOrderItem": [_order_item_ref(order, item["id"], "add")],
    }
    if product.get("productSpecification"):
        body["productSpecification"] = product["productSpecification"]
    if product.get("place"):
        body["place"] = product["place"]
    if order.get("billingAccount"):
        body["billingAccount"] = order["billingAccount"]
    if not offering.get("id"):
        body.pop("productOffering")
    return new_product({k: v for k, v in body.items() if v is not None}, rid, href, customer, stack)


def bundle_from(order: Mapping[str, Any], item: Mapping[str, Any], rid: str, href: str, at: str,
                customer: Mapping[str, Any]) -> dict[str, Any]:
    """The bundle product of a bundle item (its components relate to it as they complete)."""
    doc = from_order_item(order, item, rid, href, at, customer, None, item.get("itemPrice") or [])
    return {**doc, "isBundle": True, "productRelationship": []}


def with_component(bundle: Mapping[str, Any], component: Mapping[str, Any]) -> dict[str, Any] | None:
    """The bundle relating to one more component (`bundles`); None when it does already."""
    if any(ref_id(r, "product") == component["id"] for r in bundle.get("productRelationship") or []):
        return None
    ref = {"id": component["id"], "href": component.get("href"), "name": component.get("name"), "@referredType": TYPE}
    relation = {"relationshipType": "bundles", "product": {k: v for k, v in ref.items() if v is not None},
                "@type": "ProductRelationship"}
    return {**bundle, "productRelationship": [*(bundle.get("productRelationship") or []), relation]}


def components(bundle: Mapping[str, Any]) -> list[str]:
    """The ids of the products a bundle product bundles (its `bundles` relationships); none for a
    product that is not a bundle."""
    if not bundle.get("isBundle"):
        return []
    return [r["product"]["id"] for r in bundle.get("productRelationship") or []
            if r.get("relationshipType") == "bundles" and ref_id(r, "product")]


def ended_with_bundle(item: Mapping[str, Any], parts: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Of a bundle's component products (`parts`), those a completed `delete` item on the bundle
    ends too (a bundle ends whole). A bundle's delete reaches its stacks as one item per component
    offering (chalicelib/ordering/domain.py parts, all naming the bundle product): each ends the
    components of its offering; an item naming none of their offerings (the bundle's own, or one
    the catalogue no longer bundles) ends every component. Other actions change the bundle only."""
    if item.get("action") != "delete":
        return []
    named = ref_id(item, "productOffering")
    return [p for p in parts if offering_of(p) == named] or list(parts)


def changed_by_item(doc: Mapping[str, Any], order: Mapping[str, Any], item: Mapping[str, Any], at: str,
                    item_prices: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """A completed `modify` or `delete` item applied to the product it names; None when that item
    was applied already (a replayed completion). delete: terminated; modify: the item's
    characteristics replace those of the same name, its prices (if any) the product's."""
    if applied(doc, order["id"], item["id"]):
        return None
    out = {**doc, "productOrderItem": [*(doc.get("productOrderItem") or []),
                                       _order_item_ref(order, item["id"], item["action"])]}
    if item["action"] == "delete":
        if doc.get("status") != TERMINATED:
            out.update(status=TERMINATED, terminationDate=at)
        return _checked(out)
    changes = {c.get("name"): c for c in (item.get("product") or {}).get("productCharacteristic") or []}
    kept = [c for c in doc.get("productCharacteristic") or [] if c.get("name") not in changes]
    out["productCharacteristic"] = [*kept, *changes.values()]
    if item_prices:
        out["productPrice"] = merged_prices(doc.get("productPrice") or [], prices(item_prices, at), at)
    return _checked(out)


def _same_price(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    ref_a, ref_b = ref_id(a, "productOfferingPrice"), ref_id(b, "productOfferingPrice")
    if ref_a and ref_b:
        return bool(ref_a == ref_b)
    return (a.get("priceType"), a.get("recurringChargePeriod")) == (b.get("priceType"), b.get("recurringChargePeriod"))


def _running(alteration: Mapping[str, Any], at: str) -> bool:
    end = (alteration.get("validFor") or {}).get("endDateTime")
    return end is None or str(end) > at


def merged_prices(current: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]], at: str) -> list[dict[str, Any]]:
    """A product's prices after a modify item: each recurring price of the item (with its
    promotion and the date it ends) replaces the product's price it is (same productOfferingPrice,
    else the same type and period) or is added; one-off prices of the item (a fee) are charges
    of the order, not prices of the product. A promotion still running on the product is kept as
    it is (a second order for it does not start its months again)."""
    out = [dict(p) for p in current]
    for price in new:
        if price.get("priceType") == "oneTime":
            continue
        n = next((n for n, p in enumerate(out) if _same_price(p, price)), None)
        if n is None:
            out.append(dict(price))
            continue
        running = {ref_id(a, "productOfferingPrice"): a for a in out[n].get("productPriceAlteration") or []
                   if _running(a, at) and ref_id(a, "productOfferingPrice")}
        kept = [running.get(ref_id(a, "productOfferingPrice"), a)
                for a in price.get("productPriceAlteration") or []]
        out[n] = {**price, "productPriceAlteration": kept}
    return out
