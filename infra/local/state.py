"""The local runtime's state across restarts: every table's items and the local signing key.

moto keeps everything in memory. The runtime saves every table of infra/resources.py to
`<state dir>/tables.json` (default `.local/state/`, OMNISHOP_LOCAL_STATE_DIR to move it, `off`
to keep nothing) every SAVE_SECONDS when something changed, and once more on a clean stop; each
save is written to a temporary file and renamed over the old one, so a kill -9 leaves the last
complete save (at most SAVE_SECONDS old). The signing key of POST /local/token tokens is kept
in the state dir too (`.local/state/signing-key.pem`): tokens issued before a restart stay valid,
and two state dirs never share a key (`make reset` removes the state dir, key included).

On start, the saved items are written into the new, still stream-less tables (provision's
`fill`), so they make no stream record and re-run no handler. What was in flight is re-driven
from the records instead (`redrive`): orders not final get their fulfilment workflow started
again, open recovery sessions their workflow; both are named executions (one per order, one per
session), so a repeat starts nothing. What is not kept: queued SQS messages, running Step
Functions executions (re-driven as above), what moto recorded as sent (SMS, email), schedules made
at run time, the simulated stacks' memory.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import pathlib
import sys
import tempfile
import threading
import time
from typing import Any, Iterable

from chalicelib import aws, settings
from infra import resources
from infra.resources import ROOT, Table

log = logging.getLogger("infra.local")

STATE_DIR_ENV = "OMNISHOP_LOCAL_STATE_DIR"
DEFAULT_STATE_DIR = ROOT / ".local" / "state"
TABLES_FILE = "tables.json"
KEY_FILE = "signing-key.pem"
SAVE_SECONDS = 2.0
BATCH_WRITE_LIMIT = 25


def state_dir() -> pathlib.Path | None:
    """Where the state is kept; None when OMNISHOP_LOCAL_STATE_DIR is `off`."""
    raw = os.environ.get(STATE_DIR_ENV) or ""
    if raw.strip().lower() == "off":
        return None
    return pathlib.Path(raw).resolve() if raw.strip() else DEFAULT_STATE_DIR


def key_file(directory: pathlib.Path) -> pathlib.Path:
    """The signing key: in the state dir (`.local/state/signing-key.pem` by default)."""
    return directory / KEY_FILE


# --- items as JSON: DynamoDB JSON as on the wire (binary as base64) -------------------------------
def _base64(value: Any) -> str:
    """moto keeps some binary values (in sets, in maps) as bytes: the wire has them in base64."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _decode(typed: dict[str, Any]) -> dict[str, Any]:
    """One wire-JSON value -> what boto3's client takes (bytes for binary), by its type only (a
    map may well have a key named "B")."""
    (kind, value), = typed.items()
    if kind == "B":
        return {kind: base64.b64decode(value)}
    if kind == "BS":
        return {kind: [base64.b64decode(v) for v in value]}
    if kind == "M":
        return {kind: {k: _decode(v) for k, v in value.items()}}
    if kind == "L":
        return {kind: [_decode(v) for v in value]}
    return typed


def _item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _decode(value) for name, value in item.items()}


