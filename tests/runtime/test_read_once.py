"""infra/local/read_once.py's moto patches give the answers of the code they replace; the pump
skips only queues that moto, in this process, holds no message on; the `aws` fixture hands a test
the previous test's clients only when new ones would be the same (tests/conftest.py)."""
from __future__ import annotations

import enum
import json
import os
import subprocess
import sys
import types

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib import aws as aws_clients
from chalicelib import settings
from infra.local import read_once
from infra.resources import ROOT
from tests.runtime import handlers
from tests.runtime.conftest import wait_for
from tests.runtime.testbed import QUEUE, run

NAMES = ["", "a", "A", "QueueArn", "VisibilityTimeout", "ApproximateNumberOfMessagesNotVisible",
         "KmsDataKeyReusePeriodSeconds", "ContentBasedDeduplication", "theNewAttribute", "HTTPServer",
         "already_snake", "Two Words", "ABC", "aB", "X1y2Z3", "ÉtéÀ"]


def test_camelcase_to_underscores_answers_as_moto_did():
    from moto.core import utils
    from moto.sqs import models

    read_once.install()
    patched = utils.camelcase_to_underscores
    original = patched.__wrapped__
    assert models.camelcase_to_underscores is patched, "the modules that imported it use the cached one"
    for name in NAMES * 2:   # the second time from the cache
        assert patched(name) == original(name), name
    assert patched(None) is None and patched([]) == []   # not strings: moto's own code answers


def test_moto_lists_its_modules_once_with_the_same_answer(monkeypatch):
    from moto import backends

    read_once.install()
    listed = list(backends.list_of_moto_modules())
    assert listed == list(backends.list_of_moto_modules.__wrapped__()) and "dynamodb" in listed

    def gone(path):
        raise AssertionError("listed the package directory again")

    monkeypatch.setattr(backends.os, "listdir", gone)
    assert list(backends.list_of_moto_modules()) == listed and "sqs" in backends.list_of_moto_modules()


ITEM = {
    "pk": {"S": "basket#1"}, "empty": {"S": ""}, "n": {"N": "12.50"}, "yes": {"BOOL": True}, "no": {"BOOL": False},
    "nothing": {"NULL": True}, "tags": {"SS": ["a", "b"]}, "sizes": {"NS": ["1", "2"]},
    "doc": {"M": {"cartItem": {"L": [{"M": {"id": {"S": "1"}, "qty": {"N": "2"}, "flags": {"L": []}}},
                                      {"NULL": True}]}, "e": {"M": {}}, "ü": {"S": "Ölçü"}}},
    "blob": {"B": "YWJj"}, "blobs": {"BS": ["YWJj"]}, "odd": {"N": 7}, "two": {"S": "x", "N": "1"},
    "deep": {"L": [{"M": {"b": {"B": "YWJj"}}}]},
}


@pytest.mark.parametrize("service,operation,result", [
    ("dynamodb", "Query", {"Items": [ITEM, {"pk": {"S": "2"}}], "Count": 2, "ScannedCount": 2,
                           "LastEvaluatedKey": {"pk": {"S": "2"}}}),
    ("dynamodb", "GetItem", {"Item": ITEM}),
    ("dynamodb", "TransactGetItems", {"Responses": [{"Item": ITEM}, {}]}),
    ("dynamodbstreams", "GetRecords", {"Records": [{"eventID": "1", "eventName": "MODIFY", "dynamodb": {
        "Keys": {"pk": {"S": "basket#1"}}, "NewImage": ITEM, "OldImage": {"pk": {"S": "basket#1"}},
        "SequenceNumber": "1", "SizeBytes": 10, "StreamViewType": "NEW_AND_OLD_IMAGES"}}],
        "NextShardIterator": "it"}),
])
def test_attribute_values_serialize_as_moto_did(service, operation, result):
    """Plain AttributeValues are copied, the rest walked by moto: the body is the same as moto's own."""
    import copy

    from moto.core import serialize
    from moto.core.utils import get_service_model

    read_once.install()
    patched = serialize.BaseJSONSerializer._serialize_type_structure

    def body() -> str:
        model = get_service_model(service).operation_model(operation)
        serializer = serialize.JSONSerializer(model, value_picker=serialize.XFormedAttributePicker())
        return serializer.serialize(copy.deepcopy(result))["body"]

    ours = body()
    try:
        serialize.BaseJSONSerializer._serialize_type_structure = patched.__wrapped__
        assert ours == body()
    finally:
        serialize.BaseJSONSerializer._serialize_type_structure = patched
    assert json.loads(ours)   # and not empty


