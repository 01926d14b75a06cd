"""Who may act for a business customer: the contact a customer token names (claim partyId) and
the roles the organisation gives it (access.CONTACT_RIGHTS), checked at the edge of every
customer route (access.check_route) against the stored organisation, not the token.

A customer token for an Individual customer is unaffected. A token for an Organization must
name a contact the organisation (or one of its parents, MAX_HIERARCHY_DEPTH levels up) lists
with a role that grants the route's right; otherwise 403 naming the roles that would.

The organisation's contacts are read once per container and customer and trusted for
settings.contact_cache_seconds() (0: read on every request): a contact an agent removes keeps
its rights at most that long in a warm container.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Mapping

from chalicelib import access, settings
from chalicelib.auth import Caller
from chalicelib.customer import domain, store
from chalicelib.errors import Forbidden


@dataclass(frozen=True)
class Organisation:
    """What the contact check needs of one customer: whether it is an organisation, who holds
    which role in it, and its parent."""
    customer_id: str
    organisation: bool
    roles: Mapping[str, frozenset[str]]
    parent: str | None
    segment: str = "residential"   # its market segment (the catalogue shows a customer its own)


_cache: dict[str, tuple[float, Organisation | None]] = {}
MAX_CACHED = 4096   # customers a container remembers; past it, it starts again (memory stays bounded)
_lock = threading.Lock()


def forget() -> None:
    """Forget every organisation read (tests switch between moto backends)."""
    with _lock:
        _cache.clear()


def _read(customer_id: str) -> Organisation | None:
    found = store.load_customer(customer_id)
    if found is None:
        return None
    doc = found[0]
    parties = {str(p.get("id")) for p in doc.get("relatedParty") or [] if isinstance(p, Mapping) and p.get("id")}
    return Organisation(customer_id, domain.is_organisation(doc),
                        {party: domain.contact_roles(doc, party) for party in parties}, domain.parent_id(doc),
                        domain.segment(doc))


def organisation(customer_id: str) -> Organisation | None:
    """The customer's contacts and parent (None: no such customer), cached for a short while."""
    ttl = settings.contact_cache_seconds()
    now = time.monotonic()
    with _lock:
        hit = _cache.get(customer_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = _read(customer_id)
    if ttl > 0 and value is not None:   # a customer made a moment later is seen at once
        with _lock:
            if len(_cache) >= MAX_CACHED:
                _cache.clear()
            _cache[customer_id] = (now + ttl, value)
    return value


def segment(customer_id: str | None) -> str | None:
    """A customer's market segment, from the same cached read (None: unknown customer)."""
    found = organisation(customer_id) if customer_id else None
    return found.segment if found else None


def roles(customer_id: str, party_id: str) -> frozenset[str]:
    """The roles `party_id` holds for `customer_id`: its own, and those it holds in the parents
    (a contact of a group acts for its subsidiaries), MAX_HIERARCHY_DEPTH levels up at most."""
    held: set[str] = set()
    seen: set[str] = set()
    current: str | None = customer_id
    while current is not None and current not in seen and len(seen) <= domain.MAX_HIERARCHY_DEPTH:
        seen.add(current)
        found = organisation(current)
        if found is None or not found.organisation:
            break
        held |= found.roles.get(party_id, frozenset())
        current = found.parent
    return frozenset(held)


def check(caller: Caller, right: str) -> None:
    """403 unless the customer caller may use `right` (access.CONTACT_RIGHTS) for its customer."""
    customer_id = caller.own_customer_id
    found = organisation(customer_id)
    if found is None or not found.organisation:
        if caller.party_id is not None and found is not None:
            raise Forbidden(f"customer {customer_id} is not an organisation: its token names no contact (partyId)",
                            "notAnOrganisation")
        return
    if not caller.party_id:
        raise Forbidden(f"customer {customer_id} is an organisation: it acts through a contact, and this token "
                        "names none (claim partyId)", "contactRequired")
    held = roles(customer_id, caller.party_id)
    if not held:
        raise Forbidden(f"party {caller.party_id} is not a contact of {customer_id}", "notAContact")
    if not access.contact_may(held, right):
        raise Forbidden(f"party {caller.party_id} is {', '.join(sorted(held))} of {customer_id}; to {right} it "
                        f"needs to be one of: {', '.join(access.contact_roles_for(right))}", "contactRoleRequired")

