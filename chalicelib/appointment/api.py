"""TMF646 appointment v4 routes. Thin: parse, call the service, shape the reply.

  POST   /searchTimeSlot                     free installation slots in a postcode area (201)
  GET    /searchTimeSlot/{sid}               a search made in the last day
  GET    /appointment[?fields=&offset=&limit=&<attribute>=]   list (X-Total-Count, X-Result-Count)
  POST   /appointment                        book a slot: held until ordered (201), or 409/422 and nothing held
  GET    /appointment/{aid}                  ETag
  PATCH  /appointment/{aid}                  {"validFor": ...} reschedules, {"status": "cancelled"} cancels
"""
from __future__ import annotations

from chalice import Blueprint

from chalicelib import deferred, tmf
from chalicelib.http import Call, Reply, created, endpoint, listing, with_etag

service = deferred.module("chalicelib.appointment.service")

bp = Blueprint(__name__)


@endpoint(bp, "/searchTimeSlot", ["POST"], name="create_search_time_slot", body="SearchTimeSlotCreate")
def search(call: Call) -> Reply:
    return created(service.search(call.json(), call.caller))


@endpoint(bp, "/searchTimeSlot/{sid}", ["GET"], name="get_search_time_slot")
def get_search(call: Call, sid: str) -> Reply:
    return Reply(tmf.select_fields(service.read_search(sid, call.caller), tmf.field_selection(call.query)))


@endpoint(bp, "/appointment", ["GET"], name="list_appointment")
def list_appointments(call: Call) -> Reply:
    return listing(*service.search_appointments(call.query, call.caller))


@endpoint(bp, "/appointment", ["POST"], name="create_appointment", body="AppointmentCreate")
def book(call: Call) -> Reply:
    doc, version = service.book(call.json(), call.caller)
    return with_etag(doc, version, 201)


@endpoint(bp, "/appointment/{aid}", ["GET"], name="get_appointment")
def get_appointment(call: Call, aid: str) -> Reply:
    doc, version = service.read(aid, call.caller)
    return with_etag(tmf.select_fields(doc, tmf.field_selection(call.query)), version)


@endpoint(bp, "/appointment/{aid}", ["PATCH"], name="patch_appointment", body="AppointmentPatch")
def patch_appointment(call: Call, aid: str) -> Reply:
    doc, version = service.update(aid, call.json(), call.caller)
    return with_etag(doc, version)