def test_plain_attribute_values_are_the_only_ones_copied():
    plain = read_once._plain_attribute_value
    assert plain(ITEM["doc"]) == ITEM["doc"] and plain(ITEM["doc"]) is not ITEM["doc"]
    for walked in ("blob", "blobs", "odd", "two", "deep"):
        assert plain(ITEM[walked]) is None, walked
    assert plain(None) is None and plain({"SS": ["a", 1]}) is None and plain({"M": {"a": {"X": "1"}}}) is None


def _queues(sqs) -> list[str]:
    policy = json.dumps({"deadLetterTargetArn": "arn:aws:sqs:eu-west-1:123456789012:dlq", "maxReceiveCount": 2})
    sqs.create_queue(QueueName="dlq")
    return [sqs.create_queue(QueueName="plain")["QueueUrl"],
            sqs.create_queue(QueueName="redriven", Attributes={"RedrivePolicy": policy,
                                                               "DelaySeconds": "3"})["QueueUrl"],
            sqs.create_queue(QueueName="ordered.fifo", Attributes={
                "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"],
            sqs.create_queue(QueueName="sealed", Attributes={"KmsMasterKeyId": "alias/aws/sqs"})["QueueUrl"]]


@pytest.mark.parametrize("names", [
    ["QueueArn"], ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                   "ApproximateNumberOfMessagesDelayed"],
    ["RedrivePolicy", "QueueArn", "RedrivePolicy"], ["FifoQueue", "ContentBasedDeduplication", "DelaySeconds"],
    ["KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "Policy"], ["All"], ["QueueArn", "All"], [],
])
def test_named_queue_attributes_answer_as_moto_did(aws, names):
    from moto.sqs.models import SQSBackend, sqs_backends

    sqs = boto3.client("sqs")
    backend = sqs_backends["123456789012"]["eu-west-1"]
    for url in _queues(sqs):
        sqs.send_message(QueueUrl=url, MessageBody="one", **({"MessageGroupId": "g"} if "fifo" in url else {}))
        name = url.rsplit("/", 1)[-1]
        answer = backend.get_queue_attributes(name, names)
        assert answer == SQSBackend.get_queue_attributes.__wrapped__(backend, name, names), (name, names)
        assert list(answer) == list(SQSBackend.get_queue_attributes.__wrapped__(backend, name, names))
        if "All" not in names:   # (moto's response to All adds the unset Policy and RedrivePolicy as "None")
            api = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names).get("Attributes", {})
            assert api == {k: str(v) for k, v in answer.items()}


def test_an_unknown_queue_attribute_is_refused_as_before(aws):
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="plain")["QueueUrl"]
    with pytest.raises(ClientError) as refused:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "NoSuchThing"])
    assert refused.value.response["Error"]["Code"] == "InvalidAttributeName"


def test_step_functions_tasks_get_one_client_per_target(aws, monkeypatch):
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.utils import boto_client

    made = boto_client.boto_client_for
    assert lambda_eval_utils.boto_client_for is made
    first = made("eu-west-1", "lambda", state_credentials={"RoleArn": "one"})
    assert made("eu-west-1", "lambda", state_credentials={"RoleArn": "two"}) is first
    assert made("eu-west-2", "lambda") is not first and made("eu-west-1", "sqs") is not first
    assert first.meta.region_name == "eu-west-1" and first.meta.endpoint_url.endswith(".amazonaws.com")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    elsewhere = made("eu-west-1", "lambda")
    assert elsewhere is not first and elsewhere.meta.endpoint_url == "http://127.0.0.1:9"


