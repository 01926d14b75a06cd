"""The array bound of the fuzz's drawn bodies (tests/fuzz/test_tmf_fuzz.py `_bounded`)."""
from __future__ import annotations

from tests.fuzz.test_tmf_fuzz import _bounded


def test_arrays_the_spec_leaves_unbounded_get_the_bound_and_nothing_else_changes():
    document = {"definitions": {"Order": {"type": "object", "properties": {
        "item": {"type": "array", "items": {"$ref": "#/definitions/Item"}},
        "note": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "pair": {"type": "array", "items": {"type": "string"}, "minItems": 6},
        "type": {"type": "string", "enum": ["array"]},
    }}}, "paths": {"/order": {"get": {"parameters": [{"in": "query", "name": "ids", "type": "array"}]}}}}
    bounded = _bounded(document, 4)
    properties = bounded["definitions"]["Order"]["properties"]
    assert properties["item"] == {"type": "array", "items": {"$ref": "#/definitions/Item"}, "maxItems": 4}
    assert properties["note"]["maxItems"] == 2              # a tighter bound of the spec's is kept
    assert "maxItems" not in properties["pair"]              # an array that may not hold 4 is left alone
    assert properties["type"] == {"type": "string", "enum": ["array"]}
    assert bounded["paths"]["/order"]["get"]["parameters"][0]["maxItems"] == 4
    assert "maxItems" not in document["definitions"]["Order"]["properties"]["item"]   # the spec is not changed
