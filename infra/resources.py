"""The one list of Omnishop's AWS resources.

The CDK stack (infra/stack.py) deploys exactly these, and the local runtime (infra/local/)
creates exactly these in its moto server. Tables take their keys and indexes from the PynamoDB
models that use them; state machines are the ASL files in infra/statemachines/.
Nothing here imports AWS libraries: it is plain data.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import pathlib
from typing import Any, ClassVar

from chalicelib.settings import LOCAL_LINK_SECRET, LOCAL_PAYMENT_CALLBACK_SECRET

ROOT = pathlib.Path(__file__).resolve().parent.parent
STATE_MACHINE_DIR = ROOT / "infra" / "statemachines"
# The Lambda runtime of every function and the API (the latest Python one: cdk-nag AwsSolutions-L1),
# in the stack, in the bundled wheels (infra/bundling.py) and in the local runtime's functions.
LAMBDA_RUNTIME = "python3.14"


@dataclasses.dataclass(frozen=True)
class Table:
    name: str
    model: str | None = None               # "module:Class" of the PynamoDB model that owns it
    key_schema: tuple[tuple[str, str, str], ...] = ()  # (attribute, S|N|B, HASH|RANGE), when no model
    stream: bool = False                   # NEW_AND_OLD_IMAGES stream (the outbox)
    ttl_attribute: str | None = None

    def schema(self) -> dict[str, Any]:
        """attribute_definitions, key_schema and global_secondary_indexes in boto3's shape."""
        if self.model:
            module, cls = self.model.split(":")
            raw = getattr(importlib.import_module(module), cls)._get_schema()
            gsis = [{
                "IndexName": g["index_name"],
                "KeySchema": g["key_schema"],
                "Projection": g["projection"],
            } for g in raw.get("global_secondary_indexes", [])]
            # HASH first, as CloudFormation wants it (PynamoDB orders them by attribute name)
            key_schema = sorted(raw["key_schema"], key=lambda k: k["KeyType"] != "HASH")
            return {"AttributeDefinitions": raw["attribute_definitions"],
                    "KeySchema": key_schema, "GlobalSecondaryIndexes": gsis}
        return {
            "AttributeDefinitions": [{"AttributeName": a, "AttributeType": t} for a, t, _ in self.key_schema],
            "KeySchema": [{"AttributeName": a, "KeyType": k} for a, _, k in self.key_schema],
            "GlobalSecondaryIndexes": [],
        }


@dataclasses.dataclass(frozen=True)
class Queue:
    name: str
    max_receive_count: int = 5             # deliveries before a message goes to <name>-dlq
    visibility_timeout: int = 60
    retention_days: int = 14               # SQS's longest (its default, 4 days, loses a backlog sooner)


@dataclasses.dataclass(frozen=True)
class StreamSource:
    table: str
    batch_size: int = 50


@dataclasses.dataclass(frozen=True)
class QueueSource:
    queue: str
    batch_size: int = 10


@dataclasses.dataclass(frozen=True)
class Function:
    name: str
    handler: str                           # "module.function", relative to the project root
    sources: tuple[Any, ...] = ()          # StreamSource / QueueSource, with partial batch failures
    timeout: int = 30
    memory: int = 512
    # Lambda's ParallelizationFactor (1-10) for its stream sources: batches of one shard processed
    # at once, records of one partition key always in order in one of them (the pump does the same).
    parallelization: int = 1
    # Lambda reserved concurrency: at most this many at once, and always this many available. For a
    # function that could take the account's concurrency from the API and the others (a campaign's
    # fan-out). Its queue sources' pollers are capped alike (the mapping's MaximumConcurrency), so
    # SQS does not hand it batches only to be throttled. Not applied locally (no concurrency there).
    reserved_concurrency: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.parallelization <= 10:
            raise ValueError(f"{self.name}: parallelization {self.parallelization} is not within 1-10")
        if self.reserved_concurrency is not None and self.reserved_concurrency < 2:
            raise ValueError(f"{self.name}: reserved concurrency below 2 (an SQS mapping's MaximumConcurrency minimum)")


