"""Abandoned baskets: per basket edited 1, 10 and 30 times in a session and then left, the
recovery workflow's Step Functions executions and state transitions (to the end: first reminder,
second reminder, stop) and the AWS calls the basket stream consumer and the workflow's tasks
make; then the AWS calls of one outreach (check, send, record). In-process moto, idle time 3 s
and the second reminder 1 s later (production: 1 h and 24 h, the same transitions)."""
from __future__ import annotations

import json
import os
import time
from typing import Any

from bench.harness import aws, headers, measure, table
from bench.ordering import PLUMBING, _transitions

CARTS = "/tmf-api/shoppingCart/v4/shoppingCart"


def run() -> None:
    # Every measured basket is reminded about: one customer leaves them one after the other, and the
    # one-voice cap (1 basket a week by default) would keep all but the first silent.
    os.environ.update({"OMNISHOP_BASKET_IDLE_SECONDS": "3", "OMNISHOP_BASKET_SECOND_REMINDER_SECONDS": "1",
                       "OMNISHOP_RECOVERY_BASKETS_PER_CUSTOMER": "1000"})
    with aws():
        from chalice.test import Client

        from app import app
        from chalicelib import demo, settings
        from chalicelib import aws as clients
        from infra import resources
        from infra.local import lambdas
        from chalicelib.recovery import service, workflow
        from infra.local.pump import Pump

        demo.load_all()
        pump = Pump(retry_delay=0)
        pump.drain()
        andrea = headers({"role": "customer", "channel": "web", "customerId": "cust-andrea", "sub": "cust-andrea"})
        agent = headers({"role": "agent", "channel": "callcenter", "sub": "agent-bench"})
        sfn = clients.client("stepfunctions")
        machine = settings.state_machine_arn(service.MACHINE)
        rows = []
        with Client(app) as client:
            client.http.patch("/tmf-api/customerManagement/v4/customer/cust-andrea", headers=agent,
                              body=json.dumps({"contactPreference": {"quietHours": None}}))
            deadline = time.monotonic() + 60   # the demo basket's own process ends first: not counted
            while sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]:
                pump.drain()
                assert time.monotonic() < deadline
                time.sleep(0.2)
            for edits in (1, 10, 30):
                found: dict[str, Any] = {}

                def session() -> None:
                    answer = client.http.post(CARTS, headers=andrea, body=json.dumps(
                        {"cartItem": [{"productOffering": {"id": "po-home-security"}}]}))
                    cart = json.loads(answer.body)
                    found["id"] = cart["id"]
                    for n in range(edits - 1):
                        client.http.patch(f"{CARTS}/{cart['id']}", headers=andrea, body=json.dumps(
                            {"cartItem": [{"id": cart["cartItem"][0]["id"], "quantity": 1 + (n + 1) % 3}]}))
                        pump.drain()
                    pump.drain()

                def process() -> None:
                    deadline = time.monotonic() + 60
                    while True:
                        pump.drain()
                        mine = [e for e in sfn.list_executions(stateMachineArn=machine)["executions"]
                                if e["name"].startswith(found["id"])]
                        if mine and all(e["status"] != "RUNNING" for e in mine):
                            found["executions"] = mine
                            return
                        assert time.monotonic() < deadline
                        time.sleep(0.1)

                edit_calls = measure(session)
                calls = measure(process)
                executions = found["executions"]
                transitions = sum(_transitions(sfn, e["executionArn"]) for e in executions)
                ours = sum(n for op, n in calls.counts.items() if op not in PLUMBING and op != "lambda:Invoke")
                stream = edit_calls.counts.get("stepfunctions:StartExecution", 0)
                rows.append((edits, len(executions), stream, transitions, calls.counts.get("lambda:Invoke", 0),
                             ours, calls.counts.get("sns:Publish", 0), calls.counts.get("ses:SendEmail", 0)))
            table("Abandoned baskets: per basket edited N times then left, to the end of the process",
                  ("edits", "executions", "StartExecution calls", "state transitions", "task Lambda invokes",
                   "AWS calls (tasks)", "SMS", "emails"), rows)

            # one outreach, task by task, for a fresh idle basket
            answer = client.http.post(CARTS, headers=andrea, body=json.dumps(
                {"cartItem": [{"productOffering": {"id": "po-home-security"}}]}))
            basket_id = json.loads(answer.body)["id"]
            time.sleep(3.2)
            state = {"phase": "recover", "basketId": basket_id, "reminder": 1, "idleSeconds": 3,
                     "secondReminderSeconds": 1}
            out: dict[str, Any] = {}
            steps = []
            for label, fn in (
                    ("check (read basket, sign link)", lambda: out.update(checked=workflow.check(state))),
                    ("notify send (SMS)", lambda: out.update(sent=lambdas.call(
                        resources.function("notify-send"), _message(out["checked"])))),
                    ("record send (offer assistance)", lambda: workflow.sent(
                        {**out["checked"], "sent": out["sent"]}))):
                c = measure(fn)
                steps.append((label, c.total(), c.summary()))
            table("Abandoned baskets: AWS calls per outreach (first reminder)", ("task", "calls", "which"), steps)


