"""Reading DynamoDB stream records (Powertools data classes) the same way in every consumer."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Mapping

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, StreamRecord

from chalicelib import tmf


def change(record: DynamoDBRecord) -> StreamRecord:
    """The record's `dynamodb` part (keys, images), which every DynamoDB stream record has; a
    record without one is malformed and fails (the batch reports it) rather than read as empty."""
    part = record.dynamodb
    if part is None:
        raise ValueError(f"stream record {record.event_id} has no dynamodb part")
    return part


def event_id(record: DynamoDBRecord) -> str:
    """The record's eventID, from which the hub event ids derive (every stream record has one)."""
    if not record.event_id:
        raise ValueError("stream record without an eventID")
    return record.event_id


def key(record: DynamoDBRecord, name: str) -> str:
    return str((change(record).keys or {}).get(name))


def attribute(image: Mapping[str, Any] | None, name: str) -> Any:
    """A JSON attribute (chalicelib.db.JsonBody) of a stored item in a stream image, or None."""
    if not image or image.get(name) is None:
        return None
    raw = image[name]
    return json.loads(raw) if isinstance(raw, str) else raw


def body(image: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The JSON document of a stored resource (its `body`) in a stream image."""
    return attribute(image, "body")


def old_body(record: DynamoDBRecord) -> dict[str, Any] | None:
    return body(change(record).old_image)


def new_body(record: DynamoDBRecord) -> dict[str, Any] | None:
    return body(change(record).new_image)


def inserted_body(record: DynamoDBRecord) -> dict[str, Any]:
    """The document an INSERT record wrote: an item written with a body; a record without one fails."""
    doc = new_body(record)
    if doc is None:
        raise ValueError(f"stream record {record.event_id} wrote no body")
    return doc


def event_time(record: DynamoDBRecord) -> str:
    stamp = change(record).approximate_creation_date_time
    if stamp is None:
        return tmf.now_iso()
    return tmf.iso(dt.datetime.fromtimestamp(float(stamp), dt.timezone.utc))
