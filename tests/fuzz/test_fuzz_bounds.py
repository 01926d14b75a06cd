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


def test_every_spec_but_the_unbounded_ones_is_drawn_bounded():
    import schemathesis

    from tests.fuzz.test_tmf_fuzz import ARRAY_ITEMS, SPECS, UNBOUNDED, _drawn_schema
    from tests.support import tmf_spec

    for name in ("TMF620-ProductCatalog-v4.0.0", "TMF622-ProductOrder-v4.0.0"):
        spec = tmf_spec.Spec(next(path for path in SPECS if path.name.startswith(name)))
        schema = schemathesis.openapi.from_path(str(spec.path))
        drawn = _drawn_schema(spec, schema)
        if name.startswith(UNBOUNDED) or not ARRAY_ITEMS:   # OMNISHOP_FUZZ_ARRAY_ITEMS=0: no bound anywhere
            assert drawn is schema
        else:
            items = drawn.raw_schema["definitions"]["ProductOrder_Create"]["properties"]["productOrderItem"]
            assert items["maxItems"] == ARRAY_ITEMS and "maxItems" not in spec.document["definitions"][
                "ProductOrder_Create"]["properties"]["productOrderItem"]
