"""Campaign use cases: the API (marketing), the runner a campaign's EventBridge schedule invokes,
the sender that consumes the campaign-send queue, attribution from the basket stream, and the
landing of a tracking link.

A run walks every customer page by page (a Query on the customer table's by-kind index, never a
Scan), keeps those the targeting rules may hold for (judged on the page alone: the document and
the targeting facts projected on the customer item, see project_targeting), queues their ids in
batches and checkpoints its cursor after each page, so a retried or crashed run resumes where it
stopped and a million customers never sit in one Lambda. The sender reads a batch's customers in
one BatchGetItem and decides per customer: targeting rules, the central rules for the offer,
consent and quiet hours, the weekly frequency cap; then sends once (the notify message id and the
target record are keyed on campaign + customer).
"""
from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any, Callable, Mapping

from chalicelib import aws, db, deferred, idempotency, settings, tmf
from chalicelib.auth import Caller, require
from chalicelib.campaign import domain, store
from chalicelib.customer import domain as customer_domain
from chalicelib.customer import store as customer_store
from chalicelib.errors import ApiError, Conflict, Unavailable, not_found, unprocessable
from chalicelib.observability import logger
from chalicelib.rules import places
from chalicelib.rules.domain import QUALIFIED

# imported on first use: importing this module does not load them (chalicelib/deferred.py)
catalog_service = deferred.module("chalicelib.catalog.service")
interactions = deferred.module("chalicelib.customer.interactions")
inventory = deferred.module("chalicelib.inventory.service")
notify = deferred.module("chalicelib.notify.service")
rules = deferred.module("chalicelib.rules.service")
schemas = deferred.module("chalicelib.campaign.schemas")
promotions = deferred.module("chalicelib.promotion.store")

MANAGERS = ("marketing",)
READERS = ("marketing", "agent")
SEND_QUEUE, SOCIAL_QUEUE = "campaign-send", "campaign-social"
SQS_BATCH = 10
MAX_DELAY_SECONDS = 900
THROTTLE_DELAY_SECONDS, MAX_HOPS = 1, 50   # a batch the SMS provider throttles: back in 1 s, 50 times at most
CAP_KEPT_SECONDS = 15 * 86400   # a week's cap record outlives its week, then TTL removes it


def href(campaign_id: str) -> str:
    return tmf.href(domain.API_ROOT, domain.RESOURCE, campaign_id)


def _existing(campaign_id: str) -> tuple[dict[str, Any], int]:
    found = store.load(campaign_id)
    if found is None:
        raise not_found(domain.RESOURCE, campaign_id)
    return found


def _check_offer(campaign: Mapping[str, Any]) -> dict[str, Any]:
    """The campaign's offering must be on sale now (active/launched, inside its validFor)."""
    oid = campaign["productOffering"]["id"]
    found = catalog_service.published_offering(oid, None) or next(
        (o for o in (catalog_service.published_offering(oid, c) for c in domain.CHANNELS) if o), None)
    if found is None:
        raise unprocessable(f"productOffering {oid} is not an active offering of the catalogue", "offeringNotActive")
    return found


def _with_promotion(campaign: dict[str, Any]) -> dict[str, Any]:
    """A campaign naming a TMF671 promotion: it must exist and not be retired (422 otherwise);
    the reference gets its name and href."""
    pid = (campaign.get("promotion") or {}).get("id")
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


# --- the API ------------------------------------------------------------------------------------
def create(body: Mapping[str, Any], caller: Caller) -> tuple[dict[str, Any], int]:
    require(caller, *MANAGERS)
    rid, now = tmf.new_id(), tmf.now()
    doc, _ = domain.new_campaign(body, rid, href(rid), tmf.iso(now), now)
    offer = _check_offer(doc)
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
            _check_offer(doc)
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
    _check_offer(campaign)
    run_id = tmf.new_id()
    start_run(campaign_id, run_id)
    _enqueue([{"type": "run", "campaignId": campaign_id, "runId": run_id}])
    logger.info("campaign run requested", extra={"campaignId": campaign_id, "runId": run_id})
    return {"id": run_id, "@type": "CampaignRun", "state": "inProgress", "campaign": tmf.ref(campaign, domain.TYPE),
            "startDate": tmf.now_iso()}


