"""Reading DynamoDB stream records (Powertools data classes) the same way in every consumer."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from chalicelib import tmf


def key(record: DynamoDBRecord, name: str) -> str:
    return str((record.dynamodb.keys or {}).get(name))


def body(image: dict[str, Any] | None) -> dict[str, Any] | None:
    """The JSON document of a stored resource (chalicelib.db.JsonBody) in a stream image."""
    if not image or image.get("body") is None:
        return None
    raw = image["body"]
    return json.loads(raw) if isinstance(raw, str) else raw


def old_body(record: DynamoDBRecord) -> dict[str, Any] | None:
    return body(record.dynamodb.old_image)


def new_body(record: DynamoDBRecord) -> dict[str, Any] | None:
    return body(record.dynamodb.new_image)


def event_time(record: DynamoDBRecord) -> str:
    stamp = record.dynamodb.approximate_creation_date_time
    if stamp is None:
        return tmf.now_iso()
    return tmf.iso(dt.datetime.fromtimestamp(float(stamp), dt.timezone.utc))
