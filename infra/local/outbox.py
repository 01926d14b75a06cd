"""What the local runtime "sent": SMS (SNS), emails (SES) and social posts (the campaign-social
queue), read from moto's backends in this process (GET /local/outbox), not from the whole of
/moto-api/data.json (26 MB and 55 s to fetch in a long session).

moto keeps no time for an SMS or an email: each gets `sentAt` when this module first sees it
(`observe()`, which the runtime's monitor calls every second, and every read), so it is at most
about a second late; a social post has its queue message's own SentTimestamp. Newest first.
"""
from __future__ import annotations

import datetime as dt
import json
import threading
import time
from typing import Any, Iterator

from chalicelib import settings

KINDS = ("sms", "email", "social")
SOCIAL_QUEUE = "campaign-social"

_lock = threading.Lock()
_seen: dict[tuple[str, str], float] = {}


def _backend(backends: Any) -> Any:
    return backends[settings.account_id()][settings.region()]


def _sms() -> Iterator[dict[str, Any]]:
    from moto.sns.models import sns_backends

    for message_id, (phone, text) in list(_backend(sns_backends).sms_messages.items()):
        yield {"id": message_id, "kind": "sms", "to": [phone], "text": text}


def _recipients(destinations: Any) -> list[str]:
    if isinstance(destinations, dict):
        return [a for key in ("ToAddresses", "CcAddresses", "BccAddresses") for a in destinations.get(key) or []]
    return list(destinations or [])


def _email() -> Iterator[dict[str, Any]]:
    from moto.ses.models import ses_backends

    for message in list(_backend(ses_backends).sent_messages):
        item = {"id": getattr(message, "id", None) or ",".join(getattr(message, "ids", [])), "kind": "email",
                "from": message.source, "to": _recipients(message.destinations)}
        if hasattr(message, "subject"):
            item.update(subject=message.subject, text=message.body)
        elif hasattr(message, "raw_data"):
            item["text"] = message.raw_data
        else:
            item.update(template=message.template, templateData=message.template_data)
        yield item


def _social() -> Iterator[dict[str, Any]]:
    from moto.sqs.models import sqs_backends

    queue = _backend(sqs_backends).queues.get(settings.resource_name(SOCIAL_QUEUE))
    for message in list(queue._messages) if queue is not None else []:   # noqa: SLF001 (no API reads without receiving)
        try:
            post = json.loads(message.body)
        except ValueError:
            post = {}
        receivers = post.get("receiver") or [] if isinstance(post, dict) else []
        yield {"id": message.id, "kind": "social", "text": post.get("content") if isinstance(post, dict) else message.body,
               "to": [r.get("socialNetworkId") or r.get("id") for r in receivers if isinstance(r, dict)],
               "sentAt": message.sent_timestamp / 1000 if message.sent_timestamp else None}


def observe() -> list[dict[str, Any]]:
    """Everything sent so far, each stamped with `sentAt` (epoch seconds), newest first."""
    now, items = time.time(), []
    with _lock:
        for sequence, item in enumerate([*_sms(), *_email(), *_social()]):
            key = (item["kind"], item["id"])
            item["sentAt"] = item.get("sentAt") or _seen.setdefault(key, now)
            items.append((item["sentAt"], sequence, item))
    return [item for _, _, item in sorted(items, key=lambda entry: entry[:2], reverse=True)]


def outbox(to: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    """observe(), only what went to `to` (a phone number, email address or social id; any case)
    and of `kind`; `sentAt` as an ISO time."""
    wanted = to.strip().lower() if to else None
    out = []
    for item in observe():
        if kind and item["kind"] != kind:
            continue
        if wanted and wanted not in (str(r).lower() for r in item["to"]):
            continue
        out.append({**item, "sentAt": dt.datetime.fromtimestamp(item["sentAt"], dt.timezone.utc)
                    .isoformat(timespec="milliseconds").replace("+00:00", "Z")})
    return out
