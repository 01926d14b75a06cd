"""What the in-process moto holds, read directly by the tests (the application never Scans):
a table's items, the SMS and email moto's SNS and SES sent."""
from __future__ import annotations

from chalicelib import aws, settings

ACCOUNT = "123456789012"


def stored_items(table="customer"):
    """Everything in a table (every page, consistent read)."""
    items, kwargs = [], {"TableName": settings.table_name(table), "ConsistentRead": True}
    while True:
        page = aws.client("dynamodb").scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def sms_sent():
    """Every SMS moto's SNS recorded, as moto keeps them: (phone number, text, ...)."""
    from moto.sns.models import sns_backends

    return list(sns_backends[ACCOUNT][settings.region()].sms_messages.values())


def emails_sent():
    """Every email moto's SES sent: (source, to addresses, subject, body)."""
    from moto.ses.models import ses_backends

    return [(m.source, m.destinations["ToAddresses"], m.subject, m.body)
            for m in ses_backends[ACCOUNT][settings.region()].sent_messages]
