"""Every piece of configuration, read from environment variables in one place.

Values are read when asked for (not at import), so the local runtime can create resources and
then publish their names/URLs through the environment before anything uses them. Defaults are
the local ones: a developer needs no configuration at all.
"""
from __future__ import annotations

import ipaddress
import os
from typing import Any, Iterable

PREFIX = "OMNISHOP_"


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(PREFIX + name, default)


def env_int(name: str, default: int) -> int:
    raw = env(name)
    return int(raw) if raw not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    raw = env(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _key(logical: str) -> str:
    return logical.upper().replace("-", "_")


def stage() -> str:
    return env("STAGE", "local") or "local"


def local_mode() -> bool:
    """True only in the local runtime and tests: enables POST /local/token and the local key."""
    return env_bool("LOCAL", False)


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-west-1"


def account_id() -> str:
    return env("ACCOUNT_ID", "123456789012") or "123456789012"


def resource_name(logical: str) -> str:
    """The physical name of a resource in the local runtime (CDK lets CloudFormation name them)."""
    return f"omnishop-{stage()}-{logical}"


def table_name(logical: str) -> str:
    return env(f"TABLE_{_key(logical)}") or resource_name(logical)


def queue_url(logical: str) -> str | None:
    """The URL of a queue; the deployment (CDK or the local runtime) publishes it."""
    return env(f"QUEUE_URL_{_key(logical)}")


def state_machine_arn(logical: str) -> str:
    return env(f"STATE_MACHINE_ARN_{_key(logical)}") or (
        f"arn:aws:states:{region()}:{account_id()}:stateMachine:{resource_name(logical)}"
    )


def public_base_url() -> str | None:
    """Where channels reach the API (e.g. a custom domain); used to build TMF `href`s. When unset
    the base is taken from the request (API Gateway host and stage)."""
    value = env("PUBLIC_BASE_URL")
    return value.rstrip("/") if value else None


def local_base_url() -> str:
    return f"http://127.0.0.1:{env_int('PORT', 8000)}"


# --- authentication -------------------------------------------------------------------------
def jwt_issuer() -> str:
    return env("JWT_ISSUER", "omnishop-local") or "omnishop-local"


def jwt_audience() -> str | None:
    """Cognito access tokens carry `client_id` rather than `aud`; leave unset for them."""
    return env("JWT_AUDIENCE")


def jwks_url() -> str | None:
    """In AWS: https://cognito-idp.<region>.amazonaws.com/<pool id>/.well-known/jwks.json"""
    return env("JWKS_URL")


def local_jwt_key_file() -> str:
    return env("LOCAL_JWT_KEY_FILE", os.path.join(".local", "jwt-key.pem")) or ""


# --- limits and behaviour ---------------------------------------------------------------------
def max_body_bytes() -> int:
    return env_int("MAX_BODY_BYTES", 256 * 1024)


def default_page_limit() -> int:
    return env_int("DEFAULT_PAGE_LIMIT", 100)


def max_page_limit() -> int:
    return env_int("MAX_PAGE_LIMIT", 1000)


def list_window() -> int:
    """How far a list counts and pages (issue 16): its COUNT stops after window+1 items, so a list
    with more answers no X-Total-Count (a rel="next" Link instead) and refuses an offset past it."""
    return max(1, env_int("LIST_WINDOW", 1000))


def catalog_cache_seconds() -> int:
    """How long a container trusts its catalogue cache before checking the catalogue stamp."""
    return env_int("CATALOG_CACHE_SECONDS", 5)


def contact_cache_seconds() -> int:
    """How long a container trusts its copy of a business customer's contacts and their roles."""
    return env_int("CONTACT_CACHE_SECONDS", 30)


def hub_delivery_timeout_seconds() -> int:
    return env_int("HUB_DELIVERY_TIMEOUT_SECONDS", 5)


def idempotency_ttl_seconds() -> int:
    return env_int("IDEMPOTENCY_TTL_SECONDS", 24 * 3600)


def import_allowed_roots() -> list[str]:
    """Where importJob may read a partner export from locally (files) besides http(s) URLs."""
    raw = env("IMPORT_FILE_ROOTS", "") or ""
    return [p for p in raw.split(os.pathsep) if p]


def export_dir() -> str:
    return env("EXPORT_DIR", os.path.join(".local", "exports")) or ""


# --- baskets (TMF663) -------------------------------------------------------------------------
def basket_ttl_anonymous_days() -> int:
    """An anonymous visitor's basket expires this long after its last change."""
    return env_int("BASKET_TTL_ANONYMOUS_DAYS", 7)


def basket_ttl_known_days() -> int:
    """A known customer's basket expires this long after its last change."""
    return env_int("BASKET_TTL_KNOWN_DAYS", 90)


def basket_max_items() -> int:
    return env_int("BASKET_MAX_ITEMS", 50)


def basket_max_quantity() -> int:
    return env_int("BASKET_MAX_QUANTITY", 10)


def basket_max_items_business() -> int:
    """Lines a business customer's basket may hold (each its own record: chalicelib/basket/lines.py)."""
    return env_int("BASKET_MAX_ITEMS_BUSINESS", 1000)


def basket_max_quantity_business() -> int:
    return env_int("BASKET_MAX_QUANTITY_BUSINESS", 1000)


def basket_max_bytes() -> int:
    """The largest serialized basket header stored (the basket without its lines: parties,
    context with its last changes, totals): DynamoDB's item limit is 400 KB, and the record also
    holds its keys, the customer facts and the composition."""
    return env_int("BASKET_MAX_BYTES", 200 * 1024)


def hub_event_max_items() -> int:
    """A TMF663 hub event carries a basket's items when it has at most this many (an event must fit
    an SQS message, 256 KB); a larger basket's event carries its header, and its href."""
    return env_int("HUB_EVENT_MAX_ITEMS", 50)


def basket_max_line_bytes() -> int:
    """The largest serialized basket line (one item with its characteristics and notes)."""
    return env_int("BASKET_MAX_LINE_BYTES", 32 * 1024)


def basket_write_attempts() -> int:
    """Conditional write retries of a change sent without If-Match before answering 409."""
    return env_int("BASKET_WRITE_ATTEMPTS", 12)


def basket_customer_facts_seconds() -> int:
    """How long a basket trusts its copy of the customer's segment, type and products held."""
    return env_int("BASKET_CUSTOMER_FACTS_SECONDS", 300)


# --- notifications (TMF681) -------------------------------------------------------------------
# The link key of the local runtime (its secret in moto, infra/resources.py SECRETS), and of code
# run in local mode with no secret at all (unit tests without moto).
LOCAL_LINK_SECRET = "omnishop-local-link-secret"
LINK_SECRET = "link-keys"   # infra/resources.py SECRETS


def email_sender() -> str:
    """The SES identity emails are sent from (infra/resources.py EMAIL_SENDER; the stack sets it)."""
    return env("EMAIL_SENDER", "noreply@omnishop.example") or "noreply@omnishop.example"


def sms_sender_id() -> str:
    """The alphanumeric sender id SMS show where the country allows one (at most 11 characters)."""
    return env("SMS_SENDER_ID", "Omnishop") or "Omnishop"


def sms_origination_number() -> str | None:
    """The E.164 number SMS are sent from (stack parameter SmsOriginationNumber); None: SNS picks."""
    return env("SMS_ORIGINATION_NUMBER") or None


def secret_id(logical: str) -> str | None:
    """The id (ARN or name) of a Secrets Manager secret of infra/resources.py SECRETS; the
    deployment (CDK or the local runtime) publishes it. Its value is never in the environment."""
    return env(f"SECRET_ID_{_key(logical)}")


def secret_max_age_seconds() -> int:
    """How long a function keeps a secret it read (Powertools parameters' cache): a rotated key
    reaches every warm function within this time."""
    return env_int("SECRET_MAX_AGE_SECONDS", 300)


def link_ttl_seconds() -> int:
    """How long a signed link in a message works."""
    return env_int("LINK_TTL_SECONDS", 24 * 3600)


def link_base_url() -> str:
    """Where signed links land (the self-care portal); the API's own base when unset."""
    value = env("LINK_BASE_URL") or public_base_url() or local_base_url()
    return value.rstrip("/")


def notify_lease_seconds() -> int:
    """How long one attempt holds a message it is sending before another may take it over."""
    return env_int("NOTIFY_LEASE_SECONDS", 60)


def notify_max_attempts() -> int:
    """Sends of a message the platform retries itself (API messages) before it is failed."""
    return env_int("NOTIFY_MAX_ATTEMPTS", 5)


def notify_retry_seconds() -> int:
    """How long the platform waits before retrying an API message the provider refused for now."""
    return env_int("NOTIFY_RETRY_SECONDS", 60)


def notify_retention_days() -> int:
    """communicationMessages are removed (TTL) this long after they were made."""
    return env_int("NOTIFY_RETENTION_DAYS", 400)


# --- campaigns and recommendations ------------------------------------------------------------
def campaign_frequency_cap() -> int:
    """At most this many marketing messages reach one customer per calendar week (ISO, UTC)."""
    return env_int("CAMPAIGN_FREQUENCY_CAP", 3)


def campaign_page_size() -> int:
    """Customers the campaign runner reads per page (one Query) before checkpointing its cursor."""
    return env_int("CAMPAIGN_PAGE_SIZE", 100)


def campaign_batch_size() -> int:
    """Customers per message on the campaign-send queue (one SQS message, one sender batch item)."""
    return env_int("CAMPAIGN_BATCH_SIZE", 25)


def campaign_runner_reserve_ms() -> int:
    """The runner stops paging with this much Lambda time left and hands on through the queue."""
    return env_int("CAMPAIGN_RUNNER_RESERVE_MS", 20_000)


def campaign_runner_arn() -> str:
    """The campaign runner function a campaign's EventBridge schedule invokes (the stack sets it)."""
    return env("CAMPAIGN_RUNNER_ARN") or (
        f"arn:aws:lambda:{region()}:{account_id()}:function:{resource_name('campaign-runner')}")


def scheduler_role_arn() -> str:
    """The role EventBridge Scheduler assumes to invoke the runner (the stack sets it)."""
    return env("SCHEDULER_ROLE_ARN") or f"arn:aws:iam::{account_id()}:role/{resource_name('runtime-role')}"


def campaign_schedule_group() -> str:
    return env("CAMPAIGN_SCHEDULE_GROUP", "default") or "default"


def live_campaigns_cache_seconds() -> int:
    """How long a container trusts its list of live campaigns (recommendations read it)."""
    return env_int("LIVE_CAMPAIGNS_CACHE_SECONDS", 30)


def promotion_cache_seconds() -> int:
    """How long a container trusts the TMF671 promotions pricing reads (one Query); the local
    runtime and the tests read them every time, so a promotion just written prices the next sale."""
    return env_int("PROMOTION_CACHE_SECONDS", 0 if local_mode() else 5)


# --- orders (TMF622) and fulfilment stacks ------------------------------------------------------
def order_child_timeout_seconds() -> int:
    """How long an order's workflow waits for a stack to finish a child order before the child is
    held (with an alarm). Passed in each execution's input, so tests can make it short."""
    return env_int("ORDER_CHILD_TIMEOUT_SECONDS", 7 * 24 * 3600)


def order_write_attempts() -> int:
    """Conditional write retries when a parent order and its children's reports race."""
    return env_int("ORDER_WRITE_ATTEMPTS", 12)


def stack_url(stack: str) -> str | None:
    """A fulfilment stack's own TMF622 API root (OMNISHOP_STACK_URL_CSP_STACK_A, ...): the default
    adapter forwards child orders there. The local runtime points them at its simulated stacks."""
    value = env(f"STACK_URL_{_key(stack)}")
    return value.rstrip("/") if value else None


def stack_timeout_seconds() -> int:
    return env_int("STACK_TIMEOUT_SECONDS", 10)


def simulated_stack_delay_seconds() -> float:
    """Simulated stacks (local runtime): the pause before each milestone they report."""
    return float(env("SIMULATED_STACK_DELAY_SECONDS", "1") or 1)


def local_retry_scale() -> float:
    """Local runtime and tests only (moto's Step Functions interpreter, infra/local/moto_fixes.py):
    every Retry interval of a state machine is multiplied by this (default 0.1: IntervalSeconds 1
    waits 100 ms). The deployed state machines keep their ASL's intervals; locally a retry waits
    only to be seen retrying, not to give a real provider time to recover."""
    return float(env("LOCAL_RETRY_SCALE", "0.1") or 0.1)


def local_concurrency() -> int:
    """Local runtime only (infra/local/api_gateway.py Slots): how many API requests run the app's
    code at once (0: no limit). Deployed, every request has a Lambda of its own, with its own CPU;
    locally they share one Python process, where a request past the first few only makes all the
    others slower. The rest wait their turn, as in API Gateway's queue in front of a busy Lambda."""
    return env_int("LOCAL_CONCURRENCY", 4)


def simulated_stacks_failing() -> list[str]:
    """Simulated stacks that fail every child order they get (comma-separated stack ids). A child
    order item with the characteristic simulateFailure=true fails on any simulated stack."""
    return [s.strip() for s in (env("SIMULATED_STACKS_FAILING") or "").split(",") if s.strip()]


def simulated_stacks_silent() -> list[str]:
    """Simulated stacks that accept child orders and never answer (the child order times out)."""
    return [s.strip() for s in (env("SIMULATED_STACKS_SILENT") or "").split(",") if s.strip()]


# --- credit check (chalicelib/credit) ------------------------------------------------------------
def credit_bureau() -> str:
    """The credit-decision adapter checkout asks (chalicelib/credit/bureau.py): "simulated" locally."""
    return env("CREDIT_BUREAU", "simulated") or "simulated"


# --- abandoned baskets (channel process handling) ------------------------------------------------
def basket_idle_seconds() -> int:
    """A customer's basket with items and no change for this long is abandoned: the recovery
    workflow offers help. Passed in each execution's input, so tests can make it short."""
    return env_int("BASKET_IDLE_SECONDS", 3600)


def basket_second_reminder_seconds() -> int:
    """After the first message, the second one (by email) goes this long later if nothing happened."""
    return env_int("BASKET_SECOND_REMINDER_SECONDS", 24 * 3600)


def recovery_link_seconds() -> int:
    """How long the accept-assistance / resume link in a reminder works."""
    return env_int("RECOVERY_LINK_SECONDS", 48 * 3600)


def approval_link_seconds() -> int:
    """How long the link in the approval email works."""
    return env_int("APPROVAL_LINK_SECONDS", 7 * 24 * 3600)


# --- outbound calls (chalicelib/outbound.py) ----------------------------------------------------
def outbound_allow(opened: Iterable[tuple[Any, int]] = ()) -> set[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]]:
    """Locally only (OMNISHOP_LOCAL): loopback addresses the platform may call despite the outbound
    guard, as comma-separated host:port pairs ("127.0.0.1:9999,[::1]:9999"), plus the (address,
    port) pairs this process `opened` (chalicelib/outbound.py allow_local: the demo listener and
    the simulated stacks). The API's own port and moto's are never opened; entries that are not
    a loopback IP literal and port are ignored. Empty (nothing opened) in AWS."""
    if not local_mode():
        return set()
    closed = {env_int("PORT", 8000), int(os.environ.get("MOTO_PORT") or 5000)}
    candidates = [(address, int(port)) for address, port in opened]
    for entry in (env("OUTBOUND_ALLOW") or "").split(","):
        host, _, port = entry.strip().rpartition(":")
        try:
            candidates.append((ipaddress.ip_address(host.strip("[]")), int(port)))
        except ValueError:
            continue
    return {(address, number) for address, number in candidates
            if address.is_loopback and 0 < number < 65536 and number not in closed}


