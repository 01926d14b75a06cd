"""The quote table: one item per quote, the versions sent before, and the claims that make
emails once-only. A quote of more than 50 lines keeps them in pages of the quote-page table
(chalicelib/pages.py: `pages` says how many), a version kept as sent too.

    pk                     kind    sort               owner          waiting   due    until
    <quote id>             quote   <quoteDate>#<id>   CUSTOMER#<id>  pending   open   <validFor end>
    <quote id>#v<n>        -       -                  -              -         -      -          (version n as sent)

- by-kind: every quote (the agents' list); by-owner: a customer's quotes (one Query each).
- by-waiting (sparse): quotes pending approval, oldest first: the approvers' worklist.
- by-due (sparse): open quotes (inProgress, pending, approved) by the end of their validity: the
  expiry sweep's one Query.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.pages import PageRecord
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
    pages = NumberAttribute(null=True)   # its lines' pages, when it has more than a page of them
    version = VersionAttribute(null=True)

    by_kind = ByKind()
    by_owner = ByOwner()
    by_waiting = ByWaiting()
    by_due = ByDue()


class QuotePage(PageRecord):
    """A page of a large quote's lines, or of a version of it kept as sent (chalicelib/pages.py)."""
    Meta = meta("quote-page")
