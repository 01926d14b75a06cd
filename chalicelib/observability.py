"""Structured JSON logs (Powertools Logger) with a correlation id and journey key, and metrics.

Log lines never carry a phone number or an email address in clear: the formatter masks both in
the serialized line, whatever field they hide in.
"""
from __future__ import annotations

import re

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

SERVICE = "omnishop"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Phone numbers are held in E.164 ("+" and 8 to 15 digits); written with spaces or dashes too.
_PHONE = re.compile(r"\+\d(?:[ -]?\d){7,14}")


def redact(text: str) -> str:
    return _PHONE.sub("<phone>", _EMAIL.sub("<email>", text))


class RedactingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict) -> str:  # type: ignore[override]
        return redact(super().serialize(log))


logger = Logger(service=SERVICE, logger_formatter=RedactingFormatter())
metrics = Metrics(namespace="Omnishop", service=SERVICE)


def bind_request(correlation_id: str | None, journey_key: str | None = None) -> None:
    """Attach the correlation id and journey key to every following log line of this request."""
    logger.set_correlation_id(correlation_id)
    logger.remove_keys(["journey_key"])
    if journey_key:
        logger.append_keys(journey_key=journey_key)
