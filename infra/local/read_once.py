"""Work a local process (the test processes, the local runtime) would redo on the same inputs
again and again, done once per process. Each patch below gives the same answer as the code it
replaces, only from a cache or a cheaper reading of the same facts; none changes what AWS, moto
or botocore do, but for the one signature moto never reads (the last item). `install()` is
idempotent.

- botocore's data files (service models, endpoint rules): each test starts from a fresh boto3
  session (chalicelib.aws.reset) and PynamoDB connection, and each would parse the same JSON
  again (about a fifth of a component test's CPU). Loaders with the same search paths share
  one cache, as the clients of one session do.
- botocore's event-name aliases: every emitted event's name is looked up in a per-session cache
  that a fresh session starts empty (100,000 look-ups in 140 component tests). Sessions with
  botocore's own alias table share one cache (the answer depends on the name and that table only).
- botocore's check that an event handler takes **kwargs (`accepts_kwargs`, run for every handler
  every client registers, 60 per client): `inspect.getfullargspec` builds a whole signature to
  read one flag of the function's code object. For a plain function or method that flag is read
  directly; anything else still goes through getfullargspec.
- moto's list of a response class's method names, rebuilt with `inspect.getmembers` on every
  request moto answers (a tenth of moto's time per request): kept per class.
- moto.batch's package body (`from .models import batch_backends`), which imports moto.ec2 and
  its region, zone and instance-type tables (0.5 to 0.9 s of CPU per process): moto's Step
  Functions parser imports `moto.batch.utils` for one enum (JobStatus), so every process that runs
  or validates a state machine paid it, and none here uses Batch. The package is made without
  running its body, which runs, as it would have, the first time anything asks the package for a
  name it does not hold yet (`batch_backends`, as moto's backend lookup and the server do):
  importing a submodule (utils, exceptions) does not. Installed before anything imports moto.batch.
- moto's check of a state machine's definition (an ANTLR parse, 0.2 s per state machine per
  test): a definition that passed once passes again; any other is still checked.
- moto's parse of the definition at every execution's start (the same ANTLR parse, 5 to 36 ms for
  ours, 4 % of the component tests' CPU): the program the first parse of a definition gave (the
  check's, when it was created here) is kept unevaluated, and each execution evaluates a deep copy
  of it (1.6 ms), as new as a parse's.
  moto's components keep an execution's state in its environment (retry counts are there), but
  nothing promises that of every component of every version, so executions never share one. A
  definition that does not parse raises as before, each time.
- moto's `camelcase_to_underscores` (a character-by-character loop, 8 % of an ordering test's
  CPU: SQS recomputes every queue attribute's Python name on every GetQueueAttributes, 24 calls a
  time): a pure function of its string, so a string's answer is kept (a bounded cache; anything
  but a string goes to the original).
- moto's Step Functions client for each task it runs (a Lambda invoke, an SDK call): a new boto3
  client per task (87 in one ordering test file, a sixth of its botocore work). The client
  depends only on the region, the service, whether moto intercepts botocore in this process, its
  server port and (through boto3's default session) the AWS_ environment, none of which the task
  changes: one client per such combination is made and used again (botocore clients are
  thread-safe; these never retry and carry only their fixed fake credentials).
- moto's GetQueueAttributes for named attributes builds the queue's whole attribute dict twice
  per name asked for (and once more): built once per call, the same names are answered from it
  in the same order. "All", no names and an unknown name go to moto's own code as before.
- moto server's list of its own service modules (`backends.list_of_moto_modules`), which it reads
  from its package directory (a listdir and a stat per entry, some 150) on every request it
  answers: the directory does not change while a process runs, so it is listed once (about 6 % of
  the local runtime's CPU under a stream of basket writes).
- moto's JSON response serializer on DynamoDB's (and DynamoDB Streams') AttributeValues: every
  attribute of every item returned goes through the generic walk of the service model, which
  asks each of the shape's ten members for its value through five alias providers (a sixth of a
  component test's CPU, a million look-ups in 50 tests). An AttributeValue that moto gives as a
  plain dict (one of S, N, BOOL, NULL, SS, NS holding strings or booleans, or M and L of such)
  serializes to itself: it is copied as it is. Anything else (B, BS, a value of another type, two
  keys) still takes moto's walk.
- botocore's User-Agent header, assembled again from some 20 components on every request, twice
  (about 0.18 ms, an eighth of an in-process DynamoDB call): kept per everything the string is
  made of (the client's platform, session and config values, and the request's features). If
  botocore's UserAgentString gains a field this does not know, nothing is kept.
- moto's sort of a table's items on every Query and Scan (`Table.all_items`, by hash and range
  key): the key compared moto's DynamoType objects, which make a new Decimal or string on each
  of the n log n comparisons (21 ms a Query on a 1,000-item table). The same order from each
  item's key values, read once per item (15 ms). Key attributes are S, N or B, one type per
  table, which is what the DynamoType comparisons compare.
- moto's lexer of DynamoDB condition and filter expressions, a loop of six regular expressions
  compiled again for every token of every expression of every conditional write (half of moto's
  parse of a condition, 2 % of the component tests' CPU): the tokens depend on the expression's
  text alone, so each text's tokens are kept (a bounded cache) and every parse gets new ones of
  its own. An expression that does not lex raises as before, each time.
- botocore's SigV4 signature on requests moto answers (a hash of the canonical request and five
  HMACs, 7 % of the component tests' CPU): moto reads the access key and region from the
  Authorization header and never checks the signature unless its IAM checks are on
  (INITIAL_NO_AUTH_ACTION_COUNT). The header keeps SigV4's form, credential scope and signed
  headers, with a fixed signature, on requests to moto in this process (an amazonaws.com host
  while moto mocks) or to a moto server on loopback. Anything else (AWS itself, presigned URLs,
  S3's signer, moto with IAM checks on) is signed by botocore as before.
"""
from __future__ import annotations