# --- the runner ---------------------------------------------------------------------------------
def start_run(campaign_id: str, run_id: str) -> bool:
    """Make the run's checkpoint (once; counted in `runs`). False when the run exists already."""
    return store.once_and_count(campaign_id, store.run_sk(run_id), {"runs": 1}, state="running")


def _enqueue(bodies: list[dict[str, Any]], delay: int = 0) -> None:
    url = settings.queue_url(SEND_QUEUE)
    for start in range(0, len(bodies), SQS_BATCH):
        chunk = bodies[start:start + SQS_BATCH]
        entries = [{"Id": str(n), "MessageBody": json.dumps(b, separators=(",", ":")), "DelaySeconds": delay}
                   for n, b in enumerate(chunk)]
        answer = aws.client("sqs").send_message_batch(QueueUrl=url, Entries=entries)
        if answer.get("Failed"):
            raise RuntimeError(f"the campaign-send queue refused {len(answer['Failed'])} message(s)")


def _batches(campaign_id: str, run_id: str, customer_ids: list[str]) -> list[dict[str, Any]]:
    size = settings.campaign_batch_size()
    return [{"type": "send", "campaignId": campaign_id, "runId": run_id, "customers": customer_ids[i:i + size]}
            for i in range(0, len(customer_ids), size)]


def run(campaign_id: str, run_id: str, remaining_ms: Callable[[], int]) -> dict[str, Any]:
    """Page through the customers from the run's checkpoint, queue them, checkpoint each page;
    with too little Lambda time left, hand on through the queue. Safe to call again at any point."""
    found = store.load(campaign_id)
    checkpoint = store.load_run(campaign_id, run_id)
    if found is None or checkpoint is None or checkpoint.state != "running":
        return {"campaignId": campaign_id, "runId": run_id, "state": "done" if checkpoint else "unknown", "pages": 0}
    campaign = found[0]
    if not domain.live(campaign, tmf.now()):
        store.checkpoint(campaign_id, run_id, checkpoint.cursor, None, 0)
        logger.info("campaign not live: run ends", extra={"campaignId": campaign_id, "runId": run_id})
        return {"campaignId": campaign_id, "runId": run_id, "state": "notLive", "pages": 0}
    cursor: str | None = checkpoint.cursor
    pages = 0
    while True:
        page, following = customer_store.customers_page(store.decode_cursor(cursor), settings.campaign_page_size())
        # a customer whose facts say the rules cannot hold costs nothing beyond its page; one
        # without projected facts yet goes to the sender, which decides on a full read
        now = tmf.now()
        ids = [doc["id"] for doc, facts in page if facts is None or _targeted(campaign, doc, facts, now)]
        _enqueue(_batches(campaign_id, run_id, ids))
        after = store.encode_cursor(following)
        if not store.checkpoint(campaign_id, run_id, cursor, after, len(page)):
            return {"campaignId": campaign_id, "runId": run_id, "state": "overtaken", "pages": pages}
        cursor, pages = after, pages + 1
        if cursor is None:
            logger.info("campaign run paged every customer", extra={"campaignId": campaign_id, "runId": run_id})
            return {"campaignId": campaign_id, "runId": run_id, "state": "done", "pages": pages}
        if remaining_ms() < settings.campaign_runner_reserve_ms():
            _enqueue([{"type": "run", "campaignId": campaign_id, "runId": run_id}])
            return {"campaignId": campaign_id, "runId": run_id, "state": "continued", "pages": pages}


def scheduled_run(event: Mapping[str, Any], remaining_ms: Callable[[], int]) -> dict[str, Any]:
    """The schedule fired: the run id is the scheduled time, so Scheduler's retries of one firing
    resume one run."""
    campaign_id = (event.get("detail") or {}).get("campaignId")
    if not campaign_id:
        raise ValueError("the schedule's event names no detail.campaignId")
    run_id = "at-" + str(event.get("time") or tmf.now_iso()).replace(":", "")
    start_run(campaign_id, run_id)
    return run(campaign_id, run_id, remaining_ms)


