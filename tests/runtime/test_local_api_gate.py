"""infra/local/api_gateway.py Gate: the local API server answers nothing once the runtime's
last state save began (a 2xx is only given for a write that save has), and its drain waits for
the requests being worked on. Slots: at most a few requests in the app at once, a request
backing off gives its slot up, and the readiness check never waits for one."""
from __future__ import annotations

import http.client
import threading

import pytest

from infra.local import api_gateway
from infra.local.process import free_port


@pytest.fixture
def served(aws, monkeypatch):
    from chalice.config import Config
    from chalice.local import CustomLocalChalice, LocalDevServer, create_local_server

    from app import app

    from chalicelib import db

    monkeypatch.setattr(db, "_sleep", db._sleep)   # serve() points it at its Slots: given back after
    monkeypatch.setattr(api_gateway, "SLOTS", api_gateway.SLOTS)
    config = Config(chalice_stage="local")
    port = free_port()
    # create_local_server makes the app a CustomLocalChalice, and fails if it already is one
    make = LocalDevServer if isinstance(app, CustomLocalChalice) else create_local_server
    server = api_gateway.serve(make(app, config, "127.0.0.1", port), app, config)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield port
    api_gateway.GATE.closed = False
    server.shutdown()
    server.server.server_close()


def _get(port, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def test_no_answer_once_the_gate_is_closed(served):
    assert _get(served, "/health") == 200
    assert api_gateway.GATE.drain(1) == 0
    api_gateway.GATE.close()
    with pytest.raises(http.client.RemoteDisconnected):
        _get(served, "/health")


def test_drain_waits_for_requests_being_worked_on():
    gate, entered, release = api_gateway.Gate(), threading.Event(), threading.Event()

    def request():
        with gate:
            entered.set()
            release.wait(10)

    worker = threading.Thread(target=request)
    worker.start()
    entered.wait(10)
    assert gate.drain(0.05) == 1          # still working: drain gives up after its timeout
    release.set()
    assert gate.drain(10) == 0
    worker.join(10)


def test_accepted_sockets_have_nagle_off(served, monkeypatch):
    """A keep-alive connection paid ~42 ms per request: the response is written in two parts and,
    with Nagle on, the second waited for the client's delayed ACK. Every socket the local API
    server accepts has TCP_NODELAY set."""
    import socket

    accepted, setup = [], api_gateway._Handler.setup

    def recording(handler):
        setup(handler)
        accepted.append(handler.connection)

    monkeypatch.setattr(api_gateway._Handler, "setup", recording)
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    try:
        for _ in range(3):   # one keep-alive connection, several requests
            connection.request("GET", "/health")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
        assert len(accepted) == 1   # the same connection served all three
        # still open (the client has not closed it): the very socket the server answers on
        assert accepted[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        connection.close()


def test_until_ready_the_api_answers_503_with_a_tmf_body_not_a_500(served, monkeypatch):
    """A request that reaches the runtime before its tables and plumbing exist gets 503 and
    Retry-After (API Gateway's word for "not now"), not the 500 a missing table would give."""
    import json

    from chalicelib import system

    monkeypatch.setattr(system, "_readiness", [lambda: "local runtime: provisioning"])
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    try:
        connection.request("GET", "/tmf-api/shoppingCart/v4/shoppingCart")
        response = connection.getresponse()
        body = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 503 and response.getheader("Retry-After") == "1"
    assert body["@type"] == "Error" and body["code"] == "starting" and "provisioning" in body["message"]
    assert _get(served, "/health") == 503
    monkeypatch.setattr(system, "_readiness", [])
    assert _get(served, "/tmf-api/shoppingCart/v4/shoppingCart") == 401   # ready: the route answers
    assert _get(served, "/health") == 200


def test_slots_let_at_most_their_number_into_the_app_at_once():
    slots, lock, inside, most, go = api_gateway.Slots(2), threading.Lock(), [0], [0], threading.Event()

    def request():
        with slots:
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            go.wait(10)
            with lock:
                inside[0] -= 1

    workers = [threading.Thread(target=request) for _ in range(6)]
    for worker in workers:
        worker.start()
    go.set()
    for worker in workers:
        worker.join(10)
    assert not any(w.is_alive() for w in workers) and most[0] == 2 and inside[0] == 0


def test_no_slots_is_no_limit():
    slots = api_gateway.Slots(0)
    with slots, slots, slots:
        slots.sleep(0)


def test_a_request_backing_off_gives_its_slot_up_and_takes_one_again(monkeypatch):
    """One slot: while the first request waits out its back-off (db.back_off through Slots.sleep),
    a second one runs; the first goes on only after the second left the app."""
    slots, order = api_gateway.Slots(1), []
    first_in, second_in, second_out = threading.Event(), threading.Event(), threading.Event()

    def back_off(seconds):
        assert second_in.wait(10), "the second request never got the slot"
        order.append("first sleeps while the second runs")
        second_out.set()

    monkeypatch.setattr(api_gateway.time, "sleep", back_off)

    def first():
        with slots:
            first_in.set()
            slots.sleep(0.5)
            order.append("first again")

    def second():
        with slots:
            second_in.set()
            second_out.wait(10)
            order.append("second done")

    a = threading.Thread(target=first)
    a.start()
    assert first_in.wait(10)
    b = threading.Thread(target=second)
    b.start()
    a.join(10)
    b.join(10)
    assert order == ["first sleeps while the second runs", "second done", "first again"]


def test_the_readiness_check_never_waits_for_a_slot(served):
    """Every slot taken (requests working): GET /health still answers, at once."""
    from chalicelib import settings

    slots, size = api_gateway.SLOTS, settings.local_concurrency()   # serve() sized them so
    assert size > 0
    for _ in range(size):
        slots.__enter__()
    try:
        assert _get(served, "/health") == 200
    finally:
        for _ in range(size):
            slots.__exit__()