def outbound_max_redirects() -> int:
    """Redirects an importJob source may answer with (each one checked by the outbound guard)."""
    return env_int("OUTBOUND_MAX_REDIRECTS", 3)


def recovery_baskets_per_customer() -> int:
    """Abandoned-basket outreach per customer: at most this many baskets of one customer are
    reminded about within OMNISHOP_RECOVERY_CAP_SECONDS (the newest recoverable one speaks for all)."""
    return max(1, env_int("RECOVERY_BASKETS_PER_CUSTOMER", 1))


def recovery_cap_seconds() -> int:
    """The window of the per-customer outreach cap."""
    return max(60, env_int("RECOVERY_CAP_SECONDS", 7 * 24 * 3600))


def approved_unordered_seconds() -> int:
    """An approved basket without an order after this long is taken up by the basket sweep
    (ordered, or returned with the reason); one it cannot resolve raises an alarm."""
    return env_int("APPROVED_UNORDERED_SECONDS", 120)


# --- quotes (chalicelib/quote) -------------------------------------------------------------------
def quote_valid_days() -> int:
    """How long a quote is valid at most (validFor); the expiry sweep cancels it after."""
    return env_int("QUOTE_VALID_DAYS", 30)


def quote_approvers_email() -> str:
    """Where the email asking a sales manager to approve a quote goes (a team mailbox)."""
    return env("QUOTE_APPROVERS_EMAIL", "sales-managers@omnishop.example") or "sales-managers@omnishop.example"