import functools
import inspect
import threading
import types
from typing import Any, Callable

_lock = threading.Lock()
_installed = False


def install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        _share_loader_caches()
        _batch_package_body_on_use()
        _share_event_aliases()
        _cheap_accepts_kwargs()
        _method_names_per_class()
        _validate_definitions_once()
        _programs_parsed_once()
        _cached_camelcase_to_underscores()
        _queue_attributes_once_per_call()
        _one_task_client_per_target()
        _moto_modules_listed_once()
        _attribute_values_as_they_are()
        _user_agent_per_inputs()
        _items_sorted_by_key_values()
        _condition_expressions_lexed_once()
        _no_signature_for_moto()
        _installed = True


def _share_loader_caches() -> None:
    from botocore import loaders

    caches: dict[tuple, dict] = {}
    init = loaders.Loader.__init__

    def shared_init(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self._cache = caches.setdefault(tuple(self.search_paths), {})

    loaders.Loader.__init__ = shared_init


def _share_event_aliases() -> None:
    from botocore import hooks
    from botocore.utils import EVENT_ALIASES

    shared: dict[str, str] = {}
    init = hooks.EventAliaser.__init__

    def shared_init(self: Any, event_emitter: Any, event_aliases: Any = None) -> None:
        init(self, event_emitter, event_aliases)
        if self._event_aliases is EVENT_ALIASES:
            self._alias_name_cache = shared

    hooks.EventAliaser.__init__ = shared_init


def _takes_kwargs(func: Any, general: Callable[[Any], bool]) -> bool:
    """botocore.compat.accepts_kwargs: bool(getfullargspec(func).varkw), which for a plain Python
    function (or a method of one) is the CO_VARKEYWORDS flag of its code."""
    target = func.__func__ if isinstance(func, types.MethodType) else func
    if isinstance(target, types.FunctionType) and not hasattr(func, "__signature__"):
        return bool(target.__code__.co_flags & inspect.CO_VARKEYWORDS)
    return general(func)


def _cheap_accepts_kwargs() -> None:
    from botocore import compat, hooks

    general = compat.accepts_kwargs

    def accepts_kwargs(func: Any) -> bool:
        return _takes_kwargs(func, general)

    hooks.accepts_kwargs = accepts_kwargs


def _method_names_per_class() -> None:
    from moto.core import responses

    build = responses.method_names_from_class
    known: dict[Any, list[str]] = {}

    def method_names_from_class(clazz: Any) -> list[str]:
        names = known.get(clazz)
        if names is None:
            names = known[clazz] = build(clazz)
        return names

    responses.method_names_from_class = method_names_from_class


def _batch_package_body_on_use() -> None:
    import importlib.util
    import sys

    if "moto.batch" in sys.modules:
        return
    spec = importlib.util.find_spec("moto.batch")
    assert spec is not None and spec.loader is not None and spec.submodule_search_locations is not None
    loader = spec.loader
    package = importlib.util.module_from_spec(spec)   # __name__, __path__, __spec__, __file__: no body run
    loading, ran = threading.RLock(), False

    def __getattr__(name: str) -> Any:
        nonlocal ran
        if name.startswith("__"):   # the import system's probes (__path__ is there; others are not)
            raise AttributeError(name)
        with loading:   # another thread asking meanwhile waits for the body to have run
            if not ran:
                ran = True   # before the body: a name it asks for itself is looked up, not run again
                loader.exec_module(package)   # the body, in the package's namespace
                del package.__dict__["__getattr__"]
        try:
            return package.__dict__[name]
        except KeyError:
            raise AttributeError(f"module 'moto.batch' has no attribute {name!r}") from None

    package.__getattr__ = __getattr__   # type: ignore[method-assign]
    sys.modules["moto.batch"] = package
    import moto

    moto.batch = package   # as an import of the submodule would set it


_PROGRAMS: dict[str, Any] = {}   # a state machine's definition -> its parsed program, never evaluated
_PROGRAMS_KEPT = 64   # distinct definitions (ours: 4; the tests' own state machines: a few more)


def _program(definition: str) -> Any:
    """A program of `definition` to evaluate: a deep copy of the one kept, or a new parse (kept)."""
    import copy

    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    kept = _PROGRAMS.get(definition)
    if kept is not None:
        return copy.deepcopy(kept)
    program = AmazonStateLanguageParser.parse(definition)[0]
    if len(_PROGRAMS) < _PROGRAMS_KEPT:
        _PROGRAMS[definition] = copy.deepcopy(program)   # before anyone evaluates the one returned
    return program


def _validate_definitions_once() -> None:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    valid: set[str] = set()
    validate = StepFunctionsParserBackend._validate_definition

    def validate_once(definition: str) -> None:
        if definition in valid:
            return
        try:
            _program(definition)   # the parse moto's check makes, kept for the first execution
        except Exception:
            validate(definition=definition)   # moto's own error for it
            raise
        valid.add(definition)

    StepFunctionsParserBackend._validate_definition = staticmethod(validate_once)   # type: ignore[method-assign]


def _programs_parsed_once() -> None:
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    def _get_evaluation_entrypoint(self: Any) -> Any:
        return _program(self._evaluation_details.state_machine_details.definition)

    ExecutionWorker._get_evaluation_entrypoint = _get_evaluation_entrypoint   # type: ignore[method-assign]


def _cached_camelcase_to_underscores() -> None:
    from moto.core import utils

    original = utils.camelcase_to_underscores
    cached = functools.lru_cache(maxsize=4096)(original)

    @functools.wraps(original)
    def camelcase_to_underscores(argument: str) -> str:
        return cached(argument) if type(argument) is str else original(argument)

    _replace(utils, "camelcase_to_underscores", camelcase_to_underscores)


def _replace(module: types.ModuleType, name: str, new: Any) -> None:
    """`module.name = new`, and in every moto module that imported the name already (the modules
    imported later import the new one)."""
    import sys

    original = getattr(module, name)
    setattr(module, name, new)
    for module_name, imported in list(sys.modules.items()):
        # vars(), not getattr(): a module's own names (getattr would run moto.batch's body, above)
        if module_name.startswith("moto.") and vars(imported).get(name) is original:
            setattr(imported, name, new)


def _queue_attributes_once_per_call() -> None:
    from moto.sqs.models import SQSBackend

    original = SQSBackend.get_queue_attributes

    @functools.wraps(original)
    def get_queue_attributes(self: Any, queue_name: str, attribute_names: list[str]) -> dict[str, Any]:
        queue = self.get_queue(queue_name)
        known = {"All", *queue.BASE_ATTRIBUTES, *queue.FIFO_ATTRIBUTES, *queue.KMS_ATTRIBUTES}
        if not attribute_names or "All" in attribute_names or any(n not in known for n in attribute_names):
            return original(self, queue_name, attribute_names)   # {}, every attribute, or moto's error
        attributes = queue.attributes
        return {name: attributes[name] for name in attribute_names if attributes.get(name) is not None}

    SQSBackend.get_queue_attributes = get_queue_attributes   # type: ignore[method-assign]


def _one_task_client_per_target() -> None:
    import os

    import boto3
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.utils import boto_client

    original = boto_client.boto_client_for
    made: dict[tuple, Any] = {}
    lock = threading.Lock()

    @functools.wraps(original)
    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # Everything the original's client depends on (it does not use state_credentials).
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()   # as boto3.client() does: the session the client comes from
        key = (region, service, botocore_stubber.enabled, moto_server_port(), id(boto3.DEFAULT_SESSION),
               tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_"))))
        with lock:
            client = made.get(key)
            if client is None:
                client = made[key] = original(region, service, state_credentials)
        return client

    _replace(boto_client, "boto_client_for", boto_client_for)


def _moto_modules_listed_once() -> None:
    from moto import backends

    listed: list[tuple[str, ...]] = []
    original = backends.list_of_moto_modules

    @functools.wraps(original)
    def once() -> Any:
        if not listed:
            listed.append(tuple(original()))
        return iter(listed[0])

    backends.list_of_moto_modules = once


_SCALARS = {"S": str, "N": str, "BOOL": bool, "NULL": bool}
_SETS = ("SS", "NS")


def _plain_attribute_value(value: Any) -> Any:
    """`value` (an AttributeValue as moto holds it) as moto's serializer would write it, or None
    when it is not one of the plain forms (then moto's own walk serializes it)."""
    if type(value) is not dict or len(value) != 1:
        return None
    (kind, inner), = value.items()
    if kind in _SCALARS:
        return {kind: inner} if type(inner) is _SCALARS[kind] else None
    if kind in _SETS:
        return {kind: list(inner)} if type(inner) is list and all(type(v) is str for v in inner) else None
    if kind == "M" and type(inner) is dict:
        members = {}
        for name, member in inner.items():
            plain = _plain_attribute_value(member)
            if plain is None or type(name) is not str:
                return None
            members[name] = plain
        return {"M": members}
    if kind == "L" and type(inner) is list:
        items = [_plain_attribute_value(member) for member in inner]
        return None if any(item is None for item in items) else {"L": items}
    return None


def _attribute_values_as_they_are() -> None:
    from moto.core import serialize

    original = serialize.BaseJSONSerializer._serialize_type_structure

    @functools.wraps(original)
    def structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue":
            plain = _plain_attribute_value(value)
            if plain is not None:
                serialized[self.get_serialized_name(shape, key)] = plain
                return
        original(self, serialized, value, shape, key)

    serialize.BaseJSONSerializer._serialize_type_structure = structure  # type: ignore[method-assign]


# What botocore's UserAgentString.to_string reads of its object (botocore 1.43): plain values, then
# the client's features (a set) and its config (the few settings read from it, below).
_USER_AGENT_VALUES = ("_platform_name", "_platform_version", "_platform_machine", "_python_version",
                      "_python_implementation", "_execution_env", "_crt_version", "_session_user_agent_name",
                      "_session_user_agent_version", "_session_user_agent_extra")
_USER_AGENT_FIELDS = {*_USER_AGENT_VALUES, "_client_features", "_client_config"}


def _user_agent_key(agent: Any, context: Any) -> tuple:
    config = agent._client_config
    settings = None if config is None else (
        hasattr(config, "_supplied_user_agent"), getattr(config, "_supplied_user_agent", None), config.user_agent,
        config.user_agent_extra, config.user_agent_appid, repr(config.retries), config.endpoint_discovery_enabled)
    return (*(getattr(agent, name) for name in _USER_AGENT_VALUES), frozenset(agent._client_features or ()),
            settings, frozenset(() if context is None else context.features))


def _user_agent_per_inputs() -> None:
    from botocore import useragent
    from botocore.context import get_context

    if set(vars(useragent.UserAgentString.from_environment())) != _USER_AGENT_FIELDS:
        return   # a botocore whose User-Agent reads something else: build it every time
    original = useragent.UserAgentString.to_string
    modify_components = useragent.modify_components   # botocore's hook (an identity), read on every call
    made: dict[tuple, str] = {}

    @functools.wraps(original)
    def to_string(self: Any) -> str:
        if useragent.modify_components is not modify_components:
            return original(self)
        key = _user_agent_key(self, get_context())
        value = made.get(key)
        if value is None:
            value = made[key] = original(self)
        return value

    useragent.UserAgentString.to_string = to_string


def _item_key_values(item: Any) -> Any:
    if item.range_key is not None:
        return item.hash_key.cast_value, item.range_key.cast_value
    return item.hash_key.cast_value


def _items_sorted_by_key_values() -> None:
    from moto.dynamodb.models.table import Table

    @functools.wraps(Table.all_items)
    def all_items(self: Any) -> list:
        if self.range_key_attr:
            items = [item for hash_set in self.items.values() for item in hash_set.values()]
        else:
            items = list(self.items.values())
        return sorted(items, key=_item_key_values)

    Table.all_items = all_items  # type: ignore[method-assign]


def _condition_expressions_lexed_once() -> None:
    from collections import deque

    from moto.dynamodb.comparisons import ConditionExpressionParser

    lex = ConditionExpressionParser._lex_condition_expression
    Node = ConditionExpressionParser.Node

    @functools.lru_cache(maxsize=1024)
    def tokens(parser_class: Any, expression: str) -> tuple | None:
        # lexing reads only the expression (and the class's patterns): a parser with no names or values
        lexed = lex(parser_class(expression, None, None))
        if any(node.children != [] for node in lexed):   # not the leaves moto's lexer makes: not kept
            return None
        return tuple((node.nonterminal, node.kind, node.text, node.value) for node in lexed)

    def _lex_condition_expression(self: Any) -> Any:
        expression = self.condition_expression
        kept = tokens(self.__class__, expression) if type(expression) is str else None
        if kept is None:
            return lex(self)
        return deque(Node(nonterminal, kind, text, value, []) for nonterminal, kind, text, value in kept)

    _lex_condition_expression.__wrapped__ = lex   # type: ignore[attr-defined]
    ConditionExpressionParser._lex_condition_expression = _lex_condition_expression   # type: ignore[method-assign]


UNVERIFIED_SIGNATURE = "0" * 64


def _no_signature_for_moto() -> None:
    import ipaddress
    import urllib.parse

    from botocore import auth
    from botocore.exceptions import NoCredentialsError
    from moto import settings as moto_settings
    from moto.core.models import botocore_stubber

    add_auth = auth.SigV4Auth.add_auth

    def answered_by_moto(url: str) -> bool:
        host = urllib.parse.urlsplit(url).hostname or ""
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:   # a name: moto in this process answers it, if it is mocking
            return botocore_stubber.enabled and host.endswith(".amazonaws.com")

    def add_auth_unless_moto(self: Any, request: Any) -> None:
        if (type(self) is not auth.SigV4Auth or moto_settings.INITIAL_NO_AUTH_ACTION_COUNT != float("inf")
                or not answered_by_moto(request.url)):
            return add_auth(self, request)
        if self.credentials is None:
            raise NoCredentialsError()
        request.context["timestamp"] = auth.get_current_datetime().strftime(auth.SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        self._inject_signature_to_request(request, UNVERIFIED_SIGNATURE)

    auth.SigV4Auth.add_auth = add_auth_unless_moto
