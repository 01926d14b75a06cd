"""The shared fixtures of tests/conftest.py work together: aws, pump, client, token."""
from __future__ import annotations

import os

import boto3


def test_aws_is_in_process_moto_with_no_endpoint(aws):
    assert "AWS_ENDPOINT_URL" not in os.environ and os.environ["OMNISHOP_LOCAL"] == "1"
    assert os.environ["OMNISHOP_QUEUE_URL_HUB_DELIVERY"].endswith("/omnishop-local-hub-delivery")
    assert boto3.client("sts").get_caller_identity()["Account"] == "123456789012"


def test_client_and_token(client, token):
    assert client.http.get("/health").status_code == 200
    bearer = {"Authorization": f"Bearer {token('catalog-admin')}"}
    answer = client.http.get("/tmf-api/productCatalogManagement/v4/productOffering", headers=bearer)
    assert answer.status_code == 200 and answer.json_body == []
    assert client.http.get("/tmf-api/productCatalogManagement/v4/productOffering").status_code == 401


def test_pump_covers_every_function_with_sources(pump):
    from infra import resources

    assert pump.functions == resources.FUNCTIONS
    pump.drain()
    # one shard per stream in moto, with a lane per unit of the function's parallelization
    assert len(pump.sources) == sum(len(f.sources) + sum(f.parallelization for s in f.sources
                                                         if isinstance(s, resources.StreamSource))
                                    for f in resources.FUNCTIONS)
