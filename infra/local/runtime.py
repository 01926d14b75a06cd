"""`python -m infra.local` (`make run`): Omnishop on one machine, no AWS account.

Starts a moto server on loopback, serves the API at once (GET /health answers 503 until
everything below is ready), creates every resource, routes Lambda invocations to our handlers,
starts the pump and the scheduler, loads the demo data, then runs until Ctrl-C or SIGTERM and
stops everything it started.

Ports: OMNISHOP_PORT (API, default 8000) and MOTO_PORT (moto, default 5000).
"""
from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import urllib.request
from typing import Any, Callable

from infra.local import MOTO_CONFIG, apply_local_env

log = logging.getLogger("infra.local")
HOST = "127.0.0.1"


def _check_free(port: int) -> None:
    """Fail clearly now: moto's server thread would hang on a port that is taken."""
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise RuntimeError(f"port {port} on {HOST} is not free: {exc}") from None


class Stopping(BaseException):
    """Raised in the main thread by SIGTERM/SIGINT (a BaseException, like KeyboardInterrupt, so
    that no `except Exception` on the way swallows it)."""


class Runtime:
    STEPS = ("provisioning", "pump", "scheduler", "demo data")

    def __init__(self, port: int | None = None, moto_port: int | None = None):
        self.port = port or int(os.environ.get("OMNISHOP_PORT") or 8000)
        self.moto_port = moto_port or int(os.environ.get("MOTO_PORT") or 5000)
        self.url, self.moto_url = f"http://{HOST}:{self.port}", f"http://{HOST}:{self.moto_port}"
        self.done: set[str] = set()
        self._stops: list[tuple[str, Callable[[], Any]]] = []  # what to undo, in start order

    def waiting_for(self) -> str | None:
        """The readiness check GET /health runs: None when every step is done."""
        missing = [step for step in self.STEPS if step not in self.done]
        return f"local runtime: {', '.join(missing)}" if missing else None

    def start(self) -> None:
        self._environment()
        self._moto()
        self._api()
        self._stacks()
        self._provision()
        self._plumbing()
        self._demo()
        log.info("ready: API %s, moto %s (sent SMS and email: %s/moto-api/data.json)",
                 self.url, self.moto_url, self.moto_url)

    def _environment(self) -> None:
        apply_local_env()
        os.environ.update({"MOTO_PORT": str(self.moto_port), "OMNISHOP_PORT": str(self.port),
                           "AWS_ENDPOINT_URL": self.moto_url, "OMNISHOP_PUBLIC_BASE_URL": self.url})

    def _moto(self) -> None:
        from moto.server import ThreadedMotoServer

        _check_free(self.moto_port)
        server = ThreadedMotoServer(ip_address=HOST, port=self.moto_port, verbose=False)
        server.start()
        self._stops.append(("moto server", server.stop))
        request = urllib.request.Request(f"{self.moto_url}/moto-api/config", data=json.dumps(MOTO_CONFIG).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=10).close()
        log.info("moto server on %s (data: %s/moto-api/data.json)", self.moto_url, self.moto_url)

    def _api(self) -> None:
        from chalice.config import Config
        from chalice.local import create_local_server

        from chalicelib import aws, system
        from infra.local import api_gateway
        from infra.resources import ROOT

        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        aws.reset()
        import app  # only now: the environment above is what it must see

        system.add_readiness_check(self.waiting_for)
        _check_free(self.port)
        config = Config(chalice_stage="local")
        server = api_gateway.serve(create_local_server(app.app, config, HOST, self.port), app.app, config)
        thread = threading.Thread(target=server.server.serve_forever, daemon=True, name="api")
        thread.start()

        def stop_api() -> None:
            server.shutdown()
            server.server.server_close()
            thread.join(10)

        self._stops.append(("API server", stop_api))
        log.info("API on %s (GET /health answers 200 once ready)", self.url)

    def _stacks(self) -> None:
        """Simulated fulfilment stacks (chalicelib.stacks.simulator) where no real one is configured
        (OMNISHOP_STACK_URL_<STACK>): the default adapter forwards child orders to them and they
        report milestones to the listener, as real stacks do."""
        from chalicelib import settings
        from chalicelib.catalog.domain import STACKS
        from chalicelib.stacks.simulator import Simulator, http_reporter

        listener = f"{self.url}/tmf-api/productOrderingManagement/v4/listener/productOrderStateChangeEvent"
        port = int(os.environ.get("OMNISHOP_STACK_SIMULATOR_PORT") or 0)
        simulator = Simulator(http_reporter(listener), HOST, port).start()
        self._stops.append(("simulated stacks", simulator.stop))
        for stack in STACKS:
            os.environ.setdefault(f"{settings.PREFIX}STACK_URL_{settings._key(stack)}", simulator.url(stack))
        log.info("simulated stacks on %s (%s)", simulator.url("<stack>"), ", ".join(STACKS))

    def _provision(self) -> None:
        from infra.local import lambdas
        from infra.local.provision import provision

        lambdas.install()  # Step Functions lambda:invoke -> our handlers (see infra.local.lambdas)
        self._stops.append(("Lambda routing", lambdas.uninstall))
        env = provision()
        self.done.add("provisioning")
        log.info("provisioned every resource of infra/resources.py: %s", ", ".join(sorted(env)))

    def _plumbing(self) -> None:
        from infra.local.pump import Pump
        from infra.local.schedules import Scheduler

        pump = Pump()
        pump.start()
        self._stops.append(("pump", pump.stop))
        self.done.add("pump")
        log.info("pump: %d sources (stream shards and queues)", len(pump.sources))
        scheduler = Scheduler()
        scheduler.start()
        self._stops.append(("scheduler", scheduler.stop))
        self.done.add("scheduler")
        log.info("scheduler: %s", ", ".join(f"{s.name} {s.expression}" for s in scheduler.schedules.values()))

    def _demo(self) -> None:
        try:
            from chalicelib import demo
        except ModuleNotFoundError as exc:
            if exc.name != "chalicelib.demo":
                raise
            log.info("no chalicelib/demo.py yet: no demo data loaded")
        else:
            log.info("demo data loaded: %s", demo.load_all())
        self.done.add("demo data")

    def stop(self) -> None:
        """Stop what was started, last first; each step is tried whatever the others did."""
        while self._stops:
            name, stop = self._stops.pop()
            try:
                stop()
                log.info("stopped %s", name)
            except Exception:
                log.exception("stopping %s failed", name)


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for chatty in ("werkzeug", "botocore", "pynamodb"):  # one line per moto request otherwise
        logging.getLogger(chatty).setLevel(logging.WARNING)

    def on_signal(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise Stopping(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    runtime = Runtime()
    try:
        runtime.start()
        while True:  # not signal.pause(): the kernel may hand the signal to another thread
            time.sleep(0.5)
    except Stopping as why:
        log.info("%s: stopping", why)
        return 0
    except Exception:
        log.exception("the local runtime could not start")
        return 1
    finally:
        runtime.stop()
