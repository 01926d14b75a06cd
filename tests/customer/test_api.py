"""TMF629 customers, products held and consent over HTTP (chalice test client, moto in-process):
behaviour, and every bad input answered 4xx with nothing written."""
import json

import pytest

from tests.customer.conftest import BASE, PI, andrea_body
from tests.support.stored import stored_items


def create(api, headers, **extra):
    status, doc, _ = api.call("POST", f"{BASE}/customer", headers, andrea_body(**extra))
    assert status == 201, doc
    return doc


def test_create_read_list_patch(api, agent, signup):
    status, doc, headers = api.call("POST", f"{BASE}/customer", signup, andrea_body())
    assert status == 201 and headers["Location"] == doc["href"] and headers["ETag"] == '"1"'
    assert doc["@type"] == "Customer" and doc["status"] == "initialized" and doc["href"].endswith(doc["id"])
    status, read, headers = api.call("GET", f"{BASE}/customer/{doc['id']}", agent)
    assert status == 200 and read == doc and headers["ETag"] == '"1"'
    status, patched, headers = api.call("PATCH", f"{BASE}/customer/{doc['id']}",
                                        {**agent, "Content-Type": "application/merge-patch+json"},
                                        {"status": "approved", "characteristic": [{"name": "segment", "value": "gold"}]})
    assert status == 200 and patched["status"] == "approved" and headers["ETag"] == '"2"'
    assert patched["contactMedium"] == doc["contactMedium"]
    status, fields, _ = api.call("GET", f"{BASE}/customer/{doc['id']}?fields=name", agent)
    assert fields == {"id": doc["id"], "name": "Andrea Rossi"}


def test_list_filters_fields_and_paging(api, agent, demo):
    status, items, headers = api.call("GET", f"{BASE}/customer", agent)
    assert status == 200 and {c["id"] for c in items} == {"cust-andrea", "cust-stacy", "cust-acme"}
    assert headers["X-Total-Count"] == "3" and all({"engagedParty", "name", "href", "@type"} <= set(c) for c in items)
    _, items, _ = api.call("GET", f"{BASE}/customer?name=Stacy%20Moreau", agent)
    assert [c["id"] for c in items] == ["cust-stacy"]
    _, items, _ = api.call("GET", f"{BASE}/customer?id=cust-acme&fields=id", agent)
    assert items == [{"id": "cust-acme"}]
    _, items, headers = api.call("GET", f"{BASE}/customer?engagedParty.@referredType=Organization", agent)
    assert [c["id"] for c in items] == ["cust-acme"]
    _, items, headers = api.call("GET", f"{BASE}/customer?offset=1&limit=1", agent)
    assert len(items) == 1 and headers["X-Total-Count"] == "3" and headers["X-Result-Count"] == "1"


def test_stale_if_match_is_412(api, agent):
    doc = create(api, agent)
    status, body, _ = api.call("PATCH", f"{BASE}/customer/{doc['id']}", {**agent, "If-Match": '"7"'}, {"name": "x"})
    assert status == 412 and body["id"] == doc["id"]
    status, _, _ = api.call("PATCH", f"{BASE}/customer/{doc['id']}", {**agent, "If-Match": '"1"'}, {"name": "x"})
    assert status == 200


def test_unknown_customer_is_404(api, agent):
    for method, path, body in [("GET", "customer/nobody", None), ("PATCH", "customer/nobody", {"name": "x"}),
                               ("GET", "customer/nobody/view360", None), ("GET", "customer/nobody/product", None),
                               ("POST", "customer/nobody/product", {"name": "TV"}),
                               ("GET", "customer/nobody/consentAudit", None),
                               ("POST", "customer/nobody/identityLink", {"visitorId": "v-1"})]:
        status, error, _ = api.call(method, f"{BASE}/{path}", agent, body)
        assert status == 404 and error["@type"] == "Error", (method, path)


BAD_CUSTOMERS = [
    ("phone not E.164", andrea_body(contactMedium=[{"mediumType": "mobile", "characteristic": {"phoneNumber": "07700 900321"}}]), 400),
    ("email invalid", andrea_body(contactMedium=[{"mediumType": "email", "characteristic": {"emailAddress": "andrea@"}}]), 400),
    ("contact's phone invalid", andrea_body(relatedParty=[{"id": "p", "role": "contact", "contactMedium": [
        {"mediumType": "mobile", "characteristic": {"phoneNumber": "12"}}]}]), 400),
    ("unknown consent purpose", andrea_body(contactPreference={"consent": {"sms": {"spam": True}}}), 400),
    ("unknown consent channel", andrea_body(contactPreference={"consent": {"carrier-pigeon": {"service": True}}}), 400),
    ("bad quiet hours", andrea_body(contactPreference={"quietHours": {"start": "9pm", "end": "08:00", "timeZone": "UTC"}}), 400),
    ("malformed date", andrea_body(validFor={"startDateTime": "31/12/2024"}), 400),
    ("no engaged party", {"name": "x"}, 400),
    ("name not a string", andrea_body(name=5), 400),
    ("too large once stored", andrea_body(characteristic=[{"name": f"n{i}", "value": "x" * 900} for i in range(90)]), 413),
    ("over the body limit", andrea_body(note="x" * 300_000), 413),
    ("not JSON", "{nope", 400),
    ("not an object", [1], 400),
]


