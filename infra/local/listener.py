"""A TMF event listener on loopback that records what it is sent: for trying the hub locally,
for tests and benchmarks. It can be told to fail the next N deliveries.

`python -m infra.local.listener [PORT]` runs one on 127.0.0.1:PORT (default 9999, the port the
local runtime opens in the outbound guard for it) and prints every event it gets."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from chalicelib import outbound


class Listener:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.events: list[dict[str, Any]] = []
        self.attempts = 0
        self.fail_next = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer._lock:
                    outer.attempts += 1
                    failing = outer.fail_next != 0
                    if failing and outer.fail_next > 0:
                        outer.fail_next -= 1
                    if not failing:
                        outer.events.append(json.loads(body or b"{}"))
                self.send_response(503 if failing else 201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self.url = f"http://{host}:{self._server.server_address[1]}/listener"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "Listener":
        """Serve, and open this port in the outbound guard's local allow-list (this process)."""
        outbound.allow_local(*self._bound())
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        outbound.disallow_local(*self._bound())
        self._server.shutdown()
        self._server.server_close()

    def _bound(self) -> tuple[str, int]:
        """(host, port) the server listens on: an AF_INET server's address is a host string."""
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)
        return host, port

    def event_types(self) -> list[str | None]:
        with self._lock:
            return [e.get("eventType") for e in self.events]


def main() -> None:
    import sys
    import time

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9999
    with Listener(port=port) as listener:
        print(f"listening on {listener.url} (Ctrl-C stops)", flush=True)
        seen = 0
        try:
            while True:
                time.sleep(0.2)
                with listener._lock:
                    new = listener.events[seen:]
                for event in new:
                    print(json.dumps(event), flush=True)
                seen += len(new)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