@dataclasses.dataclass(frozen=True)
class StateMachine:
    name: str
    definition_file: str                   # under infra/statemachines/
    functions: dict[str, str] = dataclasses.field(default_factory=dict)  # ${Substitution} -> Function.name

    def definition(self) -> dict[str, Any]:
        return json.loads((STATE_MACHINE_DIR / self.definition_file).read_text())


# Alarms, each to the ops topic. ALARMS is the one list: the CDK stack makes a CloudWatch alarm of
# each (logical id "Alarm" + name), the local runtime evaluates each (infra/local/alarms.py) and
# shows the raised ones at GET /local/alarms and in its log.
# How an alarm's value is compared with its threshold: CloudWatch's ComparisonOperator names,
# used by the stack as they are and by the local runtime through `breaching`.
MORE_THAN, AT_LEAST = "GreaterThanThreshold", "GreaterThanOrEqualToThreshold"


def breaching(alarm: Any, value: float) -> bool:
    """Whether `value` raises `alarm`, as CloudWatch compares it (its `comparison`)."""
    if alarm.comparison == MORE_THAN:
        return value > alarm.threshold
    if alarm.comparison == AT_LEAST:
        return value >= alarm.threshold
    raise ValueError(f"unknown comparison {alarm.comparison!r}")


@dataclasses.dataclass(frozen=True)
class MetricAlarm:
    """On a metric our code emits (Powertools Metrics, namespace Omnishop, dimension
    service=omnishop): Sum over `period` seconds >= `threshold`."""
    name: str
    metric: str
    description: str
    threshold: int = 1
    period: int = 300
    comparison: ClassVar[str] = AT_LEAST


@dataclasses.dataclass(frozen=True)
class QueueAlarm:
    """Messages waiting in a dead-letter queue (a queue's `<name>-dlq`, or a stream consumer's
    on-failure queue, `stream` = (function, table)): more than `threshold` visible (Maximum, 1 min)."""
    name: str
    queue: str
    description: str
    stream: tuple[str, str] | None = None
    threshold: int = 0
    period: int = 60
    comparison: ClassVar[str] = MORE_THAN


@dataclasses.dataclass(frozen=True)
class ExecutionsFailedAlarm:
    """Executions of a state machine that ended in `status` (FAILED, or TIMED_OUT: past the
    machine's TimeoutSeconds): Sum over `period` seconds >= `threshold`."""
    name: str
    state_machine: str
    description: str
    threshold: int = 1
    period: int = 300
    status: str = "FAILED"
    comparison: ClassVar[str] = AT_LEAST
    METRICS: ClassVar[dict[str, str]] = {"FAILED": "ExecutionsFailed", "TIMED_OUT": "ExecutionsTimedOut"}

    @property
    def metric(self) -> str:
        return self.METRICS[self.status]


@dataclasses.dataclass(frozen=True)
class ApiAlarm:
    """On API Gateway's metric of the REST API's stage: `statistic` of `metric` over `period`
    seconds > `threshold`. 5XXError's Average is the share of requests answered 5xx (0-1);
    Latency is milliseconds from request to answer, p99 its 99th percentile."""
    name: str
    metric: str                            # "5XXError" | "Latency"
    statistic: str                         # "Average" | "p99"
    threshold: float
    description: str
    period: int = 300
    comparison: ClassVar[str] = MORE_THAN


@dataclasses.dataclass(frozen=True)
class FunctionAlarm:
    """On Lambda's metric of one function: Errors and Throttles (Sum), IteratorAge of a stream
    consumer (Maximum, milliseconds the newest record waited): `statistic` over `period` >= `threshold`."""
    name: str
    function: str
    metric: str                            # "Errors" | "Throttles" | "IteratorAge"
    description: str
    threshold: float = 1
    statistic: str = "Sum"
    period: int = 300
    comparison: ClassVar[str] = AT_LEAST


