"""The alarms of infra/resources.py ALARMS, evaluated locally (infra/local/alarms.py): in-process
against moto (each kind of alarm raised by its own cause, and only that alarm), and in the
runtime: a poison message reaching its DLQ raises the DLQ's alarm at GET /local/alarms and in
the log. (tests/infra/test_stack_local_parity.py checks the CDK template has the same alarms.)"""
from __future__ import annotations

import json

import boto3
import pytest

from chalicelib import aws as aws_clients
from chalicelib import settings
from infra import resources
from infra.local import alarms
from infra.local.pump import Failure
from tests.runtime.conftest import wait_for

pytestmark = pytest.mark.waits   # mostly waits (on a runtime's retries and alarms): tests/support/scheduling.py


def _raised(report):
    return sorted(a["name"] for a in report if a["state"] == alarms.ALARM)


def test_every_alarm_is_evaluated_and_ok_when_nothing_happened(aws):
    report = alarms.Alarms().evaluate()
    assert sorted(a["name"] for a in report) == sorted(a.name for a in resources.ALARMS)
    assert _raised(report) == [], [a for a in report if a["state"] != alarms.OK]
    assert all("could not be evaluated" not in a["reason"] for a in report), report


def test_a_message_in_a_dlq_raises_that_dlqs_alarm_until_it_is_gone(aws):
    sqs = aws_clients.client("sqs")
    url = sqs.get_queue_url(QueueName=settings.resource_name("hub-delivery-dlq"))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    evaluator = alarms.Alarms()
    report = evaluator.evaluate()
    assert _raised(report) == ["hub-delivery-dlq"]
    assert report[0]["reason"] == "1 message(s) in hub-delivery-dlq"   # raised first
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert _raised(evaluator.evaluate()) == []


def test_a_skipped_stream_record_raises_that_consumers_alarm(aws):
    class Pump:
        failures = [Failure("order-events", {"eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/"
                                             f"{settings.table_name('order')}/stream/2026"}, "retries exhausted")]

    assert _raised(alarms.Alarms(pump=Pump()).evaluate()) == [resources.stream_failure_queue("order-events", "order")]


def test_child_order_held_metric_raises_its_alarm(aws):
    from aws_lambda_powertools.metrics import MetricUnit

    from chalicelib.observability import metrics

    alarms.install()
    try:
        metrics.add_metric(name="OrderStreamRecords", unit=MetricUnit.Count, value=3)   # not alarmed on
        metrics.flush_metrics()
        assert _raised(alarms.Alarms().evaluate()) == []
        metrics.add_metric(name="ChildOrderHeld", unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()
        assert _raised(alarms.Alarms().evaluate()) == ["order-child-held"]
    finally:
        alarms.uninstall()
        alarms._metrics.clear()


@pytest.mark.expects_failed_workflow
def test_a_failed_execution_raises_its_state_machines_alarm(aws):
    from chalicelib import workflows

    # an order that does not exist cannot be decomposed: the execution fails (OrderNotDecomposed)
    assert workflows.start_once("order-fulfilment", "no-such-order", {"orderId": "no-such-order",
                                                                       "childTimeoutSeconds": 5})
    arn = workflows.execution_arn("order-fulfilment", "no-such-order")
    sfn = aws_clients.client("stepfunctions")
    wait_for("the execution failed", lambda: sfn.describe_execution(executionArn=arn)["status"] == "FAILED")
    assert _raised(alarms.Alarms().evaluate()) == ["order-fulfilment-failed"]


@pytest.mark.parametrize("query, status", [("?state=nope", 400), ("?state=ALARM", 200), ("", 200)])
def test_local_alarms_route_answers_tmf_errors_for_bad_filters(client, query, status):
    response = client.http.get(f"/local/alarms{query}")
    assert response.status_code == status, response.body
    if status == 400:
        assert json.loads(response.body)["@type"] == "Error"


def test_a_poison_message_reaching_its_dlq_raises_the_alarm_in_the_runtime(local_runtime):
    queue = "stack-csp-stack-a"
    sqs = boto3.client("sqs", endpoint_url=local_runtime.moto_url, region_name=settings.region())
    url = sqs.get_queue_url(QueueName=settings.resource_name(queue))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="{not a child order")

    def raised():
        status, _, report = local_runtime.request("GET", "/local/alarms?state=ALARM")
        assert status == 200, report
        return [a for a in report if a["name"] == f"{queue}-dlq"]

    (alarm,) = wait_for("the DLQ alarm", raised, timeout=90)
    assert alarm["reason"] == f"1 message(s) in {queue}-dlq" and alarm["kind"] == "QueueAlarm"
    wait_for("the alarm in the log", lambda: f"ALARM {queue}-dlq" in local_runtime.output())


def test_a_raising_function_raises_its_errors_alarm_and_the_api_alarms_follow_the_answers(aws):
    """Lambda's Errors and API Gateway's 5XXError/Latency as the local runtime records them."""
    from infra.local import lambdas

    alarms.install()
    try:
        evaluator = alarms.Alarms(alarms=[a for a in resources.ALARMS
                                          if isinstance(a, (resources.FunctionAlarm, resources.ApiAlarm))])
        with pytest.raises(KeyError):
            lambdas.call(resources.function("order-tasks"), {"action": "no-such-action"})
        assert _raised(evaluator.evaluate()) == ["order-tasks-errors"]
        for _ in range(19):
            alarms.api_answered(200, 20)
        alarms.api_answered(502, 20)          # 1 in 20: 5%, not more than 5%
        assert _raised(evaluator.evaluate()) == ["order-tasks-errors"]
        alarms.api_answered(200, 4000)        # 1 in 21 is 5xx; p99 of 21 answers is the slowest
        assert _raised(evaluator.evaluate()) == ["api-latency-p99", "order-tasks-errors"]
        alarms.api_answered(500, 10)          # 2 in 22 > 5%
        assert _raised(evaluator.evaluate()) == ["api-5xx", "api-latency-p99", "order-tasks-errors"]
        throttles = next(a for a in evaluator.report() if a["name"] == "order-tasks-throttles")
        assert throttles["state"] == alarms.OK and "only CloudWatch" in throttles["reason"]
    finally:
        alarms.uninstall()
    assert _raised(alarms.Alarms(alarms=evaluator.alarms).evaluate()) == []   # uninstall forgets them