def test_the_pump_asks_only_queues_that_hold_messages(test_pump, monkeypatch):
    """An empty queue of mock_aws's moto: no ReceiveMessage, no count; once a message is on it
    (sent, or made visible again after a failure), it is received and delivered as before."""
    from moto.core.models import botocore_stubber

    from tests.support import moto_state

    [queue] = [s for s in test_pump.sources if s.name == "rt-queue"]
    assert queue._empty_here()
    before = moto_state.answered()
    assert not queue.poll() and not queue.pending()
    assert moto_state.answered() == before, "an empty queue is not asked"
    handlers.fail_times["again"] = 1
    boto3.client("sqs").send_message(QueueUrl=settings.queue_url(QUEUE.name), MessageBody="again")
    assert not queue._empty_here()
    test_pump.drain()
    assert [r["body"] for r in handlers.received["queue"]] == ["again", "again"]
    assert queue._empty_here()
    monkeypatch.setattr(botocore_stubber, "enabled", False)   # as against a moto elsewhere
    assert not queue._empty_here()


def test_a_test_gets_the_last_tests_clients_only_as_new_ones(aws, monkeypatch):
    from botocore.retries import quota

    from chalicelib import db
    from tests.conftest import _RETRY_QUOTAS, _give_back_clients, _keep_clients, _reset_clients

    conftest = sys.modules["tests.conftest"]
    sqs, transactions = aws_clients.client("sqs"), db._connection(settings.region(), None)
    assert transactions.client   # PynamoDB's client: botocore's standard retry mode, with a quota
    spent = [q for q in _RETRY_QUOTAS if isinstance(q, quota.RetryQuota)]
    assert spent, "botocore's standard retry mode gave clients quotas"
    for retry_quota in spent:
        retry_quota.acquire(5)
    key = ("test-key",)
    try:
        _keep_clients(key)
        _reset_clients()
        assert aws_clients._clients == {} and db.connections == {}
        _give_back_clients(key)
        assert aws_clients.client("sqs") is sqs and db._connection(settings.region(), None) is transactions
        assert all(q._available_capacity == q._max_capacity for q in spent)
        for change in ({"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, {"AWS_REGION": "eu-west-2"},
                       {"AWS_ACCESS_KEY_ID": "another"}):
            with monkeypatch.context() as env:
                for name, value in change.items():
                    env.setenv(name, value)
                _reset_clients()
                _give_back_clients(key)
                assert "sqs" not in aws_clients._clients, change
                assert not db.connections, change
    finally:
        conftest._KEPT_CLIENTS.pop(key, None)


def test_the_runtime_pump_looks_at_its_own_moto_server(moto_server):
    """The local runtime's pump (`own_moto=True`: its moto server is a thread of its process)
    skips an empty queue too; a pump not told so asks the server."""
    from infra.local.pump import Pump
    from tests.runtime.testbed import FUNCTIONS

    pump = Pump(FUNCTIONS, retry_delay=0, own_moto=True)
    [queue] = [s for s in pump.sources if s.name == "rt-queue"]
    [elsewhere] = [s for s in Pump(FUNCTIONS, retry_delay=0).sources if s.name == "rt-queue"]
    assert queue._empty_here() and not elsewhere._empty_here()
    boto3.client("sqs").send_message(QueueUrl=settings.queue_url(QUEUE.name), MessageBody="served")
    assert not queue._empty_here()
    pump.drain()
    assert [r["body"] for r in handlers.received["queue"]] == ["served"]
    assert queue._empty_here()


@pytest.mark.parametrize("config", [None, {"user_agent_extra": "extra/1"}, {"user_agent_appid": "omnishop"},
                                    {"retries": {"mode": "standard"}}, {"user_agent": "legacy/1"}])
def test_the_user_agent_is_botocores_for_every_client_and_request(config):
    from botocore.config import Config
    from botocore.context import start_as_current_context
    from botocore.useragent import UserAgentString, register_feature_id

    read_once.install()
    original = UserAgentString.to_string.__wrapped__
    client = boto3.client("dynamodb", region_name="eu-west-1", config=Config(**config) if config else None)
    agent = client._user_agent_creator
    plain = agent.to_string()
    assert plain == original(agent) and agent.to_string() == plain   # the second time from the cache
    with start_as_current_context():   # a request that uses a feature (a paginator, a waiter, ...)
        register_feature_id("PAGINATOR")
        featured = agent.to_string()
        assert featured == original(agent)
    assert (featured == plain) == bool(config and "user_agent" in config)   # only a legacy string has no features


def test_no_two_configs_share_a_user_agent():
    from botocore.config import Config

    read_once.install()
    agents = [boto3.client("sqs", region_name="eu-west-1", config=Config(user_agent_extra=f"x/{n}"))._user_agent_creator
              for n in range(3)]
    assert [agent.to_string().rsplit(" ", 1)[-1] for agent in agents] == ["x/0", "x/1", "x/2"]


@pytest.mark.parametrize("kind,values", [("S", ["b", "a", "B", "aa", "é", "10", "9"]),
                                         ("N", ["10", "9", "-1.5", "0", "1e3", "999.99", "-20"])])
def test_a_tables_items_come_in_moto_s_order(aws, kind, values):
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.table import Table

    read_once.install()
    dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
    for name, keys in (("plain", [{"AttributeName": "pk", "KeyType": "HASH"}]),
                       ("ranged", [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])):
        dynamodb.create_table(TableName=name, KeySchema=keys, BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": key["AttributeName"], "AttributeType": kind}
                                                    for key in keys])
        for hash_value in values:
            for range_value in values[:3] if name == "ranged" else [None]:
                item = {"pk": {kind: hash_value}} | ({"sk": {kind: range_value}} if range_value else {})
                dynamodb.put_item(TableName=name, Item=item)
        table = dynamodb_backends[settings.account_id()]["eu-west-1"].tables[name]
        ours, moto_s = table.all_items(), Table.all_items.__wrapped__(table)
        assert [(i.hash_key, i.range_key) for i in ours] == [(i.hash_key, i.range_key) for i in moto_s]
        assert len(ours) == len(values) * (3 if name == "ranged" else 1)
        answer = dynamodb.query(TableName=name, KeyConditionExpression="pk = :p",
                                ExpressionAttributeValues={":p": {kind: values[0]}})["Items"]
        assert [item["pk"][kind] for item in answer] == [values[0]] * (3 if name == "ranged" else 1)