@dataclasses.dataclass(frozen=True)
class ServiceAlarm:
    """On an account-level metric of an AWS service (SNS SMS, SES reputation): `statistic` of
    `namespace`/`metric` with `dimensions` over `period` >= `threshold`. The local runtime sends no
    SMS or email through AWS, so only CloudWatch measures these (locally: not measured, said so)."""
    name: str
    namespace: str
    metric: str
    statistic: str
    threshold: float
    description: str
    dimensions: tuple[tuple[str, str], ...] = ()
    period: int = 300
    # The threshold is a percentage of this stack parameter (the alarm compares 100 * value / it)
    percent_of: str | None = None
    comparison: ClassVar[str] = AT_LEAST


@dataclasses.dataclass(frozen=True)
class Secret:
    """A Secrets Manager secret the code reads at run time (never through the environment: it is
    told the secret's id, OMNISHOP_SECRET_ID_<NAME>). Deployed: generated once per stage,
    encrypted with the stack's key. Locally: `local_value`, so links survive a restart."""
    name: str
    description: str
    local_value: str


@dataclasses.dataclass(frozen=True)
class Schedule:
    name: str
    expression: str                        # EventBridge Scheduler: "rate(15 minutes)" or "cron(...)"
    function: str
    payload: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class GatewayResponse:
    """What API Gateway answers by itself (no Lambda ran), made a TMF error body. `status` None
    keeps API Gateway's status; `message` None is API Gateway's own message."""
    type: str                              # API Gateway's response type, e.g. DEFAULT_4XX
    code: str                              # may be API Gateway's $context.error.responseType
    reason: str
    status: int | None = None
    message: str | None = None

    def body(self) -> dict[str, Any]:
        """The TMF error body the local runtime answers (template() is API Gateway's)."""
        out: dict[str, Any] = {"code": self.code, "reason": self.reason, "message": self.message or self.reason,
                               "@type": "Error"}
        if self.status:
            out["status"] = str(self.status)
        return out

    def template(self) -> str:
        """The response template API Gateway fills in ($context.error.messageString is quoted JSON)."""
        message = json.dumps(self.message) if self.message else "$context.error.messageString"
        status = f'"status": "{self.status}", ' if self.status else ""
        return (f'{{"code": "{self.code}", "reason": "{self.reason}", "message": {message}, {status}'
                f'"@type": "Error", "requestId": "$context.requestId"}}')


