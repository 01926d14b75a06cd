"""What a table's DynamoDB stream holds, read from the start (as a replayed delivery sees it)."""
from chalicelib import aws, settings
from infra.local.pump import stream_record


def stream_records(table):
    description = aws.client("dynamodb").describe_table(TableName=settings.table_name(table))["Table"]
    streams = aws.client("dynamodbstreams")
    arn = description["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records += [stream_record(r, arn) for r in streams.get_records(ShardIterator=iterator)["Records"]]
    return records


def replay_order_stream(pump):
    """Every record of the order table's stream delivered twice more to order-events (a replay)."""
    from functions import order_events
    from infra import resources
    from infra.local import lambdas

    records = stream_records("order")
    context = lambdas.context_for(resources.function("order-events"))
    for _ in range(2):
        assert order_events.handler({"Records": records}, context) == {"batchItemFailures": []}
    pump.drain()
    assert pump.errors == []
    return len(records)
