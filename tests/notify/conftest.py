"""Fixtures for the notification component tests: demo customers in the `aws` moto, what moto's
SNS and SES received, a fixed clock, and provider failures injected at the boto3 client."""
import datetime as dt

import pytest
from botocore.exceptions import ClientError

from chalicelib import aws as clients
from chalicelib import settings, tmf
from tests.support import demo as shop

ACCOUNT, REGION = "123456789012", "eu-west-1"
NOON = dt.datetime(2026, 6, 1, 11, 0, tzinfo=dt.timezone.utc)      # 12:00 in London: no quiet hours
NIGHT = dt.datetime(2026, 6, 1, 22, 30, tzinfo=dt.timezone.utc)    # 23:30 in London: Andrea's quiet hours
ANDREA_MOBILE, ANDREA_EMAIL, STACY_MOBILE = "+447700900123", "andrea.rossi@example.com", "+447700900456"


@pytest.fixture
def demo(aws, pump):
    shop.load("customer", pump=pump)


@pytest.fixture
def clock(monkeypatch):
    """clock(moment): tmf.now() answers `moment` from now on."""
    def set_to(moment):
        monkeypatch.setattr(tmf, "now", lambda: moment)
    set_to(NOON)
    return set_to


def sms_sent():
    from moto.sns.models import sns_backends

    return list(sns_backends[ACCOUNT][REGION].sms_messages.values())


def emails_sent():
    from moto.ses.models import ses_backends

    return [(m.source, m.destinations["ToAddresses"], m.subject, m.body)
            for m in ses_backends[ACCOUNT][REGION].sent_messages]


def stored_messages():
    """Everything in the notify table (tests may Scan; the application never does)."""
    return clients.client("dynamodb").scan(TableName=settings.table_name("notify"))["Items"]


@pytest.fixture
def failing(monkeypatch):
    """failing(service, operation, code, times): the next `times` calls fail with that error code."""
    def inject(service, operation, code="Throttling", times=1, status=400):
        client = clients.client(service)
        real = getattr(client, operation)
        left = {"n": times}

        def fake(**params):
            if left["n"] > 0:
                left["n"] -= 1
                raise ClientError({"Error": {"Code": code, "Message": f"{code} for {params.get('PhoneNumber')}"},
                                   "ResponseMetadata": {"HTTPStatusCode": status}}, operation)
            return real(**params)

        monkeypatch.setattr(client, operation, fake)
        return left
    return inject


def customer_interactions(customer_id):
    from chalicelib.customer import store

    return store.interactions(store.customer_pk(customer_id))