TABLES = (
    Table("catalog", model="chalicelib.catalog.models:CatalogRecord", stream=True),
    Table("hub", model="chalicelib.hub.models:Subscription"),
    Table("customer", model="chalicelib.customer.models:CustomerItem", stream=True),
    # Baskets (TMF663); qualification rules live in the catalog table (docs/decisions.md).
    Table("basket", model="chalicelib.basket.models:BasketRecord", stream=True, ttl_attribute="expires"),
    # A basket's lines (cart items), one record each under the basket's id: a change writes only its
    # lines. Deleted after their basket by basket-events (the basket stream's REMOVE).
    Table("basket-line", model="chalicelib.basket.models:BasketLine"),
    # TMF622 orders, child orders and cancellation requests; the stream starts their workflows.
    Table("order", model="chalicelib.ordering.models:OrderRecord", stream=True),
    # The items of an order of more than 100, in pages written with the order (chalicelib/pages.py).
    Table("order-page", model="chalicelib.ordering.models:OrderPage"),
    # TMF681 communicationMessages: the record is also the once-only lock of a send (notify/models.py).
    Table("notify", model="chalicelib.notify.models:MessageRecord", stream=True, ttl_attribute="expires"),
    # Campaigns: the document, its report counters, run checkpoints, targets, caps (campaign/models.py).
    Table("campaign", model="chalicelib.campaign.models:CampaignRecord", ttl_attribute="expires"),
    # Abandoned baskets: the running recovery execution of each basket (so it can be stopped at once).
    Table("recovery", model="chalicelib.recovery.models:RecoverySession", ttl_attribute="expires"),
    # TMF637 products customers hold (inventory/models.py); the stream publishes TMF637 events.
    Table("inventory", model="chalicelib.inventory.models:ProductRecord", stream=True),
    # TMF679 qualification answers, kept until their expirationDate (rules/models.py).
    Table("qualification", model="chalicelib.rules.models:QualificationRecord", ttl_attribute="expires"),
    # Powertools idempotency's own layout: key `id`, TTL `expiration`.
    Table("idempotency", key_schema=(("id", "S", "HASH"),), ttl_attribute="expiration"),
    # TMF687 stock per offering and location, and reservations holding it (stock/models.py).
    Table("stock", model="chalicelib.stock.models:StockRecord", ttl_attribute="expires"),
    Table("quote", model="chalicelib.quote.models:QuoteRecord", stream=True),
    # The lines of a quote of more than 50 (and of its versions kept), in pages written with it.
    Table("quote-page", model="chalicelib.quote.models:QuotePage"),

    # TMF646 installation appointments, slot booking counters, searches (appointment/models.py).
    Table("appointment", model="chalicelib.appointment.models:AppointmentRecord", ttl_attribute="expires"),

    # TMF676 payments and refunds (payment/models.py).
    Table("payment", model="chalicelib.payment.models:PaymentRecord"),

    # TMF671 promotions (promotion/models.py); the stream publishes TMF671 events.
    Table("promotion", model="chalicelib.promotion.models:PromotionRecord", stream=True),
)

# One queue per fulfilment stack (each with its DLQ): child orders, and their cancellations, on
# their way to that stack's adapter. The same ids as chalicelib.catalog.domain.STACKS.
STACKS = ("csp-stack-a", "csp-stack-b", "iot-partner-x")

QUEUES = (
    Queue("hub-delivery", max_receive_count=5, visibility_timeout=60),
    *(Queue(f"stack-{stack}", max_receive_count=5, visibility_timeout=60) for stack in STACKS),
    # Campaign fan-out: batches of customers to send to, and runs handed on (functions/campaign_send.py).
    Queue("campaign-send", max_receive_count=5, visibility_timeout=180),
    # Social posts of campaigns: the outbox a social-network integration consumes.
    Queue("campaign-social", max_receive_count=5, visibility_timeout=60),
    # Abandoned baskets: a customer accepted assistance; agents claim the next one from here
    # (POST /recovery/worklist/next). Fed by the basket stream (basket_events).
    Queue("worklist", max_receive_count=5, visibility_timeout=30),
)

