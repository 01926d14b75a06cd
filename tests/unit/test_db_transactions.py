"""Every reason DynamoDB gives for cancelling a transaction is answered deliberately (issue 11
point 2): a failed condition is StaleVersion (409/412 upstream, as before); a TransactionConflict
(another transaction held an item: concurrent submits of one basket in AWS) is sent again a
bounded number of times with jitter, then 409; throttling is 503 with a body naming the
reason; a reason a retry cannot cure (validation, item collection size) is a fault, not 503. The DynamoDB client is a botocore Stubber: no AWS, no moto."""
from __future__ import annotations

import pytest
from botocore.stub import Stubber
from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.models import Model

from chalicelib import db
from chalicelib.errors import ApiError


class Thing(Model):
    class Meta:
        table_name = "things"
        region = "eu-west-1"

    pk = UnicodeAttribute(hash_key=True)


@pytest.fixture
def stub(monkeypatch):
    sleeps: list[float] = []
    monkeypatch.setattr(db, "_sleep", sleeps.append)
    connection = Connection(region="eu-west-1")
    stubber = Stubber(connection.client)
    stubber.activate()
    stubber.sleeps = sleeps
    stubber.connection = connection
    yield stubber
    stubber.deactivate()


def cancelled(stub, *codes):
    stub.add_client_error("transact_write_items", service_error_code="TransactionCanceledException",
                          service_message="Transaction cancelled", http_status_code=400,
                          modeled_fields={"CancellationReasons": [{"Code": c} for c in codes]})


def ok(stub):
    stub.add_response("transact_write_items", {})


def write(stub):
    with db.versioned():
        with db.transaction(stub.connection) as tx:
            tx.save(Thing("a"), condition=Thing.pk.does_not_exist())
            tx.save(Thing("b"))


def test_a_failed_condition_is_stale_version_without_retry(stub):
    cancelled(stub, "ConditionalCheckFailed", "None")
    with pytest.raises(db.StaleVersion):
        write(stub)
    stub.assert_no_pending_responses()
    assert stub.sleeps == []


def test_a_condition_and_a_conflict_together_is_stale_version(stub):
    cancelled(stub, "ConditionalCheckFailed", "TransactionConflict")
    with pytest.raises(db.StaleVersion):
        write(stub)
    assert stub.sleeps == []


def test_a_conflict_is_retried_and_then_written(stub):
    cancelled(stub, "None", "TransactionConflict")
    cancelled(stub, "TransactionConflict", "None")
    ok(stub)
    write(stub)                                   # no exception: written on the third attempt
    stub.assert_no_pending_responses()
    assert len(stub.sleeps) == 2
    assert all(0 <= s <= db.CONFLICT_BACKOFF_SECONDS * 2 ** i for i, s in enumerate(stub.sleeps))


def test_a_lasting_conflict_is_409_after_a_bounded_number_of_attempts(stub):
    for _ in range(db.TRANSACTION_ATTEMPTS):
        cancelled(stub, "TransactionConflict", "None")
    with pytest.raises(ApiError) as exc:
        write(stub)
    stub.assert_no_pending_responses()            # exactly TRANSACTION_ATTEMPTS sends, no more
    assert len(stub.sleeps) == db.TRANSACTION_ATTEMPTS - 1
    assert exc.value.status == 409 and exc.value.code == "transactionConflict"
    assert exc.value.to_body()["@type"] == "Error"


def test_written_says_false_only_for_a_failed_condition(stub):
    cancelled(stub, "ConditionalCheckFailed", "None")
    assert db.written(lambda: _raw(stub)) is False
    for _ in range(db.TRANSACTION_ATTEMPTS):
        cancelled(stub, "TransactionConflict", "None")
    with pytest.raises(ApiError) as exc:
        db.written(lambda: _raw(stub))
    assert exc.value.status == 409


def _raw(stub):
    with db.transaction(stub.connection) as tx:
        tx.save(Thing("a"), condition=Thing.pk.does_not_exist())
        tx.save(Thing("b"))


@pytest.mark.parametrize("reason", ["ProvisionedThroughputExceeded", "ThrottlingError", "RequestLimitExceeded"])
def test_throttling_is_503_with_a_clear_body_and_no_retry(stub, reason):
    cancelled(stub, "None", reason)
    with pytest.raises(ApiError) as exc:
        write(stub)
    stub.assert_no_pending_responses()
    assert stub.sleeps == []
    body = exc.value.to_body()
    assert exc.value.status == 503 and body["code"] == "databaseUnavailable" and reason in body["message"]
    assert exc.value.headers.get("Retry-After")


@pytest.mark.parametrize("reason", ["ItemCollectionSizeLimitExceeded", "ValidationError"])
def test_a_write_that_would_fail_again_is_not_answered_retry_later(stub, reason):
    """A retry cannot help a validation error or a full item collection: no 503 with Retry-After
    inviting one; the fault goes up as it is (a 500, logged)."""
    cancelled(stub, "None", reason)
    with pytest.raises(Exception) as exc:
        write(stub)
    stub.assert_no_pending_responses()
    assert stub.sleeps == []
    assert not isinstance(exc.value, ApiError), exc.value


def test_a_single_write_meeting_a_transaction_is_409(stub):
    stub.add_client_error("put_item", service_error_code="TransactionConflictException",
                          service_message="ongoing transaction", http_status_code=400)
    table = Thing._get_connection()                 # the model's table connection, over the stub
    stub.connection.add_meta_table(table.connection.get_meta_table("things"))
    table.connection = stub.connection
    try:
        with pytest.raises(ApiError) as exc:
            with db.versioned():
                Thing("a").save()
    finally:
        Thing._connection = None
    assert exc.value.status == 409


def test_a_lost_write_backs_off_exponentially_with_full_jitter_up_to_a_cap(monkeypatch):
    """n writers on one item: each loser waits uniform(0, min(cap, 10 ms * 2**attempt)) before it
    reads again, so they spread out instead of all re-reading at once on every round."""
    waits = []
    monkeypatch.setattr(db, "_sleep", waits.append)
    monkeypatch.setattr(db.random, "uniform", lambda low, high: high)   # the window's upper end
    for attempt in range(12):
        db.back_off(attempt)
    assert waits[:4] == [0.01, 0.02, 0.04, 0.08]
    assert waits[-1] == db.RETRY_BACKOFF_CAP_SECONDS and max(waits) == db.RETRY_BACKOFF_CAP_SECONDS
