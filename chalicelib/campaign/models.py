"""The campaign table: a campaign and everything that belongs to it share one partition.

    pk                       sk                    what
    CAMPAIGN#<id>            CAMPAIGN              the campaign document (versioned; by-kind lists it)
    CAMPAIGN#<id>            STATS                 the report's counters (atomic ADDs)
    CAMPAIGN#<id>            RUN#<run id>          a run's checkpoint: the paging cursor, pages, candidates
    CAMPAIGN#<id>            TARGET#<tag>          one targeted customer: its outcome (once per campaign)
    CAMPAIGN#<id>            BASKET#<id> / ORDER#<id>  a basket / order attributed to the campaign (once)
    CAP#<customer id>        WEEK#<yyyy-Www>       the marketing messages a customer got that week

`tag` is derived from campaign and customer (domain.tag), so a retried send finds the same target
record, and the tracking code in a message (<campaign id>.<tag>) leads back to it without a read
of anything else.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute, VersionAttribute
from pynamodb.models import Model

from chalicelib.db import ByKind, JsonBody, meta


class CampaignRecord(Model):
    Meta = meta("campaign")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute(null=True)
    sort = UnicodeAttribute(null=True)
    body = JsonBody(null=True)
    version = VersionAttribute(null=True)

    by_kind = ByKind()


class CampaignItem(Model):
    """Stats, runs, targets, attributions and caps: written with conditions and ADDs, unversioned."""
    Meta = meta("campaign")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    state = UnicodeAttribute(null=True)
    customer = UnicodeAttribute(null=True)
    channel = UnicodeAttribute(null=True)
    cursor = UnicodeAttribute(null=True)
    landed = NumberAttribute(null=True)
    pages = NumberAttribute(null=True)
    candidates = NumberAttribute(null=True)
    ids = UnicodeSetAttribute(null=True)
    detail = JsonBody(null=True)
    expires = NumberAttribute(null=True)
    # counters of the STATS item
    targeted = NumberAttribute(null=True)
    sent = NumberAttribute(null=True)
    suppressedConsent = NumberAttribute(null=True)
    suppressedCap = NumberAttribute(null=True)
    deferred = NumberAttribute(null=True)
    failed = NumberAttribute(null=True)
    baskets = NumberAttribute(null=True)
    orders = NumberAttribute(null=True)
    revenue = NumberAttribute(null=True)
    runs = NumberAttribute(null=True)