FUNCTIONS = (
    Function("catalog-events", "functions.catalog_events.handler",
             sources=(StreamSource("catalog"),)),
    # Delivers to subscribers' URLs: slow or failing listeners must not take every instance.
    Function("hub-delivery", "functions.hub_delivery.handler",
             sources=(QueueSource("hub-delivery"),), reserved_concurrency=10),
    Function("catalog-jobs", "functions.catalog_jobs.handler", timeout=300, memory=1024),
    Function("catalog-sweep", "functions.catalog_sweep.handler", timeout=120),
    Function("customer-events", "functions.customer_events.handler",
             sources=(StreamSource("customer"),)),
    # Starts, stops and approves the abandoned-basket executions: one basket's records stay in
    # order, baskets in parallel (30 baskets going idle together, bench/recovery.py).
    Function("basket-events", "functions.basket_events.handler",
             sources=(StreamSource("basket"),), parallelization=10),
    Function("notify-events", "functions.notify_events.handler",
             sources=(StreamSource("notify"),)),
    # Step Functions task: one SMS/email (TransientSendError for Retry; see functions/notify_send.py).
    Function("notify-send", "functions.notify_send.handler"),
    Function("notify-sweep", "functions.notify_sweep.handler", timeout=120),
    # Orders: the stream starts one workflow per order, publishes events, sends milestone SMS.
    Function("order-events", "functions.order_events.handler", sources=(StreamSource("order"),),
             parallelization=4),
    # TMF637 hub events from the inventory stream.
    Function("inventory-events", "functions.inventory_events.handler", sources=(StreamSource("inventory"),)),
    # Step Functions tasks of order-fulfilment (decompose, prepare, dispatch, hold, finish, fail).
    Function("order-tasks", "functions.order_tasks.handler"),
    # One adapter per stack: forwards child orders to the stack's own TMF622 API.
    *(Function(f"stack-{stack}", "functions.stack_adapter.handler", sources=(QueueSource(f"stack-{stack}"),))
      for stack in STACKS),
    # Invoked by each campaign's EventBridge schedule, made at run time by the campaign API.
    Function("campaign-runner", "functions.campaign_runner.handler", timeout=300),
    # A campaign to a million customers is a flood of batches: capped, so it cannot starve the API
    # and the order workflows (and SMS go out at a pace SNS accepts).
    Function("campaign-send", "functions.campaign_send.handler", timeout=120,
             sources=(QueueSource("campaign-send", batch_size=5),), reserved_concurrency=5),
    Function("campaign-attribution", "functions.campaign_attribution.handler",
             sources=(StreamSource("basket"),)),
    # Each customer's campaign targeting facts (products held, contract ends) from the inventory stream.
    Function("campaign-targeting", "functions.campaign_targeting.handler",
             sources=(StreamSource("inventory"),)),
    # Abandoned baskets: the workflow's tasks (basket-events starts, stops and approves sessions).
    Function("recovery-tasks", "functions.recovery_tasks.handler"),
    # No approved basket without an order: orders it, or returns it with the reason (issue 20).
    Function("basket-sweep", "functions.basket_sweep.handler", timeout=120),
    # Stock reservations whose hold expired: released, their stock back (chalicelib/stock).
    Function("stock-sweep", "functions.stock_sweep.handler", timeout=120),
    # TMF648 quotes: hub events and emails (approvers, the customer's link); the expiry sweep.
    Function("quote-events", "functions.quote_events.handler", sources=(StreamSource("quote"),)),
    Function("quote-sweep", "functions.quote_sweep.handler", timeout=120),

    # Appointments: unordered bookings whose hold expired (slot freed), day-before SMS (once each).
    Function("appointment-sweep", "functions.appointment_sweep.handler", timeout=120),

    # Payments whose customer step (3-D Secure) expired: failed, their orders pending (chalicelib/payment).
    Function("payment-sweep", "functions.payment_sweep.handler", timeout=120),

    # TMF671 hub events from the promotion stream.
    Function("promotion-events", "functions.promotion_events.handler", sources=(StreamSource("promotion"),)),
)

STATE_MACHINES = (
    StateMachine("catalog-jobs", "catalog_jobs.asl.json",
                 functions={"CatalogJobsFunctionArn": "catalog-jobs"}),
    StateMachine("order-fulfilment", "order_fulfilment.asl.json",
                 functions={"OrderTasksFunctionArn": "order-tasks"}),
    StateMachine("order-notify", "order_notify.asl.json",
                 functions={"NotifySendFunctionArn": "notify-send"}),
    StateMachine("abandoned-basket", "abandoned_basket.asl.json",
                 functions={"RecoveryTasksFunctionArn": "recovery-tasks", "NotifySendFunctionArn": "notify-send"}),
)