def snapshot(tables: Iterable[Table] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every item of every table as DynamoDB JSON (binary as base64, as on the wire), by the
    table's logical name. Read from moto's backend in this process, not through Scan: a few
    milliseconds, so the last save fits in the stop's 2 s even on a loaded machine."""
    from moto.dynamodb.models import dynamodb_backends

    from infra.local import moto_fixes

    backend = dynamodb_backends[settings.account_id()][settings.region()]
    out: dict[str, list[dict[str, Any]]] = {}
    # Under the lock every DynamoDB action of moto's server takes: no write lands while this
    # reads, so a transaction is saved whole or not at all.
    with moto_fixes.LOCK:
        for table in resources.TABLES if tables is None else tables:
            model = backend.get_table(settings.table_name(table.name))
            out[table.name] = [json.loads(json.dumps(item.to_json()["Attributes"], default=_base64))
                               for item in model.all_items()]
    return out


def _tables_json(tables: dict[str, list[dict[str, Any]]]) -> str:
    return json.dumps(tables, sort_keys=True, separators=(",", ":"))


def write(directory: pathlib.Path, tables: dict[str, list[dict[str, Any]]] | str) -> pathlib.Path:
    """Write the snapshot (or its _tables_json) atomically: a complete file or the previous one,
    never half of one."""
    text = tables if isinstance(tables, str) else _tables_json(tables)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / TABLES_FILE
    fd, temporary = tempfile.mkstemp(prefix=".tables-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(f'{{"format":1,"savedAt":{time.time()},"tables":{text}}}')
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
    return target


def read(directory: pathlib.Path) -> dict[str, list[dict[str, Any]]]:
    """The saved items by table ({} when nothing was saved). A file that cannot be read is an
    error: starting empty would overwrite it with nothing at the next save."""
    path = directory / TABLES_FILE
    if not path.exists():
        return {}
    try:
        saved = json.loads(path.read_text())
        tables = saved["tables"]
    except (ValueError, KeyError, TypeError) as exc:
        raise RuntimeError(f"{path} is not a saved state ({exc}): move it away, or `make reset`") from None
    known = {t.name for t in resources.TABLES}
    unknown = sorted(set(tables) - known)
    if unknown:
        log.warning("saved state: tables no longer in infra/resources.py are left out: %s", ", ".join(unknown))
    return {name: items for name, items in tables.items() if name in known}


def restore(tables: dict[str, list[dict[str, Any]]]) -> int:
    """Put the saved items into the tables (BatchWriteItem); how many. Called while the tables
    have no stream yet (provision's `fill`): restoring re-runs nothing."""
    ddb, count = aws.client("dynamodb"), 0
    for name, items in tables.items():
        table_name = settings.table_name(name)
        for i in range(0, len(items), BATCH_WRITE_LIMIT):
            pending = {table_name: [{"PutRequest": {"Item": _item(item)}} for item in items[i:i + BATCH_WRITE_LIMIT]]}
            while pending:
                pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        count += len(items)
    return count


class Saver:
    """Saves the tables every `interval` seconds when they changed, and on `stop()`."""

    def __init__(self, directory: pathlib.Path, interval: float = SAVE_SECONDS):
        self.directory, self.interval = directory, interval
        self._digest: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def save(self) -> bool:
        """Save now if anything changed since the last save; True when it wrote."""
        with self._lock:
            text = _tables_json(snapshot())
            digest = hashlib.sha256(text.encode()).hexdigest()
            if digest == self._digest:
                return False
            write(self.directory, text)
            self._digest = digest
            return True

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True, name="state-saver")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.save()
            except Exception:
                log.exception("saving the local state to %s failed", self.directory)

    def stop(self) -> None:
        """The last save: after the API stopped answering, while handlers the pump left running
        may still compete for the GIL. For its duration this thread keeps the GIL for longer
        slices (the process is exiting), so the save takes milliseconds, not the 1 s and more
        it took under load with a dozen busy threads."""
        self._stop.set()
        interval = sys.getswitchinterval()
        sys.setswitchinterval(0.25)
        try:
            self.save()
        finally:
            sys.setswitchinterval(interval)
        log.info("local state saved to %s", self.directory / TABLES_FILE)


def redrive() -> dict[str, int]:
    """Restart, from the records, the workflows that were running when the runtime stopped
    (Step Functions executions do not survive a restart). Each is a named execution: a repeat
    (or one the stream already started) starts nothing."""
    from chalicelib.ordering import fulfilment as ordering
    from chalicelib.recovery import sessions as recovery

    return {"orders": ordering.restart_workflows(), "recovery sessions": recovery.restart_sessions()}
