"""The campaign sender, called by the campaign-send queue (functions/campaign_send.py): a batch of
customers read in one BatchGetItem, and per customer the targeting rules, the central rules for
the offer, consent and quiet hours, the weekly frequency cap; then one message (the notify message
id and the target record are keyed on campaign + customer). A `run` message carries a run on.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import time
from typing import Any, Mapping, NamedTuple

from chalicelib import aws, idempotency, notify, rules, settings, tmf
from chalicelib import customer as interactions   # customer's public surface: record_interaction
from chalicelib.campaign import domain, runner, service, store, targeting
from chalicelib.customer import domain as customer_domain
from chalicelib.customer import customers_by_id
from chalicelib.errors import ApiError, Conflict, Unavailable
from chalicelib.observability import logger
from chalicelib.rules.domain import QUALIFIED


SOCIAL_QUEUE = "campaign-social"
MAX_DELAY_SECONDS = 900
THROTTLE_DELAY_SECONDS, MAX_HOPS = 1, 50   # a batch the SMS provider throttles: back in 1 s, 50 times at most
NOTIFY_CHANNELS = ("sms", "email")   # the rest (social) are posted by the campaign itself
CAP_KEPT_SECONDS = 15 * 86400   # a week's cap record outlives its week, then TTL removes it


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
        at = tmf.now_iso()
        message = {"id": message_id, "@type": notify_domain.MESSAGE_TYPE, "messageType": "Social", "content": text,
                   "receiver": [{"id": customer["id"], "socialNetworkId": customer_domain.contact_address(customer, "social", "marketing"),
                                 "party": {"id": customer["id"], "role": "customer", "@referredType": "Customer"}}],
                   "relatedEntity": related, "trackingCode": code, "creationDate": at}
        aws.client("sqs").send_message(QueueUrl=settings.queue_url(SOCIAL_QUEUE), MessageBody=json.dumps(message))
        interactions.record_interaction(
            f"message-{message_id}", reason=f"campaign {campaign.get('name')}: social message sent", channel="social",
            direction="outbound", customer_id=customer["id"], journey_key=journey_key, occurred_at=at,
            items=[{"id": message_id, "@referredType": notify_domain.MESSAGE_TYPE}, *related])
        return {"sent": True}

    idempotency.once("campaign.social", message_id, post)


def send_one(campaign: Mapping[str, Any], offer: Mapping[str, Any], customer_id: str, now: dt.datetime,
             found: tuple[dict[str, Any], dict[str, Any] | None] | None) -> tuple[str, str | None]:
    """(outcome, notBefore) for one customer (`found`: its document and projected targeting facts,
    customers_by_id; None when it is not there): notTargeted | duplicate | sent | suppressedConsent |
    suppressedCap | deferred (notBefore: when quiet hours end) | failed. Raises
    notify.TransientSendError to be retried (the target stays pending; nothing is sent twice)."""
    return _send_planned(campaign, _plan(campaign, offer, customer_id, now, found), now)


class _Planned(NamedTuple):
    customer: dict[str, Any]
    contact: "_Contact"
    target: "_Target"


def _plan(campaign: Mapping[str, Any], offer: Mapping[str, Any], customer_id: str, now: dt.datetime,
          found: tuple[dict[str, Any], dict[str, Any] | None] | None) -> _Planned | None:
    """What to do for one customer, decided on what is read (no AWS call, but the projection of a
    customer without facts yet): None when not targeted; else her contact decision and her target,
    with the message's claim when it is to be sent now."""
    audience = _audience(campaign, offer, customer_id, now, found)
    if audience is None:
        return None
    customer, channels = audience
    contact = _contact(customer, channels, now)
    cid = campaign["id"]
    target = _Target(cid, customer_id, domain.tag(cid, customer_id), domain.message_id(cid, customer_id),
                     domain.week(now))
    if contact.chosen in NOTIFY_CHANNELS and not contact.wait:
        # the message's claim goes in the transaction that places the target and reserves the cap
        target.claim = notify.prepare(target.message_id, _request(campaign, target, contact.chosen), customer)
    return _Planned(customer, contact, target)


