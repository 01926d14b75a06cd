"""Inventory table stream -> TMF637 hub events (ProductCreateEvent, ProductStateChangeEvent,
ProductAttributeValueChangeEvent, ProductDeleteEvent): chalicelib/hub/entry.py."""
from __future__ import annotations

from chalicelib.hub.entry import resource_events
from chalicelib.inventory import domain

record_handler, handler = resource_events(domain.RESOURCE, domain.TYPE, domain.API_NAME, status="status",
                                          metric="InventoryStreamRecords")
