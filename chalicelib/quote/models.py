"""The quote table: one item per quote (its lines inside it, at most domain.MAX_ITEMS), the
versions sent before, and the claims that make emails once-only.

    pk                     kind    sort               owner          waiting   due    until
    <quote id>             quote   <quoteDate>#<id>   CUSTOMER#<id>  pending   open   <validFor end>
    <quote id>#v<n>        -       -                  -              -         -      -          (version n as sent)

- by-kind: every quote (the agents' list); by-owner: a customer's quotes (one Query each).
- by-waiting (sparse): quotes pending approval, oldest first: the approvers' worklist.
- by-due (sparse): open quotes (inProgress, pending, approved) by the end of their validity: the
  expiry sweep's one Query.
"""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, VersionAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db import ByKind, ByOwner, JsonBody, meta


class ByWaiting(GlobalSecondaryIndex):
    """Quotes waiting for an approver, oldest first."""

    class Meta:
        index_name = "by-waiting"
        projection = AllProjection()

    waiting = UnicodeAttribute(hash_key=True)
    sort = UnicodeAttribute(range_key=True)


class ByDue(GlobalSecondaryIndex):
    """Open quotes, soonest end of validity first."""

    class Meta:
        index_name = "by-due"
        projection = AllProjection()

    due = UnicodeAttribute(hash_key=True)
    until = UnicodeAttribute(range_key=True)


class QuoteRecord(Model):
    Meta = meta("quote")

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(null=True)
    sort = UnicodeAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    waiting = UnicodeAttribute(null=True)
    due = UnicodeAttribute(null=True)
    until = UnicodeAttribute(null=True)
    body = JsonBody(null=True)
    version = VersionAttribute(null=True)

    by_kind = ByKind()
    by_owner = ByOwner()
    by_waiting = ByWaiting()
    by_due = ByDue()
