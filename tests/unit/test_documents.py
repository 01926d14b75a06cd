"""chalicelib.documents: the one versioned-document store (issue 19, session 9) on a real table
(moto's stock table, through its own model): every write conditional on the version read or, for
a new one, on its key being free; a refused one is StaleVersion (insert: None) and leaves the
stored item as it was; a load sees only its own kind."""
from __future__ import annotations

import pytest

from chalicelib import db
from chalicelib.documents import MAX_ID, Documents
from chalicelib.stock.models import StockRecord


def _attributes(doc, due=None):
    return {"sort": f"{doc['name']}#{doc['id']}", "due": due, "until": "2026-12-02" if due else None,
            "owner": f"CUSTOMER#{doc['customer']}" if doc.get("customer") else None}


def _counted_attributes(doc):
    """Like stock: the count kept as a number beside the body, not in it."""
    return {"sort": doc["id"], "level": doc["count"], "body": {k: v for k, v in doc.items() if k != "count"}}


def _counted(rec):
    return {**rec.body, "count": int(rec.level)}


THINGS = Documents(StockRecord, "thing", _attributes)
OTHERS = Documents(StockRecord, "other", _attributes)
COUNTED = Documents(StockRecord, "counted", _counted_attributes, shown=_counted)
KEPT = Documents(StockRecord, None, key=lambda rid: f"kept#{rid}")


def _thing(rid="t-1", name="a", **more):
    return {"id": rid, "name": name, **more}


def _stored(rid):
    return StockRecord.get(rid, consistent_read=True)


def test_an_insert_is_loaded_with_version_1_and_its_attributes(aws):
    assert THINGS.insert(_thing(customer="c-1"), due="held") == 1
    assert THINGS.load("t-1") == (_thing(customer="c-1"), 1)
    rec = _stored("t-1")
    assert (rec.kind, rec.sort, rec.owner, rec.due, rec.until) == ("thing", "a#t-1", "CUSTOMER#c-1", "held", "2026-12-02")


def test_an_insert_over_an_existing_key_is_none_and_changes_nothing(aws):
    THINGS.insert(_thing(name="first"))
    assert THINGS.insert(_thing(name="second")) is None
    assert OTHERS.insert(_thing(name="another kind")) is None     # the key is taken, whatever its kind
    assert THINGS.load("t-1") == (_thing(name="first"), 1)


def test_a_replace_at_the_version_read_moves_it_on(aws):
    THINGS.insert(_thing())
    assert THINGS.replace(_thing(name="b"), 1, due="held") == 2
    assert THINGS.load("t-1") == (_thing(name="b"), 2) and _stored("t-1").due == "held"
    assert THINGS.replace(_thing(name="c"), 2) == 3
    assert _stored("t-1").due is None      # the attributes are the new document's, not merged


def test_a_replace_at_a_stale_version_is_stale_and_changes_nothing(aws):
    THINGS.insert(_thing())
    THINGS.replace(_thing(name="b"), 1)
    with pytest.raises(db.StaleVersion):
        THINGS.replace(_thing(name="lost"), 1)
    assert THINGS.load("t-1") == (_thing(name="b"), 2)


def test_a_replace_of_a_document_gone_is_stale_and_writes_nothing(aws):
    with pytest.raises(db.StaleVersion):
        THINGS.replace(_thing(), 1)
    assert THINGS.load("t-1") is None


def test_a_remove_needs_the_version_read_and_a_gone_one_is_stale(aws):
    THINGS.insert(_thing())
    THINGS.replace(_thing(name="b"), 1)
    with pytest.raises(db.StaleVersion):
        THINGS.remove("t-1", 1)
    assert THINGS.load("t-1") == (_thing(name="b"), 2)
    THINGS.remove("t-1", 2)
    assert THINGS.load("t-1") is None
    with pytest.raises(db.StaleVersion):
        THINGS.remove("t-1", 2)


def test_a_load_sees_its_own_kind_only_and_no_unreadable_id(aws):
    THINGS.insert(_thing())
    assert OTHERS.load("t-1") is None and OTHERS.get("t-1") is None
    assert KEPT.load("t-1") is None                       # its key is kept#t-1: nothing there
    assert THINGS.load("") is None and THINGS.load("x" * (MAX_ID + 1)) is None


def test_a_kindless_document_under_its_own_key(aws):
    assert KEPT.insert({"id": "t-1", "v": 1}) == 1
    assert _stored("kept#t-1").kind is None
    assert KEPT.load("t-1") == ({"id": "t-1", "v": 1}, 1)
    assert THINGS.load("kept#t-1") is None                # a kind-less item is not a thing


