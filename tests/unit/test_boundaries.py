"""The context boundaries (issue 19): what `lint-imports` (make lint) cannot see by itself.

import-linter checks the contracts in pyproject.toml against the import statements. Here: every
context's store, and its internals (its service and the modules it is split into), have their
contract, naming exactly the context and its own entry points; the uses the import graph does not
show (a module named in a string, `deferred.module("...")` or "module:function", or reached as
another module's attribute) obey every protected contract too; each public surface
(chalicelib/<context>/__init__.py) gives at run time what its TYPE_CHECKING imports tell mypy
and import-linter, and importing it loads none of it.
"""
from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
import tomllib

import pytest

from infra.resources import ROOT

CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
STORES = sorted(p.parent.name for p in (ROOT / "chalicelib").glob("*/store.py"))
ENTRY_PREFIX = {"ordering": "order_"}   # functions/<prefix>*.py are a context's entry points
PUBLIC = sorted(f"chalicelib.{p.parent.name}" for p in (ROOT / "chalicelib").glob("*/__init__.py")
                if "__all__" in p.read_text())
# A context's modules other contexts may import directly: its routes (own contract), its store
# (own contract), its pure modules (domain, models, schemas, demo data) and the pure helpers other
# contexts' domain logic shares. Every other module of a context is one of its internals.
OPEN = {"__init__", "api", "store", "domain", "models", "schemas", "demo"}
SHARED = {"chalicelib.basket.pricing", "chalicelib.customer.access", "chalicelib.customer.keys",
          "chalicelib.notify.links", "chalicelib.promotion.evaluator", "chalicelib.rules.places"}
PLATFORM = {"hub"}   # the event hub every context's stream function publishes through: no contract
# importers outside the context that may still import one of its internals
INTERNALS_ALSO = {"customer": {"chalicelib.access"}}   # access.check_route: a contact's rights


def _entry_points(context: str) -> set[str]:
    prefix = ENTRY_PREFIX.get(context, f"{context}_")
    return {f"functions.{p.stem}" for p in (ROOT / "functions").glob(f"{prefix}*.py")}


def _internals(context: str) -> list[str]:
    return sorted(f"chalicelib.{context}.{p.stem}" for p in (ROOT / "chalicelib" / context).glob("*.py")
                  if p.stem not in OPEN and f"chalicelib.{context}.{p.stem}" not in SHARED)


CONTEXTS = sorted(p.parent.name for p in (ROOT / "chalicelib").glob("*/service.py") if p.parent.name not in PLATFORM)


def _protected() -> dict[str, set[str]]:
    """protected module -> the modules (and their descendants) allowed to import it"""
    return {module: set(c["allowed_importers"]) for c in CONTRACTS if c["type"] == "protected"
            for module in c["protected_modules"]}


def _allowed(importer: str, allowed: set[str]) -> bool:
    return any(importer == a or importer.startswith(f"{a}.") for a in allowed)


def test_stores_and_surfaces_exist():
    assert {"basket", "customer", "catalog", "ordering"} <= set(STORES)
    assert {"chalicelib.basket", "chalicelib.customer", "chalicelib.inventory", "chalicelib.rules"} <= set(PUBLIC)


@pytest.mark.parametrize("context", STORES)
def test_every_store_has_its_contract(context):
    store = f"chalicelib.{context}.store"
    found = [c for c in CONTRACTS if c["type"] == "protected" and c["protected_modules"] == [store]]
    assert len(found) == 1, f"{store} needs one protected contract in pyproject.toml"
    assert set(found[0]["allowed_importers"]) == {f"chalicelib.{context}"} | _entry_points(context)


@pytest.mark.parametrize("context", CONTEXTS)
def test_every_contexts_internals_have_their_contract(context):
    internals = _internals(context)
    assert f"chalicelib.{context}.service" in internals
    found = [c for c in CONTRACTS if c["type"] == "protected" and c["protected_modules"] == internals]
    assert len(found) == 1, f"{internals} need one protected contract in pyproject.toml"
    assert set(found[0]["allowed_importers"]) == \
        {f"chalicelib.{context}"} | _entry_points(context) | INTERNALS_ALSO.get(context, set())


