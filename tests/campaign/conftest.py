"""Fixtures for the campaign and recommendation tests: moto in-process, the chalice test client,
the demo catalogue, customers and rules, and customers made to measure."""
from __future__ import annotations

import datetime as dt

import pytest

from chalicelib import aws, settings, tmf
from tests.support.names import CAMPAIGNS, CARTS, RECOMMEND  # noqa: F401 (this folder's names too)
from tests.support.campaigns import home_security  # noqa: F401 (the folder's tests use it)

BASE = "/tmf-api/campaignManagement/v4"


@pytest.fixture
def marketing(headers):
    return headers("marketing", sub="marketer-1")


_DAYTIME: list = []   # the code clock's offset from the real one: one per test process


@pytest.fixture(autouse=True)
def daytime(monkeypatch):
    """Demo customers keep quiet hours (Andrea: 21:00-08:00 London), so a run at night defers her
    and the test waits on a delayed message: the code's clock (tmf.now) reads 13:00 UTC today at
    the process's first campaign test and moves on with the real one, whatever time the suite runs
    at. One offset per process: demo data copied from an earlier test is as old in the code's time
    as in real time (tests/support/demo.py). Quiet-hour tests make their own hours."""
    real = tmf.now
    if not _DAYTIME:
        _DAYTIME.append(real().replace(hour=13, minute=0, second=0, microsecond=0) - real())
    offset = _DAYTIME[0]
    monkeypatch.setattr(tmf, "now", lambda: real() + offset)


@pytest.fixture(autouse=True)
def fresh_live_campaigns():
    """Each test has its own moto: forget the live campaigns a previous test cached."""
    from chalicelib.campaign import service

    service.forget_live_campaigns()


def make_customer(cid, *, segment="residential", sms=True, email=False, held=(("po-broadband-500", 30),),
                  postcode="BS1 4DJ", phone="+447700900001", organisation=False, quiet=None):
    """A customer with marketing consent as asked, products held (offering, days to contract end)."""
    from chalicelib.customer import domain, service, store

    now = tmf.now()
    consent = {k: {"service": True, "marketing": True} for k, on in (("sms", sms), ("email", email)) if on}
    body = {"name": f"{cid.title()} Tester", "status": "approved",
            "engagedParty": {"id": f"party-{cid}", "@referredType": "Organization" if organisation else "Individual"},
            "contactMedium": [{"mediumType": "mobile", "preferred": True, "characteristic": {"phoneNumber": phone}},
                              {"mediumType": "email", "characteristic": {"emailAddress": f"{cid}@example.com"}},
                              {"mediumType": "postalAddress", "characteristic": {"city": "Bristol", "postCode": postcode,
                                                                                 "country": "GB"}}],
            "characteristic": [{"name": "segment", "value": segment}],
            "contactPreference": {"consent": consent, **({"quietHours": quiet} if quiet else {})}}
    doc = domain.new_customer(body, cid, service.customer_href(cid), tmf.iso(now), "agent")
    store.write_customer(doc, None)
    from chalicelib.inventory import domain as inventory_domain
    from chalicelib.inventory import store as inventory_store

    for n, (offering, days) in enumerate(held):
        start = tmf.iso(now - dt.timedelta(days=700))
        product = {"name": offering, "status": "active", "productOffering": {"id": offering},
                   "productTerm": [{"validFor": {"startDateTime": start,
                                                 "endDateTime": tmf.iso(now + dt.timedelta(days=days))}}]}
        inventory_store.insert(inventory_domain.new_product(product, f"prod-{cid}-{n}", f"/p/{n}", doc, None))
    return cid


def sms_sent():
    """Every SMS moto's SNS recorded: [(phone number, text)]."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns import sns_backends

    return [(m[0], m[1]) for m in sns_backends[DEFAULT_ACCOUNT_ID][settings.region()].sms_messages.values()]


def schedules():
    return [s["Name"] for s in aws.client("scheduler").list_schedules()["Schedules"] if "-cmp-" in s["Name"]]


def stored(table="campaign"):
    return aws.client("dynamodb").scan(TableName=settings.table_name(table))["Items"]
