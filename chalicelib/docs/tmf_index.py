"""What each TM Forum v4 spec Omnishop implements defines: its paths and methods, and the
attributes of the resources Omnishop's payload models are named after. The API reference
(openapi.py) marks everything else `x-omnishop-extension`.

The specs are not shipped (they live in shared/tmf/specs, beside the repository), so their
surface is kept in tmf_index.json, written by

    python -m chalicelib.docs.tmf_index <shared>/tmf/specs

and tests/docs checks the file is what this writes from the specs.
"""
from __future__ import annotations

import json
import pathlib
import re
import sys
from typing import Any, Iterable

INDEX = pathlib.Path(__file__).with_name("tmf_index.json")

# API (the prefix under /tmf-api) -> the v4 spec it implements; an API not named here
# (campaignManagement) is Omnishop's own.
SPECS = {
    "productCatalogManagement": "TMF620-ProductCatalog-v4.0.0.swagger.json",
    "productOrderingManagement": "TMF622-ProductOrder-v4.0.0.swagger.json",
    "customerManagement": "TMF629-Customer-v4.0.0.swagger.json",
    "productInventory": "TMF637-ProductInventory-v4.0.0.swagger.json",
    "shoppingCart": "TMF663-ShoppingCart-v4.0.0.swagger.json",
    "productOfferingQualification": "TMF679-ProductOfferingQualification-v4.0.0.swagger.json",
    "recommendationManagement": "TMF680-Recommendation-v4.0.0.swagger.json",
    "communicationManagement": "TMF681-Communication-v4.0.0.swagger.json",
    "partyInteraction": "TMF683-PartyInteraction-v4.0.0.swagger.json",
    "quoteManagement": "TMF648-Quote-v4.0.0.swagger.json",

    "paymentManagement": "TMF676-Payment-v4.0.0.swagger.json",
}


def path_key(path: str) -> str:
    """A path with its parameters unnamed: /customer/{cid} and /customer/{id} are one path."""
    return re.sub(r"{[^}]*}", "{}", "/" + path.strip("/"))


def build(spec_dir: pathlib.Path, models: Iterable[str]) -> dict[str, Any]:
    """The index, for the payload model names `models` (a definition of that name is compared)."""
    wanted = set(models)
    out: dict[str, Any] = {}
    for api, file in sorted(SPECS.items()):
        spec = json.loads((spec_dir / file).read_text())
        definitions = spec.get("definitions") or {}
        out[api] = {
            "spec": file,
            "title": spec["info"]["title"],
            "version": spec["info"]["version"],
            "paths": {path_key(p): sorted(m.upper() for m in ops if m != "parameters")
                      for p, ops in sorted(spec["paths"].items())},
            "definitions": {name: sorted(definitions[name].get("properties") or {})
                            for name in sorted(wanted & set(definitions))},
        }
    return out


def write(spec_dir: pathlib.Path) -> None:
    from chalicelib.docs import openapi

    INDEX.write_text(json.dumps(build(spec_dir, openapi.body_model_names()), indent=1) + "\n")


if __name__ == "__main__":
    write(pathlib.Path(sys.argv[1]))
