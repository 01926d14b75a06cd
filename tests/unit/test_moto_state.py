"""tests/support/moto_state.py: a snapshot restored by unpickling means what a deep copy meant: the
backends are the live ones, what a test wrote is gone, every restore is a new copy; locks are new
(one for every object that shared one); what deepcopy kept as it is stays itself; moto's weak map
of values (moto's of Lambda functions) holds the restored ones; DynamoDB items keep their
size-checked dicts."""
from __future__ import annotations

import threading
import weakref

from moto.core.constants import MISSING
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import LimitedSizeDict

from chalicelib import aws as clients
from chalicelib import settings
from tests.support import moto_state

ACCOUNT, REGION = "123456789012", "eu-west-1"


def _table():
    return settings.table_name("catalog")


def _key(table, value):
    return {name: {"S": value} for name in filter(None, (table.hash_key_attr, table.range_key_attr))}


def test_a_restore_is_the_snapshot_and_a_new_copy_each_time(aws):
    ddb = clients.client("dynamodb")
    backend = dynamodb_backends[ACCOUNT][REGION]
    table = backend.get_table(_table())
    ddb.put_item(TableName=_table(), Item={**_key(table, "a"), "n": {"N": "1"}})
    snapshot = moto_state.Snapshot()
    ddb.put_item(TableName=_table(), Item=_key(table, "b"))
    snapshot.restore()
    assert dynamodb_backends[ACCOUNT][REGION] is backend     # the live backend, its state replaced
    first = backend.get_table(_table())
    items = [item for item in first.all_items() if item.hash_key.value in ("a", "b")]
    assert [i.hash_key.value for i in items] == ["a"]
    assert type(items[0].attrs) is LimitedSizeDict and items[0].attrs["n"].value == "1"
    ddb.update_item(TableName=_table(), Key=_key(table, "a"),
                    UpdateExpression="SET n = :n", ExpressionAttributeValues={":n": {"N": "2"}})
    snapshot.restore()
    second = backend.get_table(_table())
    assert second is not first
    assert [i.attrs["n"].value for i in second.all_items() if i.hash_key.value == "a"] == ["1"]


def test_locks_are_new_and_shared_as_before(aws):
    backend = dynamodb_backends[ACCOUNT][REGION]
    shared = threading.Lock()
    backend.__dict__["_probe"] = {"one": shared, "two": shared, "missing": MISSING}
    snapshot = moto_state.Snapshot()
    snapshot.restore()
    probe = backend.__dict__.pop("_probe")
    assert probe["one"] is probe["two"] and probe["one"] is not shared
    assert probe["one"].acquire(blocking=False)
    assert probe["missing"] is MISSING


class Held:
    """Something moto holds strongly in one place and weakly in another (as Lambda's ARN map)."""


def test_a_weak_map_holds_the_restored_values(aws):
    backend = dynamodb_backends[ACCOUNT][REGION]
    held = Held()
    backend.__dict__["_probe"] = {"strong": [held], "weak": weakref.WeakValueDictionary({"k": held})}
    snapshot = moto_state.Snapshot()
    snapshot.restore()
    probe = backend.__dict__.pop("_probe")
    assert probe["weak"]["k"] is probe["strong"][0] and probe["strong"][0] is not held
