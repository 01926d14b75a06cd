"""Demo customers for the local runtime, with stable ids for curl examples:

- cust-andrea: existing customer, broadband on a contract ending within 60 days (the products
  held are chalicelib/inventory/demo.py's), mobile and email,
  SMS and email consent for service and marketing, quiet hours; a promotion journey under way.
- cust-stacy: mobile only, SMS consent only; Mobile Unlimited on a contract with a year to go.
- cust-acme: a business customer (organisation) with three contacts by role (buyer Raj,
  approver Mia, technical contact Tom) and two sites (Bristol, Bath).
Each has a credit profile from the simulated bureau that approves (chalicelib/credit), valid for
data/credit.json's validForDays from the load.
Safe to load twice: existing customers are kept, products and interactions are written once.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from chalicelib import tmf
from chalicelib import credit
from chalicelib.customer import domain, interactions, service, store
from chalicelib.inventory import demo as inventory_demo

LOADED_BY = {"id": "demo-loader", "role": "system"}
HOME_SECURITY_JOURNEY = "jrn-andrea-home-security"


def _mobile(number: str) -> dict[str, Any]:
    return {"mediumType": "mobile", "preferred": True, "characteristic": {"phoneNumber": number, "contactType": "mobile"}}


def _email(address: str) -> dict[str, Any]:
    return {"mediumType": "email", "characteristic": {"emailAddress": address}}


def _individual(pid: str, name: str) -> dict[str, Any]:
    return {"id": pid, "name": name, "@referredType": "Individual"}


CUSTOMERS: list[dict[str, Any]] = [
    {"id": "cust-andrea", "name": "Andrea Rossi", "status": "approved",
     "engagedParty": _individual("party-andrea", "Andrea Rossi"),
     "contactMedium": [_mobile("+447700900123"), _email("andrea.rossi@example.com"),
                       {"mediumType": "postalAddress", "characteristic": {
                           "street1": "12 Elm Road", "city": "Bristol", "postCode": "BS1 4DJ", "country": "GB"}}],
     "account": [{"id": "acc-andrea", "name": "Andrea Rossi (home)", "@referredType": "BillingAccount"}],
     "characteristic": [{"name": "segment", "value": "residential"}],
     "contactPreference": {"consent": {"sms": {"service": True, "marketing": True},
                                       "email": {"service": True, "marketing": True}},
                           "quietHours": {"start": "21:00", "end": "08:00", "timeZone": "Europe/London"},
                           "preferredChannel": "sms"}},
    {"id": "cust-stacy", "name": "Stacy Moreau", "status": "approved",
     "engagedParty": _individual("party-stacy", "Stacy Moreau"),
     "contactMedium": [_mobile("+447700900456")],
     "account": [{"id": "acc-stacy", "name": "Stacy Moreau", "@referredType": "BillingAccount"}],
     "contactPreference": {"consent": {"sms": {"service": True, "marketing": True}}, "preferredChannel": "sms"}},
    {"id": "cust-acme", "name": "Acme Logistics Ltd", "status": "approved",
     "engagedParty": {"id": "party-acme", "name": "Acme Logistics Ltd", "@referredType": "Organization"},
     "contactMedium": [_email("it@acme.example.com")],
     # its contacts by role (chalicelib/access.py CONTACT_RIGHTS) and its sites
     "relatedParty": [{**_individual("party-acme-raj", "Raj Patel"), "role": "buyer",
                       "contactMedium": [_mobile("+447700900789"), _email("raj.patel@acme.example.com")]},
                      {**_individual("party-acme-mia", "Mia Chen"), "role": "approver",
                       "contactMedium": [_email("mia.chen@acme.example.com")]},
                      {**_individual("party-acme-tom", "Tom Okafor"), "role": "technicalContact",
                       "contactMedium": [_email("tom.okafor@acme.example.com")]}],
     "site": [{"id": "acme-bristol", "name": "Bristol head office", "street1": "1 Harbour Way", "city": "Bristol",
               "postCode": "BS1 5TY", "country": "GB"},
              {"id": "acme-bath", "name": "Bath depot", "street1": "7 Mill Lane", "city": "Bath",
               "postCode": "BA1 1LN", "country": "GB"}],
     "contactPreference": {"consent": {"email": {"service": True, "marketing": False}}}},
]


def _interactions(now: dt.datetime) -> list[dict[str, Any]]:
    def ago(hours: int) -> str:
        return tmf.iso(now - dt.timedelta(hours=hours))

    campaign = {"id": "camp-home-security", "name": "Home Security launch", "@referredType": "Campaign", "role": "campaign"}
    return [
        dict(interaction_id="demo-andrea-promo-sms", reason="Home Security promotion sent", channel="sms",
             direction="outbound", customer_id="cust-andrea", items=[campaign], journey_key=HOME_SECURITY_JOURNEY,
             occurred_at=ago(48)),
        dict(interaction_id="demo-andrea-portal-visit", reason="viewed the Home Security offer", channel="web",
             direction="inbound", customer_id="cust-andrea", journey_key=HOME_SECURITY_JOURNEY, occurred_at=ago(47),
             items=[{"id": "po-home-security", "name": "Home Security", "@referredType": "ProductOffering",
                     "role": "offering"}]),
        dict(interaction_id="demo-stacy-promo-sms", reason="Mobile upgrade promotion sent", channel="sms",
             direction="outbound", customer_id="cust-stacy", journey_key="jrn-stacy-upgrade", occurred_at=ago(24),
             items=[{**campaign, "id": "camp-mobile-upgrade", "name": "Mobile upgrade"}]),
    ]


def load() -> int:
    """Write the demo customers (kept if present), their products held and interactions."""
    now, at = tmf.now(), tmf.now_iso()
    signed_up = tmf.iso(now - dt.timedelta(days=700))  # when the demo customers gave their consent
    written, new = 0, set()
    for body in CUSTOMERS:
        body = {**body, "creditProfile": [credit.first_profile(body)]}   # the simulated bureau approves them
        doc = domain.new_customer(body, body["id"], service.customer_href(body["id"]), at, "agent")
        changes = domain.consent_changes(None, doc)
        audit = domain.audit_record(doc["id"], changes, LOADED_BY, f"demo-{doc['id']}", signed_up)
        try:
            store.write_customer(doc, None, audit)
            written += 1
            new.add(doc["id"])
        except store.StaleVersion:
            pass  # loaded before: keep whatever was changed since
    inventory_demo.load()
    for values in _interactions(now):
        # a customer loaded before has its interactions (their times, relative to now, would differ)
        if values.get("customer_id") in new:
            interactions.record_interaction(values.pop("interaction_id"), **values)
    return written
