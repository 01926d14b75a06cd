"""The moto server's choice of backend for a request, made once per host.

moto's server (ThreadedMotoServer, whose app is moto's DomainDispatcherApplication) picks the
backend of every request under one process-wide lock, and to do so lists moto's package
directory and stats each of its ~150 entries (`backends.list_of_moto_modules`), then tries its
URL patterns: about 1.7 ms per request (measured here), all of it holding the lock. In a race the
runtime's requests queued on that lock (200 writers on one basket: most moto request threads sampled
waiting for it), and the pump's idle polls paid it too. The answer is a function of the host
alone (the package directory and the patterns do not change while the process runs): it is kept
per host. Installed by the local runtime before it starts its moto server; idempotent.
"""
from __future__ import annotations

from typing import Any

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.get_backend_for_host
    known: dict[str | None, Any] = {}

    def get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
        # called by get_application with moto's lock held: one writer of `known` at a time
        if host not in known:
            known[host] = original(self, host)
        return known[host]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host   # type: ignore[method-assign]
    _installed = True
