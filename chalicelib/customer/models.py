"""The customer table: a customer and everything that belongs to them share one partition.

    pk                       sk                                what
    CUSTOMER#<customer id>   CUSTOMER                          the TMF629 customer document
    CUSTOMER#<customer id>   AUDIT#<time>#<id>                 a consent / contact preference change
    CUSTOMER#<customer id>   INTERACTION#<time>#<id>           a TMF683 partyInteraction
    VISITOR#<visitor id>     INTERACTION#<time>#<id>           an anonymous visitor's interaction
    VISITOR#<visitor id>     LINK                              the visitor was identified as a customer
    UNLINKED#<yyyy-mm-dd>    INTERACTION#<time>#<id>           an interaction naming no customer or visitor

The products a customer holds are in the inventory table (chalicelib/inventory). Sort keys put
interactions in time order (newest first is one Query with ScanIndexForward=false and a Limit), so the 360 view
costs the same whatever the length of the history.
"""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, VersionAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db import ByKind, JsonBody, meta


class ById(GlobalSecondaryIndex):
    """A resource by its TMF id alone (an interaction's partition moves when a visitor is identified)."""

    class Meta:
        index_name = "by-id"
        projection = AllProjection()

    rid = UnicodeAttribute(hash_key=True)


class ByJourney(GlobalSecondaryIndex):
    """Every touch of one journey of one owner (key `<partition>|<journey key>`), across channels,
    in time order."""

    class Meta:
        index_name = "by-journey"
        projection = AllProjection()

    journey = UnicodeAttribute(hash_key=True)
    sort = UnicodeAttribute(range_key=True)


class CustomerItem(Model):
    Meta = meta("customer")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    rid = UnicodeAttribute(null=True)          # TMF id of the resource held in `body`
    kind = UnicodeAttribute(null=True)         # customer | interaction (listed resources only)
    sort = UnicodeAttribute(null=True)         # customer: lower-case name#id; interaction: time#id
    journey = UnicodeAttribute(null=True)      # an interaction's journey: <pk>|<journey key> (store.journey_index_key)
    moved_from = UnicodeAttribute(null=True)   # set on interactions moved by an identity hand-over
    body = JsonBody(null=True)
    # a customer's projected campaign targeting facts ({"held": [[offering id, contract end], ...]}),
    # kept by the campaign context (chalicelib/campaign/targeting.project_targeting); a customer
    # write replaces the item without it, and the next campaign run projects it again
    targeting = JsonBody(null=True)
    version = VersionAttribute(null=True)

    by_id = ById()
    by_kind = ByKind()
    by_journey = ByJourney()
