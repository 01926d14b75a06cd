"""What a deployment of the stack costs: per month at idle, and per 1,000 orders.

`python -m bench cost` prints both, line by line. The quantities come from the stack's resources
(infra/resources.py, the lists the CDK stack iterates, and infra/stack.py's WAF rule groups;
tests/infra/test_cost.py checks them against the synthesized template) and, per order, from
`python -m bench ordering` (measured, see ORDER); the rest are stated assumptions (ASSUMED).

PRICES are AWS on-demand list prices in USD for us-east-1 (eu-west-1 is within a few percent for
these services), without free tiers (a new account's free tier would make idle cheaper), as
published when this was written: check them against the AWS price list before quoting.
Not counted: Cognito (its Essentials plan includes 10,000 monthly active users; machine-to-machine
token requests are billed per request), SES (orders send SMS, not email), data transfer out.
"""
from __future__ import annotations

import dataclasses
import re

from bench.harness import table
from infra import resources as res

HOURS_PER_MONTH = 730
MINUTES_PER_MONTH = HOURS_PER_MONTH * 60

PRICES = {   # USD per unit
    "alarm": 0.10,                      # CloudWatch standard-resolution alarm, per month (p99 ones too)
    "dashboard": 3.00,                  # CloudWatch dashboard, per month (3 per account are free: not counted)
    "kms_key": 1.00,                    # customer-managed KMS key, per month (rotation included)
    "kms_request": 0.03 / 10_000,
    "waf_acl": 5.00,                    # WAF web ACL, per month
    "waf_rule": 1.00,                   # per rule or managed rule group, per month
    "waf_request": 0.60 / 1_000_000,
    "secret": 0.40,                     # Secrets Manager secret, per month
    "scheduler_invocation": 1.00 / 1_000_000,   # EventBridge Scheduler
    "lambda_request": 0.20 / 1_000_000,
    "lambda_gb_second": 0.0000166667,   # x86_64
    "api_request": 3.50 / 1_000_000,    # API Gateway REST API, first 333 million
    "ddb_write": 0.625 / 1_000_000,     # DynamoDB on-demand write request unit
    "ddb_read": 0.125 / 1_000_000,
    "ddb_gb_month": 0.25,               # table storage
    "pitr_gb_month": 0.20,              # point-in-time recovery (continuous backups)
    "sfn_transition": 0.025 / 1_000,    # Step Functions Standard
    "sqs_request": 0.40 / 1_000_000,
    "sms": 0.00581 + 0.00266,           # SNS SMS to a US number: AWS + carrier fee (varies by country)
    "log_gb": 0.50,                     # CloudWatch Logs ingestion
    "trace": 5.00 / 1_000_000,          # X-Ray traces recorded
}

# Measured per order by `python -m bench ordering` (moto in-process, simulated stacks), the case
# "3 items, 3 stacks": AWS calls the code made, Lambda invocations of the workflow's tasks,
# order-fulfilment state transitions, transitions of the three milestone SMS workflows (one SMS each),
# messages sent to the stacks' queues.
ORDER = {"code_calls": 159, "workflow_invocations": 11, "fulfilment_transitions": 13,
         "sms_workflow_transitions": 9, "sms": 3, "queue_messages": 3}

ASSUMED = {
    "api_requests_per_order": 10,       # browse, basket, qualification, checkout, status reads
    "event_invocations_per_order": 20,  # stream and queue consumers (order, notify, hub, stack adapters)
    "invocation_seconds": 0.2,          # average billed duration of a function or the API
    "log_kb_per_invocation": 4,         # Powertools JSON lines
    "sweep_reads": 10,                  # read units a sweep finding nothing costs
    "stored_gb": 1.0,                   # all tables (the demo catalogue and a few thousand customers)
    "sqs_pollers": 5,                   # Lambda's long-polling pollers per SQS event source mapping
    "sqs_poll_seconds": 20,             # long-poll wait: one empty ReceiveMessage per poller per 20 s
    "kms_requests_per_call": 0.1,       # DynamoDB and SQS cache data keys (5 min): 1 KMS request per 10 calls
}


@dataclasses.dataclass(frozen=True)
class Line:
    item: str
    quantity: float
    unit: str
    price: str                          # key of PRICES

    @property
    def usd(self) -> float:
        return self.quantity * PRICES[self.price]


def schedule_runs_per_month(expression: str) -> float:
    """Runs of an EventBridge Scheduler `rate(N minutes|hours)` expression in a month."""
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours)\)", expression)
    if not match:
        raise ValueError(f"cannot count the runs of {expression!r}")
    minutes = int(match.group(1)) * (60 if match.group(2).startswith("hour") else 1)
    return MINUTES_PER_MONTH / minutes


def counts() -> dict[str, int]:
    """What the stack deploys that is billed by the month (tests/infra/test_cost.py compares them
    with the synthesized template)."""
    from infra.stack import WAF_MANAGED_RULE_GROUPS

    return {"alarms": len(res.ALARMS), "dashboards": 1, "kms_keys": 1, "web_acls": 1,
            "waf_rules": 2 + len(WAF_MANAGED_RULE_GROUPS),   # the rate limits (per IP, per client), each group
            "secrets": len(res.SECRETS), "schedules": len(res.SCHEDULES),
            "sqs_mappings": sum(isinstance(s, res.QueueSource) for f in res.FUNCTIONS for s in f.sources)}


