"""A module imported on its first use, not when the module that names it is imported.

A Lambda cold start pays for every module its handler's module imports. A route module or a
handler that names another context's service only for some requests or records writes

    service = deferred.module("chalicelib.catalog.service")

and uses `service.search(...)` as before: the first attribute read imports the module (through
the import system, so under its lock: a thread that reads while another imports waits for the
whole module) and every later read is a plain attribute read on it. A whole module is
deferred with one line, where a function-local import would have to be repeated in every
function that uses it (use a function-local import when one function does).

importlib.util.LazyLoader is not used: on Python 3.11 a thread reading an attribute while
another loads the module can see it half-executed (fixed in 3.12), and the local runtime serves
requests and events from several threads.
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Callable, Sequence


class DeferredModule:
    __slots__ = ("_name", "_module")

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_module", None)

    def _load(self) -> ModuleType:
        module = self._module
        if module is None:
            module = importlib.import_module(self._name)   # complete when it returns (import lock)
            object.__setattr__(self, "_module", module)
        return module

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._load(), attr)

    def __setattr__(self, attr: str, value: Any) -> None:   # monkeypatch.setattr(proxy, ...) patches the module
        setattr(self._load(), attr, value)

    def __delattr__(self, attr: str) -> None:
        delattr(self._load(), attr)

    def __repr__(self) -> str:
        return f"<deferred module {self._name!r}{'' if self._module is None else ' (imported)'}>"


def module(name: str) -> Any:
    """`name` (a dotted module name), imported when an attribute of it is first read."""
    return DeferredModule(name)


def exports(package: str, **modules: Sequence[str]) -> Callable[[str], Any]:
    """A package's module `__getattr__` (PEP 562) for its public surface: `modules` maps a module
    of the package to the names it gives, read from it on first use, so importing the package
    (or any of its modules) loads none of them:

        if TYPE_CHECKING:
            from chalicelib.basket.store import by_owner, load
        __all__ = ["by_owner", "load"]
        if not TYPE_CHECKING:
            __getattr__ = deferred.exports(__name__, store=["by_owner", "load"])

    The imports under TYPE_CHECKING give mypy their types (and only those names: it does not see
    this __getattr__) and import-linter the package's edges (tests/unit/test_boundaries.py keeps
    the three lists equal)."""
    where = {name: f"{package}.{module}" for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(where[name]), name)

    return __getattr__
