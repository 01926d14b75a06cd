"""What every PynamoDB model shares: region, table names from settings, and the resource body.

Each TMF resource is stored as its JSON document (`body`) beside the few attributes its keys and
indexes need, with a `version` for optimistic concurrency.
"""
from __future__ import annotations

import json
import os
import random
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, cast

from pynamodb.attributes import Attribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.constants import STRING
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import MetaProtocol, Model
from pynamodb.transactions import TransactWrite

from chalicelib import settings
from chalicelib.errors import Unavailable, Unprocessable, busy, conflict, precondition_failed


class JsonBody(Attribute[dict]):
    """A JSON document stored as one compact string (smaller and cheaper than a DynamoDB map)."""
    attr_type = STRING

    def serialize(self, value: Any) -> str:
        return json.dumps(value, separators=(",", ":"), sort_keys=True, allow_nan=False)

    def deserialize(self, value: str) -> Any:
        return json.loads(value)


def meta(logical_table: str) -> MetaProtocol:
    """A PynamoDB Meta for one of the tables in infra/resources.py. A class, as PynamoDB wants it,
    typed as PynamoDB declares Model.Meta (the options it leaves out PynamoDB fills in or reads
    with getattr and a default)."""

    class Meta:
        table_name = settings.table_name(logical_table)
        region = settings.region()

    return cast(MetaProtocol, Meta)


class StaleVersion(Exception):
    """A versioned write refused: the item changed (or, for an insert, exists) since it was read.
    Every store raises this one class (each store module re-exports it as `store.StaleVersion`)."""


class Outpaced(Unavailable):
    """A read that writers kept moving under (a paged document's header and pages, chalicelib/pages.py):
    503, try again. Inside `change` it is a write lost to another writer: read again after a back-off,
    then 409 `busy` like any other."""


# Why DynamoDB cancelled a transaction, one reason per item (the items that were not at fault
# say "None"), and what each means here:
#   ConditionalCheckFailed          the write's condition is false: StaleVersion (the caller
#                                   answers 409 or 412, or takes it as "already done")
#   TransactionConflict             another transaction or write held an item at that moment:
#                                   the same transaction is sent again (TRANSACTION_ATTEMPTS in
#                                   all, full jitter), then 409 transactionConflict
#   anything else (throughput, throttling, item collection size, validation): 503 with a body
#                                   naming the reason; nothing was written
CONDITION_FAILED = "ConditionalCheckFailed"
TRANSACTION_CONFLICT = "TransactionConflict"
TRANSACTION_ATTEMPTS = 4
CONFLICT_BACKOFF_SECONDS = 0.05   # full jitter: attempt n waits uniform(0, 0.05 * 2**n)
_sleep: Callable[[float], None] = time.sleep   # the local runtime gives its API slot up meanwhile
# A read-change-write that lost to another writer waits before it reads again: full jitter,
# exponential from 10 ms, at most 8 s. Without it, n writers on one item each re-read and
# re-wrote it about n times (200 writers on one basket: some 20,000 attempts). The cap only
# matters past the 10th lost attempt (the default basket budget is 12 attempts, about 10 s of
# waiting at worst): a 1 s cap kept 200 writers re-reading 3x as often as they could win
# (200 writers on one local basket: 445 s with a 1 s cap, 185 s with 8 s; 100 writers: 76 s, 34 s).
RETRY_BACKOFF_SECONDS, RETRY_BACKOFF_CAP_SECONDS = 0.01, 8.0


def back_off(attempt: int, base: float = RETRY_BACKOFF_SECONDS) -> None:
    """Wait before retrying a write that lost (its `attempt`-th, from 0): uniform(0, base * 2**n),
    at most RETRY_BACKOFF_CAP_SECONDS."""
    _sleep(random.uniform(0, min(RETRY_BACKOFF_CAP_SECONDS, base * 2 ** attempt)))


def cancellation_codes(exc: Exception) -> list[str]:
    """The reasons a transaction was cancelled (items at fault only), or [] for other errors."""
    return [r.code for r in (getattr(exc, "cancellation_reasons", None) or [])
            if r is not None and r.code not in (None, "None")]