def _gb_seconds(invocations: float, memory_mb: int) -> float:
    return invocations * ASSUMED["invocation_seconds"] * memory_mb / 1024


def idle_lines() -> list[Line]:
    """A month with no traffic: what is billed by the month, and what runs on its own."""
    n = counts()
    sweeps = {s.name: schedule_runs_per_month(s.expression) for s in res.SCHEDULES}
    runs = sum(sweeps.values())
    gb_s = sum(_gb_seconds(sweeps[s.name], res.function(s.function).memory) for s in res.SCHEDULES)
    polls = n["sqs_mappings"] * ASSUMED["sqs_pollers"] * MINUTES_PER_MONTH * 60 / ASSUMED["sqs_poll_seconds"]
    return [
        Line(f"CloudWatch alarms ({n['alarms']})", n["alarms"], "alarm-month", "alarm"),
        Line("CloudWatch dashboard", n["dashboards"], "dashboard-month", "dashboard"),
        Line("KMS customer-managed key", n["kms_keys"], "key-month", "kms_key"),
        Line("WAF web ACL", n["web_acls"], "ACL-month", "waf_acl"),
        Line(f"WAF rules ({n['waf_rules']}: rate limits + managed groups)", n["waf_rules"], "rule-month", "waf_rule"),
        Line("Secrets Manager (link secret)", n["secrets"], "secret-month", "secret"),
        Line(f"Scheduler invocations ({', '.join(sweeps)})", runs, "invocations", "scheduler_invocation"),
        Line("Lambda requests (sweeps)", runs, "requests", "lambda_request"),
        Line("Lambda compute (sweeps)", gb_s, "GB-s", "lambda_gb_second"),
        Line("DynamoDB reads (sweeps)", runs * ASSUMED["sweep_reads"], "RRU", "ddb_read"),
        Line(f"SQS empty long polls ({n['sqs_mappings']} queue event sources)", polls, "requests", "sqs_request"),
        Line("DynamoDB storage", ASSUMED["stored_gb"], "GB-month", "ddb_gb_month"),
        Line("DynamoDB point-in-time recovery", ASSUMED["stored_gb"], "GB-month", "pitr_gb_month"),
        Line("CloudWatch Logs (sweeps)", runs * ASSUMED["log_kb_per_invocation"] / 1024 / 1024, "GB", "log_gb"),
        Line("X-Ray traces (sweeps)", runs, "traces", "trace"),
    ]


def order_lines(orders: int = 1000) -> list[Line]:
    """What `orders` orders add, each as measured (ORDER) plus the journey assumed (ASSUMED)."""
    api = orders * ASSUMED["api_requests_per_order"]
    invocations = orders * (ORDER["workflow_invocations"] + ASSUMED["event_invocations_per_order"])
    api_memory = 512   # .chalice/config.json lambda_memory_size (prod: 1024)
    return [
        Line("API Gateway requests", api, "requests", "api_request"),
        Line("WAF inspected requests", api, "requests", "waf_request"),
        Line("Lambda requests (API + functions)", api + invocations, "requests", "lambda_request"),
        Line("Lambda compute", _gb_seconds(api, api_memory) + _gb_seconds(invocations, 512), "GB-s",
             "lambda_gb_second"),
        # Every AWS call the code makes priced as one DynamoDB write unit, the dearest common unit.
        Line("DynamoDB (each code call as 1 WRU)", orders * ORDER["code_calls"], "WRU", "ddb_write"),
        Line("Step Functions transitions", orders * (ORDER["fulfilment_transitions"] + ORDER["sms_workflow_transitions"]),
             "transitions", "sfn_transition"),
        Line("SQS (send, receive, delete per message)", orders * ORDER["queue_messages"] * 3, "requests", "sqs_request"),
        Line("SNS SMS (3 milestones per order)", orders * ORDER["sms"], "messages", "sms"),
        Line("KMS requests (data keys, cached)", orders * ORDER["code_calls"] * ASSUMED["kms_requests_per_call"],
             "requests", "kms_request"),
        Line("CloudWatch Logs", (api + invocations) * ASSUMED["log_kb_per_invocation"] / 1024 / 1024, "GB", "log_gb"),
        Line("X-Ray traces", api + invocations, "traces", "trace"),
    ]


def total(lines: list[Line]) -> float:
    return sum(line.usd for line in lines)


def _rows(lines: list[Line]) -> list[tuple[str, str, str, str]]:
    rows = [(line.item, f"{line.quantity:,.2f} {line.unit}", f"{PRICES[line.price]:.8g}", f"{line.usd:,.2f}")
            for line in lines]
    return rows + [("total", "", "", f"{total(lines):,.2f}")]


def run() -> None:
    idle, orders = idle_lines(), order_lines(1000)
    table("Cost at idle, per month (USD, us-east-1 list prices, no free tier)",
          ("item", "quantity", "USD/unit", "USD"), _rows(idle))
    table("Cost per 1,000 orders on top of idle (USD; measured per order by bench ordering, journey assumed)",
          ("item", "quantity", "USD/unit", "USD"), _rows(orders))
    without_sms = total([line for line in orders if line.price != "sms"])
    print(f"\nidle: {total(idle):.2f} USD/month; per 1,000 orders: {total(orders):.2f} USD "
          f"({without_sms:.2f} USD without the SMS)")


if __name__ == "__main__":
    run()
