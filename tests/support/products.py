"""The products customers hold (TMF637) as the tests see them: the table, and the spec's check."""
import json
import pathlib

import jsonschema

from chalicelib import aws, settings
from tests.ctk.newman import SHARED

SPEC = SHARED / "tmf" / "specs" / "TMF637-ProductInventory-v4.0.0.swagger.json"


def stored_products():
    """Everything in the inventory table (tests may Scan; the application never does)."""
    items, kwargs = [], {"TableName": settings.table_name("inventory"), "ConsistentRead": True}
    while True:
        page = aws.client("dynamodb").scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: i["pk"]["S"])
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _validator() -> jsonschema.Draft4Validator:
    spec = json.loads(pathlib.Path(SPEC).read_text())
    schema = {"$ref": "#/definitions/Product", "definitions": spec["definitions"]}
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


VALIDATOR = _validator() if SPEC.exists() else None


def valid_product(doc):
    """Raises if `doc` is not a TMF637 v4 Product (the swagger definitions, with jsonschema)."""
    assert VALIDATOR is not None, f"the TMF637 specification is not at {SPEC}"
    errors = sorted(VALIDATOR.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)
    return True
