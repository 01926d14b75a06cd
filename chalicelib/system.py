"""GET /health. In the local runtime it answers 200 only once every resource, the event
plumbing and the demo data are ready; the runtime registers that check here."""
from __future__ import annotations

from typing import Callable

from chalice import Blueprint

from chalicelib.http import Reply, endpoint

bp = Blueprint(__name__)
_readiness: list[Callable[[], str | None]] = []


def add_readiness_check(check: Callable[[], str | None]) -> None:
    """`check()` returns None when ready, or a short reason why not."""
    _readiness.append(check)


def waiting_for() -> list[str]:
    """Why the API is not ready yet (the registered checks' reasons); [] when it is."""
    return [reason for reason in (check() for check in _readiness) if reason]


@endpoint(bp, "/health", ["GET"], authenticated=False)
def health(call) -> Reply:
    waiting = waiting_for()
    if waiting:
        return Reply({"status": "starting", "waitingFor": waiting}, 503)
    return Reply({"status": "ok"})