# SMS: the account's SNS monthly spend limit (SNS stops sending SMS at it; the account's default is
# 1 USD, above it AWS must raise the account's quota first) and origination settings are stack
# parameters (infra/stack.py sets them with SNS SetSMSAttributes); these are their defaults. The
# sms-spend alarm fires at SMS_SPEND_ALARM_PERCENT of the limit deployed.
SMS_SPEND_LIMIT_USD = 1        # AWS's default SMS quota: deploys on any account; raise it with the quota
SMS_SPEND_ALARM_PERCENT = 80
SMS_SENDER_ID = "Omnishop"              # alphanumeric sender id, where the country allows one
SMS_DEFAULT_TYPE = "Transactional"      # SNS DefaultSMSType (marketing SMS say Promotional themselves)


def stream_failure_queue(function: str, table: str) -> str:
    """The on-failure destination of `function`'s event source mapping on `table`'s stream."""
    return f"{function}-{table}-stream-failures"


ALARMS = (
    MetricAlarm("order-child-held", "ChildOrderHeld",
                "A fulfilment stack did not finish a child order in time: the order is held"),
    *(QueueAlarm(f"{q.name}-dlq", f"{q.name}-dlq", f"messages in {q.name}-dlq") for q in QUEUES),
    *(QueueAlarm(stream_failure_queue(f.name, s.table), stream_failure_queue(f.name, s.table),
                 f"messages in {stream_failure_queue(f.name, s.table)}", stream=(f.name, s.table))
      for f in FUNCTIONS for s in f.sources if isinstance(s, StreamSource)),
    *(ExecutionsFailedAlarm(f"{m.name}-failed", m.name, f"{m.name} executions failed") for m in STATE_MACHINES),
    *(ExecutionsFailedAlarm(f"{m.name}-timed-out", m.name, f"{m.name} executions timed out", status="TIMED_OUT")
      for m in STATE_MACHINES),
    ApiAlarm("api-5xx", "5XXError", "Average", 0.05, "more than 5% of API requests answered 5xx in 5 minutes"),
    ApiAlarm("api-latency-p99", "Latency", "p99", 3000, "API p99 latency above 3 s over 5 minutes"),
    *(FunctionAlarm(f"{f.name}-errors", f.name, "Errors", f"{f.name} raised errors (invocations failed)")
      for f in FUNCTIONS),
    *(FunctionAlarm(f"{f.name}-throttles", f.name, "Throttles", f"{f.name} was throttled (concurrency exhausted)")
      for f in FUNCTIONS),
    # A stream consumer 5 minutes behind (the stream keeps records 24 h; the outbox is late).
    *(FunctionAlarm(f"{f.name}-iterator-age", f.name, "IteratorAge",
                    f"{f.name} is more than 5 minutes behind its stream", threshold=300_000, statistic="Maximum")
      for f in FUNCTIONS if any(isinstance(s, StreamSource) for s in f.sources)),
    # SMS and email: failed SMS (published to phone numbers directly), the month's SMS spend before
    # the account's SNS spend limit stops SMS, SES reputation before SES pauses sending
    # (AWS reviews an account from 5% bounces / 0.1% complaints).
    ServiceAlarm("sms-failures", "AWS/SNS", "NumberOfNotificationsFailed", "Sum", 1,
                 "SMS that could not be delivered", dimensions=(("PhoneNumber", "PhoneNumberDirect"),)),
    ServiceAlarm("sms-spend", "AWS/SNS", "SMSMonthToDateSpentUSD", "Maximum", SMS_SPEND_ALARM_PERCENT,
                 f"SMS spend this month reached {SMS_SPEND_ALARM_PERCENT}% of the SMS spend limit "
                 "(stack parameter SmsMonthlySpendLimitUsd): SNS stops sending SMS at the limit",
                 percent_of="SmsMonthlySpendLimitUsd"),
    ServiceAlarm("ses-bounce-rate", "AWS/SES", "Reputation.BounceRate", "Maximum", 0.04,
                 "email bounce rate at 4% (SES reviews the account from 5%)"),
    ServiceAlarm("ses-complaint-rate", "AWS/SES", "Reputation.ComplaintRate", "Maximum", 0.0008,
                 "email complaint rate at 0.08% (SES reviews the account from 0.1%)"),
    MetricAlarm("approved-basket-stuck", "ApprovedBasketStuck",
                "An approved basket could neither be ordered nor returned with a reason by the basket sweep"),
)

