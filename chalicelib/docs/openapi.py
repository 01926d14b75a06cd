"""One OpenAPI 3.1 document per API, generated from what the code already has:

- the app's route table (`app.routes`: paths, methods, view names; the route function's
  docstring and its module's docstring as descriptions);
- the access table (chalicelib/access.py): the roles, and their scopes, that may call each route,
  as `x-omnishop-roles` and in the description;
- the pydantic models the services validate request bodies with (`http.endpoint(body=...)`),
  as `model_json_schema()` components; a collection's model is also what its GETs answer;
- the TM Forum spec each API implements (tmf_index.json): paths, methods and top-level
  attributes the spec does not have are marked `x-omnishop-extension: true`.

An API is a prefix under /tmf-api (`/tmf-api/<api>/v4/openapi.json`), or one of Omnishop's own
route groups (`/openapi/<name>.json`: recovery, landing (/c/), system, docs, local). Built on
first request and kept for the container's life (routes and models do not change while it runs).
"""
from __future__ import annotations

import copy
import functools
import importlib
import json
import re
import sys
from typing import Any, Iterable

from chalicelib import access
from chalicelib.docs.tmf_index import INDEX, path_key

OPENAPI = "3.1.0"
VERSION = "4.0.0"
OWN_NAMES = {"c": "landing", "health": "system", "docs": "docs", "openapi": "docs"}
OWN_TITLES = {
    "recovery": "Omnishop basket recovery: reminder links, approval links and the agents' worklist",
    "landing": "Omnishop campaign landing links (/c/{code})",
    "system": "Omnishop health",
    "docs": "Omnishop API reference",
    "local": "Omnishop local runtime (never deployed)",
    "campaignManagement": "Omnishop campaign management (TMF conventions, no TM Forum spec)",
}
JSON_BODY = ("application/json",)
PATCH_BODY = ("application/merge-patch+json", "application/json")
_ERROR = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {   # chalicelib/errors.ApiError.to_body
    "type": "object", "required": ["code", "reason", "status"],
    "properties": {"code": {"type": "string"}, "reason": {"type": "string"}, "message": {"type": "string"},
                   "status": {"type": "string"}, "@type": {"type": "string", "const": "Error"}},
}


def api_of(path: str) -> str:
    """The API a route belongs to: /tmf-api/<api>/v4/... -> <api>; /recovery/... -> recovery."""
    parts = path.strip("/").split("/")
    if parts[0] == "tmf-api" and len(parts) > 2:
        return parts[1]
    return OWN_NAMES.get(parts[0], parts[0])


def is_tmf(api: str) -> bool:
    """Served under /tmf-api (campaignManagement too, which no TM Forum spec defines)."""
    return any(p.startswith(f"/tmf-api/{api}/") for p in _app().routes)


def spec_name(api: str) -> str | None:
    """The TM Forum API `api` implements (TMF663), or None: Omnishop's own."""
    spec = _index().get(api)
    return spec["spec"].split("-")[0] if spec else None


def document_path(api: str) -> str:
    """Where `api`'s document is served."""
    if is_tmf(api):
        return f"/tmf-api/{api}/v4/openapi.json"
    return f"/openapi/{api}.json"


# Request examples: documents of the demo data, by body model name: (module, its attribute, the
# keys or indexes into it).
_CATALOGUE_DEMO = ("productSpecification", "productOfferingPrice", "productOffering", "category", "catalog")
DEMO_EXAMPLES: dict[str, tuple[str, str, tuple[str | int, ...]]] = {
    "Campaign": ("chalicelib.campaign.demo", "BODY", ()),
    "Customer": ("chalicelib.customer.demo", "CUSTOMERS", (0,)),
    "QualificationRule": ("chalicelib.rules.demo", "RULES", (0,)),
    **{kind[0].upper() + kind[1:]: ("chalicelib.catalog.demo", "CATALOGUE", (kind, 0)) for kind in _CATALOGUE_DEMO},
}
SERVER_OWNED = ("id", "href")


def example(model_name: str) -> dict[str, Any] | None:
    """A create body from the demo data for `model_name`, or None (server-owned attributes left out)."""
    if model_name not in DEMO_EXAMPLES:
        return None
    module, attribute, keys = DEMO_EXAMPLES[model_name]
    doc = getattr(importlib.import_module(module), attribute)
    for key in keys:
        doc = doc[key]
    return {k: v for k, v in doc.items() if k not in SERVER_OWNED}


_bound: list[Any] = []