def test_a_body_kept_apart_is_shown_whole(aws):
    COUNTED.insert({"id": "n-1", "count": 5})
    rec = _stored("n-1")
    assert rec.body == {"id": "n-1"} and rec.level == 5
    assert COUNTED.load("n-1") == ({"id": "n-1", "count": 5}, 1)
    assert COUNTED.every() == [{"id": "n-1", "count": 5}]


def test_lists_are_of_one_kind(aws):
    THINGS.insert(_thing("t-2", "b", customer="c-1"))
    THINGS.insert(_thing("t-1", "a"))
    OTHERS.insert(_thing("o-1", "a", customer="c-1"))
    assert [d["id"] for d in THINGS.every()] == ["t-1", "t-2"]           # by-kind order: sort
    assert [d["id"] for d in THINGS.of_customer("c-1")] == ["t-2"]
    assert [d["id"] for d in OTHERS.of_customer("c-1")] == ["o-1"]
    assert THINGS.of_customer("x" * (MAX_ID + 1)) == []


def test_a_customers_list_reads_only_its_kind_from_dynamodb(aws, monkeypatch):
    """The kind is the by-owner Query's filter: the other kinds' items of the customer are not
    returned by DynamoDB (counted in the Query's answer), not dropped after they came."""
    from pynamodb.connection.base import Connection

    query, returned = Connection.query, []

    def counted(self, *args, **kwargs):
        answer = query(self, *args, **kwargs)
        returned.append(len(answer["Items"]))
        return answer

    monkeypatch.setattr(Connection, "query", counted)
    for n in range(3):
        OTHERS.insert(_thing(f"o-{n}", "a", customer="c-1"))
    THINGS.insert(_thing("t-1", "b", customer="c-1"))
    kindless = Documents(StockRecord, None, _attributes, key=lambda rid: f"loose#{rid}")
    kindless.insert(_thing("l-1", "c", customer="c-1"))
    assert [d["id"] for d in THINGS.of_customer("c-1")] == ["t-1"] and returned == [1]
    assert [d["id"] for d in OTHERS.of_customer("c-1")] == ["o-0", "o-1", "o-2"] and returned == [1, 3]
    assert [d["id"] for d in kindless.of_customer("c-1")] == ["l-1"] and returned == [1, 3, 1]


def test_replace_with_also_is_one_transaction(aws):
    THINGS.insert(_thing())
    KEPT.insert({"id": "t-1", "v": 1})
    with pytest.raises(db.StaleVersion):             # the kept copy exists: nothing is written
        THINGS.replace(_thing(name="b"), 1, also=[KEPT.put({"id": "t-1", "v": 2})])
    assert THINGS.load("t-1") == (_thing(), 1) and KEPT.load("t-1") == ({"id": "t-1", "v": 1}, 1)
    assert THINGS.replace(_thing(name="b"), 1, also=[OTHERS.put(_thing("o-1"))]) == 2
    assert THINGS.load("t-1") == (_thing(name="b"), 2) and OTHERS.load("o-1") == (_thing("o-1"), 1)


def test_puts_in_a_transaction_are_refused_together(aws):
    THINGS.insert(_thing())
    with pytest.raises(db.StaleVersion):             # an insert over an existing key
        with db.versioned(), db.transaction() as tx:
            OTHERS.put(_thing("o-1"))(tx)
            THINGS.put(_thing(name="again"))(tx)
    assert OTHERS.load("o-1") is None
    with pytest.raises(db.StaleVersion):             # a replace at a stale version
        with db.versioned(), db.transaction() as tx:
            OTHERS.put(_thing("o-1"))(tx)
            THINGS.put(_thing(name="b"), 7)(tx)
    assert OTHERS.load("o-1") is None and THINGS.load("t-1") == (_thing(), 1)


def test_a_put_with_a_condition_needs_it_as_well_as_the_version(aws):
    THINGS.insert(_thing(), due="held")
    with pytest.raises(db.StaleVersion):
        with db.versioned(), db.transaction() as tx:
            THINGS.put(_thing(name="b"), 1, condition=StockRecord.due.does_not_exist())(tx)
    with db.versioned(), db.transaction() as tx:
        THINGS.put(_thing(name="b"), 1, condition=StockRecord.due == "held")(tx)
    assert THINGS.load("t-1") == (_thing(name="b"), 2)
