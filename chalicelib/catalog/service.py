"""Catalogue use cases: what the API and the functions call. Glue between the rules in
domain.py, the store, and the caller's rights."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from chalicelib import db, tmf
from chalicelib import access as rights
from chalicelib.auth import Caller, require
from chalicelib.catalog import domain, store
from chalicelib.catalog import search as keyword
from chalicelib.errors import forbidden, not_found, unprocessable

ADMIN = "catalog-admin"


def _kind(name: str) -> domain.Kind:
    return domain.kind(name)


etag = tmf.etag
_parse_if_match = tmf.parse_if_match


def _check_references(k: domain.Kind, doc: Mapping[str, Any]) -> None:
    for ref_kind, rid, where in domain.references(k, doc):
        if store.cache.get(ref_kind, rid) is None:
            raise unprocessable(f"{where} refers to {ref_kind} {rid}, which does not exist in this catalogue",
                                "unknownReference")


def _readable(k: domain.Kind, doc: Mapping[str, Any] | None, caller: Caller) -> bool:
    if doc is None:
        return False
    if caller.sees_published_only:
        return domain.visible(k, doc, caller.channel, tmf.now())
    return True


def _segment(k: domain.Kind, caller: Caller) -> str | None:
    """A logged-in customer's lists of offerings show her segment's and everyone's (business-only
    offerings are not listed to a residential customer); anyone else sees every segment."""
    if k.name != "productOffering" or caller.role != "customer":
        return None
    from chalicelib import customer   # the customer read the contact check made (cached)

    return customer.segment(caller.customer_id)


def _buyer_segment(params: Mapping[str, str], caller: Caller) -> str | None:
    """Whose prices a search's price bands are of (the segment pricing.prices_for is given): a
    customer's own segment; an agent searching for a customer (`customer=<id>`) that customer's;
    anyone else general prices, as an anonymous visitor pays. A customer naming another customer
    gets the 404 an unknown one gets; a role that may not read every customer may not name one."""
    from chalicelib import customer

    named = params.get("customer")
    if caller.role == "customer":
        if named not in (None, caller.customer_id):
            raise not_found("customer", str(named))
        return customer.segment(caller.customer_id)
    if named is None:
        return None
    if rights.scope(caller.role, "customer", rights.READ) != rights.ALL:
        raise forbidden(f"role {caller.role!r} may not search for a named customer (customer=): only an agent may")
    found = customer.segment(named)
    if found is None:
        raise not_found("customer", named)
    return found


def _check_read_rights(k: domain.Kind, caller: Caller) -> None:
    if k.is_job:
        require(caller, ADMIN)


# --- use cases --------------------------------------------------------------------------------
def create(kind_name: str, body: Mapping[str, Any], caller: Caller) -> tuple[dict[str, Any], int]:
    require(caller, ADMIN)
    k = _kind(kind_name)
    rid = tmf.new_id()
    doc = domain.new_resource(k, body, rid, tmf.href(domain.API_ROOT, k.name, rid), tmf.now_iso())
    _check_references(k, doc)
    return doc, store.insert(k.name, doc)


def read(kind_name: str, rid: str, caller: Caller) -> tuple[dict[str, Any], int]:
    k = _kind(kind_name)
    _check_read_rights(k, caller)
    # Authors read their own writes; channels read through the cache.
    found = store.load(k.name, rid) if caller.role == ADMIN else store.cache.get(k.name, rid)
    if found is None or not _readable(k, found[0], caller):
        raise not_found(k.name, rid)
    return found


def search(kind_name: str, params: Mapping[str, str], caller: Caller) -> tuple[list[dict[str, Any]], int]:
    items, total, _ = search_with_facets(kind_name, params, caller)
    return items, total


def search_with_facets(kind_name: str, params: Mapping[str, str],
                       caller: Caller) -> tuple[list[dict[str, Any]], int, dict[str, Any] | None]:
    """A list: one page, the total, and the facet counts when `facets=` asked for them (offerings)."""
    k = _kind(kind_name)
    _check_read_rights(k, caller)
    searchable = k.name == "productOffering"
    query = tmf.list_query(params, k.attributes, route_params=keyword.ROUTE_PARAMS if searchable else ())
    asked = keyword.ask(params) if searchable else keyword.Ask()
    buyer = _buyer_segment(params, caller) if searchable else None   # checked even when nothing is priced
    if asked.active:
        return _searched(k, query, asked, buyer, caller)
    if caller.role == ADMIN and not query.filters:
        # Authors read their own writes, a page at a time: the documents of this page only.
        items, total = store.page_kind(k.name, query.offset, query.limit)
        return [tmf.select_fields(d, query.fields) for d in items], total, None
    docs = store.cache.all(k.name) if caller.role != ADMIN else store.iter_kind(k.name, domain.name_filter(query.filters))
    at = tmf.now()
    segment = _segment(k, caller)
    hits = [d for d in docs
            if (not caller.sees_published_only or domain.visible(k, d, caller.channel, at))
            and domain.for_segment(d, segment) and tmf.matches(d, query.filters)]
    items, total = tmf.page(hits, query.offset, query.limit)
    return [tmf.select_fields(d, query.fields) for d in items], total, None


def _searched(k: domain.Kind, query: tmf.ListQuery, asked: keyword.Ask, buyer: str | None,
              caller: Caller) -> tuple[list[dict[str, Any]], int, dict[str, Any] | None]:
    """Keyword search, facet filters and counts over the index of the whole kind; visibility and
    attribute filters first: only what the caller may see is ranked and counted; price bands of
    the prices a customer of `buyer`'s segment pays (None: general prices)."""
    read = store.query_kind if caller.role == ADMIN else store.cache.all
    index = keyword.index_for(read(k.name), read("category"), read("productSpecification"),
                              read("productOfferingPrice"))
    at = tmf.now()
    seen = (index.visible(caller.channel, at, lambda d: domain.visible(k, d, caller.channel, at))
            if caller.sees_published_only else None)
    segment = _segment(k, caller)
    keep = (lambda d: domain.for_segment(d, segment) and tmf.matches(d, query.filters)) \
        if query.filters or segment else None
    found = index.select(asked, seen, keep, caller.channel, buyer)
    items, total = tmf.page([index.docs[p] for p in found], query.offset, query.limit)
    facets = index.facets(found, asked.facets, caller.channel, buyer) if asked.facets else None
    return [tmf.select_fields(d, query.fields) for d in items], total, facets


