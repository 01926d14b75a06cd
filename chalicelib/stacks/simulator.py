"""Simulated fulfilment stacks for the local runtime (csp-stack-a, csp-stack-b, iot-partner-x).

Each serves a small TMF622 API at http://127.0.0.1:<port>/<stack>/tmf-api/productOrderingManagement/v4:
POST productOrder takes a child order and reports acknowledged, inProgress and then completed (or
failed) to Omnishop's listener with a `stack` token, OMNISHOP_SIMULATED_STACK_DELAY_SECONDS apart.
A stack named in OMNISHOP_SIMULATED_STACKS_FAILING fails every order, an item with the
characteristic simulateFailure=true fails on any stack; a stack in OMNISHOP_SIMULATED_STACKS_SILENT
accepts orders and never answers. POST cancelProductOrder stops an order not yet inProgress; PATCH productOrder/{id} stops the items it
names cancelled and adds its new items.
The same order id twice is accepted once (409 the second time)."""
from __future__ import annotations

import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from chalicelib.view import ref_id
from chalicelib import auth, outbound, settings
from chalicelib.catalog.domain import STACKS

API = "/tmf-api/productOrderingManagement/v4"
Report = Callable[[str, dict[str, Any]], None]


def _fails(stack: str, order: dict[str, Any]) -> bool:
    if stack in settings.simulated_stacks_failing():
        return True
    return any(str(c.get("value")).lower() == "true" for i in order.get("productOrderItem") or []
               for c in (i.get("product") or {}).get("productCharacteristic") or [] if c.get("name") == "simulateFailure")


def http_reporter(listener_url: str) -> Report:
    """Report a milestone to Omnishop's listener over HTTP with a local `stack` token."""
    tokens: dict[str, str] = {}

    def report(stack: str, event: dict[str, Any]) -> None:
        if stack not in tokens:
            tokens[stack] = auth.issue_local_token({"role": "stack", "sub": stack, "stack": stack})
        request = urllib.request.Request(listener_url, data=json.dumps(event).encode(), method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {tokens[stack]}"})
        for attempt in range(3):
            try:
                urllib.request.urlopen(request, timeout=10).close()
                return
            except OSError:
                time.sleep(0.5 * (attempt + 1))

    return report


class Simulator:
    def __init__(self, report: Report, host: str = "127.0.0.1", port: int = 0, stacks: tuple[str, ...] = STACKS):
        self.report, self.stacks = report, stacks
        self.orders: dict[str, dict[str, Any]] = {}      # order id -> {"stack", "order", "cancelled", "state"}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                stack, _, rest = self.path.lstrip("/").partition("/")
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                status = simulator.receive(stack, "/" + rest, body, self.command)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            do_PATCH = do_POST  # noqa: N815

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, stack: str) -> str:
        return f"http://127.0.0.1:{self.port}/{stack}{API}"

    def start(self) -> Simulator:
        """Serve, and open this port in the outbound guard's local allow-list (this process)."""
        outbound.allow_local("127.0.0.1", self.port)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="simulated-stacks")
        self.thread.start()
        return self

    def stop(self) -> None:
        outbound.disallow_local("127.0.0.1", self.port)
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def receive(self, stack: str, path: str, body: dict[str, Any], method: str = "POST") -> int:
        if stack not in self.stacks:
            return 404
        if method == "PATCH":
            return self._change(stack, path.removeprefix(f"{API}/productOrder/"), body)
        if path == f"{API}/productOrder":
            with self.lock:
                if body.get("id") in self.orders:
                    return 409
                self.orders[body["id"]] = {"stack": stack, "order": body, "cancelled": False, "state": None}
            if stack not in settings.simulated_stacks_silent():
                threading.Thread(target=self._fulfil, args=(stack, body), daemon=True,
                                 name=f"stack-{stack}-{body['id']}").start()
            return 201
        if path == f"{API}/cancelProductOrder":
            order_id = ref_id(body, "productOrder")
            entry = self.orders.get(order_id) if isinstance(order_id, str) else None
            if entry is None:
                return 404
            entry["cancelled"] = True
            return 201
        return 404

    def _change(self, stack: str, order_id: str, body: dict[str, Any]) -> int:
        """PATCH productOrder/{id}: items now cancelled stop, new items join the order, an
        engineer's visit moved is the item's new `appointment`."""
        with self.lock:
            entry = self.orders.get(order_id)
            if entry is None or entry["stack"] != stack:
                return 404
            items = {i["id"]: i for i in entry["order"].get("productOrderItem") or []}
            for item in body.get("productOrderItem") or []:
                if item.get("state") == "cancelled" or item["id"] not in items:
                    items[item["id"]] = {**items.get(item["id"], {}), **item}
                elif item.get("appointment") != items[item["id"]].get("appointment"):
                    items[item["id"]] = {**items[item["id"]], "appointment": item.get("appointment")}
            entry["order"] = {**entry["order"], "productOrderItem": list(items.values())}
        return 200

    def _fulfil(self, stack: str, order: dict[str, Any]) -> None:
        entry = self.orders[order["id"]]
        final = "failed" if _fails(stack, order) else "completed"
        for state in ("acknowledged", "inProgress", final):
            if self.stopping.wait(settings.simulated_stack_delay_seconds()):
                return
            if entry["cancelled"] and entry["state"] in (None, "acknowledged"):
                state = "cancelled"
            entry["state"] = state
            items = [{"id": i["id"], "state": "cancelled" if i.get("state") == "cancelled" else state}
                     for i in entry["order"].get("productOrderItem") or []]
            self.report(stack, {"eventId": f"{order['id']}-{state}", "eventType": "ProductOrderStateChangeEvent",
                                "event": {"productOrder": {"id": order["id"], "state": state,
                                                           "productOrderItem": items}}})
            if state == "cancelled":
                return
