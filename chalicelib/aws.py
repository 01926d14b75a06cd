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


@functools.lru_cache(maxsize=None)
def client(service: str) -> Any:
    return _session().client(service, region_name=settings.region())


def reset() -> None:
    """Forget every client (tests switch between moto servers)."""
    client.cache_clear()
    _session.cache_clear()
