"""Shared fixtures: in-process moto (`aws`), the event pump (`pump`), the Chalice test client
(`client`), bearer tokens (`token`), and the local runtime as a subprocess (`local_runtime`).

moto is imported first and the process never holds real credentials or reaches AWS: every AWS
variable points at fakes, and AWS_ENDPOINT_URL at a closed loopback port outside the fixtures
that set it (in-process moto intercepts before that; the runtime sets its own).
"""
from __future__ import annotations

import os
import pathlib
import signal
import sys
import weakref

import moto  # noqa: F401  (before any app code: DESIGN §4)
from moto import mock_aws

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from infra.local import LOCAL_ENV, MOTO_CONFIG, apply_local_env, tune_gc  # noqa: E402

tune_gc()   # infra/local/__init__.py GC_THRESHOLDS

for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
              "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
    os.environ.pop(_name, None)
apply_local_env()
os.environ.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                   "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})

import pytest  # noqa: E402

from infra.local import read_once  # noqa: E402

pytest_plugins = ["tests.support.fixtures"]   # the component tests' shared fixtures
read_once.install()   # botocore's and moto's read-only work, once per test process (infra/local/read_once.py)


def _reset_clients() -> None:
    """Forget what a container keeps between invocations: clients, and the caches of what is in
    the tables (each test starts as a new container would, whatever the last test's tables held)."""
    from chalicelib import aws as aws_clients

    aws_clients.reset()
    from chalicelib.campaign import service as campaigns
    from chalicelib.catalog import store as catalogue
    from chalicelib.customer import contacts
    from chalicelib.hub import service as hub
    from chalicelib.promotion import service as promotions

    contacts.forget()
    catalogue.cache.clear()
    hub.cache.clear()
    promotions.forget()
    campaigns.forget_live_campaigns()
    try:
        from chalicelib import idempotency
    except ImportError:
        return
    idempotency.reset()


_PROVISIONED: dict[tuple, tuple[dict[str, str], object, dict]] = {}   # per settings: (env, moto snapshot, streams)
# The streams of the moto the running test started from, as the pump reads them (Pump.layouts, taken
# when it was provisioned): the `pump` fixture opens its sources from them instead of describing every
# table and stream again (20 calls, some 60 ms, in each of the 600 tests that drain a pump). None: a
# test's own moto (fresh_moto).
_streams_now: dict | None = None
_KEPT_CLIENTS: dict[tuple, tuple[dict, dict, dict]] = {}   # per settings, see _keep_clients


def _keep_clients(key: tuple) -> None:
    """What the test's clients were (chalicelib.aws's, and PynamoDB's connections: the models' and
    the transactions'), kept
    for the next test in the same settings (`_give_back_clients`) instead of each test building
    its own (15 botocore clients a test, a tenth of a component test's CPU). Nothing outside the
    `aws` fixture holds them: _reset_clients forgets them after this, as before."""
    from chalicelib import aws as aws_clients
    from chalicelib import db

    _KEPT_CLIENTS[key] = (dict(aws_clients._clients), dict(db.connections),
                          {model: vars(model)["_connection"] for model in db.model_classes()
                           if vars(model).get("_connection") is not None})


def _give_back_clients(key: tuple) -> None:
    """The clients `_keep_clients` kept for these settings, to a test that starts with none (after
    _reset_clients): each one only if a new one would be made the same way now (AWS's own endpoint,
    which mock_aws answers in this process, this region, these credentials; a test that changed
    the environment while it made one does not pass it on), and with a full retry quota as a new
    client has. moto stubs every botocore client (its handler is one of botocore's built-in
    ones, on or off with mock_aws): a kept client reaches the same moto as a new one would."""
    from chalicelib import aws as aws_clients
    from chalicelib import db

    clients, transactions, connections = _KEPT_CLIENTS.get(key, ({}, {}, {}))
    for service, kept in clients.items():
        if _as_new(kept):
            aws_clients._clients.setdefault(service, kept)
    for where, connection in transactions.items():
        if _as_new(connection._client):
            db.connections.setdefault(where, connection)
    for model, connection in connections.items():
        if vars(model).get("_connection") is None and _as_new(connection.connection._client):
            model._connection = connection
    _full_retry_quotas()


