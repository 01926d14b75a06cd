"""Step Functions task: send one notification through chalicelib.notify.service.send.

Input (the task's Payload; chalicelib/notify/schemas.py SendTask):
    {"messageId": "...", "customerId": "...", "purpose": "service",
     "content": "..." | {"sms": "...", "email": "..."}, "subject": "...", "fields": {...},
     "channels": ["sms", "email"], "journeyKey": "...", "related": [{"id", "@referredType"}],
     "notBefore": "ISO 8601", "reason": "basket reminder"}
Output: Outcome.to_dict() — {"messageId", "status": sent|deferred|skipped, "reason", "channel",
"notBefore", "duplicate", "state"}. On `deferred`, Wait with TimestampPath $.notBefore and run
the task again with the same messageId.
Errors by name: TransientSendError (Retry with backoff), SendRefused, TemplateError (Catch);
Invalid for an input that is not a send task (no messageId, no content, wrong types: nothing
is read or written, and a retry would fail the same way).
"""
from __future__ import annotations

from typing import Any

from chalicelib.errors import invalid
from chalicelib.notify import service
from chalicelib.observability import bind_request, logger, traced


def _task(event: Any) -> Any:
    from pydantic import ValidationError

    from chalicelib.notify.schemas import SendTask   # built on the first event (cold start)

    try:
        return SendTask.model_validate(event)
    except ValidationError as exc:
        raise invalid("notify-send input", exc) from None


@traced
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    task = _task(event)
    bind_request(getattr(context, "aws_request_id", None), task.journeyKey)
    request = service.MessageRequest(
        customer_id=task.customerId, purpose=task.purpose, content=task.content, subject=task.subject,
        fields=task.fields or {}, channels=task.channels, journey_key=task.journeyKey, related=task.related or (),
        not_before=task.notBefore, reason=task.reason)
    outcome = service.send(task.messageId, request)
    return outcome.to_dict()
