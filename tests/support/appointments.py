"""Book installation slots for a test's order: an order item whose offering needs an engineer
(broadband, TV, Home Security, a bundle of them) needs an appointment at checkout; a booking held
for the item's offering is the one checkout takes (chalicelib/appointment/service.order_checkout).
`installed` books in-process (chalicelib/appointment/demo.py); `installed_over_http` against a
local runtime (journeys). Each takes the earliest free slots of the customer's area."""
from __future__ import annotations

from typing import Any

SEARCH = "/tmf-api/appointment/v4/searchTimeSlot"
APPOINTMENTS = "/tmf-api/appointment/v4/appointment"


def installed(customer_id: str, *offerings: str, postcode: str | None = None) -> list[dict[str, Any]]:
    """One held booking for each of `offerings` an engineer installs (the others need none)."""
    from chalicelib.appointment import demo

    return demo.installed(customer_id, *offerings, postcode=postcode)


def installed_over_http(runtime: Any, headers: dict[str, str], customer_id: str, *offerings: str,
                        postcode: str | None = None) -> list[dict[str, Any]]:
    """The same against a local runtime, made with `headers` (an agent's or the customer's):
    name only the offerings an engineer installs."""
    from chalicelib.appointment import demo

    body = demo.search_body(customer_id, postcode)
    status, _, found = runtime.request("POST", SEARCH, body, headers)
    assert status == 201, found
    out = []
    for slot, offering in zip(found["availableTimeSlot"], offerings):
        status, _, doc = runtime.request("POST", APPOINTMENTS, demo.booking_body(body, slot, offering), headers)
        assert status == 201, doc
        out.append(doc)
    return out