def _as_new(client) -> bool:
    """Whether `client` (None: not made yet) is what a new client would be in this environment."""
    import urllib.parse

    from chalicelib import settings

    if client is None:
        return True
    credentials = getattr(client._request_signer, "_credentials", None)
    return ((urllib.parse.urlsplit(client.meta.endpoint_url).hostname or "").endswith(".amazonaws.com")
            and not any(name.startswith("AWS_ENDPOINT_URL") for name in os.environ)
            and client.meta.region_name == settings.region()
            and getattr(credentials, "access_key", None) == os.environ.get("AWS_ACCESS_KEY_ID"))


_RETRY_QUOTAS: weakref.WeakSet = weakref.WeakSet()   # every botocore retry quota of this process


def _full_retry_quotas() -> None:
    """botocore's standard retry mode gives each client a retry quota (spent by retries, refilled
    by successes): every quota starts the test full, as a new client's would."""
    for quota in list(_RETRY_QUOTAS):
        with quota._lock:
            quota._available_capacity = quota._max_capacity


def _track_retry_quotas() -> None:
    from botocore.retries import quota

    init = quota.RetryQuota.__init__

    def tracked(self, *args, **kwargs) -> None:
        init(self, *args, **kwargs)
        _RETRY_QUOTAS.add(self)

    quota.RetryQuota.__init__ = tracked


_track_retry_quotas()


@pytest.fixture
def aws(request):
    """In-process moto with every resource of infra/resources.py provisioned and Step Functions
    lambda:invoke routed to our handlers. The environment is restored afterwards.

    Provisioned once per test process (per distinct OMNISHOP_*/AWS_* settings): each test starts
    from a copy of moto as provisioning left it (tests/support/moto_state.py), so nothing another
    test wrote, created or started is there. `@pytest.mark.fresh_moto` provisions a new moto for
    the test instead, as every test did before."""
    from tests.support import moto_state

    saved = dict(os.environ)
    os.environ.pop("AWS_ENDPOINT_URL", None)  # moto only intercepts AWS's own endpoints
    apply_local_env()
    from infra.local import lambdas
    from infra.local.provision import provision

    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(("OMNISHOP_", "AWS_"))))
    provisioned = None if request.node.get_closest_marker("fresh_moto") else _PROVISIONED.get(key)
    mock = mock_aws(config=MOTO_CONFIG)
    mock.start(reset=provisioned is None)
    try:
        _reset_clients()
        _give_back_clients(key)
        lambdas.install()
        global _streams_now
        if provisioned is None:
            env = provision()
            if not request.node.get_closest_marker("fresh_moto"):
                from infra.local.pump import Pump

                streams = Pump().layouts()   # read-only calls, before the snapshot
                _PROVISIONED[key] = (env, moto_state.Snapshot(base=True), streams)
                _streams_now = streams
        else:
            env, snapshot, _streams_now = provisioned
            snapshot.restore()
            os.environ.update(env)
        try:
            yield
        finally:
            _streams_now = None
            failed = _end_workflows()
        if failed and not request.node.get_closest_marker("expects_failed_workflow"):
            raise AssertionError(
                f"{len(failed)} Step Functions execution(s) failed in this test (the workflow a channel "
                "or an alarm would see): " + "; ".join(failed)
                + ". A test that means one to fail is marked @pytest.mark.expects_failed_workflow.")
    finally:
        mock.stop()
        lambdas.uninstall()
        _keep_clients(key)
        _reset_clients()
        os.environ.clear()
        os.environ.update(saved)


WORKFLOW_END_SECONDS = 120.0


