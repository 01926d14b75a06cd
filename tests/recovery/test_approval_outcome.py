"""No silent dead ends between an approved basket and its order (issue 20), in-process with the
real workflows in moto and real stream records through the pump: an approval that cannot be
ordered goes back to the agent with the reason (on the worklist, a note on the item), the
customer is told by email with a link back; the approve link answers with the outcome (order, or
reason); the sweep leaves no basket approved without an order; replayed records change nothing."""
from chalicelib import settings
from tests.recovery.conftest import CARTS, wait_for
from tests.support.appointments import installed
from tests.support.orders import item
from tests.support.stored import emails_sent, stored_items

POQ = "/tmf-api/productOfferingQualification/v4"
PC = "/tmf-api/productCatalogManagement/v4"
ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"


def _handed_back(api, andrea, agent, *offerings):
    installed("cust-andrea", *offerings)   # the engineers' visits its order will need
    status, cart, _ = api.call("POST", CARTS, andrea, {"cartItem": [item(o) for o in offerings]})
    assert status == 201, cart
    for body in ({"status": "withAgent"}, {"status": "awaitingApproval"}):
        status, cart, headers = api.call("PATCH", f"{CARTS}/{cart['id']}", agent, body)
        assert status == 200, cart
    return cart, int(headers["ETag"].strip('W/"'))


def _approval_token(basket_id, version):
    from chalicelib.notify import links
    from chalicelib.recovery import domain

    return links.sign(domain.LINK_APPROVE, domain.approval_subject(basket_id, version), 600)


def _fibre_withdrawn(api, admin):
    status, body, _ = api.call("PATCH", f"{POQ}/qualificationRule/rule-broadband-fibre", admin,
                               {"technology": ["satellite"]})
    assert status == 200, body


def _approved_baskets():
    from chalicelib.basket import domain, store

    return [d["id"] for d in store.by_list(domain.APPROVED_KEY)]


def _orders():
    return [o for o in stored_items("order") if "shoppingCart" in o["body"]["S"]]


def test_an_approval_that_cannot_be_ordered_goes_back_to_the_agent_and_she_is_told(recovery, api, andrea, agent,
                                                                                   admin, pump):
    cart, _ = _handed_back(api, andrea, agent, "po-broadband-500", "po-tv-max")
    status, approved, _ = api.call("PATCH", f"{CARTS}/{cart['id']}", andrea, {"status": "approved"})
    assert status == 200 and approved["status"] == "approved"
    _fibre_withdrawn(api, admin)           # qualification fails after the approval, before capture
    wait_for(lambda: (pump.drain() or True) and api.call("GET", f"{CARTS}/{cart['id']}", andrea)[1]["status"]
             == "withAgent")
    status, back, _ = api.call("GET", f"{CARTS}/{cart['id']}", andrea)
    issue = back["context"]["orderIssue"]
    assert issue["code"] == "notQualified" and "satellite" in issue["reason"], issue
    assert issue["returnedTo"] == "agent" and back["context"]["agent"]["id"] == "agent-007"
    assert issue["cartItem"] == [back["cartItem"][0]["id"]]   # the item ordering named, not TV Max
    assert back["cartItem"][0]["note"][0]["text"] == issue["reason"] and not back["cartItem"][1].get("note")
    assert _orders() == [] and _approved_baskets() == []
    # the agent who handled it sees it on the worklist, with the reason
    status, work, _ = api.call("GET", "/recovery/worklist?claimed=true", agent)
    mine = [w for w in work if w["id"] == cart["id"]]
    assert status == 200 and mine and mine[0]["orderIssue"]["code"] == "notQualified", work
    # she is told by email (the channel she approved from), with a link back to the basket
    sent = wait_for(lambda: [m for m in emails_sent() if "could not place" in m[3]], timeout=30)
    assert len(sent) == 1 and "/recovery/link/" in sent[0][3] and "satellite" in sent[0][3]
    # replaying every record changes nothing: no order, no second message, the basket as it is
    from chalicelib.basket import store
    from chalicelib.recovery import sessions

    before = store.load_header(cart["id"])
    pump.drain()
    awaiting = {**approved, "status": "awaitingApproval"}
    assert sessions.on_change(awaiting, approved, before.version - 1) == "not ordered: the basket changed meanwhile"
    pump.drain()
    assert store.load_header(cart["id"]).version == before.version and _orders() == []
    assert len([m for m in emails_sent() if "could not place" in m[3]]) == 1


def test_the_approve_link_answers_with_the_order(recovery, api, andrea, agent, pump):
    cart, version = _handed_back(api, andrea, agent, "po-home-security")
    token = _approval_token(cart["id"], version)
    status, answer, _ = api.call("POST", f"/recovery/link/{token}/approve", {})
    assert status == 200 and answer["status"] == "ordered", answer
    order_id = answer["productOrder"]["id"]
    assert api.call("GET", f"{ORDERS}/{order_id}", andrea)[1]["shoppingCart"]["id"] == cart["id"]
    status, again, _ = api.call("POST", f"/recovery/link/{token}/approve", {})
    assert status == 200 and again["changed"] is False and again["productOrder"]["id"] == order_id
    pump.drain()    # the stream's own submission of the approval is the same order
    pump.drain()
    assert len(_orders()) == 1


