"""Fixtures for the appointment tests (moto in-process, chalice test client), with the demo
catalogue and customers loaded (Andrea lives in BS1 4DJ: area BS, two engineers per slot).
Responses are checked against the TMF646 v4 swagger's definitions (no CTK exists for TMF646)."""
import json

import jsonschema
import pytest

from tests.ctk.newman import SHARED
from tests.support import demo as demo_data

BASE = "/tmf-api/appointment/v4"
APPOINTMENTS = f"{BASE}/appointment"
SEARCH = f"{BASE}/searchTimeSlot"
SPEC = json.loads((SHARED / "tmf" / "specs" / "TMF646-Appointment-v4.0.0.swagger.json").read_text())


@pytest.fixture
def demo(aws, pump):
    demo_data.load("catalog", "customer", pump=pump)


def valid(doc, definition):
    """Raises if `doc` is not a TMF646 v4 `definition` (the swagger's definitions, jsonschema)."""
    validator = jsonschema.Draft4Validator({"$ref": f"#/definitions/{definition}", "definitions": SPEC["definitions"]},
                                           format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)
    return True


def free_slots(client, who, **body):
    status, found, _ = client.call("POST", SEARCH, who, body)
    assert status == 201, found
    valid(found, "SearchTimeSlot")
    return found["availableTimeSlot"]


def booking(slot, offering="po-broadband-500", **extra):
    return {"validFor": slot["validFor"],
            "relatedEntity": [{"id": offering, "role": "productOffering", "@referredType": "ProductOffering"}],
            **extra}


def book(client, who, slot, offering="po-broadband-500", **extra):
    status, doc, _ = client.call("POST", APPOINTMENTS, who, booking(slot, offering, **extra))
    assert status == 201, doc
    valid(doc, "Appointment")
    return doc


def taken(slot_id):
    """The slot's booking counter (tests may read the table directly)."""
    from chalicelib.appointment.models import SlotRecord

    try:
        return int(SlotRecord.get(f"slot#{slot_id}", consistent_read=True).taken or 0)
    except SlotRecord.DoesNotExist:
        return 0
