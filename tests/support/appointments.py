"""Book installation slots for a test's order: an order item whose offering needs an engineer
(broadband, TV, Home Security, a bundle of them) needs an appointment at checkout; a booking held
for the item's offering is the one checkout takes (chalicelib/appointment/service.order_checkout).
`installed` books in-process through the service as an agent would; `installed_over_http` against
a local runtime (journeys). Each takes the earliest free slots of the customer's area."""
from __future__ import annotations

from typing import Any

SEARCH = "/tmf-api/appointment/v4/searchTimeSlot"
APPOINTMENTS = "/tmf-api/appointment/v4/appointment"


def _search(customer_id: str, postcode: str | None) -> dict[str, Any]:
    """The search body: her address, or `postcode` when her record has none."""
    place = {"relatedPlace": {"id": postcode, "role": "installationAddress"}} if postcode else {}
    return {"relatedParty": {"id": customer_id, "role": "customer", "@referredType": "Customer"}, **place}


def _booking(search: dict[str, Any], slot: dict[str, Any], offering: str) -> dict[str, Any]:
    return {**search, "relatedParty": [search["relatedParty"]], "validFor": slot["validFor"],
            "relatedEntity": [{"id": offering, "role": "productOffering", "@referredType": "ProductOffering"}]}


def installed(customer_id: str, *offerings: str, postcode: str | None = None) -> list[dict[str, Any]]:
    """One held booking for each of `offerings` an engineer installs (the others need none), for
    `customer_id`, at her address or (when her record has none) at `postcode`; either must be in
    a served area (Andrea's BS1 4DJ is)."""
    from chalicelib.appointment import domain, service
    from chalicelib.auth import Caller
    from chalicelib.basket.service import catalogue

    items = [{"id": str(n), "action": "add", "productOffering": {"id": o}} for n, o in enumerate(offerings)]
    needing = [i["productOffering"]["id"] for i in domain.engineer_items(items, catalogue.offering,
                                                                          catalogue.specification)]
    if not needing:
        return []
    agent = Caller(sub="agent-tests", role="agent")
    body = _search(customer_id, postcode)
    slots = service.search(body, agent)["availableTimeSlot"]
    return [service.book(_booking(body, slot, o), agent)[0] for slot, o in zip(slots, needing)]


def installed_over_http(runtime: Any, headers: dict[str, str], customer_id: str, *offerings: str,
                        postcode: str | None = None) -> list[dict[str, Any]]:
    """The same against a local runtime, made with `headers` (an agent's or the customer's):
    name only the offerings an engineer installs."""
    body = _search(customer_id, postcode)
    status, _, found = runtime.request("POST", SEARCH, body, headers)
    assert status == 201, found
    out = []
    for slot, offering in zip(found["availableTimeSlot"], offerings):
        status, _, doc = runtime.request("POST", APPOINTMENTS, _booking(body, slot, offering), headers)
        assert status == 201, doc
        out.append(doc)
    return out