def _send_planned(campaign: Mapping[str, Any], planned: _Planned | None, now: dt.datetime,
                  placed: bool = False) -> tuple[str, str | None]:
    """send_one's outcome for a planned customer (`placed`: her target, cap and claim were written
    with others', _place_together)."""
    if planned is None:
        return "notTargeted", None
    customer, contact, target = planned
    if not placed:
        ended = _place(target, contact.chosen, now)
        if ended is not None:
            return ended
    if contact.wait:
        return target.defer(contact.wait)
    if contact.chosen is None:
        return target.finish(domain.SUPPRESSED_CONSENT, detail={"reason": "; ".join(contact.reasons)})
    return _deliver(campaign, customer, contact.chosen, target)


def _place_together(plans: Mapping[str, _Planned | None], now: dt.datetime) -> set[str]:
    """The targets of a batch whose message is to be sent now, placed with their claims and caps
    in shared transactions (store.place_targets): the customer ids placed. A transaction refused
    (a replay, a full cap, a conflict) places none of its targets: each is placed on its own
    (_place), which tells why. Claims are durable before any message goes to the provider."""
    cap, expires = settings.campaign_frequency_cap(), int(now.timestamp()) + CAP_KEPT_SECONDS
    ready = [(p.target, p.target.claim) for p in plans.values() if p is not None and p.target.claim is not None]
    placed: set[str] = set()
    for start in range(0, len(ready), store.PLACED_TOGETHER):
        chunk = ready[start:start + store.PLACED_TOGETHER]
        placements = [store.Placement(t.tag, t.customer_id, t.week, t.message_id,
                                      functools.partial(notify.claim_in, claim=claim)) for t, claim in chunk]
        if len(chunk) > 1 and store.place_targets(chunk[0][0].campaign_id, placements, cap, expires):
            placed.update(t.customer_id for t, _ in chunk)
    return placed


def _audience(campaign: Mapping[str, Any], offer: Mapping[str, Any], customer_id: str, now: dt.datetime,
              found: tuple[dict[str, Any], dict[str, Any] | None] | None
              ) -> tuple[dict[str, Any], list[str]] | None:
    """The customer and the channels the campaign may reach her in (its targeting rules hold, its
    offer passes the central rules there), or None: not targeted. A customer without projected
    facts yet gets them now."""
    if found is None:
        return None
    customer, facts = found
    facts = facts if facts is not None else targeting.project_targeting(customer_id)
    if facts is None or not targeting.targeted(campaign, customer, facts, now):
        return None
    channels = _qualified_channels(campaign, offer, targeting.rules_profile(customer, facts))
    return (customer, channels) if channels else None


class _Contact(NamedTuple):
    chosen: str | None        # the first channel her consent allows now
    reasons: list[str]        # why the channels before it were refused
    wait: str | None          # or: quiet hours in that channel, until then


def _contact(customer: Mapping[str, Any], channels: list[str], now: dt.datetime) -> _Contact:
    """Consent and quiet hours, channel by channel in the campaign's order."""
    reasons: list[str] = []
    for channel in channels:
        decision = customer_domain.contact_decision(customer, channel, domain.PURPOSE, now)
        if decision["allowed"]:
            return _Contact(channel, reasons, None)
        if decision.get("notBefore"):
            return _Contact(None, reasons, decision["notBefore"])
        reasons.append(decision["reason"])
    return _Contact(None, reasons, None)


@dataclasses.dataclass
class _Target:
    """One customer's target record in a campaign, as the sender moves it on."""
    campaign_id: str
    customer_id: str
    tag: str
    message_id: str
    week: str
    was_deferred: bool = False
    claim: notify.Claim | None = None   # the message's claim, written with the target when placed

    def finish(self, state: str, channel: str | None = None, detail: dict[str, Any] | None = None) -> tuple[str, None]:
        store.finish_target(self.campaign_id, self.tag, state, channel, detail, self.was_deferred)
        return state, None

    def defer(self, not_before: str) -> tuple[str, str | None]:
        if not self.was_deferred:
            store.defer_target(self.campaign_id, self.tag, not_before)
        return domain.DEFERRED, not_before


