"""The appointment table: appointments (versioned), slot counters and time-slot searches.

    pk                 kind          sort                    owner          due            until     taken  expires
    <appointment id>   appointment   <creationDate>#<id>     CUSTOMER#<id>  held | remind  <iso>     -      -
    slot#<slot id>     -             -                       -              -              -         <n>    -
    <search id>        -             -                       -              -              -         -      <epoch>
                                                                                                  (+ searcher)

- A slot's `taken` counts the bookings holding it: a booking adds one only while it is below the
  slot's capacity (one conditional update, in the same transaction as the appointment), a
  cancellation takes one off: double booking is impossible whatever the concurrency.
- by-kind: every appointment (agents' list); by-owner: a customer's appointments (one Query).
- by-due (sparse): `due` = held (an unordered booking, `until` its hold's end: the sweep cancels
  it) or remind (a confirmed one, `until` when its day-before SMS is due); removed once done.
- `expires` (TTL): a search is kept a day (GET searchTimeSlot/{id}), then DynamoDB deletes it.
  `searcher` says whose it is (domain.searcher): only they (or an agent) read it again.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db import ByKind, ByOwner, JsonBody, meta


class ByDue(GlobalSecondaryIndex):
    """Appointments with something due (a hold to end, an SMS to send), soonest first."""

    class Meta:
        index_name = "by-due"
        projection = AllProjection()

    due = UnicodeAttribute(hash_key=True)
    until = UnicodeAttribute(range_key=True)


class AppointmentRecord(Model):
    Meta = meta("appointment")

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(null=True)
    sort = UnicodeAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    due = UnicodeAttribute(null=True)
    until = UnicodeAttribute(null=True)
    expires = NumberAttribute(null=True)
    searcher = UnicodeAttribute(null=True)
    body = JsonBody(null=True)
    version = VersionAttribute(null=True)

    by_kind = ByKind()
    by_owner = ByOwner()
    by_due = ByDue()


class SlotRecord(Model):
    """A slot's booking counter (same table, no version: it changes by ADD under a condition)."""
    Meta = meta("appointment")

    pk = UnicodeAttribute(hash_key=True)
    taken = NumberAttribute(null=True)