@pytest.mark.parametrize("case, body, status", BAD_CUSTOMERS, ids=[c[0] for c in BAD_CUSTOMERS])
def test_bad_customers_write_nothing(api, agent, case, body, status):
    before = len(stored_items())
    got, error, _ = api.call("POST", f"{BASE}/customer", agent, body)
    assert got == status and error["@type"] == "Error" and error["status"] == str(status)
    assert len(stored_items()) == before


@pytest.mark.parametrize("case, patch", [
    ("phone", {"contactMedium": [{"mediumType": "mobile", "characteristic": {"phoneNumber": "+12"}}]}),
    ("email", {"contactMedium": [{"mediumType": "email", "characteristic": {"emailAddress": "no at sign"}}]}),
    ("purpose", {"contactPreference": {"consent": {"email": {"newsletter": True}}}}),
    ("consent value", {"contactPreference": {"consent": {"email": {"marketing": "yes"}}}}),
    ("time zone", {"contactPreference": {"quietHours": {"start": "21:00", "end": "07:00", "timeZone": "Moon/Base"}}}),
    ("date", {"validFor": {"startDateTime": "2025-13-01T00:00:00Z"}}),
    ("server field", {"id": "other"}),
])
def test_bad_patches_change_nothing(api, agent, case, patch):
    doc = create(api, agent)
    before = stored_items()
    status, error, _ = api.call("PATCH", f"{BASE}/customer/{doc['id']}", agent, patch)
    assert status == 400 and error["@type"] == "Error"
    assert stored_items() == before


def test_wrong_content_type_is_415(api, agent):
    status, error, _ = api.call("POST", f"{BASE}/customer", {**agent, "Content-Type": "text/plain"}, json.dumps(andrea_body()))
    assert status == 415 and error["code"] == "unsupportedMediaType"


def test_products_held(api, agent, as_customer):
    doc = create(api, agent)
    body = {"name": "Broadband 500", "productOffering": {"id": "po-broadband-500"},
            "contract": {"startDate": "2024-01-01T00:00:00Z", "endDate": "2026-01-01T00:00:00Z"}}
    status, product, headers = api.call("POST", f"{BASE}/customer/{doc['id']}/product", agent, body)
    assert status == 201 and product["@type"] == "Product" and headers["Location"] == product["href"]
    # products held are TMF637 products now: the contract is a productTerm, the href the inventory's
    assert product["href"].endswith(f"/tmf-api/productInventory/v4/product/{product['id']}")
    assert product["productTerm"][0]["validFor"] == {"startDateTime": "2024-01-01T00:00:00Z",
                                                     "endDateTime": "2026-01-01T00:00:00Z"}
    assert product["relatedParty"][0]["id"] == doc["id"] and product["status"] == "active"
    status, items, headers = api.call("GET", f"{BASE}/customer/{doc['id']}/product", as_customer(doc["id"]))
    assert status == 200 and items == [product] and headers["X-Total-Count"] == "1"
    assert api.call("GET", product["href"].split("8000", 1)[-1], as_customer(doc["id"]))[1] == product
    # customers do not declare what they hold
    status, _, _ = api.call("POST", f"{BASE}/customer/{doc['id']}/product", as_customer(doc["id"]), body)
    assert status == 403


@pytest.mark.parametrize("case, body", [
    ("end before start", {"name": "TV", "contract": {"startDate": "2025-01-01T00:00:00Z", "endDate": "2024-01-01T00:00:00Z"}}),
    ("malformed date", {"name": "TV", "contract": {"startDate": "1st of May"}}),
    ("no start", {"name": "TV", "contract": {"endDate": "2025-01-01T00:00:00Z"}}),
    ("unknown status", {"name": "TV", "status": "sleeping"}),
])
def test_bad_products_write_nothing(api, agent, case, body):
    doc = create(api, agent)
    before = len(stored_items()) + len(stored_items("inventory"))
    status, error, _ = api.call("POST", f"{BASE}/customer/{doc['id']}/product", agent, body)
    assert status == 400 and error["@type"] == "Error"
    assert len(stored_items()) + len(stored_items("inventory")) == before


