"""Campaign management, called by the API (marketing): campaigns, their EventBridge Scheduler
schedules, a run started now, the report.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from chalicelib.view import ref_id
from chalicelib import aws, db, deferred, settings, tmf
from chalicelib import promotion as promotions
from chalicelib.auth import Caller, require
from chalicelib.campaign import domain, runner, service, store
from chalicelib.campaign.service import href
from chalicelib.errors import not_found, unprocessable
from chalicelib.observability import logger

# imported on first use: importing this module does not load them (chalicelib/deferred.py)
schemas = deferred.module("chalicelib.campaign.schemas")

MANAGERS = ("marketing",)
READERS = ("marketing", "agent")


def _existing(campaign_id: str) -> tuple[dict[str, Any], int]:
    found = store.load(campaign_id)
    if found is None:
        raise not_found(domain.RESOURCE, campaign_id)
    return found


def _with_promotion(campaign: dict[str, Any]) -> dict[str, Any]:
    """A campaign naming a TMF671 promotion: it must exist and not be retired (422 otherwise);
    the reference gets its name and href."""
    pid = ref_id(campaign, "promotion")
    found = promotions.load(pid) if pid else None
    if pid and (found is None or found[0].get("lifecycleStatus") == "retired"):
        raise unprocessable(f"promotion {pid} is not a promotion that can be given (unknown or retired)",
                            "unknownPromotion")
    if found:
        campaign["promotion"] = {**campaign["promotion"], "name": found[0].get("name"),
                                 "href": found[0].get("href"), "@referredType": "Promotion"}
    return campaign


# --- schedules (EventBridge Scheduler) ----------------------------------------------------------
def schedule_name(campaign_id: str) -> str:
    return f"omnishop-{settings.stage()}-cmp-{campaign_id}"[:64]


def _schedule_input(campaign_id: str) -> str:
    """The runner's event: EventBridge-shaped like every schedule's, the campaign as `detail`."""
    return json.dumps({
        "version": "0", "id": "<aws.scheduler.execution-id>", "detail-type": "Scheduled Event",
        "source": "aws.scheduler", "account": settings.account_id(), "time": "<aws.scheduler.scheduled-time>",
        "region": settings.region(), "resources": ["<aws.scheduler.schedule-arn>"],
        "detail": {"campaignId": campaign_id}})


def _unschedule(campaign_id: str) -> None:
    client = aws.client("scheduler")
    try:
        client.delete_schedule(Name=schedule_name(campaign_id), GroupName=settings.campaign_schedule_group())
    except client.exceptions.ResourceNotFoundException:
        pass


def _schedule(campaign: Mapping[str, Any]) -> None:
    """(Re)make the campaign's schedule; none when it has no schedule or is not active."""
    _unschedule(campaign["id"])
    schedule = campaign.get("schedule") or {}
    if not schedule or campaign.get("lifecycleStatus") != domain.ACTIVE:
        return
    params: dict[str, Any] = {
        "Name": schedule_name(campaign["id"]), "GroupName": settings.campaign_schedule_group(),
        "ScheduleExpression": domain.expression(schedule), "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"}, "State": "ENABLED",
        "Description": f"campaign {campaign['id']}",
        "Target": {"Arn": settings.campaign_runner_arn(), "RoleArn": settings.scheduler_role_arn(),
                   "Input": _schedule_input(campaign["id"]),
                   "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}}}
    end = (campaign.get("validFor") or {}).get("endDateTime")
    if schedule.get("cron") and end:
        params["EndDate"] = tmf.parse_datetime(end, "validFor.endDateTime")
    if schedule.get("at"):
        params["ActionAfterCompletion"] = "DELETE"
    aws.client("scheduler").create_schedule(**params)


def _with_schedule_state(doc: dict[str, Any]) -> dict[str, Any]:
    if doc.get("schedule"):
        doc["schedule"] = {**doc["schedule"], "name": schedule_name(doc["id"]),
                           "expression": domain.expression(doc["schedule"])}
    return doc


def create(body: Mapping[str, Any], caller: Caller) -> tuple[dict[str, Any], int]:
    require(caller, *MANAGERS)
    rid, now = tmf.new_id(), tmf.now()
    doc, _ = domain.new_campaign(body, rid, href(rid), tmf.iso(now), now)
    offer = service.check_offer(doc)
    doc["productOffering"] = {**doc["productOffering"], "name": offer.get("name"), "href": offer.get("href"),
                              "@referredType": "ProductOffering"}
    doc = _with_schedule_state(_with_promotion(doc))
    version = store.write(doc, None)
    try:
        _schedule(doc)
    except Exception:
        store.remove(rid, version)   # nothing half-made: no campaign without its schedule
        raise
    logger.info("campaign created", extra={"campaignId": rid, "schedule": (doc.get("schedule") or {}).get("expression")})
    return doc, version


def read(campaign_id: str, caller: Caller) -> tuple[dict[str, Any], int]:
    require(caller, *READERS)
    return _existing(campaign_id)


def search(params: Mapping[str, str], caller: Caller) -> tuple[list[dict[str, Any]], int]:
    require(caller, *READERS)
    q = tmf.list_query(params, tmf.attributes("campaign", models=[schemas.Campaign], extras=tmf.ENTITY))
    if not q.filters:   # DynamoDB pages (store.page_campaigns)
        items, total = store.page_campaigns(q.offset, q.limit)
    else:
        items, total = tmf.page([d for d in store.all_campaigns() if tmf.matches(d, q.filters)], q.offset, q.limit)
    return [tmf.select_fields(d, q.fields) for d in items], total


def update(campaign_id: str, patch: Mapping[str, Any], caller: Caller, if_match: str | None) -> tuple[dict[str, Any], int]:
    require(caller, *MANAGERS)
    reschedule = False

    def mutate(current: dict[str, Any], _version: int) -> dict[str, Any]:
        nonlocal reschedule
        now = tmf.now()
        doc, reschedule = domain.patched(current, patch, tmf.iso(now), now)
        if doc["productOffering"]["id"] != current["productOffering"]["id"] or doc.get("lifecycleStatus") == domain.ACTIVE:
            service.check_offer(doc)
        return _with_schedule_state(_with_promotion(doc) if "promotion" in patch else doc)

    doc, new_version = db.change(f"campaign {campaign_id}", lambda: _existing(campaign_id), mutate, store.write,
                                 expected=tmf.parse_if_match(if_match))
    if reschedule:
        _schedule(doc)
    return doc, new_version


def delete(campaign_id: str, caller: Caller, if_match: str | None) -> None:
    require(caller, *MANAGERS)
    db.delete(f"campaign {campaign_id}", lambda: _existing(campaign_id),
              lambda version: store.remove(campaign_id, version),
              check=lambda _current: _unschedule(campaign_id), expected=tmf.parse_if_match(if_match))


def report(campaign_id: str, caller: Caller) -> dict[str, Any]:
    require(caller, *READERS)
    campaign, _ = _existing(campaign_id)
    return domain.report(campaign, store.stats(campaign_id), tmf.now_iso())


def run_now(campaign_id: str, caller: Caller) -> dict[str, Any]:
    """POST .../run: start a run now (the runner's work goes through the campaign-send queue)."""
    require(caller, *MANAGERS)
    campaign, _ = _existing(campaign_id)
    if not domain.live(campaign, tmf.now()):
        raise unprocessable(f"campaign {campaign_id} is not live (lifecycleStatus {campaign.get('lifecycleStatus')}, "
                            f"validFor {campaign.get('validFor')})", "campaignNotLive")
    service.check_offer(campaign)
    run_id = tmf.new_id()
    runner.start_run(campaign_id, run_id)
    runner.enqueue([{"type": "run", "campaignId": campaign_id, "runId": run_id}])
    logger.info("campaign run requested", extra={"campaignId": campaign_id, "runId": run_id})
    return {"id": run_id, "@type": "CampaignRun", "state": "inProgress", "campaign": tmf.ref(campaign, domain.TYPE),
            "startDate": tmf.now_iso()}
