"""Bookings for demos, benchmarks and tests that place orders of engineer-installed offerings:
the earliest free slots of the customer's area, booked through the service as an agent would,
one held booking per offering that needs an engineer (checkout takes a booking held for the
item's offering). No fixed data: the calendar is computed (domain.py)."""
from __future__ import annotations

from typing import Any

from chalicelib.appointment import domain, service
from chalicelib.auth import Caller
from chalicelib.basket import catalogue


def search_body(customer_id: str, postcode: str | None = None) -> dict[str, Any]:
    """A searchTimeSlot body: her address, or `postcode` when her record has none."""
    place = {"relatedPlace": {"id": postcode, "role": domain.PLACE_ROLE}} if postcode else {}
    return {"relatedParty": {"id": customer_id, "role": domain.CUSTOMER_ROLE, "@referredType": "Customer"}, **place}


def booking_body(search: dict[str, Any], slot: dict[str, Any], offering: str) -> dict[str, Any]:
    """An appointment body for `slot` (from a search made with `search`) for `offering`."""
    return {**search, "relatedParty": [search["relatedParty"]], "validFor": slot["validFor"],
            "relatedEntity": [{"id": offering, "role": domain.OFFERING_ROLE, "@referredType": "ProductOffering"}]}


def installed(customer_id: str, *offerings: str, postcode: str | None = None) -> list[dict[str, Any]]:
    """One held booking for each of `offerings` an engineer installs (the others need none), at
    her address or (when her record has none) at `postcode`, in an area served."""
    items = [{"id": str(n), "action": "add", "productOffering": {"id": o}} for n, o in enumerate(offerings)]
    needing = [i["productOffering"]["id"] for i in domain.engineer_items(items, catalogue.offering,
                                                                          catalogue.specification)]
    if not needing:
        return []
    agent = Caller(sub="agent-demo", role="agent")
    body = search_body(customer_id, postcode)
    slots = service.search(body, agent)["availableTimeSlot"]
    return [service.book(booking_body(body, slot, o), agent)[0] for slot, o in zip(slots, needing)]