def _end_workflows() -> list[str]:
    """Stop every Step Functions execution the test left running and wait for moto's threads
    that run them to end, before the test's moto and environment go away. A workflow thread that
    outlived its test ran our handlers against the next test's moto, or outside any (then its
    PynamoDB connection, made against the closed endpoint AWS_ENDPOINT_URL points at, stayed on
    the model class and failed every later test of that worker). Returns the executions that had
    FAILED by then (name, error, cause): a test passes only if its workflows did not fail, or it
    says it expects one to (the SMS of a silenced basket were right while its execution failed,
    and no test saw it)."""
    import time

    from moto.stepfunctions.parser.utils import TMP_THREADS

    from chalicelib import aws as aws_clients

    if not TMP_THREADS and not any(machine.executions for machine in _state_machines()):
        return []   # nothing started: no execution to list, stop or wait for (the API calls would say so)
    sfn = aws_clients.client("stepfunctions")
    failed = []   # before the stops below: what had failed while the test ran
    for machine in sfn.list_state_machines()["stateMachines"]:
        for page in sfn.get_paginator("list_executions").paginate(
                stateMachineArn=machine["stateMachineArn"], statusFilter="FAILED"):
            for execution in page["executions"]:
                described = sfn.describe_execution(executionArn=execution["executionArn"])
                failed.append(f"{machine.get('name')}/{execution['executionArn'].rsplit(':', 1)[-1]}: "
                              f"{described.get('error')} ({str(described.get('cause'))[:160]})")
    for machine in sfn.list_state_machines()["stateMachines"]:
        for page in sfn.get_paginator("list_executions").paginate(
                stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING"):
            for execution in page["executions"]:
                sfn.stop_execution(executionArn=execution["executionArn"], cause="the test ended")
    _wake_task_token_waits()   # moto's StopExecution leaves .waitForTaskToken states waiting
    deadline = time.monotonic() + WORKFLOW_END_SECONDS
    for thread in list(TMP_THREADS):
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    alive = [thread for thread in TMP_THREADS if thread.is_alive()]
    TMP_THREADS[:] = alive
    if alive:
        raise RuntimeError(f"{len(alive)} Step Functions thread(s) still running "
                           f"{WORKFLOW_END_SECONDS:.0f} s after their executions were stopped")
    return failed


def _wake_task_token_waits() -> None:
    """Wake every task-token wait of every execution (AWS ends them when it stops the execution;
    moto 5.2.5 does not, so a stopped order workflow waiting for a stack's callback kept its
    thread until the state's timeout): each then ends as its execution is stopped."""
    for machine in _state_machines():
        for execution in list(machine.executions):
            worker = getattr(execution, "exec_worker", None)
            pool = getattr(getattr(worker, "env", None), "callback_pool_manager", None)
            for endpoint in list(getattr(pool, "_pool", {}).values()):
                endpoint.interrupt_all()


def _state_machines() -> list:
    """Every state machine of the in-process moto, in every account and region, read from its
    backends (not through the API)."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    return [machine for account in list(stepfunctions_parser_backends.values())
            for backend in list(account.values()) for machine in list(backend.state_machines)]


@pytest.fixture
def pump(aws):
    """A Pump over every FUNCTIONS entry: call `pump.drain()` to deliver records and messages."""
    from infra.local.pump import Pump

    return Pump(retry_delay=0, described=_streams_now)


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


_RUNTIMES: list = []  # the runtimes local_runtime_factory started in this process


def _signal_runtime(runtime, signum: int) -> None:
    """SIGSTOP/SIGCONT to a runtime's whole process group (its moto server and threads too)."""
    if runtime.process is not None and runtime.process.poll() is None:
        try:
            os.killpg(runtime.process.pid, signum)
        except ProcessLookupError:
            pass


@pytest.fixture(autouse=True)
def _runtimes_rest_between_tests(request):
    """A runtime started for the session polls its 11 sources every 0.2 s even when no test uses
    it (a third of a core each, for the rest of the session): between tests every runtime of
    local_runtime_factory is stopped (SIGSTOP); a test that uses one continues them (SIGCONT)
    first. While stopped, its clock runs on: what falls due meanwhile (idle timers, schedules)
    fires when it continues, as on a machine too busy to run it."""
    if "local_runtime_factory" in request.fixturenames:
        for runtime in _RUNTIMES:
            _signal_runtime(runtime, signal.SIGCONT)
    yield
    for runtime in _RUNTIMES:
        _signal_runtime(runtime, signal.SIGSTOP)


@pytest.fixture(scope="session")
def local_runtime_factory():
    """start(**env) -> a RuntimeProcess with these overrides, one per distinct env for the
    session; every one is stopped (SIGTERM, checked) and its temporary state dir removed at
    session end (`close()`). Between tests that do not use them they rest (SIGSTOP,
    `_runtimes_rest_between_tests`)."""
    from infra.local.process import RuntimeProcess

    started: dict[tuple, RuntimeProcess] = {}

    def start(**env: str) -> RuntimeProcess:
        key = tuple(sorted(env.items()))
        if key not in started:
            started[key] = RuntimeProcess(env=env).start()
            _RUNTIMES.append(started[key])
        _signal_runtime(started[key], signal.SIGCONT)
        return started[key]

    yield start
    problems = []
    for runtime in started.values():
        _signal_runtime(runtime, signal.SIGCONT)
        _RUNTIMES.remove(runtime)
        try:
            code = runtime.close()
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


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "fresh_moto: the `aws` fixture provisions a new moto for this test "
                                       "instead of copying the one provisioned for the process")
    config.addinivalue_line("markers", "waits: the module's tests mostly wait (timers, workflows, other processes): "
                                       "under make test one such module runs at a time (tests/support/scheduling.py)")
    config.addinivalue_line("markers", "expects_failed_workflow: a Step Functions execution failing is what this "
                                       "test is about (otherwise a failed execution fails the test)")