BURST, BURST_IDLE = 30, 5  # baskets going idle together; their idle time (seconds)


def _message(checked: dict[str, Any]) -> dict[str, Any]:
    """The notify-send task's input, as the state machine passes it ($.message); the check must
    have decided to send (else it says why not)."""
    assert checked.get("next") == "send" and "message" in checked, checked
    return checked["message"]


def _burst_customer(runtime: Any, agent: dict[str, str], n: int) -> tuple[str, str, dict[str, str]]:
    """A customer with a mobile number of her own, SMS consent and no quiet hours."""
    number = f"+4477008{n:05d}"
    status, _, body = runtime.request("POST", "/tmf-api/customerManagement/v4/customer", {
        "name": f"Burst {n}", "engagedParty": {"id": f"party-burst-{n}", "@referredType": "Individual"},
        "contactMedium": [{"mediumType": "mobile", "preferred": True, "characteristic": {"phoneNumber": number}}],
        "contactPreference": {"consent": {"sms": {"service": True}}, "preferredChannel": "sms"}}, agent)
    assert status == 201, body
    cid = body["id"]
    return cid, number, {"Authorization": f"Bearer {runtime.token('customer', channel='web', customerId=cid, sub=cid)}"}


def burst() -> None:
    """30 baskets going idle together, against the local runtime (`python -m infra.local`, its
    pump reading the basket stream with basket-events' parallelization): from each basket's idle
    time (its last change + the idle seconds, server clock) to its SMS being sent (the
    communicationMessage's sendTimeComplete, same clock); each customer must get exactly one.
    The baskets are made within about a second of each other; each is timed from its own idle time."""
    import datetime as dt
    import statistics
    import threading

    from infra.local.process import RuntimeProcess

    def at(stamp: str) -> float:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()

    with RuntimeProcess(env={"OMNISHOP_BASKET_IDLE_SECONDS": str(BURST_IDLE)}) as runtime:
        agent = {"Authorization": f"Bearer {runtime.token('agent', channel='callcenter', sub='agent-bench')}"}
        customers = [_burst_customer(runtime, agent, n) for n in range(BURST)]
        idle_at: dict[str, float] = {}
        start = threading.Barrier(BURST)   # together, each on its own connection

        def leave(cid: str, her: dict[str, str]) -> None:
            start.wait()
            status, _, cart = runtime.request("POST", CARTS, {
                "cartItem": [{"productOffering": {"id": "po-home-security"}}]}, her)
            assert status == 201, cart
            idle_at[cid] = at(cart["lastUpdate"]) + BURST_IDLE

        threads = [threading.Thread(target=leave, args=(cid, her)) for cid, _, her in customers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sent_at: dict[str, list[float]] = {}
        deadline = time.monotonic() + 300
        while len(sent_at) < BURST and time.monotonic() < deadline:
            time.sleep(1)
            for cid, _, her in customers:
                _, _, messages = runtime.request("GET", "/tmf-api/communicationManagement/v4/communicationMessage",
                                                 None, her)
                sms = [m for m in messages or [] if m.get("messageType") == "SMS" and m.get("sendTimeComplete")]
                if sms:
                    sent_at[cid] = [at(m["sendTimeComplete"]) for m in sms]
        time.sleep(BURST_IDLE)  # anything sent twice would be sent by now
        per_number = [len(runtime.outbox(number, "sms")) for _, number, _ in customers]
        latencies = sorted(min(sent_at[cid]) - idle_at[cid] for cid in sent_at)
    p95 = latencies[max(0, int(round(0.95 * len(latencies))) - 1)] if latencies else float("nan")
    table(f"Abandoned baskets: {BURST} going idle together (idle {BURST_IDLE} s), idle time -> SMS sent, seconds",
          ("baskets", "with SMS", "median", "p95", "max", "SMS per customer (moto)"),
          [(BURST, len(latencies), f"{statistics.median(latencies):.1f}" if latencies else "-", f"{p95:.1f}",
            f"{latencies[-1]:.1f}" if latencies else "-", f"{min(per_number)}-{max(per_number)}")])
