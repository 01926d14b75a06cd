"""Who may do what: a customer token reaches only its own customer on EVERY route (another id is
404 or 403, never their data); roles and agent channels are checked."""
import json

import pytest

from tests.customer.conftest import BASE, PI, andrea_body

ANDREA = "cust-andrea"
# Every route of the two APIs: (method, path template, body). {cid} is Andrea, {iid} one of her
# interactions, {sid} a hub subscription; Stacy's token calls them all.
ROUTES = [
    ("GET", f"{BASE}/customer", None),
    ("POST", f"{BASE}/customer", andrea_body()),
    ("GET", f"{BASE}/customer/{{cid}}", None),
    ("PATCH", f"{BASE}/customer/{{cid}}", {"name": "Stolen"}),
    ("GET", f"{BASE}/customer/{{cid}}/view360", None),
    ("GET", f"{BASE}/customer/{{cid}}/product", None),
    ("POST", f"{BASE}/customer/{{cid}}/product", {"name": "TV", "contract": {"startDate": "2025-01-01T00:00:00Z"}}),
    ("GET", f"{BASE}/customer/{{cid}}/consentAudit", None),
    ("POST", f"{BASE}/customer/{{cid}}/identityLink", {"visitorId": "v-stacy"}),
    ("POST", f"{BASE}/hub", {"callback": "http://127.0.0.1:9/listener"}),
    ("GET", f"{BASE}/hub/{{sid}}", None),
    ("DELETE", f"{BASE}/hub/{{sid}}", None),
    ("GET", f"{PI}/partyInteraction", None),
    ("POST", f"{PI}/partyInteraction", {"reason": "x", "direction": "inbound", "channel": [{"id": "web"}],
                                        "relatedParty": [{"id": ANDREA, "role": "customer"}]}),
    ("GET", f"{PI}/partyInteraction/{{iid}}", None),
    ("POST", f"{PI}/hub", {"callback": "http://127.0.0.1:9/listener"}),
    ("GET", f"{PI}/hub/{{sid}}", None),
    ("DELETE", f"{PI}/hub/{{sid}}", None),
]


def test_every_route_is_in_the_matrix():
    from app import app

    ours = {(m, p) for p, entries in app.routes.items() for m in entries
            if p.startswith((BASE, PI)) and not p.endswith("/openapi.json")}   # the API reference: tests/docs
    assert ours == {(m, p.replace("{iid}", "{rid}")) for m, p, _ in ROUTES}


@pytest.fixture
def andrea_interaction(api, agent, demo):
    _, items, _ = api.call("GET", f"{PI}/partyInteraction?relatedParty.id={ANDREA}", agent)
    return items[0]["id"]


@pytest.fixture
def subscription(api, agent, monkeypatch):
    monkeypatch.setenv("OMNISHOP_OUTBOUND_ALLOW", "127.0.0.1:9")  # loopback callbacks must be allow-listed
    _, sub, _ = api.call("POST", f"{BASE}/hub", agent, {"callback": "http://127.0.0.1:9/listener"})
    return sub["id"]


@pytest.mark.parametrize("method, template, body", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_another_customer_never_gets_andreas_data(api, as_customer, andrea_interaction, subscription,
                                                 method, template, body):
    stacy = as_customer("cust-stacy")
    path = template.format(cid=ANDREA, iid=andrea_interaction, sid=subscription)
    status, answer, _ = api.call(method, path, stacy, body)
    text = json.dumps(answer)
    assert not any(secret in text for secret in ("Andrea", "+447700900123", "andrea.rossi@", "party-andrea"))
    if status == 200:  # lists: only Stacy's own
        assert method == "GET" and template.endswith(("/customer", "/partyInteraction"))
        assert answer and all("cust-stacy" in json.dumps(item) for item in answer)
    else:
        assert status in (403, 404) and answer["@type"] == "Error"
        if "{cid}" in template or "{iid}" in template:
            assert status == 404 or method == "POST", "customers reach others' data: 404"


def test_lists_filtered_to_someone_else_are_empty(api, as_customer, andrea_interaction):
    stacy = as_customer("cust-stacy")
    assert api.call("GET", f"{BASE}/customer?id={ANDREA}", stacy)[1] == []
    assert api.call("GET", f"{PI}/partyInteraction?id={andrea_interaction}", stacy)[1] == []
    assert api.call("GET", f"{PI}/partyInteraction?relatedParty.id={ANDREA}", stacy)[1] == []


def test_a_customer_reads_and_changes_its_own_record(api, as_customer, andrea_interaction):
    andrea = as_customer(ANDREA)
    for path in (f"customer/{ANDREA}", f"customer/{ANDREA}/view360", f"customer/{ANDREA}/product",
                 f"customer/{ANDREA}/consentAudit"):
        assert api.call("GET", f"{BASE}/{path}", andrea)[0] == 200, path
    assert api.call("GET", f"{PI}/partyInteraction/{andrea_interaction}", andrea)[0] == 200
    status, doc, _ = api.call("PATCH", f"{BASE}/customer/{ANDREA}", andrea,
                              {"contactPreference": {"consent": {"email": {"marketing": False}}}})
    assert status == 200 and doc["contactPreference"]["consent"]["email"] == {"service": True, "marketing": False}
    status, error, _ = api.call("PATCH", f"{BASE}/customer/{ANDREA}", andrea, {"status": "closed"})
    assert status == 403 and "status" in error["message"]
    _, mine, _ = api.call("GET", f"{BASE}/customer", andrea)
    assert [c["id"] for c in mine] == [ANDREA]


def test_roles(api, token, demo):
    def headers(role, **claims):
        return {"Authorization": f"Bearer {token(role, **claims)}", "Content-Type": "application/json"}

    web_agent = headers("agent", channel="web")
    assert api.call("GET", f"{BASE}/customer/{ANDREA}", web_agent)[0] == 403       # agents: callcenter or store
    assert api.call("GET", f"{BASE}/customer/{ANDREA}", headers("agent", channel="store"))[0] == 200
    channel = headers("channel", channel="web")
    assert api.call("POST", f"{BASE}/customer", channel, andrea_body())[0] == 201   # sign-up
    assert api.call("GET", f"{BASE}/customer/{ANDREA}", channel)[0] == 403          # but no reading customers
    assert api.call("GET", f"{PI}/partyInteraction", channel)[0] == 403
    for role, claims in (("marketing", {}), ("catalog-admin", {}), ("stack", {"stack": "csp-stack-a"})):
        assert api.call("GET", f"{BASE}/customer/{ANDREA}", headers(role, **claims))[0] == 403, role
        assert api.call("POST", f"{BASE}/customer", headers(role, **claims), andrea_body())[0] == 403, role
    assert api.call("GET", f"{BASE}/customer/{ANDREA}", {})[0] == 401
