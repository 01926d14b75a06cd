"""Shared fixtures: in-process moto (`aws`), the event pump (`pump`), the Chalice test client
(`client`), bearer tokens (`token`), and the local runtime as a subprocess (`local_runtime`).

moto is imported first and the process never holds real credentials or reaches AWS: every AWS
variable points at fakes, and AWS_ENDPOINT_URL at a closed loopback port outside the fixtures
that set it (in-process moto intercepts before that; the runtime sets its own).
"""
from __future__ import annotations

import os
import sys
import pathlib

import moto  # noqa: F401  (before any app code: DESIGN §4)
from moto import mock_aws

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from infra.local import LOCAL_ENV, MOTO_CONFIG, apply_local_env  # noqa: E402

for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
              "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
    os.environ.pop(_name, None)
apply_local_env()
os.environ.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                   "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})

import pytest  # noqa: E402


def _reset_clients() -> None:
    from chalicelib import aws as aws_clients

    aws_clients.reset()
    try:
        from chalicelib import idempotency
    except ImportError:
        return
    idempotency.reset()


@pytest.fixture
def aws():
    """In-process moto with every resource of infra/resources.py provisioned and Step Functions
    lambda:invoke routed to our handlers. The environment is restored afterwards."""
    saved = dict(os.environ)
    os.environ.pop("AWS_ENDPOINT_URL", None)  # moto only intercepts AWS's own endpoints
    apply_local_env()
    from infra.local import lambdas
    from infra.local.provision import provision

    try:
        with mock_aws(config=MOTO_CONFIG):
            _reset_clients()
            lambdas.install()
            provision()
            yield
    finally:
        lambdas.uninstall()
        _reset_clients()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def pump(aws):
    """A Pump over every FUNCTIONS entry: call `pump.drain()` to deliver records and messages."""
    from infra.local.pump import Pump

    return Pump(retry_delay=0)


@pytest.fixture
def client(aws):
    """chalice.test.Client for the app in app.py, against the `aws` moto."""
    from chalice.test import Client

    from app import app

    with Client(app) as test_client:
        yield test_client


@pytest.fixture
def token():
    """token(role, **claims) -> a bearer token string signed with the local key."""
    from chalicelib import auth

    def issue(role: str, **claims) -> str:
        saved = os.environ.get("OMNISHOP_LOCAL")
        os.environ["OMNISHOP_LOCAL"] = LOCAL_ENV["OMNISHOP_LOCAL"]
        try:
            return auth.issue_local_token({"role": role, **claims})
        finally:
            if saved is None:
                os.environ.pop("OMNISHOP_LOCAL")
            else:
                os.environ["OMNISHOP_LOCAL"] = saved

    return issue


@pytest.fixture(scope="session")
def local_runtime_env() -> dict[str, str]:
    """Environment overrides for `local_runtime`; override this fixture in a conftest to change
    them (e.g. {"OMNISHOP_BASKET_IDLE_SECONDS": "2"})."""
    return {}


@pytest.fixture(scope="session")
def local_runtime_factory():
    """start(**env) -> a RuntimeProcess with these overrides, one per distinct env for the
    session; every one is stopped (SIGTERM, checked) at session end."""
    from infra.local.process import RuntimeProcess

    started: dict[tuple, RuntimeProcess] = {}

    def start(**env: str) -> RuntimeProcess:
        key = tuple(sorted(env.items()))
        if key not in started:
            started[key] = RuntimeProcess(env=env).start()
        return started[key]

    yield start
    problems = []
    for runtime in started.values():
        try:
            code = runtime.stop()
        except RuntimeError as exc:
            problems.append(str(exc))
        else:
            if code != 0:
                problems.append(f"the local runtime exited with {code}:\n{runtime.output()[-5000:]}")
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="session")
def local_runtime(local_runtime_factory, local_runtime_env):
    """The local runtime (`python -m infra.local`) on free ports, ready (/health 200): `.url`,
    `.moto_url`, `.token(role, **claims)`, `.request(method, path, body, headers)`, `.moto_data()`."""
    return local_runtime_factory(**local_runtime_env)
