"""The providers: SMS through SNS, email through SES. One call each; a failure is either
transient (throttling, the service or the network failing: retry later) or a refusal (the
provider will not take this message: retrying does not help)."""
from __future__ import annotations

from typing import Any

from chalicelib import aws, settings

# Error codes that mean "not now": throttling and the provider's own faults.
TRANSIENT_CODES = frozenset({
    "Throttling", "ThrottlingException", "Throttled", "ThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "LimitExceededException", "KMSThrottlingException", "InternalError",
    "InternalFailure", "InternalErrorException", "ServiceUnavailable", "ServiceUnavailableException",
    "RequestTimeout", "RequestTimeoutException", "Unavailable"})


class ProviderError(Exception):
    def __init__(self, message: str, transient: bool, code: str | None = None):
        super().__init__(message)
        self.transient = transient
        self.code = code


def _call(service: str, operation: str, **params: Any) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return getattr(aws.client(service), operation)(**params)
    except ClientError as exc:
        error = exc.response.get("Error") or {}
        code = str(error.get("Code") or "")
        status = int((exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
        # The provider's message can quote the address: keep only its code.
        raise ProviderError(f"{service} {operation} failed: {code or status}",
                            code in TRANSIENT_CODES or status >= 500 or status == 429, code) from None
    except BotoCoreError as exc:  # connection errors, timeouts
        raise ProviderError(f"{service} {operation} failed: {type(exc).__name__}", True) from None


def send_sms(phone_number: str, text: str, purpose: str) -> str:
    """Publish one SMS; the provider's message id."""
    attributes = {
        "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": settings.sms_sender_id()},
        "AWS.SNS.SMS.SMSType": {"DataType": "String",
                                "StringValue": "Promotional" if purpose == "marketing" else "Transactional"},
    }
    origination = settings.sms_origination_number()
    if origination:
        attributes["AWS.MM.SMS.OriginationNumber"] = {"DataType": "String", "StringValue": origination}
    return _call("sns", "publish", PhoneNumber=phone_number, Message=text, MessageAttributes=attributes)["MessageId"]


def send_email(address: str, subject: str, text: str) -> str:
    """Send one plain-text email from the configured sender; the provider's message id."""
    return _call("ses", "send_email", Source=settings.email_sender(), Destination={"ToAddresses": [address]},
                 Message={"Subject": {"Data": subject, "Charset": "UTF-8"},
                          "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}})["MessageId"]


def send(channel: str, address: str, text: str, subject: str | None, purpose: str) -> str:
    if channel == "sms":
        return send_sms(address, text, purpose)
    return send_email(address, subject or "", text)
