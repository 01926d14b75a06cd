"""The promotion table: one item per TMF671 promotion, versioned.

    pk              kind        sort                    body
    <promotion id>  promotion   <name lowercased>#<id>  the promotion document

- by-kind: every promotion, by name: the list and the evaluator's (cached) read are one Query.
- The stream publishes the TMF671 hub events (functions/promotion_events.py).
"""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, VersionAttribute
from pynamodb.models import Model

from chalicelib.db import ByKind, JsonBody, meta


class PromotionRecord(Model):
    Meta = meta("promotion")

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(null=True)
    sort = UnicodeAttribute(null=True)
    body = JsonBody(null=True)
    version = VersionAttribute(null=True)

    by_kind = ByKind()
