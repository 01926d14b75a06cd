"""Run something once per key, with Powertools idempotency on the idempotency table.

Used for client retries (`Idempotency-Key` on POST) and for every handler AWS may deliver twice
(stream records, SQS messages, Step Functions task retries).

Each call builds its own Powertools config and persistence layer (over the one shared, lazily
built DynamoDB client): a Powertools persistence layer takes its configuration from the first
call that uses it and ignores every later one, so a shared layer made payload validation on or
off by whichever kind of call came first in the process, and its record prefix is per-call state
that concurrent threads would overwrite. Records are keyed "<scope>#<hash of key>" (Powertools'
key_prefix), whatever the Lambda function is called.
"""
from __future__ import annotations

import contextvars
from typing import Any, Callable

from chalicelib import settings
from chalicelib.errors import Unprocessable, conflict

_context: contextvars.ContextVar[Any] = contextvars.ContextVar("idempotency_lambda_context", default=None)


def _persistence() -> Any:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from chalicelib import aws

    return DynamoDBPersistenceLayer(table_name=settings.table_name("idempotency"),
                                    boto3_client=aws.client("dynamodb"))


def _config(validate_payload: bool) -> Any:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="payload" if validate_payload else "",  # "": no validation
        expires_after_seconds=settings.idempotency_ttl_seconds(),
        raise_on_no_idempotency_key=True,
    )
    if _context.get() is not None:
        config.register_lambda_context(_context.get())
    return config


def register_context(context: Any) -> None:
    """Let Powertools know the Lambda's remaining time (in-progress records expire with it); for
    the calls that follow in this thread."""
    _context.set(context)


def reset() -> None:
    """Forget the Lambda context (tests switch between moto servers; clients live in chalicelib.aws)."""
    _context.set(None)


def once(scope: str, key: str, thunk: Callable[[], Any], payload: Any = None) -> Any:
    """Run `thunk` the first time (scope, key) is seen; afterwards return its first result.

    With a payload, a second call with the same key but a different payload is refused (422),
    so a client cannot reuse an Idempotency-Key for another request. That check is made by
    every call with a payload, whatever other calls the process made before.
    """
    from aws_lambda_powertools.utilities.idempotency import idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    @idempotent_function(data_keyword_argument="request", persistence_store=_persistence(),
                         config=_config(payload is not None), key_prefix=scope)
    def run(request: dict) -> Any:
        return thunk()

    try:
        return run(request={"key": f"{scope}:{key}", "payload": payload})
    except IdempotencyValidationError:
        raise Unprocessable("this Idempotency-Key was already used for a different request",
                       "idempotencyKeyReused") from None
    except IdempotencyAlreadyInProgressError:
        raise conflict("a request with this Idempotency-Key is still being processed; retry later",
                       "idempotencyInProgress") from None
