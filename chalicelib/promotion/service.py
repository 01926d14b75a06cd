"""TMF671 use cases: promotions created, read, listed, changed and deleted, and the live
promotions basket pricing evaluates. Glue between domain.py, the store and the caller's rights
(chalicelib/access.py "promotion"): catalog admins and marketing write them; agents read every
one; channels and customers read the live ones (active, inside validFor).

Pricing reads the promotions with one Query, trusted for OMNISHOP_PROMOTION_CACHE_SECONDS per
container (a write in this container drops it at once).
"""
from __future__ import annotations

import time
from typing import Any, Mapping

from chalicelib import access, db, deferred, settings, tmf
from chalicelib.auth import Caller
from chalicelib.customer.domain import check_size, validate_payload
from chalicelib.errors import bad_request, conflict, not_found, unprocessable
from chalicelib.observability import logger
from chalicelib.promotion import domain, store

# imported on first use: pricing validates no payload (chalicelib/deferred.py)
schemas = deferred.module("chalicelib.promotion.schemas")

ALWAYS_LISTED = ["href"]


def href(rid: str) -> str:
    return tmf.href(domain.API_ROOT, domain.RESOURCE, rid)


def _published_only(caller: Caller) -> bool:
    return access.check(caller, domain.RESOURCE, access.READ) == access.PUBLISHED


def create(body: Mapping[str, Any], caller: Caller) -> tuple[dict[str, Any], int]:
    access.check(caller, domain.RESOURCE, access.WRITE)
    validate_payload("promotion", schemas.PromotionCreate, body)
    domain.check(body)
    rid = tmf.new_id()
    doc = domain.new_promotion(body, rid, href(rid), tmf.now_iso())
    check_size("promotion", doc)
    version = store.insert(doc)
    if version is None:     # a new uuid taken: never seen, but never overwrite
        raise conflict(f"promotion {rid} exists already; send the request again")
    forget()
    logger.info("promotion created", extra={"promotionId": rid, "by": caller.role, "status": doc["lifecycleStatus"]})
    return doc, version


def read(promotion_id: str, caller: Caller) -> tuple[dict[str, Any], int]:
    published = _published_only(caller)
    found = store.load(promotion_id)
    if found is None or (published and not domain.live(found[0], tmf.now())):
        raise not_found(domain.RESOURCE, promotion_id)
    return found


def search(params: Mapping[str, str], caller: Caller) -> tuple[list[dict[str, Any]], int]:
    published = _published_only(caller)
    now = tmf.now()
    q = tmf.list_query(params, tmf.attributes(domain.RESOURCE, models=[schemas.PromotionCreate], extras=tmf.ENTITY))
    if not published and not q.filters:   # DynamoDB pages (store.page)
        items, total = store.page(q.offset, q.limit)
    else:
        docs = [d for d in store.promotions() if (not published or domain.live(d, now)) and tmf.matches(d, q.filters)]
        items, total = tmf.page(docs, q.offset, q.limit)
    return [tmf.select_fields(d, q.fields and q.fields + ALWAYS_LISTED) for d in items], total


def update(promotion_id: str, patch: Mapping[str, Any], caller: Caller,
           if_match: str | None = None) -> tuple[dict[str, Any], int]:
    access.check(caller, domain.RESOURCE, access.WRITE)
    validate_payload("promotion patch", schemas.PromotionPatch, patch)

    def mutate(current: dict[str, Any], _version: int) -> dict[str, Any]:
        try:
            doc = domain.patched(current, patch, tmf.now_iso())
        except ValueError as exc:
            raise bad_request(f"{exc} of a promotion cannot change", "readOnlyField") from None
        except LookupError as exc:
            raise unprocessable(str(exc.args[0]), "invalidLifecycleTransition") from None
        validate_payload("promotion", schemas.PromotionCreate, doc)
        domain.check(doc)
        check_size("promotion", doc)
        return doc

    doc, version = db.change(f"promotion {promotion_id}", lambda: read(promotion_id, caller), mutate, store.replace,
                             expected=tmf.parse_if_match(if_match))
    forget()
    logger.info("promotion changed", extra={"promotionId": promotion_id, "by": caller.role, "fields": sorted(patch)})
    return doc, version


def delete(promotion_id: str, caller: Caller, if_match: str | None = None) -> None:
    """Only a promotion still inDesign goes: one that was active is retired instead (sales name it)."""
    access.check(caller, domain.RESOURCE, access.WRITE)

    def check(current: Mapping[str, Any]) -> None:
        if current.get("lifecycleStatus", domain.IN_DESIGN) != domain.IN_DESIGN:
            raise unprocessable(f"promotion {promotion_id} is {current.get('lifecycleStatus')}: retire it "
                                "(PATCH lifecycleStatus=retired); only an inDesign promotion is deleted",
                                "invalidLifecycleTransition")

    db.delete(f"promotion {promotion_id}", lambda: read(promotion_id, caller),
              lambda version: store.remove(promotion_id, version), check=check, expected=tmf.parse_if_match(if_match))
    forget()
    logger.info("promotion deleted", extra={"promotionId": promotion_id, "by": caller.role})


# --- for pricing (chalicelib/basket/pricing.py) -----------------------------------------------------
_cached: dict[str, Any] = {}


def active() -> list[dict[str, Any]]:
    """The active promotions (the evaluator checks validFor and criteria at the sale's moment)."""
    if not _cached or time.monotonic() - _cached["at"] >= settings.promotion_cache_seconds():
        _cached.update(at=time.monotonic(),
                       docs=[d for d in store.promotions() if d.get("lifecycleStatus") == domain.ACTIVE])
    return list(_cached["docs"])


def forget() -> None:
    _cached.clear()
