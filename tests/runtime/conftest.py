"""Test-only resources for the runtime tests (not in infra/resources.py), provisioned into the
`aws` moto beside the real ones."""
from __future__ import annotations

import time

import pytest

from tests.runtime import handlers
from tests.runtime.testbed import FUNCTIONS, provision_testbed


@pytest.fixture
def test_env(aws):
    """The test resources, provisioned and routed; returns provision()'s env vars."""
    handlers.reset()
    yield provision_testbed()
    handlers.reset()


@pytest.fixture
def test_pump(test_env):
    from infra.local.pump import Pump

    return Pump(FUNCTIONS, retry_delay=0)


@pytest.fixture
def moto_server():
    """A moto server in this process (as the local runtime runs it), with the test resources;
    AWS_ENDPOINT_URL and MOTO_PORT point at it. Yields its URL."""
    import os
    import urllib.request
    from unittest import mock

    from moto.core.config import default_user_config
    from moto.server import ThreadedMotoServer

    from chalicelib import aws as aws_clients
    from infra.local import MOTO_CONFIG, apply_local_env, lambdas
    from infra.local.process import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    saved = dict(os.environ)
    apply_local_env()
    os.environ.update({"AWS_ENDPOINT_URL": url, "MOTO_PORT": str(port)})
    aws_clients.reset()
    handlers.reset()
    try:
        with mock.patch.dict(default_user_config, MOTO_CONFIG):  # what POST /moto-api/config sets
            provision_testbed()
            yield url
    finally:
        lambdas.uninstall()
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).close()
        server.stop()
        os.environ.clear()
        os.environ.update(saved)
        aws_clients.reset()
        handlers.reset()


def wait_for(what, condition, timeout=60.0):
    """Poll condition() until it is truthy (returned), failing after `timeout` s naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.25)
