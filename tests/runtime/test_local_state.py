"""infra/local/state.py in-process: a save restores exactly (binary, sets, nested values), the
restored items make no stream record (nothing re-runs), saves are atomic and only when something
changed, a damaged save is refused, the local signing key survives a restart and is kept in the
state dir, `make reset` removes the state dir it names, and RuntimeProcess removes the temporary
state dir it made."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess

import pytest

from chalicelib import aws as aws_clients
from chalicelib import settings
from infra.local import state
from infra.local.process import RuntimeProcess
from infra.local.provision import provision
from infra.resources import ROOT

ITEMS = [
    {"pk": {"S": "CUSTOMER#c-1"}, "sk": {"S": "PROFILE"}, "kind": {"S": "customer"}, "version": {"N": "3"},
     "blob": {"B": b"\x00\xffbinary"}, "blobs": {"BS": [b"a", b"\x01"]}, "tags": {"SS": ["x", "y"]},
     "doc": {"M": {"name": {"S": "Rita"}, "B": {"S": "a key named B"}, "bin": {"B": b"\x02"},
                  "list": {"L": [{"N": "1.5"}, {"BOOL": True}, {"NULL": True}, {"BS": [b"\x03"]}]}}}},
    {"pk": {"S": "CUSTOMER#c-2"}, "sk": {"S": "PROFILE"}, "kind": {"S": "customer"}, "version": {"N": "1"}},
]


def _scan(table: str) -> list[dict]:
    items = aws_clients.client("dynamodb").scan(TableName=settings.table_name(table))["Items"]
    return sorted(items, key=lambda i: json.dumps(i, sort_keys=True, default=repr))


def _stream_records(table: str) -> list[dict]:
    ddb, streams = aws_clients.client("dynamodb"), aws_clients.client("dynamodbstreams")
    arn = ddb.describe_table(TableName=settings.table_name(table))["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator)["Records"]
    return records


def _fill_customer_table():
    ddb = aws_clients.client("dynamodb")
    for item in ITEMS:
        ddb.put_item(TableName=settings.table_name("customer"), Item=item)


def test_a_save_restores_exactly_and_restoring_runs_nothing(aws, tmp_path, monkeypatch):
    _fill_customer_table()
    before = _scan("customer")
    state.write(tmp_path, state.snapshot())
    # a second store beside the first (another stage, same moto), as a restarted runtime makes it
    monkeypatch.setenv("OMNISHOP_STAGE", "restarted")
    saved = state.read(tmp_path)
    provision(fill=lambda: state.restore(saved))
    assert _scan("customer") == before
    assert _stream_records("customer") == []            # restored: no stream record, no handler re-runs
    aws_clients.client("dynamodb").put_item(TableName=settings.table_name("customer"), Item={
        "pk": {"S": "CUSTOMER#c-3"}, "sk": {"S": "PROFILE"}})
    assert [r["eventName"] for r in _stream_records("customer")] == ["INSERT"]   # and the stream works


def test_saves_are_whole_files_written_only_on_change(aws, tmp_path):
    saver = state.Saver(tmp_path)
    assert saver.save() is True
    assert saver.save() is False                        # nothing changed: nothing written
    _fill_customer_table()
    assert saver.save() is True
    assert sorted(os.listdir(tmp_path)) == [state.TABLES_FILE]   # no temporary file left behind
    assert len(state.read(tmp_path)["customer"]) == 2


@pytest.mark.parametrize("content", ["{not json", '{"format": 1}', "[]"])
def test_a_damaged_save_is_refused_not_overwritten(tmp_path, content):
    (tmp_path / state.TABLES_FILE).write_text(content)
    with pytest.raises(RuntimeError, match="make reset"):
        state.read(tmp_path)
    assert (tmp_path / state.TABLES_FILE).read_text() == content


def test_no_save_is_an_empty_store(tmp_path):
    assert state.read(tmp_path / "never") == {}


def test_state_dir_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(state.STATE_DIR_ENV, str(tmp_path / "s"))
    assert state.state_dir() == tmp_path / "s" and state.key_file(tmp_path / "s") == tmp_path / "s" / "signing-key.pem"
    monkeypatch.setenv(state.STATE_DIR_ENV, "off")
    assert state.state_dir() is None
    monkeypatch.delenv(state.STATE_DIR_ENV)
    assert state.state_dir() == state.DEFAULT_STATE_DIR


def test_the_signing_key_is_kept_in_its_file(tmp_path):
    from chalicelib import auth

    path = str(tmp_path / "keys" / "signing-key.pem")
    first = auth._load_or_make_key(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = auth._load_or_make_key(path)   # a restarted process
    assert again.private_numbers() == first.private_numbers()
    assert os.listdir(tmp_path / "keys") == ["signing-key.pem"]
    assert auth._load_or_make_key(None).private_numbers() != first.private_numbers()   # no file: a new key


def test_each_state_dir_keeps_its_own_key_inside_it(tmp_path):
    """The key is in the state dir, not beside it: two state dirs under one parent do not share a
    key, and a state dir such as /tmp does not put the key in /."""
    from chalicelib import auth

    first, second = tmp_path / "one", tmp_path / "two"
    keys = [auth._load_or_make_key(str(state.key_file(d))) for d in (first, second)]
    assert keys[0].private_numbers() != keys[1].private_numbers()
    assert sorted(os.listdir(tmp_path)) == ["one", "two"]
    assert os.listdir(first) == os.listdir(second) == [state.KEY_FILE]


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
@pytest.mark.parametrize("setting", [None, "elsewhere/state", "off"])
def test_make_reset_removes_the_state_dir_it_is_told(tmp_path, setting):
    """`make reset` (the Makefile, run in a scratch copy of the checkout) removes the state dir
    OMNISHOP_LOCAL_STATE_DIR names (default .local/state, key included) and the key older
    checkouts kept in .local/, and nothing else."""
    shutil.copy(ROOT / "Makefile", tmp_path)
    kept = ["other/signing-key.pem", ".local/exports/catalogue.json", "off/tables.json", "Makefile"]
    made = [".local/signing-key.pem", ".local/state/tables.json", ".local/state/signing-key.pem",
            "elsewhere/state/tables.json", "elsewhere/state/signing-key.pem", *kept[:-1]]
    for name in made:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    env = {k: v for k, v in os.environ.items() if k not in (state.STATE_DIR_ENV, "MAKEFLAGS", "MFLAGS")}
    if setting is not None:
        env[state.STATE_DIR_ENV] = setting if setting == "off" else str(tmp_path / setting)
    subprocess.run(["make", "-s", "reset"], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=60)
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    expected = {None: ["elsewhere/state/signing-key.pem", "elsewhere/state/tables.json"],
                "elsewhere/state": [".local/state/signing-key.pem", ".local/state/tables.json"],
                "off": [".local/state/signing-key.pem", ".local/state/tables.json",
                        "elsewhere/state/signing-key.pem", "elsewhere/state/tables.json"]}[setting]
    assert left == sorted(kept + expected)


def test_runtime_process_removes_the_temporary_state_dir_it_made():
    runtime = RuntimeProcess()
    made = runtime._temporary
    assert made and runtime.state_dir == os.path.join(made, "state")
    assert runtime.env[state.STATE_DIR_ENV] == runtime.state_dir
    assert os.path.isdir(made)
    assert runtime.close() == 0   # never started: nothing to stop
    assert not os.path.exists(made)
    runtime.close()   # again: nothing to do

    forgotten = RuntimeProcess()   # never closed: removed with the object
    made = forgotten._temporary
    del forgotten
    import gc
    gc.collect()
    assert not os.path.exists(made)


@pytest.mark.parametrize("how", ["env", "argument"])
def test_runtime_process_uses_a_given_state_dir_and_keeps_it(tmp_path, monkeypatch, how):
    """A state dir the caller names (OMNISHOP_LOCAL_STATE_DIR in `env`, or `state_dir`) is the
    one `state_dir` says, relative to the checkout as the runtime (cwd ROOT) reads it; no
    temporary dir is made, and close() leaves the given one alone."""
    made = []
    monkeypatch.setattr("tempfile.mkdtemp", lambda *a, **k: made.append(a) or str(tmp_path / "temporary"))
    given = tmp_path / "given"
    given.mkdir()
    relative = os.path.relpath(given, ROOT)
    runtime = (RuntimeProcess(env={state.STATE_DIR_ENV: relative}) if how == "env"
               else RuntimeProcess(state_dir=relative))
    assert runtime.state_dir == str(given) and runtime.env[state.STATE_DIR_ENV] == relative
    runtime.close()
    assert given.is_dir() and not made
    assert RuntimeProcess(env={state.STATE_DIR_ENV: "off"}).state_dir is None and not made
