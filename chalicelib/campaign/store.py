"""Campaign table persistence (PynamoDB): the versioned campaign document, and the once-only,
conditional writes a run is made of (targets, counters, checkpoints, caps, attributions).
See models.py for the key design."""
from __future__ import annotations

import json
from typing import Any, Callable, NamedTuple

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import size
from pynamodb.expressions.update import Action

from chalicelib import documents
from chalicelib.campaign.models import CampaignItem, CampaignRecord
from chalicelib.db import CONDITION_FAILED, StaleVersion, transaction, versioned, written  # noqa: F401 (store.StaleVersion)

DOC_SK, STATS_SK = "CAMPAIGN", "STATS"
MAX_ID = 64


def pk(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


# --- the campaign document ----------------------------------------------------------------------
def load(campaign_id: str) -> tuple[dict[str, Any], int] | None:
    if len(campaign_id) > MAX_ID:
        return None
    try:
        rec = CampaignRecord.get(pk(campaign_id), DOC_SK, consistent_read=True)
    except DoesNotExist:
        return None
    return rec.body, rec.version


def write(doc: dict[str, Any], version: int | None) -> int:
    """Insert (version None) or replace the campaign stored at `version`; StaleVersion otherwise."""
    rec = CampaignRecord(pk(doc["id"]), DOC_SK, kind="campaign",
                         sort=f"{str(doc.get('name') or '').lower()[:200]}#{doc['id']}", body=doc)
    if version is not None:
        rec.version = version
    with versioned():
        rec.save()
    return rec.version


def remove(campaign_id: str, version: int) -> None:
    with versioned():
        CampaignRecord(pk(campaign_id), DOC_SK, version=version).delete()


def all_campaigns() -> list[dict[str, Any]]:
    """Every campaign by name: one Query on by-kind."""
    return [r.body for r in CampaignRecord.by_kind.query("campaign")]


def page_campaigns(offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Campaigns offset .. offset+limit by name, and how many there are (documents.paged: at most
    offset+limit read, the total a COUNT)."""
    recs, total = documents.paged(CampaignRecord.by_kind, "campaign", offset, limit)
    return [r.body for r in recs], total


# --- counters -----------------------------------------------------------------------------------
def _stats(campaign_id: str) -> CampaignItem:
    return CampaignItem(pk(campaign_id), STATS_SK)


def _adds(counts: dict[str, float]) -> list[Any]:
    return [getattr(CampaignItem, name).add(value) for name, value in counts.items()]


def count(campaign_id: str, **counts: float) -> None:
    _stats(campaign_id).update(actions=_adds(counts))


def stats(campaign_id: str) -> dict[str, Any]:
    try:
        item = CampaignItem.get(pk(campaign_id), STATS_SK, consistent_read=True)
    except DoesNotExist:
        return {}
    return {k: v for k, v in item.attribute_values.items() if isinstance(v, (int, float))}


def once_and_count(campaign_id: str, sk: str, counts: dict[str, float], **values: Any) -> bool:
    """Write item (pk, sk) if it is not there, and add `counts` to the stats, in one transaction.
    False when it was there already (nothing counted)."""
    item = CampaignItem(pk(campaign_id), sk, **values)

    def write() -> None:
        with transaction() as tx:
            tx.save(item, condition=CampaignItem.sk.does_not_exist())
            tx.update(_stats(campaign_id), actions=_adds(counts))
    return written(write)


# --- targets ------------------------------------------------------------------------------------
def target_sk(tag: str) -> str:
    return f"TARGET#{tag}"


def load_target(campaign_id: str, tag: str) -> CampaignItem | None:
    try:
        return CampaignItem.get(pk(campaign_id), target_sk(tag), consistent_read=True)
    except DoesNotExist:
        return None


def _update_and_count(campaign_id: str, sk: str, actions: list[Any], condition: Any, counts: dict[str, float]) -> bool:
    """Update item (pk, sk) under `condition` and add `counts` to the stats, in one transaction;
    False (nothing changed, nothing counted) when the condition does not hold."""

    def write() -> None:
        with transaction() as tx:
            _update_and_count_in(tx, campaign_id, sk, actions, condition, counts)
    return written(write)


def _update_and_count_in(tx: Any, campaign_id: str, sk: str, actions: list[Any], condition: Any,
                         counts: dict[str, float]) -> None:
    tx.update(CampaignItem(pk(campaign_id), sk), actions=actions, condition=condition)
    tx.update(_stats(campaign_id), actions=_adds(counts))


def finish_target(campaign_id: str, tag: str, state: str, channel: str | None = None,
                  detail: dict[str, Any] | None = None, was_deferred: bool = False) -> bool:
    """Move a pending (or deferred: no longer counted as waiting) target to its outcome and count
    it, once."""
    return written(lambda: _in_transaction(lambda tx: finish_target_in(tx, campaign_id, tag, state, channel,
                                                                        detail, was_deferred)))


def _in_transaction(writes: Callable[[Any], None]) -> None:
    with transaction() as tx:
        writes(tx)


def finish_target_in(tx: Any, campaign_id: str, tag: str, state: str, channel: str | None = None,
                     detail: dict[str, Any] | None = None, was_deferred: bool = False) -> None:
    """finish_target's writes, in a caller's transaction (refused whole when the target is not
    pending, or deferred with was_deferred, any more)."""
    actions = [CampaignItem.state.set(state)]
    if channel:
        actions.append(CampaignItem.channel.set(channel))
    if detail:
        actions.append(CampaignItem.detail.set(detail))
    counts: dict[str, float] = {state: 1, **({"deferred": -1} if was_deferred else {})}
    _update_and_count_in(tx, campaign_id, target_sk(tag), actions,
                         CampaignItem.state == ("deferred" if was_deferred else "pending"), counts)


def defer_target(campaign_id: str, tag: str, not_before: str) -> bool:
    """Quiet hours: the target waits (counted as deferred while it waits)."""
    return _update_and_count(campaign_id, target_sk(tag), [CampaignItem.state.set("deferred"),
                                                            CampaignItem.detail.set({"notBefore": not_before})],
                             CampaignItem.state == "pending", {"deferred": 1})


def mark_landed(campaign_id: str, tag: str) -> bool:
    """The customer followed the link (or came back with its code): counted once per target."""
    return _update_and_count(campaign_id, target_sk(tag), [CampaignItem.landed.set(1)],
                             CampaignItem.sk.exists() & CampaignItem.landed.does_not_exist(), {"landed": 1})


# --- runs ---------------------------------------------------------------------------------------
def run_sk(run_id: str) -> str:
    return f"RUN#{run_id}"


def load_run(campaign_id: str, run_id: str) -> CampaignItem | None:
    try:
        return CampaignItem.get(pk(campaign_id), run_sk(run_id), consistent_read=True)
    except DoesNotExist:
        return None


def checkpoint(campaign_id: str, run_id: str, old_cursor: str | None, new_cursor: str | None,
               candidates: int) -> bool:
    """Move a run's cursor past a page whose customers are queued; False when another runner moved
    it first (it carries on, this one stops). A None new cursor finishes the run."""
    run = CampaignItem(pk(campaign_id), run_sk(run_id))
    actions: list[Action] = [CampaignItem.pages.add(1), CampaignItem.candidates.add(candidates)]
    actions.append(CampaignItem.cursor.set(new_cursor) if new_cursor else CampaignItem.cursor.remove())
    if new_cursor is None:
        actions.append(CampaignItem.state.set("done"))
    condition = (CampaignItem.cursor == old_cursor) if old_cursor else CampaignItem.cursor.does_not_exist()
    return written(lambda: run.update(actions=actions, condition=condition & (CampaignItem.state == "running")))


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    return json.dumps(key, sort_keys=True, separators=(",", ":")) if key else None


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    return json.loads(cursor) if cursor else None


# --- frequency cap ------------------------------------------------------------------------------
def reserve_cap(customer_id: str, week: str, message_id: str, cap: int, expires: int | None = None) -> bool:
    """Count `message_id` among the customer's marketing messages of `week` if fewer than `cap`
    are; True also when it was counted before (a retry)."""
    return written(lambda: _cap(customer_id, week).update(actions=_cap_actions(message_id, expires),
                                                          condition=_cap_condition(message_id, cap)))


def _cap(customer_id: str, week: str) -> CampaignItem:
    return CampaignItem(f"CAP#{customer_id}", f"WEEK#{week}")


def _cap_condition(message_id: str, cap: int) -> Any:
    return CampaignItem.ids.does_not_exist() | CampaignItem.ids.contains(message_id) | (size(CampaignItem.ids) < cap)


def _cap_actions(message_id: str, expires: int | None) -> list[Action]:
    actions: list[Action] = [CampaignItem.ids.add({message_id})]
    if expires:
        actions.append(CampaignItem.expires.set(expires))
    return actions


def place_target(campaign_id: str, tag: str, customer_id: str, week: str, message_id: str, cap: int,
                 expires: int, also: Callable[[Any], None] | None = None) -> str:
    """A new pending target, counted, and `message_id` counted in the customer's cap of `week`, in
    one transaction: "placed"; "exists" when the target is there already (nothing written);
    "capped" when the cap is full (nothing written). `also(tx)` adds one more insert to it (the
    message's claim, notify.claim_in): "exists" too when that is refused."""
    target = CampaignItem(pk(campaign_id), target_sk(tag), state="pending", customer=customer_id)
    try:
        with transaction() as tx:
            tx.save(target, condition=CampaignItem.sk.does_not_exist())
            if also is not None:
                also(tx)
            tx.update(_stats(campaign_id), actions=_adds({"targeted": 1}))
            tx.update(_cap(customer_id, week), actions=_cap_actions(message_id, expires),
                      condition=_cap_condition(message_id, cap))
    except TransactWriteError as exc:
        # one reason per item, in the order DynamoDB got them: the puts (the target, the claim),
        # then the updates (the stats, the cap: last)
        reasons = [getattr(r, "code", None) for r in (exc.cancellation_reasons or [])]
        puts = 1 if also is None else 2
        if CONDITION_FAILED in reasons[:puts]:
            return "exists"
        if reasons[-1:] == [CONDITION_FAILED]:
            return "capped"
        with versioned():   # a conflict or throttling: the one mapping of every write's errors
            raise
    return "placed"


# targets per shared transaction: a target, a claim and a cap each, and the stats once, inside
# DynamoDB's 100 actions a transaction
PLACED_TOGETHER = 30


class Placement(NamedTuple):
    """One target to place with others (place_targets)."""
    tag: str
    customer_id: str
    week: str
    message_id: str
    also: Callable[[Any], None]   # its message's claim, added to the transaction


def place_targets(campaign_id: str, placements: list[Placement], cap: int, expires: int) -> bool:
    """New pending targets, each with its message's claim and its place in the customer's weekly
    cap, and the stats counted once, in ONE transaction (at most PLACED_TOGETHER): a batch's
    claims are durable before any of its messages goes to the provider, as place_target's. True
    when all were written; False, nothing written, when any item refused it (a target or claim
    there already: a replay; a full cap; a conflict or throttling): place them one by one, which
    tells why."""
    if len(placements) > PLACED_TOGETHER:
        raise ValueError(f"at most {PLACED_TOGETHER} targets a transaction")
    try:
        with transaction() as tx:
            for one in placements:
                tx.save(CampaignItem(pk(campaign_id), target_sk(one.tag), state="pending", customer=one.customer_id),
                        condition=CampaignItem.sk.does_not_exist())
                one.also(tx)
                tx.update(_cap(one.customer_id, one.week), actions=_cap_actions(one.message_id, expires),
                          condition=_cap_condition(one.message_id, cap))
            tx.update(_stats(campaign_id), actions=_adds({"targeted": len(placements)}))
    except TransactWriteError:
        return False
    return True


def release_cap(customer_id: str, week: str, message_id: str) -> None:
    _cap(customer_id, week).update(actions=[CampaignItem.ids.delete({message_id})])
