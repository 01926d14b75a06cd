"""Book installation slots for a test's order: an order item whose offering needs an engineer
(broadband, TV, Home Security, a bundle of them) needs an appointment at checkout; a booking held
for the item's offering is the one checkout takes (chalicelib/appointment/service.order_checkout).
Books through the service as an agent would, the earliest free slot of the customer's area."""
from __future__ import annotations

from typing import Any


def installed(customer_id: str, *offerings: str, postcode: str | None = None) -> list[dict[str, Any]]:
    """One held booking per offering for `customer_id`, at her address or (when her record has
    none) at `postcode`; either must be in a served area (Andrea's BS1 4DJ is)."""
    from chalicelib.appointment import service
    from chalicelib.auth import Caller

    agent = Caller(sub="agent-tests", role="agent")
    party = {"id": customer_id, "role": "customer", "@referredType": "Customer"}
    place = {"relatedPlace": {"id": postcode, "role": "installationAddress"}} if postcode else {}
    slots = service.search({"relatedParty": party, **place}, agent)["availableTimeSlot"]
    return [service.book({"validFor": slots[n]["validFor"], "relatedParty": [party], **place,
                          "relatedEntity": [{"id": o, "role": "productOffering", "@referredType": "ProductOffering"}]},
                         agent)[0]
            for n, o in enumerate(offerings)]
