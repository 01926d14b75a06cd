"""What every benchmark shares: an in-process moto with every resource, an AWS call counter,
and a table printer."""
from __future__ import annotations

import collections
import contextlib
import os
import time
from typing import Any, Callable, Iterator

LOCAL_ENV = {
    "OMNISHOP_LOCAL": "1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_METRICS_NAMESPACE": "Omnishop", "POWERTOOLS_LOG_LEVEL": "ERROR",
}


@contextlib.contextmanager
def aws() -> Iterator[None]:
    """moto in-process with every Omnishop resource provisioned (as the tests' `aws` fixture)."""
    os.environ.update(LOCAL_ENV)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    with mock_aws(config={"lambda": {"use_docker": False},
                          "stepfunctions": {"execute_state_machine": True}}):
        from chalicelib import aws as clients
        from chalicelib import idempotency
        from infra.local import lambdas
        from infra.local.provision import provision

        clients.reset()
        idempotency.reset()
        provision()
        lambdas.install()
        try:
            yield
        finally:
            lambdas.uninstall()


class Calls:
    """Counts AWS API calls made through botocore (boto3 and PynamoDB alike)."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        # DynamoDB calls per physical table name: ("<table>", "Query") -> n
        self.tables: collections.Counter[tuple[str, str]] = collections.Counter()
        # DynamoDB items read (Query/Scan: ScannedCount; GetItem: 0 or 1; BatchGetItem: returned)
        self.items_read = 0
        # DynamoDB items sent back (a COUNT Query reads items but returns none)
        self.items_returned = 0

    @contextlib.contextmanager
    def counting(self) -> Iterator["Calls"]:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        counts, tables = self.counts, self.tables

        def counted(client: Any, operation: str, params: Any) -> Any:
            counts[f"{client.meta.service_model.service_name}:{operation}"] += 1
            if isinstance(params, dict) and "TableName" in params:
                tables[(params["TableName"], operation)] += 1
            response = original(client, operation, params)
            if client.meta.service_model.service_name == "dynamodb":
                self.items_read += _items_in(operation, response)
                self.items_returned += _items_back(operation, response)
            return response

        BaseClient._make_api_call = counted
        try:
            yield self
        finally:
            BaseClient._make_api_call = original

    def on_table(self, table_name: str) -> dict[str, int]:
        """{"Query": n, ...} made on one table (its physical name)."""
        return {op: n for (table, op), n in self.tables.items() if table == table_name}

    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        return ", ".join(f"{k} x{v}" for k, v in sorted(self.counts.items())) or "-"


def _items_in(operation: str, response: Any) -> int:
    if operation in ("Query", "Scan"):
        return int(response.get("ScannedCount", response.get("Count", 0)))
    if operation == "GetItem":
        return 1 if response.get("Item") else 0
    if operation == "BatchGetItem":
        return sum(len(items) for items in (response.get("Responses") or {}).values())
    return 0


def _items_back(operation: str, response: Any) -> int:
    if operation in ("Query", "Scan"):
        return len(response.get("Items") or [])
    return _items_in(operation, response)


def measure(fn: Callable[[], Any]) -> Calls:
    calls = Calls()
    with calls.counting():
        fn()
    return calls


def table(title: str, header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    print(f"\n## {title}")
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))


def mean_ms(fn: Callable[[], Any], n: int = 50) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) * 1000 / n


def headers(claims: dict[str, Any]) -> dict[str, str]:
    """Bearer headers for a local token with these claims."""
    from chalicelib import auth

    return {"Authorization": "Bearer " + auth.issue_local_token(claims), "Content-Type": "application/json"}


class Recorder:
    """Calls the API through a chalice test client and records the AWS calls each step makes."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.rows: list[tuple[Any, ...]] = []

    def call(self, method: str, path: str, headers: dict[str, str], body: Any = None) -> dict:
        import json

        kwargs = {"body": json.dumps(body)} if body is not None else {}
        r = getattr(self.client.http, method)(path, headers=headers, **kwargs)
        assert r.status_code < 300, (path, r.status_code, r.body)
        return json.loads(r.body) if r.body else {}

    def row(self, name: str, fn: Callable[[], Any]) -> Any:
        result: list[Any] = []
        calls = measure(lambda: result.append(fn()))
        self.rows.append((name, calls.total(), calls.summary()))
        return result[0]
