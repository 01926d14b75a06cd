"""Issue 13's business journey over HTTP against the local runtime: an agent quotes Acme 300
mobile lines for its two sites with a 15 % discount; a sales manager approves it; Acme's buyer
gets it by email and accepts it by the link; the buyer orders it; the order splits into a child
order per stack and site (at most 100 lines each); the milestones go by email to Acme's technical
contact. The quote's 300 lines and the order's are kept in pages (chalicelib/pages.py)."""
import time
import urllib.parse

from tests.support import runtimes

QUOTES = "/tmf-api/quoteManagement/v4/quote"
ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
FAST = runtimes.FAST_STACKS
pytestmark = runtimes.shared(FAST)   # the other journeys' runtime
SITES = ("acme-bristol", "acme-bath")


def _auth(runtime, role, **claims):
    return {"Authorization": f"Bearer {runtime.token(role, **claims)}"}


def _wait(what, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        found = what()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def _emails_to(runtime, address):
    status, _, sent = runtime.request("GET", f"/local/outbox?kind=email&to={urllib.parse.quote(address)}")
    assert status == 200, sent
    return sent


def test_a_business_buyer_quotes_300_lines_for_two_sites_accepts_by_link_and_orders(local_runtime_factory):
    runtime = local_runtime_factory(**FAST)
    agent = _auth(runtime, "agent", channel="callcenter", sub="agent-b2b")
    manager = _auth(runtime, "sales-manager", sub="mgr-b2b")
    raj = _auth(runtime, "customer", channel="web", customerId="cust-acme", sub="raj", partyId="party-acme-raj")

    lines = [{"productOffering": {"id": "po-business-mobile"}, "quantity": 1,
              "product": {"place": [{"id": SITES[n % 2], "role": "site"}]}} for n in range(300)]
    status, _, quote = runtime.request("POST", QUOTES, {
        "quoteItem": lines, "discount": {"percentage": 15},
        "relatedParty": [{"id": "cust-acme", "role": "customer", "@referredType": "Customer"}]}, agent)
    assert status == 201, quote
    assert len(quote["quoteItem"]) == 300 and sum(i["quantity"] for i in quote["quoteItem"]) == 300
    status, _, quote = runtime.request("PATCH", f"{QUOTES}/{quote['id']}", {"state": "approved"}, agent)
    assert status == 200 and quote["state"] == "pending", quote                     # 15 % needs a manager
    status, _, quote = runtime.request("PATCH", f"{QUOTES}/{quote['id']}",
                                       {"state": "approved", "stateReason": "300-line fleet"}, manager)
    assert status == 200 and quote["state"] == "approved", quote

    # the buyer gets the quote by email and accepts that version by its signed link (no login)
    mail = _wait(lambda: [m for m in _emails_to(runtime, "raj.patel@acme.example.com")
                          if m.get("subject") == "Your Omnishop quote"])[0]
    link = mail["text"].split("Accept it here: ")[1].split()[0]
    status, _, accepted = runtime.request("POST", link[link.index("/tmf-api/"):] + "/accept", {})
    assert status == 200 and accepted["quote"]["state"] == "accepted", accepted

    status, _, order = runtime.request("POST", ORDERS, {"quote": [{"id": quote["id"]}]}, raj)
    assert status == 201, order
    monthly = next(p for p in order["orderTotalPrice"] if p["priceType"] == "recurring")
    assert monthly["price"]["taxIncludedAmount"]["value"] == 3825.0                # 300 x 15 EUR less 15 %
    assert {"id": "party-acme-raj", "role": "orderedBy", "@referredType": "Individual"} in order["relatedParty"]

    # polled as a channel polls a 300-line order: its state only (`fields=state`), then the whole order once
    _wait(lambda: runtime.request("GET", f"{ORDERS}/{order['id']}?fields=state", None, raj)[2]["state"]
          in ("completed", "partial", "failed"))
    done = runtime.request("GET", f"{ORDERS}/{order['id']}", None, raj)[2]
    assert done["state"] == "completed", done
    children = [runtime.request("GET", f"{ORDERS}/{r['id']}", None, agent)[2]
                for r in done["orderRelationship"] if r["relationshipType"] == "child"]
    by_site: dict[str, list[int]] = {}
    for child in children:   # 150 lines a site: a child order of 100 and one of 50
        by_site.setdefault(child["description"].rsplit(" ", 1)[-1], []).append(len(child["productOrderItem"]))
    assert {site: sorted(sizes) for site, sizes in by_site.items()} == {"acme-bristol": [50, 100], "acme-bath": [50, 100]}
    assert len(done["productOrderItem"]) == 300 and {i["state"] for i in done["productOrderItem"]} == {"completed"}
    assert {next(p["id"] for p in c["relatedParty"] if p["role"] == "fulfilmentStack") for c in children} == {"csp-stack-b"}

    # the milestones went to the technical contact, by email (Acme takes no SMS)
    milestones = _wait(lambda: [m for m in _emails_to(runtime, "tom.okafor@acme.example.com")
                                if f"{order['id']} is complete" in m["text"]])
    assert len(milestones) == 1
    assert not [m for m in _emails_to(runtime, "raj.patel@acme.example.com") if order["id"] in m["text"]]