def _place(target: _Target, chosen: str | None, now: dt.datetime) -> tuple[str, str | None] | None:
    """The target record, and the customer's weekly cap when a channel allows a message, in one
    transaction; a target there already (a replay, or quiet hours that ended) is taken up again.
    The outcome when it ends here, None to go on."""
    cid, tag, customer_id = target.campaign_id, target.tag, target.customer_id
    cap, expires = settings.campaign_frequency_cap(), int(now.timestamp()) + CAP_KEPT_SECONDS
    if chosen:
        claim = target.claim
        placed = store.place_target(cid, tag, customer_id, target.week, target.message_id, cap, expires,
                                    also=None if claim is None else lambda tx: notify.claim_in(tx, claim))
    else:
        placed = "placed" if store.once_and_count(cid, store.target_sk(tag), {"targeted": 1}, state=domain.PENDING,
                                                  customer=customer_id) else "exists"
    if placed == "capped":
        done = store.once_and_count(cid, store.target_sk(tag), {"targeted": 1, domain.SUPPRESSED_CAP: 1},
                                    state=domain.SUPPRESSED_CAP, customer=customer_id)
        return (domain.SUPPRESSED_CAP if done else "duplicate"), None
    if placed == "exists":
        target.claim = None   # not written: the message goes through notify.send, as stored decides
        return _take_up(target, chosen, now, cap, expires)
    return None


def _take_up(target: _Target, chosen: str | None, now: dt.datetime, cap: int,
             expires: int) -> tuple[str, str | None] | None:
    """A target placed before: finished (a duplicate), still in quiet hours, or taken up again
    (its cap reserved now when a channel allows a message)."""
    found = store.load_target(target.campaign_id, target.tag)
    if found is None or found.state in domain.FINAL:
        return "duplicate", None
    not_before = (found.detail or {}).get("notBefore")
    if found.state == domain.DEFERRED and not_before and tmf.parse_datetime(not_before, "notBefore") > now:
        return domain.DEFERRED, not_before
    target.was_deferred = found.state == domain.DEFERRED
    if chosen and not store.reserve_cap(target.customer_id, target.week, target.message_id, cap, expires):
        return target.finish(domain.SUPPRESSED_CAP)
    return None


def _deliver(campaign: Mapping[str, Any], customer: Mapping[str, Any], chosen: str,
             target: _Target) -> tuple[str, str | None]:
    """The message, in the chosen channel (a social post to the outbox, the rest through notify);
    the cap reserved for it is given back when notify did not send it."""
    if chosen == "social":
        code = domain.tracking_code(target.campaign_id, target.customer_id)
        _send_social(campaign, customer, target.message_id, code, domain.message_fields(campaign, code, landing_url(code)),
                     code)
        return target.finish(domain.SENT, "social")
    claim = target.claim
    try:
        if claim is not None:   # claimed with the target: sent, then finished with the target's outcome
            outcome = notify.dispatch(claim, lambda tx: store.finish_target_in(
                tx, target.campaign_id, target.tag, domain.SENT, chosen))
        else:
            outcome = notify.send(target.message_id, _request(campaign, target, chosen), customer)
    except notify.SendRefused:
        return target.finish(domain.FAILED, chosen)
    if outcome.status == "sent":
        return (domain.SENT, None) if outcome.finished_with else target.finish(domain.SENT, chosen)
    store.release_cap(target.customer_id, target.week, target.message_id)
    if outcome.status == "deferred" and outcome.not_before:
        return target.defer(outcome.not_before)
    return target.finish(domain.SUPPRESSED_CONSENT, detail={"reason": outcome.reason})