def conditional_failed(exc: Exception) -> bool:
    """A PynamoDB write, or a transaction, refused by its condition (e.g. a stale version)."""
    if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
        return True
    return CONDITION_FAILED in cancellation_codes(exc)


def _conflicted(exc: Exception) -> bool:
    codes = cancellation_codes(exc)
    return (bool(codes) and all(c == TRANSACTION_CONFLICT for c in codes)) or \
        getattr(exc, "cause_response_code", None) == "TransactionConflictException"


# Cancellation reasons that pass with time (the table's or the account's throughput).
THROTTLED = frozenset({"ProvisionedThroughputExceeded", "ThrottlingError", "RequestLimitExceeded"})

def _too_large(exc: Exception) -> bool:
    """DynamoDB refused an item over its 400 KB limit (a ValidationException, also inside a
    transaction): the same write would be refused again."""
    text = f"{exc} {getattr(exc, 'cause_response_message', '') or ''} {exc.__cause__ or ''}"
    return "Item size has exceeded" in text or "Item size to update has exceeded" in text


@contextmanager
def versioned() -> Iterator[None]:
    """Around a conditional write (save, delete, update or a transaction): a refused condition
    raises StaleVersion; a transaction conflict that outlasted its retries is 409; throttling is
    503 (retry later); an item over DynamoDB's 400 KB is 422 recordTooLarge; any other cancellation (a validation error, an item collection too large:
    a retry would fail the same way) and other errors pass through unchanged, a fault (500)."""
    try:
        yield
    except PynamoDBException as exc:
        if conditional_failed(exc):
            raise StaleVersion() from None
        if _conflicted(exc):
            raise conflict("another request changed the same data at the same moment; nothing was "
                           "written: retry", "transactionConflict") from None
        if _too_large(exc):
            raise Unprocessable("what this change would store is larger than one DynamoDB item may be (400 KB); "
                                "nothing was written", "recordTooLarge") from None
        codes = cancellation_codes(exc)
        if codes and set(codes) <= THROTTLED | {"None"}:
            raise Unavailable(f"the database refused the write ({', '.join(sorted(set(codes)))}); nothing "
                              "was written: retry later", "databaseUnavailable",
                              headers={"Retry-After": "1"}) from None
        raise


def written(write: Callable[[], object]) -> bool:
    """Run a conditional write: True when it was written, False when its condition refused it
    (the item was there already, a cap was full, another writer moved first)."""
    try:
        with versioned():
            write()
    except StaleVersion:
        return False
    return True


CHANGE_ATTEMPTS = 5   # a resource that few write at once (catalogue, customer, campaign, rule, stock)


def change(what: str, load: Callable[[], tuple[Any, int]], mutate: Callable[[Any, int], Any],
           write: Callable[[Any, int], int], *, expected: int | None = None,
           attempts: int = CHANGE_ATTEMPTS, shown: Callable[[Any], Any] | None = None) -> tuple[Any, int]:
    """The one read-change-write on a versioned resource: `load()` gives (the resource as the API
    shows it, its version) or raises NotFound; `mutate(current, version)` gives what to write, or
    None when nothing needs writing; `write(new, version)` writes it at that version (raising
    StaleVersion when another writer moved first) and gives the new version. Returns (what was
    written, or the current resource when nothing was, its version).

    The rules, the same for every context:
    - `expected` (the request's If-Match) not the current version: 412 with the current resource
      as the body and its ETag;
    - lost the write to another writer: with If-Match, 412 the same way (the client's version is
      gone); without, read again after a jittered back-off (`back_off`), at most `attempts` times,
      then 409 `busy` (nothing was written).
    `mutate` may raise StaleVersion too, when what it read beside the resource shows its read
    is already outdated: taken as a lost write (the rules above).
    `shown` turns the loaded resource into what the caller may see in a 412 (default: as loaded)."""
    show = shown or (lambda doc: doc)
    for attempt in range(attempts):
        try:
            current, version = load()
        except Outpaced:
            if expected is not None:
                raise
            if attempt + 1 < attempts:
                back_off(attempt)
            continue
        if expected is not None and expected != version:
            raise precondition_failed(f"{what} is at version {version}, not {expected}", show(current), version)
        try:
            new = mutate(current, version)
            if new is None:
                return current, version
            return new, write(new, version)
        except StaleVersion:
            if expected is not None:
                latest, latest_version = load()
                raise precondition_failed(f"{what} was changed by someone else", show(latest), latest_version) from None
            if attempt + 1 < attempts:   # no wait before the last answer
                back_off(attempt)
    raise busy(what)