# --- payments (TMF676) ---------------------------------------------------------------------------
LOCAL_PAYMENT_CALLBACK_SECRET = "omnishop-local-payment-callback-secret"


def payment_provider() -> str:
    """The payment-provider adapter (chalicelib/payment/provider.py): `simulated` locally."""
    return env("PAYMENT_PROVIDER", "simulated") or "simulated"


PAYMENT_CALLBACK_SECRET = "payment-callback-keys"   # infra/resources.py SECRETS


def payment_callback_window_seconds() -> int:
    """How far a callback's signed timestamp may be from now (older ones are replays)."""
    return env_int("PAYMENT_CALLBACK_WINDOW_SECONDS", 300)


def payment_step_seconds() -> int:
    """How long a payment waits for the customer's step (3-D Secure) before it expires: the order
    stays pending and its handsets go back (the payment-sweep schedule)."""
    return env_int("PAYMENT_STEP_SECONDS", 900)


def payment_window_seconds() -> int:
    """How long an order with one-off charges waits for a payment at all: past it, nobody having
    paid, its handsets and installation slots go back and it is pending (the payment-sweep), as
    after an expired payment. Short locally (tests and demos see it happen), 30 minutes deployed."""
    return env_int("PAYMENT_WINDOW_SECONDS", 300 if local_mode() else 1800)


def payment_refund_retry_seconds() -> int:
    """How long after a refund was claimed (or failed) the payment-sweep asks the provider again
    when it has not said `done` (a crash before its answer, the provider down, a refusal)."""
    return env_int("PAYMENT_REFUND_RETRY_SECONDS", 60)
