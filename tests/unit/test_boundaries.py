"""The context boundaries (issue 19): what `lint-imports` (make lint) cannot see by itself.

import-linter checks the contracts in pyproject.toml against the import statements. Here: every
context's store has its contract, and it names exactly the context and its own entry points; the
store uses the import graph does not show (a module named in a string, or reached as another
module's attribute) obey the store rule too; each public surface
(chalicelib/<context>/__init__.py) gives at run time what its TYPE_CHECKING imports tell mypy
and import-linter, and importing it loads none of it.
"""
from __future__ import annotations

import ast
import importlib
import json
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
HIDDEN_IGNORED: set[tuple[str, str]] = set()   # none left


def _entry_points(context: str) -> set[str]:
    prefix = ENTRY_PREFIX.get(context, f"{context}_")
    return {f"functions.{p.stem}" for p in (ROOT / "functions").glob(f"{prefix}*.py")}


def test_stores_and_surfaces_exist():
    assert {"basket", "customer", "catalog", "ordering"} <= set(STORES)
    assert {"chalicelib.basket", "chalicelib.customer", "chalicelib.inventory", "chalicelib.rules"} <= set(PUBLIC)


@pytest.mark.parametrize("context", STORES)
def test_every_store_has_its_contract(context):
    store = f"chalicelib.{context}.store"
    found = [c for c in CONTRACTS if c["type"] == "protected" and c["protected_modules"] == [store]]
    assert len(found) == 1, f"{store} needs one protected contract in pyproject.toml"
    assert set(found[0]["allowed_importers"]) == {f"chalicelib.{context}"} | _entry_points(context)


def _deferred(node: ast.AST) -> bool:
    """`deferred.module("<a module>")`"""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "module" \
        and isinstance(node.func.value, ast.Name) and node.func.value.id == "deferred" and bool(node.args) \
        and isinstance(node.args[0], ast.Constant)


def _hidden_store_uses():
    """(importer, store) for the store uses import-linter cannot see: a module named in a string
    (`x = deferred.module("chalicelib.y.store")`), or reached as an attribute of another module
    (`ordering.store.load(...)` where `ordering` is chalicelib.ordering.service)."""
    for path in sorted([*(ROOT / "chalicelib").rglob("*.py"), *(ROOT / "functions").glob("*.py")]):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        tree = ast.parse(path.read_text())
        names = {}   # local name -> the chalicelib module it stands for
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chalicelib"):
                names.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
            elif isinstance(node, ast.Assign) and _deferred(node.value) and isinstance(node.targets[0], ast.Name):
                names[node.targets[0].id] = node.value.args[0].value
            if _deferred(node):
                yield module, node.args[0].value
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "store" and isinstance(node.value, ast.Name) \
                    and node.value.id in names:
                yield module, ".".join(names[node.value.id].split(".")[:2] + ["store"])


def test_no_hidden_use_of_another_contexts_store():
    uses = set(_hidden_store_uses())
    assert ("chalicelib.ordering.capture", "chalicelib.credit.service") in uses   # the scan finds them
    crossing = set()
    for importer, target in uses:
        parts = target.split(".")
        if len(parts) == 3 and parts[0] == "chalicelib" and parts[2] == "store":
            context = parts[1]
            if not (importer == f"chalicelib.{context}" or importer.startswith(f"chalicelib.{context}.")
                    or importer in _entry_points(context)):
                crossing.add((importer, target))
    assert crossing == HIDDEN_IGNORED, "use the store's context's public surface (its __init__.py)"


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
