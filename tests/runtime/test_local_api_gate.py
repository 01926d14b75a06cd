"""infra/local/api_gateway.py Gate: the local API server answers nothing once the runtime's
last state save began (a 2xx is only given for a write that save has), and its drain waits for
the requests being worked on."""
from __future__ import annotations

import http.client
import threading

import pytest

from infra.local import api_gateway
from infra.local.process import free_port


@pytest.fixture
def served(aws):
    from chalice.config import Config
    from chalice.local import CustomLocalChalice, LocalDevServer, create_local_server

    from app import app

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
