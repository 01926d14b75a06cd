"""The local API server's request path: `GET /health` on one keep-alive connection beside the same
request on a fresh connection each time (the floor: a keep-alive request skips the TCP handshake,
so it should cost no more). With Nagle on, the response's second write (the body after the
headers) waited for the client's delayed ACK: about 40 ms more per keep-alive request
(infra/local/api_gateway.py sets TCP_NODELAY on the accepted sockets)."""
from __future__ import annotations

import http.client
import statistics
import threading
import time

from bench.harness import aws, table

REQUESTS = 60


def _get(connection: http.client.HTTPConnection) -> float:
    start = time.perf_counter()
    connection.request("GET", "/health")
    response = connection.getresponse()
    response.read()
    assert response.status == 200, response.status
    return time.perf_counter() - start


def run() -> None:
    with aws():
        from chalice.config import Config
        from chalice.local import create_local_server

        from app import app
        from infra.local import api_gateway

        config = Config(chalice_stage="local")
        server = api_gateway.serve(create_local_server(app, config, "127.0.0.1", 0), app, config)
        port = server.server.server_address[1]
        threading.Thread(target=server.server.serve_forever, daemon=True).start()
        try:
            fresh, kept = [], []
            keep_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            _get(keep_alive)   # warm: the first request builds what the app builds once
            for _ in range(REQUESTS):   # interleaved: fresh, kept, fresh, kept, ...
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                start = time.perf_counter()
                _get(connection)
                fresh.append(time.perf_counter() - start)
                connection.close()
                kept.append(_get(keep_alive))
            keep_alive.close()
        finally:
            server.shutdown()
            server.server.server_close()
    floor, median = statistics.median(fresh), statistics.median(kept)
    table(f"Local API: GET /health, median of {REQUESTS} requests each, interleaved. Floor: a fresh "
          "connection per request (connect + request); a keep-alive request should cost no more",
          ("connection", "ms", "vs floor"),
          [("fresh per request (floor)", f"{floor * 1000:.1f}", "1.0x"),
           ("keep-alive", f"{median * 1000:.1f}", f"{median / floor:.1f}x")])


if __name__ == "__main__":
    run()
