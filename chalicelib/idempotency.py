"""Run something once per key, with Powertools idempotency on the idempotency table.

Used for client retries (`Idempotency-Key` on POST) and for every handler AWS may deliver twice
(stream records, SQS messages, Step Functions task retries). The persistence layer, and so its
DynamoDB client, is built on first use, never at import.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from chalicelib import settings
from chalicelib.errors import ApiError, conflict


@functools.lru_cache(maxsize=None)
def _persistence(table: str) -> Any:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=table)


@functools.lru_cache(maxsize=None)
def _config(validate_payload: bool) -> Any:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="payload" if validate_payload else None,
        expires_after_seconds=settings.idempotency_ttl_seconds(),
        raise_on_no_idempotency_key=True,
    )


def register_context(context: Any) -> None:
    """Let Powertools know the Lambda's remaining time (in-progress records expire with it)."""
    for validate in (False, True):
        _config(validate).register_lambda_context(context)


def reset() -> None:
    _persistence.cache_clear()


def once(scope: str, key: str, thunk: Callable[[], Any], payload: Any = None) -> Any:
    """Run `thunk` the first time (scope, key) is seen; afterwards return its first result.

    With a payload, a second call with the same key but a different payload is refused (422),
    so a client cannot reuse an Idempotency-Key for another request.
    """
    from aws_lambda_powertools.utilities.idempotency import idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    @idempotent_function(data_keyword_argument="request",
                         persistence_store=_persistence(settings.table_name("idempotency")),
                         config=_config(payload is not None))
    def run(request: dict) -> Any:
        return thunk()

    run.__qualname__ = scope  # the record key is "<function>.<qualname>#<hash of key>"
    try:
        return run(request={"key": f"{scope}:{key}", "payload": payload})
    except IdempotencyValidationError:
        raise ApiError(422, "Unprocessable Entity",
                       "this Idempotency-Key was already used for a different request",
                       "idempotencyKeyReused") from None
    except IdempotencyAlreadyInProgressError:
        raise conflict("a request with this Idempotency-Key is still being processed; retry later",
                       "idempotencyInProgress") from None