def _request(campaign: Mapping[str, Any], target: _Target, chosen: str) -> notify.MessageRequest:
    """The campaign's message to one customer in `chosen` (sms or email), for notify."""
    code = domain.tracking_code(target.campaign_id, target.customer_id)
    templates = campaign["messageTemplate"]
    return notify.MessageRequest(
        customer_id=target.customer_id, purpose=domain.PURPOSE, content={chosen: templates[chosen]},
        subject=templates.get("subject"), fields=domain.message_fields(campaign, code, landing_url(code)),
        channels=[chosen], journey_key=code, related=[tmf.ref(campaign, domain.TYPE)],
        reason=f"campaign {campaign.get('name')}")


LEASE_MARGIN_SECONDS = 10   # a claim placed with the batch is sent only while its lease has this left


class _LeaseEnding(Exception):
    """The batch's claims were placed long enough ago that the next one's lease is ending."""


def _release(plans: Mapping[str, _Planned | None], placed: set[str], customer_ids: list[str]) -> None:
    """Give back the claims placed with the batch for these customers and not sent (notify.release)."""
    for customer_id in dict.fromkeys(customer_ids):
        planned = plans.get(customer_id)
        if customer_id in placed and planned is not None and planned.target.claim is not None:
            notify.release(planned.target.claim)
            placed.discard(customer_id)


def send_batch(message: Mapping[str, Any]) -> dict[str, int]:
    """One campaign-send message: a run to carry on, or a batch of customers to send to. Customers
    in quiet hours go back on the queue, delayed (at most 15 minutes a hop) until they end."""
    if message.get("type") == "run":
        runner.run(message["campaignId"], message["runId"], lambda: 10 ** 9)
        return {"run": 1}
    found = store.load(message["campaignId"])
    counts: dict[str, int] = {}
    if found is None:
        return counts
    campaign, now = found[0], tmf.now()
    if not domain.live(campaign, now):
        return {"notLive": len(message.get("customers") or [])}
    try:
        offer = service.check_offer(campaign)
    except ApiError:
        return {"offerNotActive": len(message.get("customers") or [])}
    waiting: dict[str, list[str]] = {}
    customer_ids = list(message.get("customers") or [])
    known = customers_by_id(customer_ids)
    plans = {cid: _plan(campaign, offer, cid, now, known.get(cid)) for cid in dict.fromkeys(customer_ids)}
    placed = _place_together(plans, now)   # the batch's claims, durable before any provider call
    for n, customer_id in enumerate(customer_ids):
        try:
            planned = plans[customer_id]
            if customer_id in placed and planned is not None and planned.target.claim is not None \
                    and planned.target.claim.lease < time.time() + LEASE_MARGIN_SECONDS:
                raise _LeaseEnding()   # placed too long ago (a slow provider): the rest in a new message
            outcome, not_before = _send_planned(campaign, planned, now, placed=customer_id in placed)
            placed.discard(customer_id)   # a customer named twice is placed once
        except (notify.TransientSendError, Unavailable, Conflict, _LeaseEnding) as exc:
            # the provider, or the database, refuses for now (throttling, a transaction conflict): the rest of the batch comes back as a new,
            # delayed message, so the customers sent already are not read again and the message
            # is not received again and again into the DLQ; after MAX_HOPS the error stands.
            # The claims placed for the rest and never sent are given back, so that message sends
            # them at once rather than waiting for their leases.
            hops = int(message.get("hops") or 0)
            _release(plans, placed, customer_ids[n if isinstance(exc, _LeaseEnding) else n + 1:])
            if hops >= MAX_HOPS:
                raise
            runner.enqueue([{**message, "customers": customer_ids[n:], "hops": hops + 1}], THROTTLE_DELAY_SECONDS)
            counts["retryLater"] = len(customer_ids) - n
            break
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome == domain.DEFERRED and not_before:
            waiting.setdefault(not_before, []).append(customer_id)
    for not_before, ids in waiting.items():
        delay = int((tmf.parse_datetime(not_before, "notBefore") - now).total_seconds()) + 1
        runner.enqueue([{**message, "customers": ids}], max(0, min(MAX_DELAY_SECONDS, delay)))
    logger.info("campaign batch", extra={"campaignId": campaign["id"], "runId": message.get("runId"), **counts})
    return counts
