from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

from chalicelib.db import meta


class Subscription(Model):
    """A listener registered on one API's hub. Partition per API: fan-out is one Query, made
    only when that API's stamp moved (service.SubscriptionCache)."""
    Meta = meta("hub")

    api = UnicodeAttribute(hash_key=True)        # e.g. "productCatalogManagement"
    id = UnicodeAttribute(range_key=True)
    callback = UnicodeAttribute()
    # e.g. "eventType=ProductOfferingCreateEvent" (not named `query`: that is Model.query)
    event_query = UnicodeAttribute(null=True, attr_name="query")
    owner = UnicodeAttribute()                   # sub of the caller that registered it
    # Who the subscriber is, for chalicelib/access.py at publish time (none: it receives nothing).
    role = UnicodeAttribute(null=True)
    channel = UnicodeAttribute(null=True)
    stack = UnicodeAttribute(null=True)
    created = UnicodeAttribute()


class HubStamp(Model):
    """One API's subscription stamp on the same table (`api` = "<api>#stamp", `id` = "stamp"),
    moved in the same transaction as every subscribe and unsubscribe: a container that cached
    the API's subscriptions reads it (one GetItem) to know whether its copy is still good."""
    Meta = meta("hub")

    api = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    stamp = UnicodeAttribute()