SCHEDULES = (
    Schedule("catalog-sweep", "rate(15 minutes)", "catalog-sweep"),
    Schedule("notify-sweep", "rate(5 minutes)", "notify-sweep"),
    Schedule("basket-sweep", "rate(2 minutes)", "basket-sweep"),
    Schedule("stock-sweep", "rate(1 minute)", "stock-sweep"),
    Schedule("quote-sweep", "rate(15 minutes)", "quote-sweep"),

    Schedule("appointment-sweep", "rate(5 minutes)", "appointment-sweep"),

    Schedule("payment-sweep", "rate(1 minute)", "payment-sweep"),
)

# API Gateway's own answers (an unknown path or method, a refused, throttled or too large request,
# an integration fault) in the TMF error shape every other answer has. An undefined method on a
# defined path is MISSING_AUTHENTICATION_TOKEN to API Gateway too: 404 here, not its 403.
GATEWAY_RESPONSES = (
    GatewayResponse("MISSING_AUTHENTICATION_TOKEN", "notFound", "Not Found", 404,
                    "no resource or method at this path: see the TMF API's paths"),
    GatewayResponse("DEFAULT_4XX", "$context.error.responseType", "refused by the API gateway"),
    GatewayResponse("THROTTLED", "tooManyRequests", "Too Many Requests", 429,
                    "too many requests: retry after a pause"),
    GatewayResponse("QUOTA_EXCEEDED", "tooManyRequests", "Too Many Requests", 429,
                    "the request quota is used up: retry later"),
    GatewayResponse("REQUEST_TOO_LARGE", "payloadTooLarge", "Payload Too Large", 413,
                    "the request is larger than the API accepts"),
    GatewayResponse("UNSUPPORTED_MEDIA_TYPE", "unsupportedMediaType", "Unsupported Media Type", 415,
                    "this content type is not accepted; send application/json"),
    GatewayResponse("DEFAULT_5XX", "$context.error.responseType", "API gateway fault"),
)
API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024   # API Gateway's payload limit (REQUEST_TOO_LARGE above it)

# The deployed API's limits (the local runtime does not throttle): requests per second and burst of
# the stage (every method), and requests per 5 minutes from one IP before WAF blocks it.
API_THROTTLE_RATE = 200
API_THROTTLE_BURST = 400
WAF_RATE_LIMIT_PER_IP = 2000
# Requests per 5 minutes with one bearer token (one client's credential: a channel backend's or a
# fulfilment stack's client-credentials token, a customer's or agent's sign-in) before WAF blocks
# it: 100 per second, half the stage's rate, so no one client can take the whole API.
WAF_RATE_LIMIT_PER_CLIENT = 30_000

# The keys of signed links in messages (chalicelib/notify/links.py), comma-separated: the first
# signs, every one verifies (rotate by prepending a new key).
SECRETS = (
    Secret("link-keys", "key of signed links in messages", local_value=LOCAL_LINK_SECRET),
    # The HMAC keys of the payment provider's callbacks (chalicelib/payment/provider.py): generated
    # per stage like the others; the operator replaces the value with the key the provider issued.
    Secret("payment-callback-keys", "HMAC keys of the payment provider's callbacks",
           local_value=LOCAL_PAYMENT_CALLBACK_SECRET),
)

# SES sender identity and SNS topics (alarms go to the ops topic).
EMAIL_SENDER = "noreply@omnishop.example"
TOPICS = ("ops-alarms",)


def function(name: str) -> Function:
    return next(f for f in FUNCTIONS if f.name == name)


def table(name: str) -> Table:
    return next(t for t in TABLES if t.name == name)
