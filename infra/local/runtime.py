"""`python -m infra.local` (`make run`): Omnishop on one machine, no AWS account.

Starts a moto server on loopback, serves the API at once (GET /health answers 503 until
everything below is ready), creates every resource, routes Lambda invocations to our handlers,
starts the pump and the scheduler, loads the demo data into an empty store (or, with saved
state, re-drives the work that was in flight), then runs until Ctrl-C or SIGTERM and stops
everything it started within about 2 s.

Ports: OMNISHOP_PORT (API, default 8000) and MOTO_PORT (moto, default 5000).
State: the tables and the signing key are kept across restarts (infra/local/state.py):
OMNISHOP_LOCAL_STATE_DIR (default .local/state, `off` for none); `make reset` starts clean.
"""
from __future__ import annotations

import logging
import os
import pathlib
import signal
import socket
import sys
import threading
import time
from typing import Any, Callable, NoReturn

from infra.local import MOTO_CONFIG, apply_local_env, tune_gc
from infra.local.process import PARENT_PID_ENV

log = logging.getLogger("infra.local")
HOST = "127.0.0.1"


def _check_free(port: int) -> None:
    """Fail clearly now: moto's server thread would hang on a port that is taken. The probe binds
    as the servers do (SO_REUSEADDR): the TIME_WAIT connections a stopped runtime leaves behind
    do not make the port "taken" (they did without it, for about a minute after every stop),
    a socket listening on it still does."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise RuntimeError(f"port {port} on {HOST} is not free: {exc}") from None


class Stopping(BaseException):
    """Raised in the main thread by SIGTERM/SIGINT (a BaseException, like KeyboardInterrupt, so
    that no `except Exception` on the way swallows it)."""


# Stopping: every server and what produces work stop first (all at once), then the last save of
# the state (read from moto's backend in this process), then the patches. Producers and services
# wait at most their share; a step still running then is left to the process exit (main() exits
# without waiting for stray threads: a handler mid-batch is abandoned, as Lambda's would be, and
# the next start re-drives what it did not finish). The last save is never abandoned: it holds
# every write answered 2xx (milliseconds normally; the bound is for a save that hangs).
PRODUCERS, STATE, SERVICES = 0, 1, 2
PHASE_SECONDS = {PRODUCERS: 0.6, STATE: 60.0, SERVICES: 0.3}


class Runtime:
    STEPS = ("provisioning", "pump", "scheduler", "demo data")

    def __init__(self, port: int | None = None, moto_port: int | None = None):
        self.port = port or int(os.environ.get("OMNISHOP_PORT") or 8000)
        self.moto_port = moto_port or int(os.environ.get("MOTO_PORT") or 5000)
        self.url, self.moto_url = f"http://{HOST}:{self.port}", f"http://{HOST}:{self.moto_port}"
        self.done: set[str] = set()
        self.restored: int | None = None   # items restored from the saved state (None: none kept)
        self.state_dir: pathlib.Path | None = None
        self._stops: list[tuple[int, str, Callable[[], Any]]] = []  # (phase, what, how to stop it)

    def waiting_for(self) -> str | None:
        """The readiness check GET /health runs: None when every step is done."""
        missing = [step for step in self.STEPS if step not in self.done]
        return f"local runtime: {', '.join(missing)}" if missing else None

    def start(self) -> None:
        tune_gc()
        self._environment()
        self._moto()
        self._api()
        self._stacks()
        self._provision()
        self._plumbing()
        self._demo()
        tune_gc(started=True)
        log.info("ready: API %s, moto %s (sent SMS and email: %s/local/outbox, alarms: %s/local/alarms)",
                 self.url, self.moto_url, self.url, self.url)

    def _environment(self) -> None:
        from infra.local import read_once, state

        apply_local_env()
        read_once.install()
        os.environ.update({"MOTO_PORT": str(self.moto_port), "OMNISHOP_PORT": str(self.port),
                           "OMNISHOP_PUBLIC_BASE_URL": self.url})
        for name in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]:
            del os.environ[name]   # this process's AWS calls go to its own moto (_moto), never elsewhere
        self.state_dir = state.state_dir()
        if self.state_dir is None:
            log.info("local state: not kept (%s=off): every start is empty, tokens die with the process",
                     state.STATE_DIR_ENV)
            return
        key = os.environ.setdefault("OMNISHOP_LOCAL_SIGNING_KEY_FILE", str(state.key_file(self.state_dir)))
        log.info("local state: every table's items kept in %s (saved every %.0f s and on stop), the token "
                 "signing key in %s; not kept: queued messages, sent SMS/email, running workflows (re-driven). "
                 "`make reset` starts clean", self.state_dir / state.TABLES_FILE, state.SAVE_SECONDS, key)

    def _moto(self) -> None:
        """One moto, two doors. The moto server on MOTO_PORT is for everything outside this process
        (the AWS CLI, tests, benchmarks). This process's own AWS calls (the API, the handlers, the
        pump, Step Functions tasks) are answered by the same backends in-process (`mock_aws`, as
        in the component tests): through the server each call also paid a loopback HTTP round
        trip, a new TCP connection and a server thread, 2.5 times the CPU of the same call
        in-process (docs/decisions.md, session 15). Both doors see the same tables, queues and executions."""
        from moto import mock_aws
        from moto.server import ThreadedMotoServer

        _check_free(self.moto_port)
        mock = mock_aws(config=MOTO_CONFIG)   # the config is moto's, process-wide: the server's too
        mock.start()
        self._stops.append((SERVICES, "in-process moto", lambda: mock.stop(remove_data=False)))
        server = ThreadedMotoServer(ip_address=HOST, port=self.moto_port, verbose=False)
        server.start()
        self._stops.append((PRODUCERS, "moto server", server.stop))   # the last save reads moto in-process
        log.info("moto server on %s (data: %s/moto-api/data.json); this process's own calls in-process",
                 self.moto_url, self.moto_url)

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
        thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.05},
                                  daemon=True, name="api")
        thread.start()

        def stop_api() -> None:   # no new request, and the ones being worked on finish (or are cut off)
            server.shutdown()
            server.server.server_close()
            api_gateway.GATE.drain(PHASE_SECONDS[PRODUCERS] - 0.1)

        self._stops.append((PRODUCERS, "API server", stop_api))
        log.info("API on %s (GET /health answers 200 once ready)", self.url)

    def _stacks(self) -> None:
        """Simulated fulfilment stacks (chalicelib.stacks.simulator) where no real one is configured
        (OMNISHOP_STACK_URL_<STACK>): the default adapter forwards child orders to them and they
        report milestones to the listener, as real stacks do."""
        from chalicelib import outbound, settings
        from chalicelib.catalog.domain import STACKS
        from chalicelib.stacks.simulator import Simulator, http_reporter

        listener = f"{self.url}/tmf-api/productOrderingManagement/v4/listener/productOrderStateChangeEvent"
        port = int(os.environ.get("OMNISHOP_STACK_SIMULATOR_PORT") or 0)
        simulator = Simulator(http_reporter(listener), HOST, port).start()
        self._stops.append((PRODUCERS, "simulated stacks", simulator.stop))
        for stack in STACKS:
            os.environ.setdefault(f"{settings.PREFIX}STACK_URL_{settings._key(stack)}", simulator.url(stack))
        # The outbound guard opens loopback only for these: the simulated stacks (start() above)
        # and the demo listener (`python -m infra.local.listener`); never the API's or moto's port.
        outbound.allow_local(HOST, settings.env_int("DEMO_LISTENER_PORT", 9999))
        log.info("simulated stacks on %s (%s)", simulator.url("<stack>"), ", ".join(STACKS))

    def _provision(self) -> None:
        from infra.local import lambdas
        from infra.local.provision import provision

        from infra.local import state

        lambdas.install()  # Step Functions lambda:invoke -> our handlers (see infra.local.lambdas)
        self._stops.append((SERVICES, "Lambda routing", lambdas.uninstall))
        saved = state.read(self.state_dir) if self.state_dir else None

        def fill() -> None:  # before the tables have streams: restoring re-runs nothing
            if saved is not None:
                self.restored = state.restore(saved)

        env = provision(fill=fill)
        self.done.add("provisioning")
        log.info("provisioned every resource of infra/resources.py: %s", ", ".join(sorted(env)))
        if self.state_dir is not None:
            log.info("local state: %s", f"restored {self.restored} items from {self.state_dir / state.TABLES_FILE}"
                     if self.restored else f"nothing saved in {self.state_dir}: starting empty")
            saver = state.Saver(self.state_dir)
            saver.start()
            self._stops.append((STATE, "local state", lambda: self._last_save(saver)))

    @staticmethod
    def _last_save(saver: Any) -> None:
        """From now on the API answers nothing (infra/local/api_gateway.py Gate): every write
        acknowledged is in this save."""
        from infra.local import api_gateway

        api_gateway.GATE.close()
        saver.stop()

    def _plumbing(self) -> None:
        from infra.local.pump import Pump
        from infra.local.schedules import Scheduler

        pump = Pump(own_moto=True)   # its moto server runs in this process (_moto)
        pump.start()
        self._stops.append((PRODUCERS, "pump", lambda: pump.stop(PHASE_SECONDS[PRODUCERS])))
        self.done.add("pump")
        log.info("pump: %d sources (stream shards and queues)", len(pump.sources))
        scheduler = Scheduler()
        scheduler.start()
        self._stops.append((PRODUCERS, "scheduler", lambda: scheduler.stop(PHASE_SECONDS[PRODUCERS])))
        self.done.add("scheduler")
        log.info("scheduler: %s", ", ".join(f"{s.name} {s.expression}" for s in scheduler.schedules.values()))
        self._monitor(pump)

    def _monitor(self, pump: Any) -> None:
        """The alarms of infra/resources.py, evaluated here (GET /local/alarms, and the log), and
        the outbox's send times (GET /local/outbox)."""
        from infra.local import alarms, outbox

        alarms.install()
        self._stops.append((SERVICES, "metrics recording", alarms.uninstall))
        evaluator = alarms.Alarms(pump)
        evaluator.start()
        self._stops.append((PRODUCERS, "alarms", evaluator.stop))
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(1.0):
                try:
                    outbox.observe()
                except Exception:
                    log.exception("reading the outbox failed")

        threading.Thread(target=watch, daemon=True, name="outbox").start()
        self._stops.append((PRODUCERS, "outbox", stop.set))
        log.info("alarms: %d evaluated every %.0f s (GET %s/local/alarms); sent SMS, email and social posts: "
                 "GET %s/local/outbox", len(evaluator.alarms), evaluator.tick, self.url, self.url)

    def _demo(self) -> None:
        """Demo data only into an empty store; saved state instead re-drives what was in flight."""
        if self.restored:
            from infra.local import state

            log.info("demo data not loaded (the store was restored); re-driven: %s", state.redrive())
            self.done.add("demo data")
            return
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
        """Stop what was started, phase by phase (the steps of a phase at once), each phase within
        its PHASE_SECONDS; each step is tried whatever the others did."""
        steps, self._stops = self._stops, []
        for phase in sorted({p for p, _, _ in steps}):
            deadline = time.monotonic() + PHASE_SECONDS[phase]
            threads = [threading.Thread(target=self._stop_step, args=(name, stop), daemon=True, name=f"stop {name}")
                       for p, name, stop in reversed(steps) if p == phase]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
                if thread.is_alive():
                    log.warning("%s: still stopping after %.1f s, left to the process exit", thread.name,
                                PHASE_SECONDS[phase])

    @staticmethod
    def _stop_step(name: str, stop: Callable[[], Any]) -> None:
        try:
            stop()
            log.info("stopped %s", name)
        except Exception:
            log.exception("stopping %s failed", name)


def main() -> NoReturn:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for chatty in ("werkzeug", "botocore", "pynamodb"):  # one line per moto request otherwise
        logging.getLogger(chatty).setLevel(logging.WARNING)

    def on_signal(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise Stopping(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    parent = int(os.environ.get(PARENT_PID_ENV) or 0)   # set by RuntimeProcess (tests, bench)
    runtime = Runtime()
    code = 0
    try:
        runtime.start()
        while True:  # not signal.pause(): the kernel may hand the signal to another thread
            time.sleep(0.5)
            if parent and os.getppid() != parent:
                raise Stopping(f"process {parent}, which started this runtime, is gone")
    except Stopping as why:
        log.info("%s: stopping", why)
    except Exception:
        log.exception("the local runtime could not start")
        code = 1
    started = time.monotonic()
    runtime.stop()
    log.info("stopped in %.2f s", time.monotonic() - started)
    # Everything of ours is stopped (or was given its time): exit now, without waiting for
    # moto's execution threads or the interpreter's teardown of a large heap (about 1.5 s).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
