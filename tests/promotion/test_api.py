"""TMF671 promotionManagement over HTTP (chalice test client, moto in-process): catalog admins
and marketing make promotions, other roles cannot, channels and customers read the live ones;
the lifecycle; bad input is a 4xx TMF error and writes nothing; hub events; every answer valid
against the TMF671 v4 swagger (our own spec check: TM Forum publishes no TMF671 kit)."""
import json

import pytest

from chalicelib.promotion import demo as promotion_demo
from infra.local.listener import Listener
from tests.promotion.conftest import BASE, PROMOTIONS, promotion, spec, stored, valid
from tests.support.tmf_spec import tmf_error_problems

DEMO = promotion_demo.PROMOTION_ID


def test_marketing_makes_changes_and_retires_a_promotion_with_events_on_the_hub(api, demo, marketing, admin, pump):
    with Listener() as listener:
        assert api.call("POST", f"{BASE}/hub", admin, {"callback": listener.url})[0] == 201
        status, made, headers = api.call("POST", PROMOTIONS, marketing, promotion(lifecycleStatus="inDesign"))
        assert status == 201 and valid(made, "POST", "/promotion", 201) and headers["ETag"] == '"1"'
        assert made["lifecycleStatus"] == "inDesign" and made["@type"] == "Promotion"
        assert headers["Location"] == made["href"] and made["href"].endswith(f"{PROMOTIONS}/{made['id']}")
        path = f"{PROMOTIONS}/{made['id']}"
        status, one, headers = api.call("GET", path, admin)
        assert status == 200 and one == made and valid(one) and headers["ETag"] == '"1"'
        status, live, headers = api.call("PATCH", path, {**admin, "If-Match": '"1"'}, {"lifecycleStatus": "active"})
        assert status == 200 and live["lifecycleStatus"] == "active" and headers["ETag"] == '"2"'
        assert valid(live, "PATCH", "/promotion/{id}", 200)
        status, current, _ = api.call("PATCH", path, {**admin, "If-Match": '"1"'}, {"description": "stale"})
        assert status == 412 and current["lifecycleStatus"] == "active"
        status, error, _ = api.call("DELETE", path, marketing)
        assert status == 422 and error["code"] == "invalidLifecycleTransition"     # active: retire it
        assert api.call("PATCH", path, marketing, {"lifecycleStatus": "retired"})[0] == 200
        status, error, _ = api.call("PATCH", path, marketing, {"lifecycleStatus": "active"})
        assert status == 422 and error["code"] == "invalidLifecycleTransition"
        pump.drain()
        assert pump.errors == []
        assert listener.event_types() == ["PromotionCreateEvent", "PromotionStateChangeEvent",
                                          "PromotionStateChangeEvent"]
        for event in listener.events:
            assert spec().problems(event, definition=event["eventType"]) == []
        assert listener.events[1]["event"]["promotion"]["lifecycleStatus"] == "active"


def test_an_in_design_promotion_is_deleted(api, demo, admin, pump):
    made = api.call("POST", PROMOTIONS, admin, promotion(lifecycleStatus="inDesign"))[1]
    assert api.call("DELETE", f"{PROMOTIONS}/{made['id']}", {**admin, "If-Match": '"9"'})[0] == 412
    assert api.call("DELETE", f"{PROMOTIONS}/{made['id']}", admin)[0] == 204
    assert api.call("GET", f"{PROMOTIONS}/{made['id']}", admin)[0] == 404


def test_lists_are_paged_filtered_and_valid(api, demo, admin, marketing):
    api.call("POST", PROMOTIONS, marketing, promotion())
    api.call("POST", PROMOTIONS, marketing, promotion("Later", lifecycleStatus="inDesign"))
    status, items, headers = api.call("GET", PROMOTIONS, admin)
    assert status == 200 and headers["X-Total-Count"] == "3" and valid(items, "GET", "/promotion", 200)
    _, active, _ = api.call("GET", f"{PROMOTIONS}?lifecycleStatus=active", admin)
    assert sorted(p["name"] for p in active) == ["Home Security welcome: 20% off Broadband", "Three months of TV free"]
    _, page, headers = api.call("GET", f"{PROMOTIONS}?limit=1&offset=1&fields=name", admin)
    assert len(page) == 1 and headers["X-Total-Count"] == "3" and set(page[0]) == {"id", "href", "name"}
    status, error, _ = api.call("GET", f"{PROMOTIONS}?colour=red", admin)
    assert status == 400 and "colour" in error["message"]