# --- targeting facts ----------------------------------------------------------------------------
def project_targeting(customer_id: str) -> dict[str, Any] | None:
    """Project what a customer holds (offering, contract end) onto its customer item, from the
    inventory: what the runner filters on without reading anything per customer. Called on every
    inventory change (functions/campaign_targeting.py) and by the sender for a customer without
    facts yet. Recomputed from the inventory each time, so a replay is harmless. None when the
    customer is not there."""
    facts = {"held": rules.profile_of({}, inventory.held(customer_id))["held"]}
    return facts if customer_store.set_targeting(customer_id, facts) else None


def _profile(customer: Mapping[str, Any], facts: Mapping[str, Any]) -> dict[str, Any]:
    """The central rules' profile of a customer (rules.profile) from its document and its
    projected facts, without reading the inventory."""
    return {**rules.profile_of(customer, []), "held": list(facts.get("held") or [])}


def _targeted(campaign: Mapping[str, Any], customer: Mapping[str, Any], facts: Mapping[str, Any],
              now: dt.datetime) -> bool:
    profile = _profile(customer, facts)
    region = places.region(profile.get("postCode"))[0]
    return domain.targeted(campaign["targetSegment"].get("rule") or [],
                           domain.facts(profile, region, now, customer))


# --- the sender ---------------------------------------------------------------------------------
def landing_url(code: str) -> str:
    return f"{settings.link_base_url()}/c/{code}"


def _qualified_channels(campaign: Mapping[str, Any], offer: Mapping[str, Any], profile: Mapping[str, Any]) -> list[str]:
    """The campaign's channels in which its offer passes the central rules for this customer."""
    out = []
    for channel in [c["id"] for c in campaign["channel"]]:
        result = rules.qualify_items([offer], rules.facts(channel, profile, None))[0]
        if result["result"] == QUALIFIED:
            out.append(channel)
    return out


def _send_social(campaign: Mapping[str, Any], customer: Mapping[str, Any], message_id: str, code: str,
                 fields: Mapping[str, str], journey_key: str) -> None:
    """A social post to the outbox a social integration consumes; a TMF681-shaped message and an
    interaction, once per message id."""
    from chalicelib.notify import domain as notify_domain

    text = notify_domain.render(campaign["messageTemplate"]["social"],
                                {**notify_domain.customer_fields(customer), **fields})[:domain.SOCIAL_MAX_CHARS]
    related = [tmf.ref(campaign, domain.TYPE)]

    def post() -> dict[str, Any]:
        message = {"id": message_id, "@type": notify_domain.MESSAGE_TYPE, "messageType": "Social", "content": text,
                   "receiver": [{"id": customer["id"], "socialNetworkId": customer_domain.contact_address(customer, "social", "marketing"),
                                 "party": {"id": customer["id"], "role": "customer", "@referredType": "Customer"}}],
                   "relatedEntity": related, "trackingCode": code, "creationDate": tmf.now_iso()}
        aws.client("sqs").send_message(QueueUrl=settings.queue_url(SOCIAL_QUEUE), MessageBody=json.dumps(message))
        interactions.record_interaction(
            f"message-{message_id}", reason=f"campaign {campaign.get('name')}: social message sent", channel="social",
            direction="outbound", customer_id=customer["id"], journey_key=journey_key,
            items=[{"id": message_id, "@referredType": notify_domain.MESSAGE_TYPE}, *related])
        return {"sent": True}

    idempotency.once("campaign.social", message_id, post)


