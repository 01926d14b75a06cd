"""Where moto (5.2.5) differs from AWS in a way the local runtime hits, and the smallest patch
that makes it behave like AWS. Installed and removed together with the Lambda routing
(`infra.local.lambdas.install` / `uninstall`), which every runtime and test fixture calls.

- An execution is not usable until its own thread has run. moto's StartExecution returns once it
  has started the execution's thread, and that thread builds the execution's evaluation
  environment; until it has, StopExecution raised AttributeError ('NoneType' object has no
  attribute 'set_stop') and SendTaskSuccess/Failure/Heartbeat ('... no attribute
  callback_pool_manager', for *any* running execution, not only the token's), each as HTTP 500;
  and until its program has begun (set its first state), StopExecution was silently ignored and
  the execution ran to its end. AWS has no such window. The patch makes StartExecution return only
  once the environment exists and its program has begun (waiting at most 5 s, a few milliseconds
  in practice).
- DynamoDB is not atomic in moto's (multithreaded) server: a conditional put reads the current
  item, checks the condition and then writes, with no lock, so two writers could both pass the
  same version check (200 concurrent writers on one basket lost acknowledged items, two answers
  carrying one ETag), and a TransactWriteItems checks and writes item by item (10 concurrent
  submits of one basket were all accepted). Every DynamoDB and DynamoDB Streams action now runs
  under one lock (`LOCK`): writes are atomic, and no read (GetItem, Query, GetRecords, ...) sees
  a transaction half applied, as in DynamoDB.
- A cancelled TransactWriteItems restored deep copies of its tables *as new table objects*, each
  with a new stream shard object: shard iterators held by a reader kept reading the old shard,
  which never got another record (after one failed transaction, every later order stayed
  `acknowledged`). The patch keeps the table and shard objects: the rolled-back items are put back
  into the original table, and the stream records the cancelled transaction's partial writes
  added are removed (DynamoDB writes no stream record for a cancelled transaction). The shard is
  not deep-copied for the rollback (it was copied only to be thrown away, at the cost of every
  record the stream ever had), and neither is the table: only the items the transaction names
  are (moto deep-copied every table a transaction touches once per item it names).
- Shard iterators never went away: every GetRecords makes a new one (its NextShardIterator), and
  moto kept each in its backend and in its model tracking, which /moto-api/data.json dumps: a
  pump polling six streams five times a second made about 100,000 an hour (data.json reached
  26 MB and took 55 s). As in DynamoDB Streams, an iterator now expires 15 minutes after it was
  made (ExpiredIteratorException), and iterators are not tracked as models.
- A StopExecution that landed inside a Task state ended the execution FAILED (States.Runtime,
  "'dict' object has no attribute 'region'"), where AWS says ABORTED: once stopped, moto skips
  ("prunes") every step of the Task's evaluation but still pops the values those steps would have
  pushed, so its own code raised; the Task recorded that as a TaskFailed, and the program's
  `set_error` replaced the stopped state with an error. As on AWS, a stop is now final: an
  execution state whose evaluation raises after its execution was stopped just ends (no invented
  TaskFailed event; the state returns as moto's states do once stopped), and `set_error` leaves a
  stopped program stopped (any other step that raises after the stop), so the execution ends
  ABORTED with an ExecutionAborted event.
- A Wait state sleeps on an event that a stop pulses (set, then cleared at once): a stop landing
  after the state checked that its execution runs and before it began to sleep was missed, and
  the execution slept its whole Wait (the recovery workflow's: an hour), where AWS ends it at
  once. The state now sleeps in slices of at most `WAIT_SLICE_SECONDS`, checking between them
  that its execution still runs (a stop the pulse missed ends it within a slice).
- Not an AWS difference, a local setting: a Retry's wait (IntervalSeconds x BackoffRate^n, after
  any jitter) is multiplied by `settings.local_retry_scale()` (OMNISHOP_LOCAL_RETRY_SCALE, default
  0.1), the last step before moto sleeps it. The SMS provider failing was retried for 15 s
  (1+2+4+8) before the workflow failed; now 1.5 s, with the same attempts in the same order.
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any, Callable

log = logging.getLogger("infra.local")

_originals: dict[str, Any] = {}   # what each patch replaced (None: it was inherited)
_START_WAIT_SECONDS = 5.0
WAIT_SLICE_SECONDS = 0.5   # a Wait state looks at its execution's state at least this often

# One lock for all of moto's DynamoDB state (re-entrant: a transaction calls put_item itself).
LOCK = threading.RLock()
# Every action of these handlers (moto.dynamodb.responses.DynamoHandler and
# moto.dynamodbstreams.responses.DynamoDBStreamsHandler) that reads or writes items or records.
DYNAMODB_ACTIONS = ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items",
                    "execute_statement", "execute_transaction", "batch_execute_statement",
                    "get_item", "batch_get_item", "transact_get_items", "query", "scan")
STREAMS_ACTIONS = ("describe_stream", "get_shard_iterator", "get_records")
ITERATOR_SECONDS = 15 * 60  # DynamoDB Streams: a shard iterator expires 15 minutes after it is returned


def _running(worker: Any) -> bool:
    """The execution's environment exists and its program has begun (a program state set): only
    then does StopExecution land (Environment.set_stop ignores a program with no state yet, and
    the execution ran on to SUCCEEDED: CI hit it once in 10 stops right after starts)."""
    env = worker.env
    return env is not None and getattr(env, "_program_state", None) is not None


def _start_and_wait_for_environment(worker: Any) -> None:
    _originals["ExecutionWorker.start"](worker)
    deadline = time.monotonic() + _START_WAIT_SECONDS
    while not _running(worker) and time.monotonic() < deadline:
        time.sleep(0.002)
    if worker.env is None:
        log.warning("a Step Functions execution did not start within %.0f s (its thread failed?)", _START_WAIT_SECONDS)


def _stopped(env: Any) -> bool:
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped

    return isinstance(env._program_state, ProgramStopped)


def _evaluate_unless_stopped(state: Any, env: Any) -> None:
    """ExecutionState._evaluate_with_timeout: what the state's evaluation raises once its execution
    was stopped is moto's pruned evaluation failing, not the state's outcome (AWS: ABORTED)."""
    try:
        _originals["ExecutionState._evaluate_with_timeout"](state, env)
    except Exception:
        if not _stopped(env):
            raise


def _set_error_unless_stopped(env: Any, error: Any) -> None:
    """Environment.set_error: a stopped program stays stopped (AWS: a stop is final)."""
    with env._state_mutex:
        if not _stopped(env):
            _originals["Environment.set_error"](env, error)


def _wait_while_running(function: Any, env: Any, wait_seconds: int) -> None:
    """WaitFunction._wait_interval: sleep `wait_seconds` or until the program stops running."""
    deadline = time.monotonic() + wait_seconds
    while env.is_running():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        env.program_state_event.wait(min(left, WAIT_SLICE_SECONDS))


def _scaled_retry_wait(jitter: Any, env: Any) -> None:
    """JitterStrategyDecl._eval_body, the last step of a Retry's wait: then scaled for local runs."""
    from chalicelib import settings

    _originals["JitterStrategyDecl._eval_body"](jitter, env)
    env.stack.append(env.stack.pop() * settings.local_retry_scale())


