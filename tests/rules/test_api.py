"""TMF679 qualification, rules as data managed by catalog-admin, and guided selling, through the
HTTP API."""
import pytest

from tests.support.names import CARTS, POQ
from tests.support.orders import item

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
    assert status == 201 and doc["@type"] == "ProductOfferingQualification" and doc["state"] == "done"
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
                                  {"productOfferingQualificationItem": [{"id": "1", "productOffering": {"id": "po-tv-max"},
                                                                         "category": {"id": "cat-tv"}}]},
                                  poq("po-tv-max", expectedQualificationDate="2017-10-05"),
                                  poq("po-tv-max", provideAlternative="maybe"),
                                  poq("po-tv-max", provideUnavailabilityReason="false"),
                                  {"productOfferingQualificationItem": [{"id": "1", "productOffering": {"id": "po-tv-max"}},
                                                                        {"id": "1", "category": {"id": "cat-tv"}}]},
                                  poq("po-tv-max", place=[{"postCode": "??"}])])
def test_bad_qualification_requests(api, web, demo, body):
    status, error, _ = api.call("POST", f"{POQ}/productOfferingQualification", web, body)
    assert status == 400 and error["@type"] == "Error"


def test_answers_are_kept_and_read_back_by_whoever_may(api, web, andrea, agent, headers, demo):
    status, anonymous, headers_out = api.call("POST", f"{POQ}/productOfferingQualification", web,
                                              poq("po-tv-max", expectedQualificationDate="2026-12-01T10:00:00Z"))
    assert status == 201 and headers_out["Location"] == anonymous["href"]
    assert anonymous["expectedQualificationDate"] == "2026-12-01T10:00:00Z"
    assert anonymous["productOfferingQualificationDateTime"] == anonymous["productOfferingQualificationDate"]
    assert anonymous["expirationDate"] > anonymous["productOfferingQualificationDate"]
    _, hers, _ = api.call("POST", f"{POQ}/productOfferingQualification", andrea, poq("po-extreme-bundle"))
    one = f"{POQ}/productOfferingQualification/"
    assert api.call("GET", one + anonymous["id"], web)[1] == anonymous               # a channel: anonymous ones
    assert api.call("GET", one + hers["id"], web)[0] == 404                          # not a customer's
    assert api.call("GET", one + hers["id"], andrea)[1] == hers
    stacy = headers("customer", channel="web", customerId="cust-stacy", sub="cust-stacy")
    assert api.call("GET", one + hers["id"], stacy)[0] == 404                        # never another's
    assert api.call("GET", one + "no-such-answer", agent)[0] == 404
    status, listed, _ = api.call("GET", f"{POQ}/productOfferingQualification", agent)
    assert status == 200 and [d["id"] for d in listed][:2] == [hers["id"], anonymous["id"]]   # newest first
    assert [d["id"] for d in api.call("GET", f"{POQ}/productOfferingQualification", andrea)[1]] == [hers["id"]]
    assert api.call("GET", f"{POQ}/productOfferingQualification", web)[0] == 403    # a channel reads by id
    app = headers("channel", channel="app", sub="mobile-app")
    assert api.call("GET", one + anonymous["id"], app)[0] == 404                     # another channel's answer
    web_agent = headers("agent", channel="web", sub="agent-on-web")
    assert api.call("GET", f"{POQ}/productOfferingQualification", web_agent)[0] == 403   # agents work in their channels
    status, filtered, _ = api.call("GET", f'{POQ}/productOfferingQualification?expectedQualificationDate='
                                          f'"2026-12-01T10:00:00Z"&fields=id,state', agent)
    assert filtered == [{"id": anonymous["id"], "state": "done"}]


def test_a_category_is_qualified_by_its_offerings_and_unknown_parties_as_prospects(api, agent, demo):
    offering = api.call("GET", "/tmf-api/productCatalogManagement/v4/productOffering/po-phone-x", agent)[1]
    category = offering["category"][0]["id"]
    status, doc, _ = api.call("POST", f"{POQ}/productOfferingQualification", agent, {
        "productOfferingQualificationItem": [{"id": "1", "category": {"id": category}},
                                             {"id": "2", "category": {"id": "no-such-category"}}],
        "relatedParty": [{"id": "party-elsewhere-14", "role": "customer"}], "channel": {"id": "web"}})
    assert status == 201, doc
    known, unknown = doc["productOfferingQualificationItem"]
    assert known["qualificationItemResult"] == "qualified", known.get("eligibilityUnavailabilityReason")
    assert "po-phone-x" in [p["alternateProductOffering"]["id"] for p in known["alternateProductOfferingProposal"]]
    assert unknown["qualificationItemResult"] == "unqualified"
    assert [r["code"] for r in unknown["eligibilityUnavailabilityReason"]] == ["unknownCategory"]
    assert "party-elsewhere-14 is not known here" in doc["note"][0]["text"]
    assert doc["relatedParty"] == [{"id": "party-elsewhere-14", "role": "customer"}]
    quiet = api.call("POST", f"{POQ}/productOfferingQualification", agent, {
        "productOfferingQualificationItem": [{"id": "1", "category": {"id": category}}, {"id": "2", "productOffering": {"id": "x"}}],
        "provideAlternative": False, "provideUnavailabilityReason": False, "provideOnlyAvailable": True})[1]
    assert [set(i) & {"alternateProductOfferingProposal", "eligibilityUnavailabilityReason"}
            for i in quiet["productOfferingQualificationItem"]] == [set(), set()]   # every item answered


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