# --- running in parallel (make test: pytest-xdist, --dist loadgroup) -------------------------------
from tests.fuzz.report import pytest_runtest_logreport, pytest_terminal_summary  # noqa: E402,F401
from tests.support import scheduling  # noqa: E402


@pytest.hookimpl(wrapper=True)   # around xdist's hook, which reads the marks set here into the node ids
def pytest_collection_modifyitems(items):
    """Under `--dist loadgroup`, tests that share something costly or fixed run in one worker:
    - tests/infra: the session's CDK synthesis, and chalice's files in the project's .chalice/;
    - a module whose tests use runtimes started with their own env (local_runtime_factory, not the
      default local_runtime) or a module-scoped runtime: each worker would start its own;
    - a module marked `waits` (tests/support/scheduling.py: one such unit runs at a time).
    Every other test goes to whichever worker is free (a worker starts the default runtime once,
    if it gets a test that needs it). The order of the work: scheduling.work_order."""
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        names = set(getattr(item, "fixturenames", ()))
        marked = item.get_closest_marker("xdist_group")
        if marked is not None:   # grouped by the test itself (the fuzz halves; tests/support/runtimes.py shared)
            scheduling.check_named(item, marked)
            continue
        if module.startswith("tests/infra/"):
            group = "infra"
        elif "local_runtime_factory" in names and "local_runtime" not in names:
            group = module
        elif any(d.scope == "module" for d in _fixture_defs(item)):
            group = module
        else:
            group = None
        group = scheduling.group_of(item, group)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=scheduling.work_order)   # stable: a module's tests stay in their order
    yield
    _group_ids(items)


@pytest.hookimpl(optionalhook=True)   # pytest-xdist's hook
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadgroup` (make test): tests/support/scheduling.py's order and waiting units."""
    if config.getvalue("dist") == "loadgroup":
        return scheduling.make_scheduler(config, log)
    return None


def _group_ids(items) -> None:
    """Make xdist 3.8.0's group suffix ("...::test@group") the node id under pytest 9.2: xdist
    writes it to `item._nodeid`, which pytest 9.2 no longer reads (its node ids are structured,
    `item._id`), so --dist loadgroup silently grouped nothing (each worker synthesized the CDK app
    and started the journeys' runtimes for itself). pytest-xdist issue 1386 (fix: PR 1388, open)."""
    from _pytest.nodeid import NodeId

    for item in items:
        legacy = item.__dict__.get("_nodeid")
        if legacy and legacy != item.nodeid:
            item._id = NodeId.parse(legacy)


def _fixture_defs(item) -> list:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return []
    return [defs[-1] for defs in info.name2fixturedefs.values() if defs]
