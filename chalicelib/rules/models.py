"""The qualification table: one item per TMF679 productOfferingQualification answered (its
document in `body`). Answers are not changed after they are given, so there is no version.

    pk                 kind                            sort                        owner
    <qualification id> productOfferingQualification    <date>#<id>                 CUSTOMER#<id> | -

- by-kind: every qualification, oldest first (agents; lists read newest first).
- by-owner (sparse): a customer's qualifications (their list).
`expires` (TTL, epoch seconds) is the answer's `expirationDate`: an answer is kept while it holds.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.db import ByKind, ByOwner, JsonBody, meta


class QualificationRecord(Model):
    Meta = meta("qualification")

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(null=True)
    sort = UnicodeAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    body = JsonBody(null=True)
    expires = NumberAttribute(null=True)

    by_kind = ByKind()
    by_owner = ByOwner()
