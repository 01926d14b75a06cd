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
    os.environ.update({"OMNISHOP_BASKET_IDLE_SECONDS": "3", "OMNISHOP_BASKET_SECOND_REMINDER_SECONDS": "1"})
    with aws():
        from chalice.test import Client

        from app import app
        from chalicelib import demo, settings
        from chalicelib import aws as clients
        from chalicelib.notify import service as notify
        from chalicelib.recovery import service
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
                    ("check (read basket, sign link)", lambda: out.update(checked=service.check(state))),
                    ("notify send (SMS)", lambda: out.update(sent=notify.send(
                        out["checked"]["message"]["messageId"], "cust-andrea", "service",
                        out["checked"]["message"]["content"], fields=out["checked"]["message"]["fields"],
                        channels=out["checked"]["message"]["channels"]).to_dict())),
                    ("record send (offer assistance)", lambda: service.sent(
                        {**out["checked"], "sent": out["sent"]}))):
                c = measure(fn)
                steps.append((label, c.total(), c.summary()))
            table("Abandoned baskets: AWS calls per outreach (first reminder)", ("task", "calls", "which"), steps)
