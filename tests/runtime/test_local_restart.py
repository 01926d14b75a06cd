"""Stopping and starting `make run` again (issue 11 points 6 and 7), against the real subprocess:
Ctrl-C stops everything within 2 s, an immediate restart on the same ports works, and what was
there before the stop is there after it (tables, tokens), the demo data is not loaded again, and
an order whose workflow was running is re-driven."""
from __future__ import annotations

import re
import signal
import threading
import time
import urllib.request

import pytest

from infra.local.process import RuntimeProcess
from tests.support.customers import andrea_body
from tests.runtime.conftest import wait_for
from tests.support.appointments import installed_over_http

CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
BASKETS = "/tmf-api/shoppingCart/v4/shoppingCart"
ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
STOP_BOUND = 10.0         # Ctrl-C to process exit: about 1 s here; the old stop took 20 s. Generous so
                          # that a loaded machine cannot fail it (the figure is printed, not timed)
ANDREA_MOBILE = "+447700900123"   # the demo customer whose demo basket is reminded by SMS
MOBILE, EMAIL = "+447700900555", "rita.restart@example.org"
ENV = {"OMNISHOP_BASKET_IDLE_SECONDS": "2", "OMNISHOP_BASKET_SECOND_REMINDER_SECONDS": "3600",
       # Every stack takes the child orders and never answers: the order is in flight at the stop.
       "OMNISHOP_SIMULATED_STACKS_SILENT": "csp-stack-a,csp-stack-b,iot-partner-x"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _sigint(runtime) -> float:
    """Ctrl-C; how long until the process had exited."""
    started = time.monotonic()
    code = runtime.stop(timeout=30, signum=signal.SIGINT)
    took = time.monotonic() - started
    assert code == 0, runtime.output()[-3000:]
    return took


def _concurrent_health(runtime, clients=50):
    """`clients` connections at once (a barrier): every one answered, none reset."""
    barrier, answers, errors = threading.Barrier(clients), [], []

    def one():
        barrier.wait()
        try:
            with urllib.request.urlopen(f"{runtime.url}/health", timeout=30) as response:
                answers.append(response.status)
        except Exception as exc:   # a reset or refused connection
            errors.append(repr(exc))

    threads = [threading.Thread(target=one) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers, errors


def test_ctrl_c_stops_within_2s_and_a_restart_keeps_everything():
    runtime = RuntimeProcess(env=ENV).start()
    try:
        agent_token = runtime.token("agent", channel="callcenter", sub="agent-restart")
        agent = _bearer(agent_token)
        status, _, customer = runtime.request("POST", CUSTOMERS, andrea_body(
            name="Rita Restart", contactMedium=[{"mediumType": "mobile", "characteristic": {"phoneNumber": MOBILE}},
                                                {"mediumType": "email", "characteristic": {"emailAddress": EMAIL}}],
            contactPreference={"consent": {"sms": {"service": True}, "email": {"service": True}}}),
            _bearer(runtime.token("channel", channel="web", sub="portal")))
        assert status == 201, customer
        rita_token = runtime.token("customer", channel="web", customerId=customer["id"], sub=customer["id"])
        rita = _bearer(rita_token)
        status, _, basket = runtime.request("POST", BASKETS, {"cartItem": [{"productOffering": {"id": "po-home-security"}}]},
                                            rita)
        assert status == 201, basket
        wait_for("Rita's reminder SMS", lambda: runtime.outbox(MOBILE, "sms"))
        andrea = _bearer(runtime.token("customer", channel="web", customerId="cust-andrea", sub="cust-andrea"))
        installed_over_http(runtime, andrea, "cust-andrea", "po-home-security")
        status, _, order = runtime.request("POST", ORDERS, {"productOrderItem": [
            {"id": "1", "action": "add", "productOffering": {"id": "po-home-security"}}]}, andrea)
        assert status == 201, order
        # its installation fee paid (TMF676): only then does its workflow start
        status, _, paid = runtime.request("POST", "/tmf-api/paymentManagement/v4/payment", {
            "account": {"id": "ba-andrea"}, "paymentMethod": {"id": "tok-visa"},
            "totalAmount": {"unit": "EUR", "value": 49},
            "paymentItem": [{"item": {"id": order["id"], "@referredType": "ProductOrder"}}]}, andrea)
        assert status == 201 and paid["status"] == "authorized", paid
        # its workflow sent the child order to its (silent) stack and waits for it
        wait_for("the child order dispatched", lambda: any(
            r["relationshipType"] == "child" for r in runtime.request("GET", f"{ORDERS}/{order['id']}", None,
                                                                      andrea)[2].get("orderRelationship") or []))
        assert "demo data loaded" in runtime.output()

        took = _sigint(runtime)
        first_log = runtime.output()
        assert took < STOP_BOUND, f"Ctrl-C took {took:.2f} s:\n{first_log[-3000:]}"
        assert "local state saved to" in first_log
        stopped_in = float(re.search(r"stopped in ([0-9.]+) s", first_log).group(1))
        print(f"\nCtrl-C to exit: {took:.2f} s (the runtime's own stop: {stopped_in:.2f} s)")

        # at once, on the same ports; the re-driven workflows now hold a child after 2 s and send
        # a second reminder 1 s after the first
        # (and Rita may be reminded of two baskets: the per-customer cap would otherwise keep her
        # new basket quiet, as her first was reminded a moment ago)
        runtime.env.update(OMNISHOP_ORDER_CHILD_TIMEOUT_SECONDS="2", OMNISHOP_BASKET_SECOND_REMINDER_SECONDS="1",
                           OMNISHOP_RECOVERY_BASKETS_PER_CUSTOMER="2")
        restarted = time.monotonic()
        runtime.start()
        print(f"restart to /health 200: {time.monotonic() - restarted:.2f} s")
        second_log = runtime.output()
        assert "demo data not loaded" in second_log and "demo data loaded" not in second_log
        assert re.search(r"restored \d+ items", second_log)
        redriven = re.search(r"re-driven: \{'orders': (\d+), 'recovery sessions': (\d+)\}", second_log)
        assert redriven and redriven.group(1) == "1" and int(redriven.group(2)) >= 1, second_log[-3000:]

        # the data is there, read with the tokens issued before the restart
        status, _, again = runtime.request("GET", f"{CUSTOMERS}/{customer['id']}", None, agent)
        assert status == 200 and again["name"] == "Rita Restart", again
        status, _, kept = runtime.request("GET", f"{BASKETS}/{basket['id']}", None, rita)
        assert status == 200 and kept["id"] == basket["id"], kept
        # the order's workflow was re-driven: it waits for its child again, which times out (held)
        held = wait_for("the re-driven order held", lambda: runtime.request(
            "GET", f"{ORDERS}/{order['id']}", None, andrea)[2]["state"] == "held", timeout=90)
        assert held
        # Rita's recovery session was re-driven where it was: her second reminder (an email) goes out
        wait_for("Rita's second reminder", lambda: runtime.outbox(EMAIL, "email"))

        # no demo reminder SMS again: a basket made now is reminded, the demo basket is not
        status, _, second = runtime.request("POST", BASKETS, {"cartItem": [{"productOffering": {"id": "po-home-security"}}]},
                                            rita)
        assert status == 201, second
        # (moto forgot what it sent before the restart, and Rita's first basket waits a day for
        # its second reminder: an SMS to her now is the new basket's)
        wait_for("the new basket's SMS", lambda: runtime.outbox(MOBILE, "sms"))
        assert runtime.outbox(ANDREA_MOBILE, "sms") == []
    finally:
        runtime.stop()


def test_50_concurrent_clients_get_no_connection_errors(local_runtime):
    """The API's listen backlog: chalice's local server listened with 5, so of 50 clients
    connecting at once most had their SYN dropped (connected only after the 1 s retransmit) or,
    where the kernel aborts on overflow, reset (issue 11: resets at 20-35 clients)."""
    import socket

    barrier, took, sockets, lock = threading.Barrier(50), [], [], threading.Lock()

    def connect():
        barrier.wait()
        started = time.monotonic()
        connection = socket.create_connection(("127.0.0.1", local_runtime.port), timeout=30)
        with lock:
            took.append(time.monotonic() - started)
            sockets.append(connection)

    threads = [threading.Thread(target=connect) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for connection in sockets:
        connection.close()
    assert len(took) == 50 and max(took) < 0.9, sorted(took)[-5:]   # none waited for a SYN retransmit
    for _ in range(3):
        answers, errors = _concurrent_health(local_runtime)
        assert errors == [] and answers == [200] * 50, errors[:5]


def test_a_port_in_time_wait_is_free_and_a_listening_one_is_not():
    import socket

    from infra.local.runtime import HOST, _check_free

    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((HOST, 0))
        server.listen()
        port = server.getsockname()[1]
        try:
            _check_free(port)
        except RuntimeError as exc:
            assert "not free" in str(exc)
        else:
            raise AssertionError("a listening port was taken for free")
        client = socket.create_connection((HOST, port))
        accepted, _ = server.accept()
        accepted.close()   # the server side closes first: its end goes to TIME_WAIT
        client.close()
    _check_free(port)   # TIME_WAIT remains, the port is free to listen on again


@pytest.fixture(scope="module")
def default_runtime():
    """A runtime with the default environment that the tests below kill or stop and start again
    (each leaves it started): one process start fewer than a runtime of their own each."""
    runtime = RuntimeProcess()
    try:
        yield runtime
    finally:
        runtime.close()


def _running(runtime: RuntimeProcess) -> RuntimeProcess:
    """The runtime, started if it is not (first use, or a test before failed with it stopped)."""
    if runtime.process is None or runtime.process.poll() is not None:
        runtime.start()
    return runtime


def test_kill_9_loses_at_most_the_last_save_interval(default_runtime):
    """The state is saved while running, not only on a clean stop: after a kill -9 the next start
    has everything written up to the last periodic save (every 2 s), and the file is whole."""
    import os

    from infra.local import state

    runtime = _running(default_runtime)
    agent = _bearer(runtime.token("agent", channel="callcenter", sub="agent-kill"))
    status, _, customer = runtime.request("POST", CUSTOMERS, andrea_body(name="Kim Killed"),
                                          _bearer(runtime.token("channel", channel="web", sub="portal")))
    assert status == 201, customer
    saved = os.path.join(runtime.state_dir, state.TABLES_FILE)
    wait_for("a periodic save with the customer", lambda: os.path.exists(saved)
             and customer["id"] in open(saved).read(), timeout=30)
    os.killpg(runtime.process.pid, signal.SIGKILL)
    runtime.process.wait(30)
    runtime.start()
    assert "restored" in runtime.output()
    status, _, again = runtime.request("GET", f"{CUSTOMERS}/{customer['id']}", None, agent)
    assert status == 200 and again["name"] == "Kim Killed", again


def test_every_write_acknowledged_before_ctrl_c_is_there_after_the_restart(default_runtime):
    """20 clients writing while Ctrl-C comes: each basket answered 201 is in the restarted store
    (the API answers nothing once the last save began; a write it could not answer is not lost
    silently, its client saw no 2xx)."""
    runtime = _running(default_runtime)
    stacy = _bearer(runtime.token("customer", channel="app", customerId="cust-stacy", sub="cust-stacy"))
    acknowledged, lock, stop = [], threading.Lock(), threading.Event()

    def write():
        while not stop.is_set():
            try:
                status, _, basket = runtime.request("POST", BASKETS, {
                    "cartItem": [{"productOffering": {"id": "po-home-security"}}]}, stacy, timeout=10)
            except OSError:   # refused or cut off: not acknowledged
                continue
            if status == 201:
                with lock:
                    acknowledged.append(basket["id"])

    writers = [threading.Thread(target=write, daemon=True) for _ in range(20)]
    for writer in writers:
        writer.start()
    wait_for("some writes acknowledged", lambda: len(acknowledged) >= 20)
    took = _sigint(runtime)
    stop.set()
    for writer in writers:
        writer.join(30)
    print(f"\n{len(acknowledged)} baskets acknowledged; Ctrl-C to exit under load: {took:.2f} s")
    runtime.start()
    missing = [b for b in acknowledged if runtime.request("GET", f"{BASKETS}/{b}", None, stacy)[0] != 200]
    assert missing == [], f"{len(missing)} of {len(acknowledged)} acknowledged baskets lost"
