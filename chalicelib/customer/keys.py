"""A customer's key in any table's by-owner index ("CUSTOMER#<id>"), the customer table's partition
key included: public (chalicelib.customer), and importable by other contexts' stores without
their import reaching the customer's service or store."""
from __future__ import annotations

CUSTOMER_PK = "CUSTOMER#"


def customer_pk(customer_id: str) -> str:
    return CUSTOMER_PK + customer_id


def customer_of(pk: str) -> str | None:
    return pk[len(CUSTOMER_PK):] if pk.startswith(CUSTOMER_PK) else None
