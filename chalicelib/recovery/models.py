"""The recovery table: one small item per basket naming its current recovery session's
workflow execution, so the basket stream (and the customer stream, on consent withdrawn) can stop
it at once. Nothing else is kept here; the basket itself stays the source of truth.

    pk                 execution               session              expires              reminded
    <basket id>        <basketId>-v<version>   <version it began>   TTL (epoch seconds)
    CAP#<customer id>  -                       -                    last reminder + cap  {basket id: epoch s}

The CAP# item is the per-customer outreach cap over a rolling window (recovery domain
`cap_admits`): read, decided, and written back only if no other writer moved it first
(`cap_version`, a conditional put).
"""
from __future__ import annotations

from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.db import meta


class RecoverySession(Model):
    Meta = meta("recovery")

    pk = UnicodeAttribute(hash_key=True)
    execution = UnicodeAttribute(null=True)
    session = NumberAttribute(null=True)
    expires = NumberAttribute(null=True)
    reminded: MapAttribute[str, Any] = MapAttribute(null=True)   # CAP# items: basket id -> when she was reminded (epoch s)
    cap_version = NumberAttribute(null=True)  # CAP# items: moved by every write