def _locked(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def under_lock(*args: Any, **kwargs: Any) -> Any:
        with LOCK:
            return original(*args, **kwargs)
    return under_lock


def _share_shard(shard: Any, memo: dict[int, Any]) -> Any:
    """StreamShard.__deepcopy__ while a transaction runs: its backup copy shares the shard."""
    return shard


def _named_keys(table: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    """The (hash, range) keys of `table`'s items a transaction names, as moto keys its items."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    out = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        if op.get("TableName") != table.name:
            continue
        key = op.get("Item") or op.get("Key") or {}
        if table.hash_key_attr in key:
            out.append((DynamoType(key[table.hash_key_attr]),
                        DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None))
    return out


def _rollback_copy(transact_items: list[dict[str, Any]]) -> Callable[[Any, dict[int, Any]], Any]:
    """Table.__deepcopy__ while a transaction runs: moto copies a whole table (once per item the
    transaction names) only to put its items back if the transaction fails. The copy is the item
    dicts, with only the items the transaction names copied deeply (an Update changes its Item in
    place; a Put or Delete replaces the dict entry): the cost of a transaction no longer grows
    with its tables (100 lines written to a 1,000-line basket deep-copied 100,000 items)."""
    import copy
    import types
    from collections import defaultdict

    made: dict[int, Any] = {}

    def light(table: Any, memo: dict[int, Any]) -> Any:
        if id(table) not in made:
            if table.range_key_attr:
                items: Any = defaultdict(dict, {h: dict(inner) for h, inner in table.items.items()})
            else:
                items = defaultdict(dict, table.items)
            for hash_key, range_key in _named_keys(table, transact_items):
                holder = items.get(hash_key) if range_key is not None else items
                held = (holder or {}).get(range_key if range_key is not None else hash_key)
                if held is not None:
                    holder[range_key if range_key is not None else hash_key] = copy.deepcopy(held)
            made[id(table)] = types.SimpleNamespace(items=items)
        return made[id(table)]
    return light


def _transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's transact_write_items, with a rollback that keeps the table and shard objects, and
    copies only what it may need to put back (_rollback_copy)."""
    from moto.dynamodb.models.table import StreamShard, Table

    with LOCK:
        tables = dict(backend.tables)
        records = {name: len(t.stream_shard.items) for name, t in tables.items() if t.stream_shard is not None}
        StreamShard.__deepcopy__ = _share_shard  # type: ignore[attr-defined]
        Table.__deepcopy__ = _rollback_copy(transact_items)  # type: ignore[attr-defined]
        try:
            _originals["DynamoDBBackend.transact_write_items"](backend, transact_items)
        except BaseException:
            for name, table in tables.items():
                restored = backend.tables.get(name)
                if restored is not None and restored is not table:  # moto's rollback copy
                    table.items = restored.items
                    backend.tables[name] = table
                if name in records:
                    del table.stream_shard.items[records[name]:]
            raise
        finally:
            del StreamShard.__deepcopy__  # type: ignore[attr-defined]
            del Table.__deepcopy__  # type: ignore[attr-defined]


def _untracked_iterator(cls: type, *args: Any, **kwargs: Any) -> Any:
    """ShardIterator.__new__: not kept in moto's model tracking; stamped with when it was made."""
    iterator: Any = object.__new__(cls)
    iterator.made = time.monotonic()
    return iterator


def _get_records(backend: Any, iterator_arn: str, limit: int) -> dict[str, Any]:
    """GetRecords that drops expired iterators first (the backend's dict is in creation order)."""
    from moto.core.exceptions import JsonRESTError

    expired = time.monotonic() - ITERATOR_SECONDS
    iterators = backend.shard_iterators
    while iterators:
        oldest = next(iter(iterators))
        if getattr(iterators[oldest], "made", expired) > expired:
            break
        del iterators[oldest]
    if iterator_arn not in iterators:
        raise JsonRESTError("ExpiredIteratorException", "the shard iterator has expired (15 minutes) or is unknown")
    return _originals["DynamoDBStreamsBackend.get_records"](backend, iterator_arn, limit)


def _patch(owner: type, name: str, replacement: Any) -> None:
    key = f"{owner.__name__}.{name}"
    if key not in _originals:
        _originals[key] = owner.__dict__.get(name)  # None: inherited
        setattr(owner, name, replacement)


def _classes() -> dict[str, type]:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
    from moto.stepfunctions.parser.asl.component.common.retry.jitter_strategy_decl import JitterStrategyDecl
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    return {cls.__name__: cls for cls in (DynamoDBBackend, DynamoHandler, DynamoDBStreamsHandler, ExecutionWorker,
                                          DynamoDBStreamsBackend, ShardIterator, ExecutionState, Environment,
                                          WaitFunction, JitterStrategyDecl)}


def install() -> None:
    c = _classes()
    _patch(c["ExecutionWorker"], "start", _start_and_wait_for_environment)
    _patch(c["ExecutionState"], "_evaluate_with_timeout", _evaluate_unless_stopped)
    _patch(c["Environment"], "set_error", _set_error_unless_stopped)
    _patch(c["WaitFunction"], "_wait_interval", _wait_while_running)
    _patch(c["JitterStrategyDecl"], "_eval_body", _scaled_retry_wait)
    for handler, actions in (("DynamoHandler", DYNAMODB_ACTIONS), ("DynamoDBStreamsHandler", STREAMS_ACTIONS)):
        for action in actions:
            _patch(c[handler], action, _locked(c[handler].__dict__[action]))
    _patch(c["DynamoDBBackend"], "transact_write_items", _transact_write_items)
    _patch(c["ShardIterator"], "__new__", staticmethod(_untracked_iterator))
    _patch(c["DynamoDBStreamsBackend"], "get_records", _get_records)


def uninstall() -> None:
    owners = _classes()
    for key, original in list(_originals.items()):
        owner, _, name = key.partition(".")
        if original is None:
            delattr(owners[owner], name)
        else:
            setattr(owners[owner], name, original)
        del _originals[key]