def test_consent_changes_are_audited(api, agent, as_customer):
    doc = create(api, agent)
    mine = as_customer(doc["id"], channel="app")
    status, _, _ = api.call("PATCH", f"{BASE}/customer/{doc['id']}", {**mine, "X-Journey-Key": "jrn-1"},
                            {"contactPreference": {"consent": {"sms": {"marketing": False}},
                                                   "quietHours": {"start": "22:00", "end": "07:30", "timeZone": "Europe/Paris"}}})
    assert status == 200
    api.call("PATCH", f"{BASE}/customer/{doc['id']}", mine, {"name": "Andrea R."})  # not a consent change
    status, audits, _ = api.call("GET", f"{BASE}/customer/{doc['id']}/consentAudit", mine)
    assert status == 200 and len(audits) == 2  # the change, then the consent given at sign-up
    latest, first = audits
    assert latest["changedBy"] == {"id": doc["id"], "role": "customer", "channel": "app"} and latest["journeyKey"] == "jrn-1"
    assert latest["changes"] == [
        {"path": "consent.sms.marketing", "from": True, "to": False},
        {"path": "quietHours", "from": None, "to": {"start": "22:00", "end": "07:30", "timeZone": "Europe/Paris"}}]
    assert first["changedBy"] == {"id": "agent-007", "role": "agent", "channel": "callcenter"}
    assert latest["changedAt"] > first["changedAt"]


def test_consent_decision_for_notifications(demo):
    from chalicelib.customer import service

    assert service.may_contact("cust-stacy", "email", "marketing") == {
        "allowed": False, "reason": "no marketing consent for email"}
    assert service.may_contact("nobody", "sms", "service")["allowed"] is False
    decision = service.may_contact("cust-andrea", "sms", "marketing")
    assert decision["allowed"] or decision["reason"] == "quiet hours"


def test_bad_journey_key_header_is_400(api, agent):
    status, error, _ = api.call("POST", f"{PI}/partyInteraction", {**agent, "X-Journey-Key": "a b"},
                                {"reason": "x", "direction": "inbound", "channel": [{"id": "web"}]})
    assert status == 400 and "Journey" in error["message"]


ODD_VALUES = [None, 5, -1.5, True, "", "x" * 3000, "²", "\u0000", [], [1, "a"], {}, {"id": 5}, "../../etc"]


def test_no_input_reaches_a_500(api, agent, as_customer, demo):
    """Odd values in every attribute of every write, and odd ids and parameters on every read."""
    andrea = as_customer("cust-andrea")
    writes = [("POST", f"{BASE}/customer", andrea_body()),
              ("PATCH", f"{BASE}/customer/cust-andrea", {"name": "x"}),
              ("POST", f"{BASE}/customer/cust-andrea/product", {"name": "TV", "contract": {"startDate": "2025-01-01"}}),
              ("POST", f"{BASE}/customer/cust-andrea/identityLink", {"visitorId": "v-1"}),
              ("POST", f"{PI}/partyInteraction", {"reason": "x", "direction": "inbound", "channel": [{"id": "web"}],
                                                  "relatedParty": [{"id": "v", "role": "visitor"}],
                                                  "interactionItem": [{"item": {"id": "b"}}]})]
    keys = ["contactMedium", "contactPreference", "engagedParty", "relatedParty", "characteristic", "validFor",
            "status", "account", "contract", "startDate", "interactionDate", "interactionItem", "channel", "direction",
            "journeyKey", "visitorId", "name", "reason", "@type", "id"]
    for method, path, body in writes:
        for key in keys:
            for value in ODD_VALUES:
                status, answer, _ = api.call(method, path, agent, {**body, key: value})
                assert status < 500, (method, path, key, value, answer)
        for nested in ({"consent": {"sms": value}} for value in ODD_VALUES):
            assert api.call(method, path, agent, {**body, "contactPreference": nested})[0] < 500
    reads = ["customer/{x}", "customer/{x}/view360", "customer/{x}/product", "customer/{x}/consentAudit",
             "customer?id={x}", "customer?name={x}", "customer/cust-andrea/view360?interactions={x}",
             "customer?limit={x}", "customer?offset={x}"]
    for template in reads:
        for odd in ("x" * 3000, "%00", "²", "-1", "%F0%9F%98%80", "a%2Fb"):
            for headers in (agent, andrea):
                assert api.call("GET", f"{BASE}/{template.format(x=odd)}", headers)[0] < 500, (template, odd)
            assert api.call("GET", f"{PI}/partyInteraction/{odd}", agent)[0] < 500
            assert api.call("GET", f"{PI}/partyInteraction?id={odd}", agent)[0] < 500
    for key in ("x" * 3000, "a b", "ü"):
        assert api.call("GET", f"{BASE}/customer/cust-andrea", {**agent, "X-Journey-Key": key})[0] == 400