def test_moto_batch_runs_its_body_only_when_asked_for_a_name():
    """A fresh process: read_once and moto's Step Functions parser leave moto.ec2 unimported (it
    was 0.5 to 0.9 s of CPU per process); moto's Batch, asked for, is the real one and answers."""
    script = """if True:
        import sys, boto3
        from moto import mock_aws
        from infra.local import read_once
        read_once.install()
        import moto.stepfunctions.parser.models
        from moto.batch.utils import JobStatus
        print("before", "moto.ec2" in sys.modules, "moto.batch.models" in sys.modules, JobStatus.SUCCEEDED.value)
        with mock_aws():
            queues = boto3.client("batch", region_name="eu-west-1").describe_job_queues()["jobQueues"]
        import moto.batch, moto.batch.models
        print("after", "moto.ec2" in sys.modules, moto.batch.batch_backends is moto.batch.models.batch_backends,
              queues, hasattr(moto.batch, "__getattr__"))
        try:
            moto.batch.no_such_name
        except AttributeError as exc:
            print("missing", exc)
    """
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    env.pop("AWS_ENDPOINT_URL", None)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "before False False SUCCEEDED",
        "after True True [] False",
        "missing module 'moto.batch' has no attribute 'no_such_name'"]


def test_a_definition_is_parsed_once_and_each_execution_runs_as_on_its_own(test_env, monkeypatch):
    """A definition is parsed once, and each execution still runs as on a program of its own:
    three retried executions in a row take two attempts each."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    parse, parses = AmazonStateLanguageParser.parse, []
    monkeypatch.setattr(AmazonStateLanguageParser, "parse",
                        staticmethod(lambda definition: parses.append(definition) or parse(definition)))
    for attempt in range(3):
        execution = run({"id": f"flaky-{attempt}", "error": "TransientError", "failures": 1}, name=f"flaky-{attempt}")
        assert execution["status"] == "SUCCEEDED", execution
        assert json.loads(execution["output"])["attempts"] == 2
    assert len(parses) <= 1, "parsed once, the first time this process ran the machine"


def test_a_definition_that_does_not_parse_raises_every_time():
    from moto.stepfunctions.parser.asl.parse.asl_parser import ASLParserException
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    read_once.install()
    worker = types.SimpleNamespace(_evaluation_details=types.SimpleNamespace(
        state_machine_details=types.SimpleNamespace(definition='{"StartAt": "A", "States": {')))
    for _ in range(2):
        with pytest.raises(ASLParserException):
            ExecutionWorker._get_evaluation_entrypoint(worker)


def test_copies_of_a_program_share_no_mutable_component():
    """Two executions' programs: no component object, list or dict of one is the other's."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    from infra import resources
    from infra.local.provision import definition

    read_once.install()
    functions = {function.name: function for function in resources.FUNCTIONS}
    text = definition(next(m for m in resources.STATE_MACHINES if m.name == "order-fulfilment"), functions)
    worker = types.SimpleNamespace(_evaluation_details=types.SimpleNamespace(
        state_machine_details=types.SimpleNamespace(definition=text)))
    programs = [ExecutionWorker._get_evaluation_entrypoint(worker) for _ in range(3)]

    def mutable(node, seen):
        if id(node) in seen or isinstance(node, (str, bytes, int, float, bool, type(None), enum.Enum, type)):
            return
        seen[id(node)] = node
        children = (node.values() if isinstance(node, dict) else node if isinstance(node, (list, tuple, set))
                    else vars(node).values() if hasattr(node, "__dict__") else ())
        for child in children:
            mutable(child, seen)

    found = [{}, {}, {}]
    for program, seen in zip(programs, found):
        mutable(program, seen)
    assert len(found[1]) > 50, "the walk reached the program's components"
    for one, other in [(0, 1), (1, 2), (0, 2)]:
        shared = [type(found[one][key]).__name__ for key in found[one].keys() & found[other].keys()
                  if isinstance(found[one][key], (list, dict, set)) or hasattr(found[one][key], "__dict__")]
        assert not shared, f"programs {one} and {other} share {shared[:10]}"


