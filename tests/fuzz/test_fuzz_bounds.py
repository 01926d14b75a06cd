"""The bounds of the fuzz's drawn bodies (tests/fuzz/test_tmf_fuzz.py): arrays (`_bounded`) and, in
negative requests, unknown properties below the body (`_closed_below_the_body`)."""
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


def test_every_spec_but_the_unbounded_ones_is_drawn_bounded():
    import schemathesis
    from schemathesis import GenerationMode

    from tests.fuzz.test_tmf_fuzz import ARRAY_ITEMS, NEGATIVE_CLOSED, SPECS, UNBOUNDED, _drawn_schemas
    from tests.support import tmf_spec

    for name in ("TMF620-ProductCatalog-v4.0.0", "TMF622-ProductOrder-v4.0.0"):
        spec = tmf_spec.Spec(next(path for path in SPECS if path.name.startswith(name)))
        schema = schemathesis.openapi.from_path(str(spec.path))
        drawn = _drawn_schemas(spec, schema)
        if name.startswith(UNBOUNDED) or not ARRAY_ITEMS:   # OMNISHOP_FUZZ_ARRAY_ITEMS=0: no bound anywhere
            assert drawn[GenerationMode.POSITIVE] is schema
        else:
            for mode in GenerationMode.POSITIVE, GenerationMode.NEGATIVE:
                items = drawn[mode].raw_schema["definitions"]["ProductOrder_Create"]["properties"]["productOrderItem"]
                assert items["maxItems"] == ARRAY_ITEMS and "maxItems" not in spec.document["definitions"][
                    "ProductOrder_Create"]["properties"]["productOrderItem"]
        positive = drawn[GenerationMode.POSITIVE].raw_schema["definitions"]
        negative = drawn[GenerationMode.NEGATIVE].raw_schema["definitions"]
        nested = "ProductRef" if name.startswith("TMF622") else "CategoryRef"
        assert "additionalProperties" not in positive[nested]
        assert negative[nested].get("additionalProperties") is (False if NEGATIVE_CLOSED else None)


def test_negative_bodies_are_open_at_the_top_and_closed_below():
    from tests.fuzz.test_tmf_fuzz import _closed_below_the_body

    document = {"paths": {"/order": {"parameters": [{"in": "path", "name": "id", "type": "string"}],
                                     "post": {"parameters": [{"in": "body", "name": "o", "schema": {
                                         "$ref": "#/definitions/Order_Create"}}]}}},
                "definitions": {"Order_Create": {"type": "object", "properties": {"item": {"$ref": "#/definitions/Item"}}},
                                "Item": {"type": "object", "properties": {"id": {"type": "string"}}},
                                "Note": {"properties": {"text": {"type": "string"}}},
                                "Free": {"type": "object", "additionalProperties": {"type": "string"}},
                                "Any": {"type": "object"},
                                "Both": {"allOf": [{"$ref": "#/definitions/Item"}], "properties": {"x": {}}},
                                "Code": {"type": "string", "enum": ["a"]}}}
    closed = _closed_below_the_body(document)["definitions"]
    assert "additionalProperties" not in closed["Order_Create"]       # the body keeps its unknown keys
    assert closed["Item"]["additionalProperties"] is False and closed["Note"]["additionalProperties"] is False
    assert closed["Free"] == document["definitions"]["Free"]           # what the spec says stands
    assert closed["Any"] == {"type": "object"}                         # a free object stays free
    assert "additionalProperties" not in closed["Both"]                # a composition is left as it is
    assert closed["Code"] == {"type": "string", "enum": ["a"]}
    assert "additionalProperties" not in document["definitions"]["Item"]   # the spec is not changed
