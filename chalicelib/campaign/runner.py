"""The campaign runner, called by a campaign's EventBridge schedule (functions/campaign_runner.py)
and by the campaign-send queue's `run` messages: page through the customers from the run's
checkpoint, queue those the targeting rules may hold for in batches, checkpoint each page.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Mapping

from chalicelib import aws, settings, tmf
from chalicelib.campaign import domain, store, targeting
from chalicelib.customer import customers_page
from chalicelib.observability import logger

SEND_QUEUE = "campaign-send"
SQS_BATCH = 10


def start_run(campaign_id: str, run_id: str) -> bool:
    """Make the run's checkpoint (once; counted in `runs`). False when the run exists already."""
    return store.once_and_count(campaign_id, store.run_sk(run_id), {"runs": 1}, state="running")


def enqueue(bodies: list[dict[str, Any]], delay: int = 0) -> None:
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
        page, following = customers_page(store.decode_cursor(cursor), settings.campaign_page_size())
        # a customer whose facts say the rules cannot hold costs nothing beyond its page; one
        # without projected facts yet goes to the sender, which decides on a full read
        now = tmf.now()
        ids = [doc["id"] for doc, facts in page if facts is None or targeting.targeted(campaign, doc, facts, now)]
        enqueue(_batches(campaign_id, run_id, ids))
        after = store.encode_cursor(following)
        if not store.checkpoint(campaign_id, run_id, cursor, after, len(page)):
            return {"campaignId": campaign_id, "runId": run_id, "state": "overtaken", "pages": pages}
        cursor, pages = after, pages + 1
        if cursor is None:
            logger.info("campaign run paged every customer", extra={"campaignId": campaign_id, "runId": run_id})
            return {"campaignId": campaign_id, "runId": run_id, "state": "done", "pages": pages}
        if remaining_ms() < settings.campaign_runner_reserve_ms():
            enqueue([{"type": "run", "campaignId": campaign_id, "runId": run_id}])
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