def _signed(url: str, signer: type | None = None) -> str:
    """The Authorization header SigV4 puts on a DynamoDB request to `url`, at a fixed time."""
    from botocore import auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url=url, data=b'{"TableName": "t"}',
                         headers={"X-Amz-Target": "DynamoDB_20120810.GetItem"})
    (signer or auth.SigV4Auth)(Credentials("AKIDEXAMPLE", "secret"), "dynamodb", "eu-west-1").add_auth(request)
    return request.headers["Authorization"]


@pytest.fixture
def fixed_clock(monkeypatch):
    import datetime

    from botocore import auth

    monkeypatch.setattr(auth, "get_current_datetime", lambda: datetime.datetime(2026, 12, 2, 12, 0, 0))


def test_moto_gets_the_signature_header_without_a_signature(aws, fixed_clock):
    """A request moto answers (in this process, or a moto server on loopback) carries the header
    SigV4 would, with the same credential scope and signed headers, and a fixed signature; moto
    reads the access key and region from it as before."""
    read_once.install()
    for url in ("https://dynamodb.eu-west-1.amazonaws.com/", "http://127.0.0.1:5000/", "http://localhost:5000/"):
        header = _signed(url)
        assert header.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261202/eu-west-1/dynamodb/aws4_request, "
                                 "SignedHeaders=host;x-amz-date;x-amz-target, Signature="), header
        assert header.endswith(read_once.UNVERIFIED_SIGNATURE)
    seen = []
    west2 = boto3.client("dynamodb", region_name="eu-west-2")
    west2.meta.events.register("before-send.dynamodb", lambda request, **_: seen.append(
        request.headers["Authorization"].decode()))   # bytes once the request is prepared
    west2.create_table(TableName="only-in-west-2", BillingMode="PAY_PER_REQUEST",
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                       KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    assert seen and seen[0].endswith(read_once.UNVERIFIED_SIGNATURE) and "/eu-west-2/dynamodb/" in seen[0]
    assert "only-in-west-2" in west2.list_tables()["TableNames"]
    assert "only-in-west-2" not in boto3.client("dynamodb", region_name="eu-west-1").list_tables()["TableNames"]


def test_anything_else_is_signed_as_botocore_signs(fixed_clock, monkeypatch):
    """AWS itself (moto not mocking), presigned URLs, S3's signer and moto with IAM checks on all
    get botocore's own signature."""
    from botocore import auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from moto import settings as moto_settings
    from moto.core.models import botocore_stubber

    read_once.install()
    monkeypatch.setattr(botocore_stubber, "enabled", False)
    aws_url = "https://dynamodb.eu-west-1.amazonaws.com/"
    signed = _signed(aws_url)
    assert not signed.endswith(read_once.UNVERIFIED_SIGNATURE)
    assert signed.endswith("Signature=" + "%064x" % int(signed.rsplit("=", 1)[1], 16))   # a real hex digest
    monkeypatch.setattr(botocore_stubber, "enabled", True)
    assert _signed(aws_url).endswith(read_once.UNVERIFIED_SIGNATURE)
    assert not _signed(aws_url, auth.S3SigV4Auth).endswith(read_once.UNVERIFIED_SIGNATURE)
    presigned = AWSRequest(method="GET", url=aws_url)
    auth.SigV4QueryAuth(Credentials("AKIDEXAMPLE", "secret"), "dynamodb", "eu-west-1").add_auth(presigned)
    assert "X-Amz-Signature=" in presigned.url and read_once.UNVERIFIED_SIGNATURE not in presigned.url
    monkeypatch.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    assert _signed(aws_url) == signed
    monkeypatch.setattr(botocore_stubber, "enabled", False)
    assert not _signed("https://dynamodb.example.org/").endswith(read_once.UNVERIFIED_SIGNATURE)


EXPRESSIONS = ["attribute_not_exists(pk)", "#v = :v AND attribute_exists(#s)", "size(#items) <= :max",
               "begins_with(sk, :p) OR (#a.b[1] <> :x AND NOT contains(#t, :y))", "#n BETWEEN :lo AND :hi",
               "#s IN (:a, :b, :c)", "  a=:b  ", "version = :expected"]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_condition_expressions_lex_as_moto_did(expression):
    """The same tokens as moto's lexer, new ones for every parse, the second time from the cache."""
    from moto.dynamodb.comparisons import ConditionExpressionParser

    read_once.install()
    patched = ConditionExpressionParser._lex_condition_expression
    original = patched.__wrapped__
    parser = ConditionExpressionParser(expression, {}, {})
    first, second = patched(parser), patched(parser)
    assert list(first) == list(second) == list(original(parser))
    assert first[0] is not second[0] and first[0].children is not second[0].children


def test_an_expression_that_does_not_lex_raises_every_time():
    from moto.dynamodb.comparisons import ConditionExpressionParser

    read_once.install()
    for _ in range(2):
        with pytest.raises(ValueError, match="Cannot parse condition"):
            ConditionExpressionParser("a = :b ; drop", {}, {}).parse()


def test_a_conditional_write_still_holds_and_fails_as_written(aws):
    """End to end through moto: the condition of a put is checked against the item, twice the same text."""
    ddb = boto3.client("dynamodb")
    ddb.create_table(TableName="conditions", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    put = {"TableName": "conditions", "ConditionExpression": "attribute_not_exists(pk) OR #v < :v",
           "ExpressionAttributeNames": {"#v": "version"}}
    ddb.put_item(Item={"pk": {"S": "a"}, "version": {"N": "1"}}, ExpressionAttributeValues={":v": {"N": "1"}}, **put)
    ddb.put_item(Item={"pk": {"S": "a"}, "version": {"N": "2"}}, ExpressionAttributeValues={":v": {"N": "2"}}, **put)
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(Item={"pk": {"S": "a"}, "version": {"N": "3"}}, ExpressionAttributeValues={":v": {"N": "1"}}, **put)
    assert ddb.get_item(TableName="conditions", Key={"pk": {"S": "a"}})["Item"]["version"] == {"N": "2"}


def test_a_definition_moto_refuses_is_refused_every_time(aws):
    """The check's parse is kept for the first execution; a definition that fails it gets moto's own
    refusal, the second time too, and a good one runs."""
    sfn = boto3.client("stepfunctions")
    role = "arn:aws:iam::123456789012:role/sfn"
    for attempt in range(2):
        with pytest.raises(ClientError) as refused:
            sfn.create_state_machine(name=f"broken-{attempt}", roleArn=role, definition='{"StartAt": "A", "States": {')
        answer = refused.value.response   # moto's InvalidDefinition (its error type reads "UnknownError")
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 400 and "ASLParserException" in answer["Error"]["Message"]
    created = sfn.create_state_machine(name="fine", roleArn=role, definition=json.dumps(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {"ok": 1}, "End": True}}}))
    arn = sfn.start_execution(stateMachineArn=created["stateMachineArn"], name="once")["executionArn"]
    wait_for("the execution's end", lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING")
    execution = sfn.describe_execution(executionArn=arn)
    assert execution["status"] == "SUCCEEDED" and json.loads(execution["output"]) == {"ok": 1}
