"""chalicelib.streams: reading DynamoDB stream records the same way in every consumer."""
import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from chalicelib import streams

RECORD = {"eventID": "e-1", "eventName": "INSERT",
          "dynamodb": {"Keys": {"pk": {"S": "a"}}, "NewImage": {"pk": {"S": "a"}, "body": {"S": '{"id": "a"}'}},
                       "ApproximateCreationDateTime": 1764590400}}


def test_a_well_formed_record_is_read():
    record = DynamoDBRecord(RECORD)
    assert streams.key(record, "pk") == "a" and streams.event_id(record) == "e-1"
    assert streams.new_body(record) == streams.inserted_body(record) == {"id": "a"}
    assert streams.old_body(record) is None
    assert streams.event_time(record) == "2025-12-01T12:00:00.000Z"


@pytest.mark.parametrize("read", [lambda r: streams.key(r, "pk"), streams.new_body, streams.old_body,
                                  streams.event_time, streams.change])
def test_a_record_without_its_dynamodb_part_fails_by_name(read):
    with pytest.raises(ValueError, match="has no dynamodb part"):
        read(DynamoDBRecord({"eventID": "e-1", "eventName": "INSERT"}))


def test_hub_event_ids_need_the_records_event_id():
    # events_for_change derives event ids from it: without one they would all be "None-..."
    with pytest.raises(ValueError, match="eventID"):
        streams.event_id(DynamoDBRecord({k: v for k, v in RECORD.items() if k != "eventID"}))


def test_an_insert_without_a_body_fails_rather_than_passing_none_on():
    record = DynamoDBRecord({**RECORD, "dynamodb": {"Keys": {"pk": {"S": "a"}}, "NewImage": {"pk": {"S": "a"}}}})
    assert streams.new_body(record) is None
    with pytest.raises(ValueError, match="wrote no body"):
        streams.inserted_body(record)