def _loader(k: domain.Kind, rid: str) -> Callable[[], tuple[dict[str, Any], int]]:
    def load() -> tuple[dict[str, Any], int]:
        found = store.load(k.name, rid)
        if found is None:
            raise not_found(k.name, rid)
        return found
    return load


def update(kind_name: str, rid: str, patch: Mapping[str, Any], caller: Caller,
           if_match: str | None = None) -> tuple[dict[str, Any], int]:
    require(caller, ADMIN)
    k = _kind(kind_name)

    def mutate(current: dict[str, Any], _version: int) -> dict[str, Any]:
        doc = domain.patched(k, current, patch, tmf.now_iso())
        _check_references(k, doc)
        return doc

    return db.change(f"{k.name} {rid}", _loader(k, rid), mutate,
                     lambda doc, version: store.replace(k.name, doc, version), expected=_parse_if_match(if_match))


def delete(kind_name: str, rid: str, caller: Caller, if_match: str | None = None) -> None:
    require(caller, ADMIN)
    k = _kind(kind_name)
    db.delete(f"{k.name} {rid}", _loader(k, rid), lambda version: store.remove(k.name, rid, version),
              check=lambda current: domain.check_deletable(k, current), expected=_parse_if_match(if_match))


def published_offering(rid: str, channel: str | None) -> dict[str, Any] | None:
    """For other contexts (basket, ordering): an offering sold now in a channel, from the cache."""
    k = _kind("productOffering")
    found = store.cache.get(k.name, rid)
    if found is None or not domain.visible(k, found[0], channel, tmf.now()):
        return None
    return found[0]
