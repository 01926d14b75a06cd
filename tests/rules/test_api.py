"""TMF679 qualification, rules as data managed by catalog-admin, and guided selling, through the
HTTP API."""
import pytest

from tests.basket.conftest import CARTS, POQ, item

RULES = f"{POQ}/qualificationRule"


def poq(*offerings, **extra):
    return {"productOfferingQualificationItem": [{"id": str(n), "productOffering": {"id": o}}
                                                 for n, o in enumerate(offerings, 1)], **extra}


def results(doc):
    return {i["productOffering"]["id"]: (i["qualificationItemResult"],
                                         [r["code"] for r in i.get("eligibilityUnavailabilityReason", [])])
            for i in doc["productOfferingQualificationItem"]}


def test_qualification_answers_each_item_with_reasons(api, web, demo):
    status, doc, _ = api.call("POST", f"{POQ}/productOfferingQualification", web,
                              poq("po-phone-x-plan-24", "po-broadband-500", "po-nope", place=[{"postCode": "LL57 2DG"}]))
    assert status == 200 and doc["@type"] == "ProductOfferingQualification" and doc["state"] == "done"
    assert results(doc) == {"po-phone-x-plan-24": ("unqualified", ["requiresHandset"]),
                            "po-broadband-500": ("unqualified", ["notServiceable"]),
                            "po-nope": ("unqualified", ["unknownOffering"])}
    assert doc["qualificationResult"] == "unqualified" and doc["region"] == {"name": "Wales", "source": "postcode"}
    status, doc, _ = api.call("POST", f"{POQ}/productOfferingQualification", web,
                              poq("po-phone-x-plan-24", "po-phone-x", place=[{"postCode": "EC1A 1BB"}]))
    assert doc["qualificationResult"] == "qualified"


def test_qualification_knows_the_customer(api, agent, andrea, demo):
    status, doc, _ = api.call("POST", f"{POQ}/productOfferingQualification", andrea, poq("po-extreme-bundle"))
    assert results(doc) == {"po-extreme-bundle": ("qualified", [])}            # 45 days to contract end, BS1 fibre
    status, doc, _ = api.call("POST", f"{POQ}/productOfferingQualification", agent,
                              poq("po-extreme-bundle", relatedParty=[{"id": "cust-acme", "role": "customer"}]))
    assert sorted(results(doc)["po-extreme-bundle"][1]) == ["addressRequired", "customerTypeNotEligible",
                                                            "segmentNotEligible", "upgradeNotYetEligible"]


@pytest.mark.parametrize("body", [{}, {"productOfferingQualificationItem": []},
                                  {"productOfferingQualificationItem": [{"id": "1"}]},
                                  poq("po-tv-max", place=[{"postCode": "??"}])])
def test_bad_qualification_requests(api, web, demo, body):
    status, error, _ = api.call("POST", f"{POQ}/productOfferingQualification", web, body)
    assert status == 400 and error["@type"] == "Error"


def test_rules_are_data_managed_by_catalog_admin(api, admin, agent, web, andrea, demo):
    rule = {"name": "Charger needs a Phone X", "ruleType": "requires", "productOffering": [{"id": "po-fast-charger"}],
            "requires": [{"id": "po-phone-x"}], "message": "The fast charger is sold with a Phone X"}
    assert api.call("POST", RULES, agent, rule)[0] == 403
    assert api.call("POST", RULES, web, rule)[0] == 403
    status, created, headers = api.call("POST", RULES, admin, rule)
    assert status == 201 and headers["Location"] == created["href"] and headers["ETag"] == '"1"'
    # the next basket change is checked against it, in one place
    _, cart, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-fast-charger")]})
    reason = cart["cartItem"][0]["qualification"]["eligibilityUnavailabilityReason"]
    assert [(r["code"], r["label"], r["ruleId"]) for r in reason] == [
        ("requires", "The fast charger is sold with a Phone X", created["id"])]
    status, patched, _ = api.call("PATCH", f"{RULES}/{created['id']}", {**admin, "If-Match": '"1"'},
                                  {"lifecycleStatus": "retired"})
    assert status == 200 and patched["lifecycleStatus"] == "retired"
    assert api.call("PATCH", f"{RULES}/{created['id']}", {**admin, "If-Match": '"1"'}, {"name": "x"})[0] == 412
    _, cart, _ = api.call("PATCH", f"{CARTS}/{cart['id']}", andrea, {"cartItem": [{"id": cart["cartItem"][0]["id"],
                                                                                   "quantity": 2}]})
    assert cart["cartItem"][0]["qualification"]["qualificationItemResult"] == "qualified"
    status, listed, _ = api.call("GET", f"{RULES}?ruleType=requires", agent)
    assert status == 200 and {r["id"] for r in listed} >= {created["id"], "rule-tv-needs-broadband"}
    assert api.call("GET", RULES, web)[0] == 403
    assert api.call("DELETE", f"{RULES}/{created['id']}", admin)[0] == 204
    assert api.call("GET", f"{RULES}/{created['id']}", admin)[0] == 404


@pytest.mark.parametrize("body", [
    {"name": "x", "ruleType": "requires", "productOffering": [{"id": "po-tv-max"}]},
    {"name": "x", "ruleType": "unknown", "productOffering": [{"id": "po-tv-max"}]},
    {"ruleType": "excludes", "productOffering": [{"id": "a"}], "excludes": [{"id": "b"}]},
    {"name": "x", "ruleType": "channel", "productOffering": [{"id": "a"}], "channel": "web"},
])
def test_bad_rules_write_nothing(api, admin, demo, body):
    _, before, _ = api.call("GET", RULES, admin)
    status, error, _ = api.call("POST", RULES, admin, body)
    assert status == 400 and error["@type"] == "Error"
    assert api.call("GET", RULES, admin)[1] == before


def test_guided_selling_handset_then_plans_then_accessories(api, web, headers, demo):
    status, doc, _ = api.call("GET", f"{POQ}/guidedSelling/po-phone-x", web)
    assert status == 200
    steps = {s["step"]: [o["id"] for o in s["productOffering"]] for s in doc["steps"]}
    assert [s["step"] for s in doc["steps"]] == ["plan", "accessory"]
    assert steps == {"plan": ["po-phone-x-plan-24"], "accessory": ["po-phone-x-case", "po-fast-charger"]}
    social = headers("channel", channel="social", sub="bot")
    _, doc, _ = api.call("GET", f"{POQ}/guidedSelling/po-phone-x", social)
    assert doc["steps"][0]["productOffering"] == []                      # the plan is not sold on social
    assert api.call("GET", f"{POQ}/guidedSelling/po-nope", web)[0] == 404
    assert api.call("GET", f"{POQ}/guidedSelling/po-tv-max", web)[0] == 400