def test_the_approve_link_answers_with_the_reason_when_a_price_changed(recovery, api, andrea, agent, admin, pump):
    cart, version = _handed_back(api, andrea, agent, "po-tv-max")
    status, body, _ = api.call("PATCH", f"{PC}/productOfferingPrice/pop-tv-monthly", admin,
                               {"price": {"unit": "EUR", "value": 27}})
    assert status == 200, body     # after the approval email showed 20 EUR
    token = _approval_token(cart["id"], version)
    status, answer, _ = api.call("POST", f"/recovery/link/{token}/approve", {})
    assert status == 200 and answer["status"] == "withAgent", answer
    assert answer["notOrdered"]["code"] == "priceChanged" and "TV Max" in answer["notOrdered"]["reason"]
    status, again, _ = api.call("POST", f"/recovery/link/{token}/approve", {})
    assert status == 200 and again["notOrdered"]["code"] == "priceChanged" and again["changed"] is False
    assert _orders() == []
    status, work, _ = api.call("GET", "/recovery/worklist?claimed=true", agent)
    assert [w["orderIssue"]["code"] for w in work if w["id"] == cart["id"]] == ["priceChanged"]
    sent = wait_for(lambda: [m for m in emails_sent() if "could not place" in m[3]], timeout=30)
    assert len(sent) == 1 and "TV Max" in sent[0][3] and "/recovery/link/" in sent[0][3]


def test_the_sweep_leaves_no_basket_approved_without_an_order(recovery, api, andrea, agent, admin, monkeypatch):
    """Stream records are not delivered (a consumer down): the sweep orders what it can and
    returns the rest with the reason."""
    from chalicelib.recovery import sessions

    good, _ = _handed_back(api, andrea, agent, "po-home-security")
    bad, _ = _handed_back(api, andrea, agent, "po-broadband-500")
    for cart in (good, bad):
        assert api.call("PATCH", f"{CARTS}/{cart['id']}", andrea, {"status": "approved"})[0] == 200
    _fibre_withdrawn(api, admin)
    monkeypatch.setenv("OMNISHOP_APPROVED_UNORDERED_SECONDS", "3600")
    assert sessions.sweep_approved() == {"ordered": 0, "returned": 0, "changed": 0, "stuck": 0}   # not yet due
    assert sorted(_approved_baskets()) == sorted([good["id"], bad["id"]])
    monkeypatch.setenv("OMNISHOP_APPROVED_UNORDERED_SECONDS", "0")
    counts = sessions.sweep_approved()
    assert counts == {"ordered": 1, "returned": 1, "changed": 0, "stuck": 0}, counts
    assert _approved_baskets() == []
    assert api.call("GET", f"{CARTS}/{good['id']}", andrea)[1]["status"] == "ordered"
    assert api.call("GET", f"{CARTS}/{bad['id']}", andrea)[1]["status"] == "withAgent"
    assert sessions.sweep_approved() == {"ordered": 0, "returned": 0, "changed": 0, "stuck": 0}


def test_the_sweep_is_scheduled_in_cdk_and_locally():
    from infra import resources

    sweep = next(s for s in resources.SCHEDULES if s.function == "basket-sweep")
    assert resources.function("basket-sweep").handler == "functions.basket_sweep.handler"
    assert sweep.expression.startswith("rate(")
    assert any(getattr(a, "metric", None) == "ApprovedBasketStuck" for a in resources.ALARMS)
    assert settings.approved_unordered_seconds() > 0


def test_a_passing_fault_keeps_the_approval_and_tells_her_nothing(recovery, api, andrea, agent, monkeypatch):
    """A transaction conflict (or any fault) while an approved basket is ordered is not a reason
    to send it back: it stays approved for the stream or the sweep to try again, and she gets no
    "could not place" message. Only capture's business refusals return a basket."""
    from chalicelib.basket import store
    from chalicelib.errors import ApiError, conflict
    from chalicelib.ordering import capture as ordering
    from chalicelib.recovery import sessions

    cart, _ = _handed_back(api, andrea, agent, "po-home-security")
    status, approved, _ = api.call("PATCH", f"{CARTS}/{cart['id']}", andrea, {"status": "approved"})
    assert status == 200
    found = store.load_header(cart["id"])

    def conflicting(*args, **kwargs):
        raise conflict("the write conflicted with another transaction; send it again", "transactionConflict")
    monkeypatch.setattr(ordering, "create", conflicting)
    try:
        sessions.place_approved(found.doc, found.version)
        raise AssertionError("a passing fault was taken as a refusal")
    except ApiError as exc:
        assert exc.code == "transactionConflict"
    assert store.load_header(cart["id"]).doc["status"] == "approved"
    assert "orderIssue" not in (store.load_header(cart["id"]).doc.get("context") or {})
    assert [m for m in emails_sent() if "could not place" in m[3]] == []