def bind(app: Any) -> None:
    """The Chalice app whose routes are documented (docs/api.register)."""
    _bound[:] = [app]
    _document_text.cache_clear()


def _app() -> Any:
    return _bound[0]


@functools.lru_cache(maxsize=1)
def _index() -> dict[str, Any]:
    return json.loads(INDEX.read_text())


def apis(routes: Iterable[str] | None = None) -> list[str]:
    """Every API the app serves, TMF ones first."""
    names = {api_of(p) for p in (routes if routes is not None else _app().routes)}
    return sorted(names, key=lambda n: (not is_tmf(n), n))


def _route(entry: Any) -> tuple[Any, str | None, bool]:
    """(route function, body model name, authenticated) of a route made by http.endpoint."""
    return getattr(entry.view_function, "route", (entry.view_function, None, True))


def resolve_model(fn: Any, name: str) -> Any:
    """`http.endpoint(body=...)`: "Model" in fn's context's schemas.py, "context.Model" in another's."""
    context, _, model = name.rpartition(".")
    package = fn.__module__.rsplit(".", 1)[0] if not context else f"chalicelib.{context}"
    return getattr(importlib.import_module(f"{package}.schemas"), model)


def body_model_names() -> list[str]:
    out = set()
    for methods in _app().routes.values():
        for entry in methods.values():
            fn, body, _ = _route(entry)
            if body:
                out.add(resolve_model(fn, body).__name__)
    return sorted(out)


def _roles(path: str, method: str, authenticated: bool) -> tuple[dict[str, str], str]:
    if not authenticated:
        return {}, "No authentication (the route carries its own secret or is public)."
    rule = access.route(path, method)
    if rule is None:
        return {}, "No role may call it: it has no entry in the access table."
    resource, action = rule
    scopes = {role: access.scope(role, resource, action) or "" for role in access.roles(resource, action)}
    listed = ", ".join(f"{role} ({scope})" for role, scope in scopes.items())
    return scopes, f"Roles (chalicelib/access.py, {resource} {action}): {listed}."


def _summary(doc: str | None, method: str, path: str) -> str:
    first = (doc or "").strip().split("\n")[0].strip()
    return first or f"{method} {path.rsplit('/', 1)[-1] or path}"


def _success(view_name: str, method: str) -> str:
    if view_name.startswith("create_"):
        return "201"
    if view_name.startswith("delete_"):
        return "204"
    return "200" if method in ("GET", "PATCH") else "2XX"


def _collection(path: str) -> str:
    return re.sub(r"/{[^}]+}$", "", path)