def send_one(campaign: Mapping[str, Any], offer: Mapping[str, Any], customer_id: str, now: dt.datetime,
             found: tuple[dict[str, Any], dict[str, Any] | None] | None) -> tuple[str, str | None]:
    """(outcome, notBefore) for one customer (`found`: its document and projected targeting facts,
    customer_store.customers_by_id; None when it is not there): notTargeted | duplicate | sent | suppressedConsent |
    suppressedCap | deferred (notBefore: when quiet hours end) | failed. Raises
    notify.TransientSendError to be retried (the target stays pending; nothing is sent twice)."""
    cid = campaign["id"]
    if found is None:
        return "notTargeted", None
    customer, facts = found
    facts = facts if facts is not None else project_targeting(customer_id)
    if facts is None or not _targeted(campaign, customer, facts, now):
        return "notTargeted", None
    channels = _qualified_channels(campaign, offer, _profile(customer, facts))
    if not channels:
        return "notTargeted", None
    tag, was_deferred = domain.tag(cid, customer_id), False
    chosen, reasons, wait = None, [], None
    for channel in channels:
        decision = customer_domain.contact_decision(customer, channel, domain.PURPOSE, now)
        if decision["allowed"]:
            chosen = channel
            break
        if decision.get("notBefore"):
            wait = decision["notBefore"]
            break
        reasons.append(decision["reason"])
    mid, week = domain.message_id(cid, customer_id), domain.week(now)
    cap, expires = settings.campaign_frequency_cap(), int(now.timestamp()) + CAP_KEPT_SECONDS

    def finish(state: str, channel: str | None = None, detail: dict[str, Any] | None = None) -> tuple[str, None]:
        store.finish_target(cid, tag, state, channel, detail, was_deferred)
        return state, None

    # the target record, and the customer's weekly cap when a channel allows a message, in one
    # transaction; a target there already (a replay, or quiet hours that ended) is taken up again
    if chosen:
        placed = store.place_target(cid, tag, customer_id, week, mid, cap, expires)
    else:
        placed = "placed" if store.once_and_count(cid, store.target_sk(tag), {"targeted": 1}, state=domain.PENDING,
                                                  customer=customer_id) else "exists"
    if placed == "capped":
        done = store.once_and_count(cid, store.target_sk(tag), {"targeted": 1, domain.SUPPRESSED_CAP: 1},
                                    state=domain.SUPPRESSED_CAP, customer=customer_id)
        return (domain.SUPPRESSED_CAP if done else "duplicate"), None
    if placed == "exists":
        target = store.load_target(cid, tag)
        if target is None or target.state in domain.FINAL:
            return "duplicate", None
        not_before = (target.detail or {}).get("notBefore")
        if target.state == domain.DEFERRED and not_before and tmf.parse_datetime(not_before, "notBefore") > now:
            return domain.DEFERRED, not_before
        was_deferred = target.state == domain.DEFERRED
        if chosen and not store.reserve_cap(customer_id, week, mid, cap, expires):
            return finish(domain.SUPPRESSED_CAP)
    if wait:
        if not was_deferred:
            store.defer_target(cid, tag, wait)
        return domain.DEFERRED, wait
    if chosen is None:
        return finish(domain.SUPPRESSED_CONSENT, detail={"reason": "; ".join(reasons)})
    code = domain.tracking_code(cid, customer_id)
    fields = domain.message_fields(campaign, code, landing_url(code))
    if chosen == "social":
        _send_social(campaign, customer, mid, code, fields, code)
        return finish(domain.SENT, "social")
    templates = campaign["messageTemplate"]
    try:
        outcome = notify.send(mid, customer_id, domain.PURPOSE, {chosen: templates[chosen]},
                              subject=templates.get("subject"), fields=fields, channels=[chosen], journey_key=code,
                              related=[tmf.ref(campaign, domain.TYPE)], reason=f"campaign {campaign.get('name')}")
    except notify.SendRefused:
        return finish(domain.FAILED, chosen)
    if outcome.status == "sent":
        return finish(domain.SENT, chosen)
    store.release_cap(customer_id, week, mid)
    if outcome.status == "deferred" and outcome.not_before:
        if not was_deferred:
            store.defer_target(cid, tag, outcome.not_before)
        return domain.DEFERRED, outcome.not_before
    return finish(domain.SUPPRESSED_CONSENT, detail={"reason": outcome.reason})


