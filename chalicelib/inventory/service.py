"""TMF637 product use cases (create, read, list, change, delete), the products other contexts
read (products held: the 360 view, the rules' facts behind recommendations, order capture) and
what a completed child order does to the inventory. Glue between domain.py, the store and the
caller's rights, which are chalicelib/access.py's ("product"): agents every product, a stack the
products it provides (without the holder's name), a customer hers. A product the caller may not
see is 404, as if it did not exist.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from chalicelib import access, db, tmf
from chalicelib.auth import Caller
from chalicelib.customer import access as customer_access
from chalicelib.customer import domain as customer_domain
from chalicelib.customer import load_customer
from chalicelib.errors import NotFound, bad_request, conflict, not_found, unprocessable
from chalicelib.inventory import domain, store
from chalicelib.observability import logger

READERS = access.roles(domain.RESOURCE, access.READ)    # the access table's, checked again here
WRITERS = access.roles(domain.RESOURCE, access.WRITE)   # for callers that are not routes


def href(product_id: str) -> str:
    return tmf.href(domain.API_ROOT, domain.RESOURCE, product_id)


def _stack(caller: Caller) -> str | None:
    """The stack a stack token speaks for (bound in the token and checked: chalicelib.auth)."""
    return caller.stack if caller.role == "stack" else None


def _check(caller: Caller, *roles: str) -> None:
    customer_access.check_roles(caller, *roles)


def _visible(doc: Mapping[str, Any], caller: Caller) -> bool:
    return domain.visible_to(doc, caller.role, caller.customer_id, _stack(caller))


def holder(customer_id: str | None) -> dict[str, Any] | None:
    """The TMF629 customer who holds (will hold) a product, with its href; None if unknown."""
    found = load_customer(customer_id) if customer_id else None
    return {**found[0], "href": tmf.href(customer_domain.API_ROOT, "customer", found[0]["id"])} if found else None


# --- TMF637 -------------------------------------------------------------------------------------
def create(body: Mapping[str, Any], caller: Caller) -> tuple[dict[str, Any], int]:
    _check(caller, *WRITERS)
    parties = body.get("relatedParty")
    named = [p.get("id") for p in parties or [] if isinstance(p, Mapping) and p.get("role") == domain.CUSTOMER_ROLE] \
        if isinstance(parties, list) else []
    if len(named) != 1 or not isinstance(named[0], str):
        raise bad_request("relatedParty must name the customer who holds the product (exactly one, role 'customer')")
    rid = tmf.new_id()
    customer = holder(named[0])
    if customer is None:
        raise unprocessable(f"customer {named[0]} is not an Omnishop customer", "unknownCustomer")
    doc = domain.new_product(body, rid, href(rid), customer, _stack(caller))
    version = store.insert(doc)
    if version is None:  # a new uuid taken: never seen, but never overwrite
        raise conflict(f"product {rid} exists already; send the request again")
    logger.info("product created", extra={"productId": rid, "by": caller.role, "status": doc["status"]})
    return access.shown(caller.role, domain.RESOURCE, doc), version


def read(product_id: str, caller: Caller) -> tuple[dict[str, Any], int]:
    _check(caller, *READERS)
    found = store.load(product_id)
    if found is None or not _visible(found[0], caller):
        raise not_found(domain.RESOURCE, product_id)
    return access.shown(caller.role, domain.RESOURCE, found[0]), found[1]


def _candidates(filters: list[tuple[str, str, list[str]]], caller: Caller) -> list[dict[str, Any]]:
    """The fewest products a Query (or a GetItem) gives for this caller and these filters."""
    def one(path: str) -> str | None:
        values = next((v for p, op, v in filters if p == path and op == "eq"), None)
        return values[0] if values and len(values) == 1 else None

    if one("id"):
        found = store.load(one("id") or "")
        return [found[0]] if found else []
    if caller.role == "customer":
        return store.of_customer(caller.customer_id or "")
    if caller.role == "stack":
        return store.of_stack(_stack(caller) or "")
    if one("relatedParty.id"):
        return store.of_customer(one("relatedParty.id") or "")
    return store.every()


def search(params: Mapping[str, str], caller: Caller) -> tuple[list[dict[str, Any]], int]:
    _check(caller, *READERS)
    q = tmf.list_query(params, attributes())
    if not q.filters and caller.role in ("agent", "customer", "stack"):   # DynamoDB pages (store.page)
        items, total = store.page(q.offset, q.limit,
                                  customer_id=(caller.customer_id or "") if caller.role == "customer" else None,
                                  stack=(_stack(caller) or "") if caller.role == "stack" else None)
    else:
        docs = [d for d in _candidates(q.filters, caller) if _visible(d, caller) and tmf.matches(d, q.filters)]
        items, total = tmf.page(docs, q.offset, q.limit)
    return [tmf.select_fields(access.shown(caller.role, domain.RESOURCE, d), q.fields) for d in items], total


def attributes() -> tmf.Attributes:
    """What a list of products may be filtered by (here and under customer/{id}/product)."""
    from chalicelib.inventory import schemas

    return tmf.attributes(domain.RESOURCE, "TMF637", "Product", [schemas.Product])


def _change(product_id: str, mutate: Callable[[dict[str, Any]], dict[str, Any] | None],
            expected: int | None = None, view: Callable[[dict[str, Any]], dict[str, Any]] = dict
            ) -> tuple[dict[str, Any], int, bool] | None:
    """db.change on a product: (doc, version, written), or None when there is no such product;
    `mutate` returning None (or the same document) writes nothing. A 412 carries the current
    product as `view` shows it to the caller."""
    def load() -> tuple[dict[str, Any], int]:
        found = store.load(product_id)
        if found is None:
            raise not_found(domain.RESOURCE, product_id)
        return found

    def changed(current: dict[str, Any], _version: int) -> dict[str, Any] | None:
        doc = mutate(current)
        return None if doc is None or doc == current else doc

    written = False

    def write(doc: dict[str, Any], version: int) -> int:
        nonlocal written
        new_version = store.replace(doc, version)
        written = True
        return new_version

    try:
        doc, version = db.change(f"product {product_id}", load, changed, write, expected=expected, shown=view)
    except NotFound:
        return None
    return doc, version, written


def update(product_id: str, patch: Mapping[str, Any], caller: Caller,
           if_match: str | None = None) -> tuple[dict[str, Any], int]:
    read(product_id, caller)
    _check(caller, *WRITERS)
    at = tmf.now_iso()
    done = _change(product_id, lambda current: domain.patched(current, patch, at), tmf.parse_if_match(if_match),
                   view=lambda doc: access.shown(caller.role, domain.RESOURCE, doc))
    if done is None:
        raise not_found(domain.RESOURCE, product_id)
    logger.info("product changed", extra={"productId": product_id, "by": caller.role, "fields": sorted(patch)})
    return access.shown(caller.role, domain.RESOURCE, done[0]), done[1]


def delete(product_id: str, caller: Caller, if_match: str | None = None) -> None:
    db.delete(f"product {product_id}", lambda: read(product_id, caller),   # 404 for one who may not see it
              lambda version: store.delete(product_id, version), check=lambda _doc: _check(caller, *WRITERS),
              expected=tmf.parse_if_match(if_match))
    logger.info("product deleted", extra={"productId": product_id, "by": caller.role})


# --- for other contexts -------------------------------------------------------------------------
def products_of(customer_id: str) -> list[dict[str, Any]]:
    """Every product of a customer, terminated ones included (one Query)."""
    return store.of_customer(customer_id)


def held(customer_id: str) -> list[dict[str, Any]]:
    """What the customer holds now (not terminated): for the rules, recommendations, orders."""
    return [p for p in store.of_customer(customer_id) if domain.is_held(p)]


def create_for(customer_id: str, body: Mapping[str, Any], caller: Caller) -> tuple[dict[str, Any], int]:
    """POST customer/{id}/product (the route before TMF637): a product for that customer."""
    if not isinstance(body.get("relatedParty", []), list):
        raise bad_request("relatedParty must be a list")
    parties = [p for p in body.get("relatedParty") or [] if not (isinstance(p, Mapping)
                                                                  and p.get("role") == domain.CUSTOMER_ROLE)]
    _check(caller, *WRITERS)
    if load_customer(customer_id) is None:
        raise not_found("customer", customer_id)
    return create({"status": domain.ACTIVE, **domain.without_contract(body),
                   "relatedParty": [{"id": customer_id, "role": domain.CUSTOMER_ROLE, "@referredType": "Customer"},
                                    *parties]}, caller)


# --- from completed orders ----------------------------------------------------------------------
def _bundle(order: Mapping[str, Any], item_id: str, component: Mapping[str, Any], at: str,
            customer: Mapping[str, Any]) -> int:
    """The bundle product of order item `item_id` relates to `component` (made when missing)."""
    item = next((i for i in order.get("productOrderItem") or [] if i.get("id") == item_id), None)
    if item is None:
        logger.warning("a bundle component names no item of its order", extra={"orderId": order["id"]})
        return 0
    bid = domain.product_id(order["id"], item_id)
    made = store.insert(domain.bundle_from(order, item, bid, href(bid), at, customer)) is not None
    related = _change(bid, lambda doc: domain.with_component(doc, component))
    return int(made) + int(bool(related and related[2]))


def _end_components(bundle: Mapping[str, Any], order: Mapping[str, Any], item: Mapping[str, Any], at: str) -> int:
    """A completed `delete` item on a bundle product applied to the components it ends with it
    (inventory domain `ended_with_bundle`): each records the item once, so a replay writes nothing."""
    if item.get("action") != "delete":   # only ending a bundle ends its parts: read nothing else
        return 0
    customer_id = domain.customer_of(bundle)
    parts = [found[0] for found in map(store.load, domain.components(bundle)) if found]
    written = 0
    for part in domain.ended_with_bundle(item, parts):
        changed = _change(part["id"], lambda doc: domain.changed_by_item(doc, order, item, at, [])
                          if domain.customer_of(doc) == customer_id else None)
        written += int(bool(changed and changed[2]))
    return written


def record_completed(order: Mapping[str, Any], items: Sequence[Mapping[str, Any]], stack: str | None,
                     at: str) -> int:
    """Items of a child order that just completed, applied to the inventory of the customer of
    `order` (the customer's order, which the product ids derive from): an `add` creates the
    product (and relates it to its bundle's product), `modify`/`delete` change the product the item
    names (a `delete` on a bundle product ends its components too). Safe to repeat: returns how
    many products were written this time."""
    customer_id = domain.customer_of(order)
    customer = holder(customer_id)
    if customer is None:
        logger.warning("completed order items for no known customer", extra={"orderId": order.get("id")})
        return 0
    priced = {i.get("id"): i.get("itemPrice") or [] for i in order.get("productOrderItem") or []}
    written = 0
    for item in items:
        if item.get("action") == "add":
            pid = domain.product_id(order["id"], item["id"])
            doc = domain.from_order_item(order, item, pid, href(pid), at, customer, stack, priced.get(item["id"], []))
            written += store.insert(doc) is not None
            bundle_item = domain.bundled_in(item)
            if bundle_item:
                written += _bundle(order, bundle_item, doc, at, customer)
        elif item.get("action") in ("modify", "delete"):
            target = (item.get("product") or {}).get("id", "")
            changed = _change(target, lambda doc: domain.changed_by_item(doc, order, item, at, priced.get(item["id"], []))
                              if domain.customer_of(doc) == customer_id else None)
            if changed is None:
                logger.warning("a completed order item names a product not in the inventory",
                               extra={"orderId": order["id"], "productId": target})
            written += int(bool(changed and changed[2]))
            if changed and domain.customer_of(changed[0]) == customer_id:
                written += _end_components(changed[0], order, item, at)
    return written
