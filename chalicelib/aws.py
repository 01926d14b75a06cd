"""boto3 clients, built lazily and once per container (never at import time).

The endpoint comes from the standard AWS_ENDPOINT_URL variable, which the local runtime points
at its moto server; in AWS it is unset.
"""
from __future__ import annotations

import functools
from typing import Any

from chalicelib import settings


@functools.lru_cache(maxsize=1)
def _session() -> Any:
    import boto3

    return boto3.session.Session()


_clients: dict[str, Any] = {}   # by service name, until reset()


def client(service: str) -> Any:
    found = _clients.get(service)
    if found is None:
        found = _clients.setdefault(service, _session().client(service, region_name=settings.region()))
    return found


@functools.lru_cache(maxsize=4)
def secret_provider(secretsmanager: Any) -> Any:
    """Powertools' Secrets Manager provider over our client (a new one when reset() made a new
    client); its cache is what spares a warm function a read per use."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=secretsmanager)


def secret_keys(logical: str, local_value: str) -> list[str]:
    """The comma-separated keys of a secret of infra/resources.py SECRETS (the first signs, every
    one verifies: rotate by prepending), read at run time through Powertools parameters and cached
    settings.secret_max_age_seconds(); never in the environment, which only names the secret
    (OMNISHOP_SECRET_ID_<NAME>). Local mode with no secret at all (unit tests without moto):
    `local_value`."""
    secret_id = settings.secret_id(logical)
    if not secret_id:
        if settings.local_mode():
            return [local_value]
        raise RuntimeError(f"OMNISHOP_SECRET_ID_{logical.upper().replace('-', '_')} is not configured")
    raw = secret_provider(client("secretsmanager")).get(secret_id, max_age=settings.secret_max_age_seconds())
    found = [k.strip() for k in str(raw).split(",") if k.strip()]
    if not found:
        raise RuntimeError(f"the secret {secret_id} holds no key")
    return found


def reset() -> None:
    """Forget every client (tests switch between moto servers), and what a container caches
    through them (the secrets read)."""
    _clients.clear()
    _session.cache_clear()
    secret_provider.cache_clear()
    from chalicelib import db   # its models' and transactions' connections hold clients too

    db.forget_connections()
