"""Step Functions task: send one notification through chalicelib.notify.service.send.

Input (the task's Payload):
    {"messageId": "...", "customerId": "...", "purpose": "service",
     "content": "..." | {"sms": "...", "email": "..."}, "subject": "...", "fields": {...},
     "channels": ["sms", "email"], "journeyKey": "...", "related": [{"id", "@referredType"}],
     "notBefore": "ISO 8601", "reason": "basket reminder"}
Output: Outcome.to_dict() — {"messageId", "status": sent|deferred|skipped, "reason", "channel",
"notBefore", "duplicate", "state"}. On `deferred`, Wait with TimestampPath $.notBefore and run
the task again with the same messageId.
Errors by name: TransientSendError (Retry with backoff), SendRefused, TemplateError (Catch).
"""
from __future__ import annotations

from typing import Any

from chalicelib.notify import service
from chalicelib.observability import bind_request, logger, traced


@traced
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    bind_request(getattr(context, "aws_request_id", None), event.get("journeyKey"))
    request = service.MessageRequest(
        customer_id=event["customerId"], purpose=event.get("purpose", "service"), content=event["content"],
        subject=event.get("subject"), fields=event.get("fields") or {}, channels=event.get("channels"),
        journey_key=event.get("journeyKey"), related=event.get("related") or (),
        not_before=event.get("notBefore"), reason=event.get("reason"))
    outcome = service.send(event["messageId"], request)
    return outcome.to_dict()
