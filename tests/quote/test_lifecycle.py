"""The TMF648 quote life cycle over HTTP: an agent quotes items for a business customer, the
approval rules send a discounted quote to a sales manager (worklist, email), the approved quote
goes to the customer by email with a signed link, she accepts that version, and the accepted
quote is ordered at its agreed prices, the order referencing it. Every answer is checked
against the TMF648 v4 Quote schema."""
from tests.quote.conftest import ACME, ANDREA, ORDERS, QUOTES, new_quote, stored, total, valid
from tests.support.stored import emails_sent


def test_agent_quotes_items_priced_from_the_catalogue(api, demo, agent):
    status, doc, headers = api.call("POST", QUOTES, agent, new_quote(("po-mobile-unlimited", 3), ("po-phone-x", 2)))
    assert status == 201, doc
    assert valid(doc) and doc["state"] == "inProgress" and doc["version"] == "1" and headers["ETag"] == '"1"'
    assert headers["Location"] == doc["href"]
    assert total(doc, "recurring") == 75 and total(doc, "oneTime") == 198      # 3 x 25 / month, 2 x 99
    assert [i["id"] for i in doc["quoteItem"]] == ["1", "2"]
    assert {p["id"]: p["role"] for p in doc["relatedParty"]} == {ACME: "customer", "agent-007": "agent"}
    assert doc["validFor"]["endDateTime"] > doc["validFor"]["startDateTime"]
    status, again, _ = api.call("GET", f"{QUOTES}/{doc['id']}", agent)
    assert status == 200 and again == doc and valid(again)


def test_discount_over_threshold_waits_for_a_sales_manager_then_the_customer_accepts_and_orders(
        api, demo, agent, manager, andrea, pump, clock):
    body = new_quote(("po-mobile-unlimited", 10), customer=ANDREA, discount={"percentage": 15})
    _, doc, _ = api.call("POST", QUOTES, agent, body)
    assert total(doc) == 212.5 and valid(doc)          # 250 less 15 %
    alteration = doc["quoteTotalPrice"][0]["priceAlteration"][-1]
    assert alteration["name"] == "Agreed discount" and alteration["price"]["taxIncludedAmount"]["value"] == 37.5
    qid = doc["id"]
    status, doc, _ = api.call("PATCH", f"{QUOTES}/{qid}", agent, {"state": "approved"})
    assert status == 200 and doc["state"] == "pending" and valid(doc)
    assert doc["authorization"][0]["name"] == "discountOverThreshold" and doc["authorization"][0]["state"] == "requested"
    pump.drain()
    status, worklist, _ = api.call("GET", f"{QUOTES}?state=pending", manager)
    assert status == 200 and [q["id"] for q in worklist] == [qid] and all(valid(q) for q in worklist)
    asked = [e for e in emails_sent() if e[2] == "A quote waits for your approval"]
    assert len(asked) == 1 and asked[0][1] == ["sales-managers@omnishop.example"] and qid in asked[0][3]
    status, doc, _ = api.call("PATCH", f"{QUOTES}/{qid}", manager, {"state": "approved", "stateReason": "fleet deal"})
    assert status == 200 and doc["state"] == "approved" and valid(doc)
    given = doc["authorization"][0]
    assert given["state"] == "approved" and given["approver"][0]["id"] == "mgr-maria" and given["reason"] == "fleet deal"
    pump.drain()
    pump.drain()   # the same records again change nothing: one email each
    assert api.call("GET", f"{QUOTES}?state=pending", manager)[1] == []
    mails = [e for e in emails_sent() if e[2] == "Your Omnishop quote"]
    assert len(mails) == 1 and mails[0][1] == ["andrea.rossi@example.com"] and "212.5 EUR/month" in mails[0][3]
    assert len([e for e in emails_sent() if e[2] == "A quote waits for your approval"]) == 1
    link = mails[0][3].split("Accept it here: ")[1].split()[0]
    path = link[link.index("/tmf-api/"):]
    status, offer, _ = api.call("GET", path, {})
    assert status == 200 and offer["quote"]["version"] == "1" and offer["actions"][0]["name"] == "accept"
    status, accepted, _ = api.call("POST", f"{path}/accept", {})
    assert status == 200 and accepted["quote"]["state"] == "accepted" and accepted["changed"] is True
    assert api.call("POST", f"{path}/accept", {})[1]["changed"] is False
    status, order, _ = api.call("POST", ORDERS, andrea, {"quote": [{"id": qid}]})
    assert status == 201, order
    assert order["quote"][0]["id"] == qid and order["id"] == f"quote-{qid}"
    monthly = next(p for p in order["orderTotalPrice"] if p["priceType"] == "recurring")
    assert monthly["price"]["taxIncludedAmount"]["value"] == 212.5 and monthly["@type"] == "OrderPrice"
    status, doc, _ = api.call("GET", f"{QUOTES}/{qid}", andrea)
    assert doc["state"] == "accepted" and doc["productOrder"][0]["id"] == order["id"] and valid(doc)
    status, again, _ = api.call("POST", ORDERS, andrea, {"quote": [{"id": qid}]})
    assert status in (200, 201) and again["id"] == order["id"]
    assert len([r for r in stored() if r["pk"]["S"] == qid]) == 1


def test_a_business_customers_quote_goes_to_its_buyer_who_accepts_it(api, demo, agent, acme, pump, clock, headers):
    _, doc, _ = api.call("POST", QUOTES, agent, new_quote(("po-business-mobile", 20)))
    status, doc, _ = api.call("PATCH", f"{QUOTES}/{doc['id']}", agent, {"state": "approved"})
    assert status == 200 and doc["state"] == "approved", doc
    pump.drain()
    mails = [e for e in emails_sent() if e[2] == "Your Omnishop quote"]
    assert len(mails) == 1 and mails[0][1] == ["raj.patel@acme.example.com"]      # Raj is Acme's buyer
    tom = headers("customer", channel="web", customerId=ACME, sub="tom", partyId="party-acme-tom")
    status, refused, _ = api.call("PATCH", f"{QUOTES}/{doc['id']}", tom, {"state": "accepted", "version": "1"})
    assert (status, refused["code"]) == (403, "contactRoleRequired")            # a technical contact does not accept
    status, accepted, _ = api.call("PATCH", f"{QUOTES}/{doc['id']}", acme, {"state": "accepted", "version": "1"})
    assert status == 200 and accepted["state"] == "accepted"


def test_a_quote_names_only_the_customers_own_sites(api, demo, agent):
    def at(site):
        return {"productOffering": {"id": "po-business-mobile"}, "quantity": 5,
                "product": {"place": [{"id": site, "role": "site"}]}}

    status, refused, _ = api.call("POST", QUOTES, agent, new_quote(at("acme-bristol"), at("acme-leeds")))
    assert (status, refused["code"]) == (422, "unknownSite") and "quoteItem.1" in refused["message"]
    assert stored() == []
    status, doc, _ = api.call("POST", QUOTES, agent, new_quote(at("acme-bristol"), at("acme-bath")))
    assert status == 201, doc
    status, refused, _ = api.call("PATCH", f"{QUOTES}/{doc['id']}", agent, {"quoteItem": [at("nowhere")]})
    assert (status, refused["code"]) == (422, "unknownSite")
    status, refused, _ = api.call("POST", QUOTES, agent, new_quote(at("acme-bath"), customer=ANDREA))
    assert (status, refused["code"]) == (422, "unknownSite")       # a person has no sites
