"""Writes chalicelib/tmf_attributes.json: the attributes of every TMF resource our lists serve,
taken from the TM Forum v4 specs in ../shared/tmf/specs/ (the Lambda does not carry the specs).

    .venv/bin/python -m tests.support.tmf_attributes      # rewrite the file after a spec change

For each spec, each definition reachable from a served resource maps its properties to the
definition they hold ("Name"), to "*" for free-form values (the spec's `Any`, an object without
properties) or to null for plain values. tests/unit/test_tmf_filters.py checks the file matches.
"""
from __future__ import annotations

import json
import pathlib
from typing import Any

from tests.support.shared import SHARED

SPEC_DIR = SHARED / "tmf" / "specs"
TARGET = pathlib.Path(__file__).resolve().parents[2] / "chalicelib" / "tmf_attributes.json"

# spec file (without .swagger.json) -> the resources our APIs list from it. TMF620 is read from both
# v4 releases (4.1.0 adds attributes such as productOfferingRelationship that our documents carry).
SERVED = {
    "TMF620-ProductCatalog-v4.1.0": ["Catalog", "Category", "ProductSpecification", "ProductOfferingPrice",
                                     "ProductOffering", "ImportJob", "ExportJob"],
    "TMF620-ProductCatalog-v4.0.0": ["Catalog", "Category", "ProductSpecification", "ProductOfferingPrice",
                                     "ProductOffering", "ImportJob", "ExportJob"],
    "TMF622-ProductOrder-v4.0.0": ["ProductOrder", "CancelProductOrder"],
    "TMF629-Customer-v4.0.0": ["Customer"],
    "TMF637-ProductInventory-v4.0.0": ["Product"],
    "TMF663-ShoppingCart-v4.0.0": ["ShoppingCart"],
    "TMF679-ProductOfferingQualification-v4.0.0": ["ProductOfferingQualification"],
    "TMF681-Communication-v4.0.0": ["CommunicationMessage"],
    "TMF683-PartyInteraction-v4.0.0": ["PartyInteraction"],
}


def _target(prop: dict[str, Any], definitions: dict[str, Any]) -> str | None:
    node = prop.get("items", prop) if prop.get("type") == "array" else prop
    ref = node.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        held = definitions[name]
        if "properties" in held:
            return name
        return "*" if held.get("type", "object") == "object" and "enum" not in held else None
    return "*" if node.get("type") == "object" and "properties" not in node else None


def spec_attributes(spec: str, roots: list[str]) -> dict[str, dict[str, str | None]]:
    definitions = json.loads((SPEC_DIR / f"{spec}.swagger.json").read_text())["definitions"]
    out: dict[str, dict[str, str | None]] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in out:
            continue
        props = {k: _target(v, definitions) for k, v in definitions[name].get("properties", {}).items()}
        out[name] = dict(sorted(props.items()))
        todo.extend(t for t in props.values() if t not in (None, "*"))
    return dict(sorted(out.items()))


def generate() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec, roots in SERVED.items():
        merged = out.setdefault(spec.split("-", 1)[0], {})
        for name, props in spec_attributes(spec, roots).items():
            held = merged.setdefault(name, {})
            held.update({k: v for k, v in props.items() if held.get(k) is None})
    return {api: {name: dict(sorted(props.items())) for name, props in sorted(defs.items())} for api, defs in out.items()}


def main() -> None:
    TARGET.write_text(json.dumps(generate(), indent=0, sort_keys=False, separators=(",", ":")) + "\n")
    print(f"wrote {TARGET} ({TARGET.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