def _deferred(node: ast.AST) -> bool:
    """`deferred.module("<a module>")`"""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "module" \
        and isinstance(node.func.value, ast.Name) and node.func.value.id == "deferred" and bool(node.args) \
        and isinstance(node.args[0], ast.Constant)


MODULE_NAME = re.compile(r"chalicelib(\.\w+)+")


def _uses_in(module: str, source: str):
    """(module, used) for each module `source` names in a string (`deferred.module("chalicelib.y.service")`,
    "chalicelib.y.service:function") or reaches as an attribute of another module (`ordering.store.load(...)`
    where `ordering` is chalicelib.ordering.service)."""
    tree = ast.parse(source)
    names = {}   # local name -> the chalicelib module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chalicelib"):
            names.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
        elif isinstance(node, ast.Assign) and _deferred(node.value) and isinstance(node.targets[0], ast.Name):
            names[node.targets[0].id] = node.value.args[0].value
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.count(":") <= 1 \
                and MODULE_NAME.fullmatch(node.value.split(":")[0]):
            yield module, node.value.split(":")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in names:
            context = names[node.value.id].split(".")[:2]
            if ROOT.joinpath(*context, f"{node.attr}.py").exists():
                yield module, ".".join([*context, node.attr])


def _hidden_uses():
    """The uses import-linter cannot see (`_uses_in`) in chalicelib and the entry points."""
    for path in sorted([*(ROOT / "chalicelib").rglob("*.py"), *(ROOT / "functions").glob("*.py")]):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        yield from _uses_in(module, path.read_text())


def test_the_scan_finds_hidden_uses():
    source = ('from chalicelib import deferred\n'
              'from chalicelib.ordering import service as orders\n'
              'stock = deferred.module("chalicelib.stock.service")\n'
              'SECTIONS = {"baskets": "chalicelib.basket.service:open_baskets"}\n'
              'def f():\n    return orders.store.load("1"), stock.order_hold\n')
    assert set(_uses_in("chalicelib.x.service", source)) == {
        ("chalicelib.x.service", "chalicelib.stock.service"), ("chalicelib.x.service", "chalicelib.basket.service"),
        ("chalicelib.x.service", "chalicelib.ordering.store")}
    assert ("chalicelib.customer.identity", "chalicelib.customer.identity") in set(_hidden_uses())


def test_no_hidden_use_of_another_contexts_internals():
    protected = _protected()
    assert {"chalicelib.basket.store", "chalicelib.basket.service", "chalicelib.ordering.capture"} <= set(protected)
    crossing = {(importer, target) for importer, target in _hidden_uses()
                if target in protected and not _allowed(importer, protected[target])}
    assert crossing == set(), "use the context's public surface (its __init__.py)"


def _typed_names(package: str) -> dict[str, str]:
    """name -> module, from the package's `if TYPE_CHECKING:` imports of its own modules (others,
    e.g. chalicelib.actor's Actor, only annotate)."""
    path = ROOT / package.replace(".", "/") / "__init__.py"
    out = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom) and imp.module
                if imp.module.startswith(f"{package}."):
                    out.update({alias.name: imp.module for alias in imp.names})
    return out


@pytest.mark.parametrize("package", PUBLIC)
def test_a_public_surface_is_what_mypy_and_import_linter_see(package):
    module = importlib.import_module(package)
    typed = _typed_names(package)
    defined_here = {n for n in module.__all__ if n in vars(module)}   # functions of the __init__ itself
    assert set(module.__all__) == set(typed) | defined_here
    for name, source in typed.items():
        assert getattr(module, name) is getattr(importlib.import_module(source), name), name
    with pytest.raises(AttributeError):
        module.not_public   # noqa: B018
    with pytest.raises(ImportError):
        exec(f"from {package} import not_public")


def test_importing_a_public_surface_loads_none_of_it():
    code = (f"import json, sys\nimport {', '.join(PUBLIC)}\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('chalicelib'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert set(json.loads(out.stdout)) == {"chalicelib", "chalicelib.deferred", *PUBLIC}
