"""TMF620 productCatalogManagement v4 routes. Thin: parse, call the service, shape the reply."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import deferred, tmf
from chalicelib.catalog import domain
from chalicelib.hub import api as hub_api
from chalicelib.http import AuthenticatedCall, Reply, created, endpoint, listing, no_content

# imported by the first request that uses it (a cold start loads only what it serves)
if TYPE_CHECKING:   # mypy reads the module and checks the calls into it
    from chalicelib.catalog import service
else:
    service = deferred.module("chalicelib.catalog.service")

bp = Blueprint(__name__)

SEARCH_DOC = """List product offerings, or search them for a storefront (Omnishop's additive extension).

`q=home+secu`: keyword search over name, description, category names and characteristic values,
prefix, stem and typo tolerant, ranked best first, paged like every list (at most 200
characters, 8 words). `facets=category,priceRange,contractTerm,stack,brand,colour` (with or
without `q`): the answer becomes `{"items": [...the page...], "facets": {"category": [{"value",
"name", "count", "filter"}], ...}}`, counted over the whole visible, filtered result set; without
`facets=` the answer is the plain TMF array. Each facet value's `filter` narrows the list to it:
TMF filters where the offering has the attribute (`category.id=...`,
`productOfferingTerm.duration.amount=24`), else `priceRange=20-50`, `stack=...`, `brand=...`,
`colour=...` (comma: any of). An unknown facet is a 400 (`unknownFacet`). Price bands are of the
prices the searcher pays: a customer's segment prices (business prices), general ones for a
visitor; an agent searching for a customer names her with `customer=<id>` (404 unknown; 403 for
a role that may not read every customer)."""


def _with_etag(doc: dict, version: int, status: int = 200) -> Reply:
    reply = created(doc) if status == 201 else Reply(doc, status)
    reply.headers["ETag"] = service.etag(version)
    return reply


def _routes(kind: str, writable: bool) -> None:
    @endpoint(bp, f"/{kind}", ["GET"], name=f"list_{kind}")
    def list_resources(call: AuthenticatedCall) -> Reply:
        items, total, facets = service.search_with_facets(kind, call.query, call.caller)
        reply = listing(items, total)
        if facets is not None:   # asked for with facets=: the page and the counts in one envelope
            reply.body = {"items": items, "facets": facets}
        return reply

    if kind == "productOffering":
        list_resources.__doc__ = SEARCH_DOC

    @endpoint(bp, f"/{kind}", ["POST"], name=f"create_{kind}", body=domain.KINDS[kind].type_name)
    def create_resource(call: AuthenticatedCall) -> Reply:
        doc, version = service.create(kind, call.json(), call.caller)
        return _with_etag(doc, version, 201)

    @endpoint(bp, f"/{kind}/{{rid}}", ["GET"], name=f"get_{kind}")
    def get_resource(call: AuthenticatedCall, rid: str) -> Reply:
        doc, version = service.read(kind, rid, call.caller)
        return _with_etag(tmf.select_fields(doc, tmf.field_selection(call.query)), version)

    @endpoint(bp, f"/{kind}/{{rid}}", ["DELETE"], name=f"delete_{kind}")
    def delete_resource(call: AuthenticatedCall, rid: str) -> Reply:
        service.delete(kind, rid, call.caller, call.header("if-match"))
        return no_content()

    if writable:
        @endpoint(bp, f"/{kind}/{{rid}}", ["PATCH"], name=f"patch_{kind}", body=domain.KINDS[kind].type_name)
        def patch_resource(call: AuthenticatedCall, rid: str) -> Reply:
            doc, version = service.update(kind, rid, call.json(), call.caller, call.header("if-match"))
            return _with_etag(doc, version)


for _kind in domain.KINDS.values():
    _routes(_kind.name, writable=not _kind.is_job)

hub_api.register(bp, domain.API_NAME, domain.API_ROOT)
