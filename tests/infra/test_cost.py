"""bench/cost.py prices what the synthesized stack deploys: its monthly counts are the template's."""
from __future__ import annotations

import pytest

from bench import cost


def test_monthly_counts_are_the_templates(synth):
    counts = cost.counts()
    assert counts["alarms"] == len(synth.of_type("AWS::CloudWatch::Alarm"))
    assert counts["dashboards"] == len(synth.of_type("AWS::CloudWatch::Dashboard"))
    assert counts["kms_keys"] == len(synth.of_type("AWS::KMS::Key"))
    assert counts["secrets"] == len(synth.of_type("AWS::SecretsManager::Secret"))
    assert counts["schedules"] == len(synth.of_type("AWS::Scheduler::Schedule"))
    (acl,) = synth.of_type("AWS::WAFv2::WebACL").values()
    assert counts["web_acls"] == 1 and counts["waf_rules"] == len(acl["Properties"]["Rules"])
    sqs_mappings = [m for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
                    if "StartingPosition" not in m["Properties"]]   # stream mappings have one
    assert counts["sqs_mappings"] == len(sqs_mappings)


def test_schedule_runs_and_totals():
    assert cost.schedule_runs_per_month("rate(5 minutes)") == cost.MINUTES_PER_MONTH / 5
    assert cost.schedule_runs_per_month("rate(1 hour)") == cost.HOURS_PER_MONTH
    with pytest.raises(ValueError):
        cost.schedule_runs_per_month("cron(0 * * * ? *)")
    idle, orders = cost.idle_lines(), cost.order_lines(1000)
    assert cost.total(idle) == pytest.approx(sum(line.quantity * cost.PRICES[line.price] for line in idle))
    assert cost.total(cost.order_lines(2000)) == pytest.approx(2 * cost.total(orders))
    alarms = next(line for line in idle if line.price == "alarm")
    assert alarms.usd == pytest.approx(cost.counts()["alarms"] * 0.10)