class _Builder:
    def __init__(self, api: str) -> None:
        self.api = api
        self.spec = _index().get(api)
        self.prefix = f"/tmf-api/{api}/v4" if is_tmf(api) else ""
        self.routes = sorted((path, method, entry) for path, methods in _app().routes.items()
                             if api_of(path) == api for method, entry in methods.items())

    def models(self) -> tuple[dict[tuple[str, str], str], dict[str, Any]]:
        """(path, method) -> component name of its body model; the components."""
        from pydantic.json_schema import models_json_schema

        wanted: dict[tuple[str, str], Any] = {}
        for path, method, entry in self.routes:
            fn, body, _ = _route(entry)
            if body:
                wanted[(path, method)] = resolve_model(fn, body)
        unique = list(dict.fromkeys(wanted.values()))
        refs, schema = models_json_schema([(m, "validation") for m in unique],
                                          ref_template="#/components/schemas/{model}")
        by_model = {m: refs[(m, "validation")]["$ref"].rsplit("/", 1)[-1] for m in unique}
        return {k: by_model[m] for k, m in wanted.items()}, schema.get("$defs", {})

    def mark_extensions(self, components: dict[str, Any], names: Iterable[str]) -> None:
        known = (self.spec or {}).get("definitions", {})
        for name in names:
            if name not in known:
                continue
            for attr, prop in components[name].get("properties", {}).items():
                if attr not in known[name]:
                    prop["x-omnishop-extension"] = True

    def is_extension(self, path: str, method: str) -> bool:
        if self.spec is None:
            return True
        tmf_path = path_key(path.removeprefix(self.prefix))
        return method not in self.spec["paths"].get(tmf_path, ())

    def operation(self, path: str, method: str, entry: Any, body: str | None,
                  collection_models: dict[str, str]) -> dict[str, Any]:
        fn, _, authenticated = _route(entry)
        doc = (fn.__doc__ or "").strip()
        roles, who = _roles(path, method, authenticated)
        op: dict[str, Any] = {
            "operationId": entry.view_name,
            "summary": _summary(doc, method, path),
            "description": "\n\n".join(p for p in (doc, who) if p),
            "tags": [path.removeprefix(self.prefix).strip("/").split("/")[0] or self.api],
            "x-omnishop-roles": roles,
            "parameters": [{"name": arg, "in": "path", "required": True, "schema": {"type": "string"}}
                           for arg in entry.view_args],
        }
        if not authenticated:
            op["security"] = []
        if self.is_extension(path, method):
            op["x-omnishop-extension"] = True
        if entry.view_name.startswith("list_"):
            op["parameters"] += [
                {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                {"name": "fields", "in": "query", "description": "attributes to return, comma-separated",
                 "schema": {"type": "string"}}]
        if body:
            types = PATCH_BODY if method == "PATCH" else JSON_BODY
            ref = {"$ref": f"#/components/schemas/{body}{'_Update' if method == 'PATCH' else ''}"}
            media: dict[str, Any] = {"schema": ref}
            demo = example(body) if method == "POST" else None
            if demo is not None:
                media["examples"] = {"demo": {"summary": "from the demo data", "value": demo}}
            op["requestBody"] = {"required": True, "content": {t: dict(media) for t in types}}
        code = _success(entry.view_name, method)
        ok: dict[str, Any] = {"description": "No content" if code == "204" else "Success"}
        model = collection_models.get(_collection(path))
        if model and (code == "201" or method in ("GET", "PATCH")):
            schema: dict[str, Any] = {"$ref": f"#/components/schemas/{model}"}
            if entry.view_name.startswith("list_"):
                schema = {"type": "array", "items": schema}
            ok["content"] = {"application/json": {"schema": schema}}
        op["responses"] = {code: ok, "default": {"description": "A TMF error",
                                                  "content": {"application/json": {"schema": _ERROR}}}}
        return op

    def build(self) -> dict[str, Any]:
        bodies, components = self.models()
        creates = {path: name for (path, method), name in bodies.items() if method == "POST"}
        self.mark_extensions(components, set(bodies.values()))
        for (_, method), name in bodies.items():
            if method == "PATCH":   # a merge patch: any subset of the attributes
                patch = copy.deepcopy(components[name])
                patch.pop("required", None)
                patch["title"] = f"{patch.get('title', name)} (merge patch)"
                components[f"{name}_Update"] = patch
        components["Error"] = ERROR_SCHEMA
        paths: dict[str, dict[str, Any]] = {}
        for path, method, entry in self.routes:
            paths.setdefault(path, {})[method.lower()] = self.operation(
                path, method, entry, bodies.get((path, method)), creates)
        info: dict[str, Any] = {"title": self._title(), "version": VERSION, "description": self._description()}
        if self.spec is None:
            info["x-omnishop-extension"] = True
        return {
            "openapi": OPENAPI,
            "info": info,
            "servers": [{"url": "/"}],
            "security": [{"bearer": []}],
            "paths": paths,
            "components": {"schemas": dict(sorted(components.items())),
                           "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                                          "description": "Cognito (deployed) or POST /local/token "
                                                                         "(local runtime)"}}},
        }

    def _title(self) -> str:
        if self.spec:
            return f"{self.spec['title']} (TM Forum {spec_name(self.api)}) as Omnishop serves it"
        return OWN_TITLES.get(self.api, f"Omnishop {self.api}")

    def _description(self) -> str:
        # the docstrings of the route modules of this API only (not the hub's or docs' routes every API has)
        apis_of: dict[str, set[str]] = {}
        for path, methods in _app().routes.items():
            for entry in methods.values():
                apis_of.setdefault(_route(entry)[0].__module__, set()).add(api_of(path))
        modules = dict.fromkeys(_route(entry)[0].__module__ for _, _, entry in self.routes)
        text = [(sys.modules[m].__doc__ or "").strip() for m in modules if apis_of[m] == {self.api}]
        if self.spec:
            text.append(f"Implements {self.spec['spec']} ({self.spec['version']}); what that spec does not "
                        "have (routes, top-level attributes) is marked `x-omnishop-extension: true`.")
        return "\n\n".join(t for t in text if t)


@functools.lru_cache(maxsize=None)
def _document_text(api: str) -> str:
    return json.dumps(_Builder(api).build())


def document(api: str) -> dict[str, Any]:
    """`api`'s OpenAPI 3.1 document (a fresh copy; built once per container)."""
    return json.loads(_document_text(api))
