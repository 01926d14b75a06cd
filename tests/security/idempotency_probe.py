"""Run in a fresh interpreter by tests/security/test_idempotency_key.py:

    python -m tests.security.idempotency_probe stream-first|http-first

In-process moto, every resource provisioned, the app through chalice's test client. It makes a
stream-style `idempotency.once` call (no payload) and two POSTs with one Idempotency-Key and
different bodies, in the order asked, and prints what happened as one JSON line.
"""
from __future__ import annotations

import json
import os
import sys

from moto import mock_aws

import tests.conftest  # noqa: F401  (moto first, local environment, no real AWS)
from infra.local import MOTO_CONFIG, apply_local_env

BASE = "/tmf-api/productCatalogManagement/v4/productSpecification"


def main(order: str) -> dict:
    from chalice.test import Client

    from chalicelib import auth, idempotency
    from infra.local import lambdas
    from infra.local.provision import provision

    os.environ.pop("AWS_ENDPOINT_URL", None)  # as tests/conftest.py's `aws` fixture
    apply_local_env()
    with mock_aws(config=MOTO_CONFIG):
        lambdas.install()
        provision()
        from app import app

        token = auth.issue_local_token({"role": "catalog-admin", "sub": "maria"})
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                   "Idempotency-Key": "probe-key-1"}
        runs: list[str] = []
        out: dict = {"order": order}

        def stream_record() -> None:
            out["stream"] = [idempotency.once("probe.stream", "record-1", lambda: runs.append("ran") or "done")
                             for _ in range(2)]
            out["stream_runs"] = len(runs)

        with Client(app) as client:
            if order == "stream-first":
                stream_record()
            first = client.http.post(BASE, headers=headers, body=json.dumps({"name": "Spec A"}))
            again = client.http.post(BASE, headers=headers, body=json.dumps({"name": "Spec A"}))
            other = client.http.post(BASE, headers=headers, body=json.dumps({"name": "Spec B"}))
            if order == "http-first":
                stream_record()
        out["first"] = [first.status_code, json.loads(first.body)]
        out["again"] = [again.status_code, json.loads(again.body)]
        out["other"] = [other.status_code, json.loads(other.body)]
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