def send_batch(message: Mapping[str, Any]) -> dict[str, int]:
    """One campaign-send message: a run to carry on, or a batch of customers to send to. Customers
    in quiet hours go back on the queue, delayed (at most 15 minutes a hop) until they end."""
    if message.get("type") == "run":
        run(message["campaignId"], message["runId"], lambda: 10 ** 9)
        return {"run": 1}
    found = store.load(message["campaignId"])
    counts: dict[str, int] = {}
    if found is None:
        return counts
    campaign, now = found[0], tmf.now()
    if not domain.live(campaign, now):
        return {"notLive": len(message.get("customers") or [])}
    try:
        offer = _check_offer(campaign)
    except ApiError:
        return {"offerNotActive": len(message.get("customers") or [])}
    waiting: dict[str, list[str]] = {}
    customer_ids = list(message.get("customers") or [])
    known = customer_store.customers_by_id(customer_ids)
    for n, customer_id in enumerate(customer_ids):
        try:
            outcome, not_before = send_one(campaign, offer, customer_id, now, known.get(customer_id))
        except (notify.TransientSendError, Unavailable, Conflict):
            # the provider, or the database, refuses for now (throttling, a transaction conflict): the rest of the batch comes back as a new,
            # delayed message, so the customers sent already are not read again and the message
            # is not received again and again into the DLQ; after MAX_HOPS the error stands
            hops = int(message.get("hops") or 0)
            if hops >= MAX_HOPS:
                raise
            _enqueue([{**message, "customers": customer_ids[n:], "hops": hops + 1}], THROTTLE_DELAY_SECONDS)
            counts["retryLater"] = len(customer_ids) - n
            break
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome == domain.DEFERRED and not_before:
            waiting.setdefault(not_before, []).append(customer_id)
    for not_before, ids in waiting.items():
        delay = int((tmf.parse_datetime(not_before, "notBefore") - now).total_seconds()) + 1
        _enqueue([{**message, "customers": ids}], max(0, min(MAX_DELAY_SECONDS, delay)))
    logger.info("campaign batch", extra={"campaignId": campaign["id"], "runId": message.get("runId"), **counts})
    return counts


# --- attribution and landing ------------------------------------------------------------------
def _campaign_of(code: Any) -> tuple[str, str | None] | None:
    parsed = domain.parse_code(code)
    if parsed:
        return parsed
    if isinstance(code, str) and domain.CAMPAIGN_ID.match(code):
        return code, None     # a campaign-wide code (e.g. in a social post)
    return None


def attribute(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[str]:
    """A basket (or order) change from a stream: a basket that arrives with a campaign's tracking
    code counts for it once, and once more as an order when it is ordered, with its revenue."""
    if not new:
        return []
    code = (new.get("context") or {}).get("campaignCode")
    found = _campaign_of(code)
    if found is None or store.load(found[0]) is None:
        return []
    campaign_id, tag = found
    done = []
    if (old or {}).get("context", {}).get("campaignCode") != code or old is None:
        if store.once_and_count(campaign_id, f"BASKET#{new['id']}", {"baskets": 1}, detail={"code": code}):
            done.append("basket")
        if tag and store.mark_landed(campaign_id, tag):
            done.append("landed")
    if new.get("status") == "ordered" and (old or {}).get("status") != "ordered":
        value = domain.revenue(new.get("cartTotalPrice"))
        if store.once_and_count(campaign_id, f"ORDER#{new['id']}", {"orders": 1, "revenue": value}):
            done.append("order")
    return done


def land(code: str) -> dict[str, Any]:
    """GET /c/{code}: the customer followed a campaign link. Counted once; answers where to go."""
    found = domain.parse_code(code)
    campaign = store.load(found[0]) if found else None
    if campaign is None or found is None:
        raise not_found("campaign link", code if len(code) <= 80 else code[:80])
    doc = campaign[0]
    landed = store.mark_landed(found[0], found[1])
    oid = doc["productOffering"]["id"]
    return {"campaignCode": code, "campaign": tmf.ref(doc, domain.TYPE), "productOffering": doc["productOffering"],
            **({"promotion": doc["promotion"]} if doc.get("promotion") else {}),
            "firstVisit": landed, "next": f"{settings.link_base_url()}/offer/{oid}?campaignCode={code}"}


_live: dict[str, Any] = {}


def live_campaigns() -> list[dict[str, Any]]:
    """Live campaigns (active, inside validFor): one Query at most every few seconds per container."""
    if not _live or time.monotonic() - _live["at"] > settings.live_campaigns_cache_seconds():
        _live.update(at=time.monotonic(), docs=store.all_campaigns())
    now = tmf.now()
    return [c for c in _live["docs"] if domain.live(c, now)]


def forget_live_campaigns() -> None:
    _live.clear()
