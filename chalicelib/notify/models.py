"""The notify table: one item per communicationMessage, versioned.

    pk           kind      sort              customer        due    due_at
    <message id> message   <created>#<id>    <customer id>   DUE    <when to send>

- by-kind: every message, newest first (agents, marketing): one Query.
- by-customer: a customer's messages, newest first: one Query.
- by-due (sparse): messages the platform itself must (re)send at `due_at` (API messages held by
  quiet hours or a provider's refusal for now); the notify-sweep schedule Queries it.
`request` is what to send (templates, fields, purpose, channels) so any attempt can finish it;
`lease` (epoch seconds) is how long the attempt sending it holds it. A deleted message stays as
a tombstone (no kind, no body content) until its TTL, so a retried send never sends it again.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db import ByKind, JsonBody, meta


class ByCustomer(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-customer"
        projection = AllProjection()

    customer = UnicodeAttribute(hash_key=True)
    sort = UnicodeAttribute(range_key=True)


class ByDue(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-due"
        projection = AllProjection()

    due = UnicodeAttribute(hash_key=True)
    due_at = UnicodeAttribute(range_key=True)


class MessageRecord(Model):
    Meta = meta("notify")

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(null=True)
    sort = UnicodeAttribute(null=True)
    customer = UnicodeAttribute(null=True)
    due = UnicodeAttribute(null=True)
    due_at = UnicodeAttribute(null=True)
    state = UnicodeAttribute(null=True)
    retryable = NumberAttribute(null=True)   # 1: a failed send the next attempt may retry
    attempts = NumberAttribute(null=True)
    lease = NumberAttribute(null=True)
    request = JsonBody(null=True)
    body = JsonBody(null=True)
    expires = NumberAttribute(null=True)
    version = VersionAttribute(null=True)

    by_kind = ByKind()
    by_customer = ByCustomer()
    by_due = ByDue()
