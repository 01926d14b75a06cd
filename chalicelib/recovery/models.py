"""The recovery table: one small item per basket naming its current recovery session's
workflow execution, so the basket stream (and the customer stream, on consent withdrawn) can stop
it at once. Nothing else is kept here; the basket itself stays the source of truth.

    pk            execution               session              expires
    <basket id>   <basketId>-v<version>   <version it began>   TTL (epoch seconds)
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.db import meta


class RecoverySession(Model):
    Meta = meta("recovery")

    pk = UnicodeAttribute(hash_key=True)
    execution = UnicodeAttribute()
    session = NumberAttribute()
    expires = NumberAttribute(null=True)