@pytest.mark.parametrize("role", ["channel", "customer"])
def test_channels_and_customers_read_live_promotions_only(api, demo, admin, headers, role):
    who = headers(role, channel="web", sub="someone", **({"customerId": "cust-andrea"} if role == "customer" else {}))
    draft = api.call("POST", PROMOTIONS, admin, promotion("Draft", lifecycleStatus="inDesign"))[1]
    ended = api.call("POST", PROMOTIONS, admin, promotion("Ended", validFor={
        "startDateTime": "2020-01-01T00:00:00Z", "endDateTime": "2020-02-01T00:00:00Z"}))[1]
    status, items, _ = api.call("GET", PROMOTIONS, who)
    assert status == 200 and [p["id"] for p in items] == [DEMO]
    assert api.call("GET", f"{PROMOTIONS}/{DEMO}", who)[0] == 200
    for hidden in (draft, ended):
        assert api.call("GET", f"{PROMOTIONS}/{hidden['id']}", who)[0] == 404


@pytest.mark.parametrize("role", ["agent", "channel", "customer", "stack", "sales-manager"])
def test_another_role_cannot_create_change_or_delete(api, demo, headers, role):
    claims = {"stack": {"stack": "csp-stack-a"}, "customer": {"customerId": "cust-andrea", "channel": "web"},
              "channel": {"channel": "web"}}.get(role, {})
    who = headers(role, sub="someone", **claims)
    before = stored()
    for method, path, body in (("POST", PROMOTIONS, promotion()),
                               ("PATCH", f"{PROMOTIONS}/{DEMO}", {"lifecycleStatus": "retired"}),
                               ("DELETE", f"{PROMOTIONS}/{DEMO}", None)):
        status, error, _ = api.call(method, path, who, body)
        assert status == 403 and error["code"] == "forbidden", (role, method, error)
    assert stored() == before


def _action(**action):
    body = promotion()
    body["pattern"][0]["action"] = [{"actionType": "percentageOff", "actionValue": "10", **action}]
    return body


def _criterion(**criterion):
    body = promotion()
    body["pattern"][0]["criteriaGroup"] = [{"criteria": [{"criteriaParameter": "channel", "criteriaOperator": "=",
                                                          "criteriaValue": "web", **criterion}]}]
    return body


BAD = [
    ("not json", b"{not json", 400),
    ("an array", b"[1, 2]", 400),
    ("too deep", b'{"a":' * 40 + b"1" + b"}" * 40, 400),
    ("too big", json.dumps(promotion(description="x" * 300_000)).encode(), 413),
    ("no name", {k: v for k, v in promotion().items() if k != "name"}, 400),
    ("no pattern", {k: v for k, v in promotion().items() if k != "pattern"}, 400),
    ("unknown action type", _action(actionType="doubleData"), 400),
    ("negative percent", _action(actionValue="-5"), 400),
    ("over 100 percent", _action(actionValue="120"), 400),
    ("zero percent", _action(actionValue="0"), 400),
    ("percent not a number", _action(actionValue="lots"), 400),
    ("percent without a value", _action(actionValue=None), 400),
    ("negative amount", _action(actionType="amountOff", actionValue="-1"), 400),
    ("half a free month", _action(actionType="freeMonths", actionValue="1.5"), 400),
    ("free item naming nothing", _action(actionType="freeItem"), 400),
    ("duration of 0 months", _action(applicationDuration=0), 400),
    ("unknown price type", _action(priceType="yearly"), 400),
    ("unknown criterion", _criterion(criteriaParameter="shoeSize"), 400),
    ("unknown operator", _criterion(criteriaOperator=">="), 400),
    ("criterion value not text", _criterion(criteriaValue=7), 400),
    ("unknown status", promotion(lifecycleStatus="launched"), 400),
    ("validFor backwards", promotion(validFor={"startDateTime": "2027-02-01T00:00:00Z",
                                               "endDateTime": "2027-01-01T00:00:00Z"}), 400),
    ("validFor not a date", promotion(validFor={"endDateTime": "31 March"}), 400),
    ("too many patterns", promotion(pattern=promotion()["pattern"] * 21), 400),
    ("@type not text", promotion(**{"@type": 5}), 400),
]


@pytest.mark.parametrize("case, body, status", BAD, ids=[c[0] for c in BAD])
def test_bad_input_is_a_4xx_and_writes_nothing(api, demo, admin, case, body, status):
    before = stored()
    got, error, _ = api.call("POST", PROMOTIONS, admin, body)
    assert got == status, (case, error)
    assert tmf_error_problems(status, error) == []
    assert stored() == before


def test_a_bad_patch_changes_nothing(api, demo, admin):
    before = stored()
    for patch, code in (({"id": "other"}, "readOnlyField"),
                        ({"pattern": [{"criteriaGroup": [], "action": []}]}, None),
                        ({"pattern": _action(actionValue="101")["pattern"]}, "invalidAction"),
                        ({"exclusiveGroup": 7}, None)):
        status, error, _ = api.call("PATCH", f"{PROMOTIONS}/{DEMO}", admin, patch)
        assert status == 400 and (code is None or error["code"] == code), (patch, error)
    assert stored() == before
