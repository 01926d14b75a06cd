"""The TM Forum v4 specs (Swagger 2.0) in ../shared/tmf/specs/, as response validators.

    spec = tmf_spec.load("TMF620-ProductCatalog-v4.0.0")
    spec.problems(body, "GET", "/productOffering/{id}", 200)     # [] when the body fits
    spec.problems(body, definition="ProductOffering")             # against one definition

Used by the schema fuzz (tests/fuzz) and by any test that wants to hold a response to the spec.
`problems` lists every violation as "<json path>: <message>"; `tmf_error_problems` checks the
TMF error body every 4xx must carry (chalicelib/errors.py).

With `partial=True` (a `fields=` selection: TMF returns only the attributes asked for) the
schema's `required` lists are not enforced. Formats are not checked (the spec gives none we
depend on beyond `date-time`, and jsonschema needs an extra package to check that).
"""
from __future__ import annotations

import copy
import functools
import json
import pathlib
from typing import Any, Iterator

import jsonschema
import referencing
from referencing.jsonschema import DRAFT4

from tests.support.shared import SHARED

SPEC_DIR = SHARED / "tmf" / "specs"
TMF_ERROR_KEYS = ("code", "reason", "message", "status", "@type")


def v4_specs() -> list[pathlib.Path]:
    """Every TMF v4 Swagger spec (the v5 ones are OpenAPI 3 .yaml files)."""
    if not SPEC_DIR.is_dir():
        raise FileNotFoundError(f"the TM Forum specs are not at {SPEC_DIR}: put shared/ beside the "
                                "repository or set OMNISHOP_SHARED_DIR (tests/support/shared.py)")
    return sorted(p for p in SPEC_DIR.glob("*v4*swagger.json"))


def _without_required(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_required(v) for k, v in node.items() if k != "required" or not isinstance(v, list)}
    if isinstance(node, list):
        return [_without_required(v) for v in node]
    return node


class Spec:
    def __init__(self, path: pathlib.Path):
        self.path = path
        self.name = path.name.split(".swagger")[0].split("_swagger")[0]
        self.document = json.loads(path.read_text())
        self.base_path = "/" + self.document.get("basePath", "/").strip("/")

    @functools.cached_property
    def _registries(self) -> dict[bool, referencing.Registry]:
        full = DRAFT4.create_resource(self.document)
        partial = DRAFT4.create_resource(_without_required(copy.deepcopy(self.document)))
        return {False: referencing.Registry().with_resource("spec", full),
                True: referencing.Registry().with_resource("spec", partial)}

    def response_schema(self, method: str, path: str, status: int) -> dict[str, Any] | None:
        """The schema the spec gives for that answer (`None`: the spec documents no body for it).
        Raises KeyError when the spec has no such operation or does not document that status."""
        responses = self.document["paths"][path][method.lower()]["responses"]
        response = responses.get(str(status)) or responses["default"]
        return response.get("schema")

    def documented_statuses(self, method: str, path: str) -> list[str]:
        return list(self.document["paths"][path][method.lower()]["responses"])

    def problems(self, body: Any, method: str | None = None, path: str | None = None, status: int | None = None,
                 *, definition: str | None = None, partial: bool = False) -> list[str]:
        """Every way `body` violates the response schema of (method, path, status), or `definition`."""
        if definition is not None:
            schema: dict[str, Any] | None = {"$ref": f"spec#/definitions/{definition}"}
        else:
            assert method and path and status, "give (method, path, status) or definition"
            schema = self.response_schema(method, path, status)
            if schema is None:
                return []
            schema = json.loads(json.dumps(schema).replace('"#/definitions/', '"spec#/definitions/'))
        if partial:
            schema = _without_required(schema)
        validator = jsonschema.Draft4Validator(schema, registry=self._registries[partial])
        return [f"{_where(error)}: {error.message[:300]}" for error in _errors(validator, body)]


def _errors(validator: jsonschema.Draft4Validator, body: Any) -> Iterator[jsonschema.ValidationError]:
    return iter(sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path))))


def _where(error: jsonschema.ValidationError) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)


@functools.lru_cache(maxsize=None)
def _load(path: str) -> Spec:
    return Spec(pathlib.Path(path))


def load(name: str) -> Spec:
    """A spec by its file name without the extension, e.g. "TMF620-ProductCatalog-v4.0.0"."""
    for path in v4_specs():
        if path.name.startswith(name):
            return _load(str(path))
    raise FileNotFoundError(f"no TMF v4 spec named {name} in {SPEC_DIR}")


def tmf_error_problems(status: int, body: Any) -> list[str]:
    """What is wrong with a 4xx/5xx body as a TMF error {code, reason, message, status, @type Error}."""
    if not isinstance(body, dict):
        return [f"the body is not a JSON object: {str(body)[:200]!r}"]
    problems = [f"missing {key!r}" for key in TMF_ERROR_KEYS if key not in body]
    problems += [f"{key!r} is not a non-empty string" for key in ("code", "reason", "message")
                 if key in body and not (isinstance(body[key], str) and body[key])]
    if "status" in body and str(body["status"]) != str(status):
        problems.append(f"'status' is {body['status']!r}, the response is {status}")
    if "@type" in body and body["@type"] != "Error":
        problems.append(f"'@type' is {body['@type']!r}, not 'Error'")
    return problems
