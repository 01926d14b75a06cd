"""Promotion table stream -> TMF671 hub events (PromotionCreateEvent, PromotionStateChangeEvent,
PromotionAttributeValueChangeEvent, PromotionDeleteEvent): chalicelib/hub/entry.py."""
from __future__ import annotations

from chalicelib.hub.entry import resource_events
from chalicelib.promotion import domain

record_handler, handler = resource_events(domain.RESOURCE, domain.TYPE, domain.API_NAME, status="lifecycleStatus",
                                          metric="PromotionStreamRecords")
