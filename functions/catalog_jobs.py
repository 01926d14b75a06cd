"""Step Functions task for the catalog-jobs state machine: run a job, or record its failure."""
from __future__ import annotations

from chalicelib.catalog import jobs
from chalicelib.observability import logger, traced


@traced
@logger.inject_lambda_context
def handler(event: dict, context: object) -> dict:
    action, kind, job_id = event.get("action"), event.get("kind"), event.get("jobId")
    if kind not in ("importJob", "exportJob") or not job_id:
        raise ValueError(f"not a catalogue job: {event!r}")
    if action == "run":
        return jobs.run(kind, job_id)
    if action == "fail":
        return jobs.mark_failed(kind, job_id, event.get("error"))
    raise ValueError(f"unknown action {action!r}")