def delete(what: str, load: Callable[[], tuple[Any, int]], remove: Callable[[int], object], *,
           check: Callable[[Any], object] | None = None, expected: int | None = None,
           attempts: int = CHANGE_ATTEMPTS) -> None:
    """The one conditional delete, by the rules of `change`: `check(current)` may refuse it
    (raising), `remove(version)` deletes at that version (StaleVersion when it moved)."""
    def mutate(current: Any, _version: int) -> Any:
        if check is not None:
            check(current)
        return current

    def write(_current: Any, version: int) -> int:
        remove(version)
        return version

    change(what, load, mutate, write, expected=expected, attempts=attempts)


class _Transaction(TransactWrite):
    """TransactWrite that sends itself again when DynamoDB cancelled it only for a conflict with
    another transaction (nothing was written; the same items and conditions are still right)."""

    def _commit(self) -> Any:
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                return super()._commit()
            except TransactWriteError as exc:
                if attempt == TRANSACTION_ATTEMPTS - 1 or conditional_failed(exc) or not _conflicted(exc):
                    raise
                back_off(attempt, CONFLICT_BACKOFF_SECONDS)
        raise AssertionError("unreachable")


def model_classes() -> list[type[Model]]:
    """Every PynamoDB model class (subclasses of subclasses too)."""
    found: list[type[Model]] = []
    pending = list(Model.__subclasses__())
    while pending:
        model = pending.pop()
        found.append(model)
        pending.extend(model.__subclasses__())
    return found


def forget_connections() -> None:
    """Forget every connection (and so every botocore client) PynamoDB holds: each model's own
    (PynamoDB keeps one per model class, made on first use with the endpoint of that moment)
    and the transactions'. Only tests and the local runtime, switching endpoints, need it."""
    for model in model_classes():
        if "_connection" in vars(model):
            model._connection = None
    connections.clear()


connections: dict[tuple[str, str | None], Connection] = {}   # the transactions', by (region, endpoint)


def _connection(region: str, endpoint: str | None) -> Connection:
    """One connection (and so one botocore client) per region and endpoint, built on first use:
    a new one per transaction cost a client build each time (seen: ~1 s per write under load)."""
    found = connections.get((region, endpoint))
    if found is None:
        found = connections.setdefault((region, endpoint), Connection(region=region))
    return found


def transaction(connection: Connection | None = None) -> TransactWrite:
    """A DynamoDB transaction in this region (use as `with db.transaction() as tx:`), inside
    `versioned()` or `written()` so that every cancellation reason is answered deliberately."""
    return _Transaction(connection=connection or _connection(settings.region(), os.environ.get("AWS_ENDPOINT_URL")))


class ByOwner(GlobalSecondaryIndex):
    """What one owner has (a customer's baskets, orders): a Query on this index (`owner`, `sort`).
    Shared by the tables whose models declare `by_owner = ByOwner()`."""

    class Meta:
        index_name = "by-owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    sort = UnicodeAttribute(range_key=True)


class ByKind(GlobalSecondaryIndex):
    """Every list of one resource kind is a Query on this index (`kind`, ordered by `sort`).
    Shared by the tables whose models declare `by_kind = ByKind()`."""

    class Meta:
        index_name = "by-kind"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    sort = UnicodeAttribute(range_key=True)


class OpenByOwner(GlobalSecondaryIndex):
    """Sparse: what one owner has open now (a customer's open baskets, orders in flight), newest
    first. Only items whose `open_owner` is set are in it (their store sets it while the resource
    is open and removes it when it closes), so a Query with a Limit reads the same few items
    however long the owner's history. Shared by the tables whose models declare
    `open_by_owner = OpenByOwner()`."""

    class Meta:
        index_name = "open-by-owner"
        projection = AllProjection()

    open_owner = UnicodeAttribute(hash_key=True)
    sort = UnicodeAttribute(range_key=True)
