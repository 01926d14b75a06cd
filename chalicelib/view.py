"""The base of the thin typed views over stored TMF documents (`basket.domain.Basket`,
`ordering.domain.Order`, `quote.domain.Quote`, ...). The JSON document stays the record (TMF lets
a client add fields the code never reads); a view names what the code decides with, and reads
a document that is missing a part, or has it in the wrong shape, as not having it."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping


@dataclasses.dataclass(frozen=True)
class Document:
    doc: Mapping[str, Any]

    @property
    def id(self) -> str:
        return str(self.doc["id"])

    @property
    def status(self) -> str | None:
        """TMF's `status` (baskets, payments, appointments, stock, products; orders and quotes
        have `state`)."""
        return self.doc.get("status")

    @property
    def customer_id(self) -> str | None:
        """The party with role customer (TMF roles are compared without case)."""
        return self.party("customer")

    def party(self, role: str) -> str | None:
        """The id of the first relatedParty with this role."""
        parties = self.doc.get("relatedParty")
        wanted = role.lower()
        return next((p.get("id") for p in parties if isinstance(p, Mapping)
                     and str(p.get("role") or "").lower() == wanted), None) if isinstance(parties, list) else None

    def ref(self, key: str) -> str | None:
        """The id of the reference held under `key` (productOffering, place, calendarEvent...)."""
        return ref_id(self.doc, key)


def ref_id(doc: Mapping[str, Any], key: str) -> Any:
    """The id of the reference `doc` holds under `key` (an item's productOffering or product, a
    body's relatedPlace...), None when there is none or it is not an object: the one way to read
    `{"key": {"id": ...}}` from a JSON document."""
    value = doc.get(key)
    return value.get("id") if isinstance(value, Mapping) else None
