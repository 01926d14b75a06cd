"""`make demo`: the acceptance story (DESIGN.md §1, seed 000) played over HTTP, narrated.

    python -m infra.local.demo            # starts its own local runtime on free ports, then stops it
    python -m infra.local.demo --url URL  # uses a runtime already running (its idle time applies)

Every step is an API call a channel, an agent or marketing would make; what the customer reads
(SMS, emails) comes from the runtime's outbox (GET /local/outbox), and the child orders from the
order itself. One journey key carries the whole story. Nothing here is a test: tests/journeys
check the same story with assertions; this prints it for a person to follow.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Mapping

CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
CARTS = "/tmf-api/shoppingCart/v4/shoppingCart"
ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
PAYMENTS = "/tmf-api/paymentManagement/v4/payment"
OFFERINGS = "/tmf-api/productCatalogManagement/v4/productOffering"
CAMPAIGNS = "/tmf-api/campaignManagement/v4/campaign"
INTERACTIONS = "/tmf-api/partyInteraction/v4/partyInteraction"
APPOINTMENTS = "/tmf-api/appointment/v4/appointment"
SLOTS = "/tmf-api/appointment/v4/searchTimeSlot"
NAME, MOBILE, EMAIL = "Giulia Bianchi", "+447700900555", "giulia.bianchi@example.com"
JOURNEY = "jrn-demo-home-security"
CAMPAIGN_LINK = re.compile(r"/c/([A-Za-z0-9-]+\.[a-f0-9]{12})")
RECOVERY_LINK = re.compile(r"/recovery/link/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")
FINAL = ("completed", "partial", "failed", "held")
PATIENCE = 180.0   # seconds to wait for any one thing the runtime does by itself


class Stuck(RuntimeError):
    """A step's call was refused, or what it waits for never came."""


class Demo:
    def __init__(self, url: str, out: Callable[[str], None] = print) -> None:
        self.url, self.out, self.step = url.rstrip("/"), out, 0
        self.facts: dict[str, Any] = {}

    # --- plumbing -----------------------------------------------------------------------------
    def call(self, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None,
             ok: tuple[int, ...] = (200, 201)) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=PATIENCE) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        answer = json.loads(raw) if raw.strip() else None
        if status not in ok:
            raise Stuck(f"{method} {path} answered {status}: {json.dumps(answer)[:600]}")
        return answer

    def auth(self, role: str, **claims: Any) -> dict[str, str]:
        token = self.call("POST", "/local/token", {"role": role, **claims})["access_token"]
        return {"Authorization": f"Bearer {token}"}

    def wait(self, what: str, found: Callable[[], Any]) -> Any:
        deadline = time.monotonic() + PATIENCE
        while True:
            value = found()
            if value:
                return value
            if time.monotonic() > deadline:
                raise Stuck(f"gave up after {PATIENCE:.0f} s waiting for {what}")
            time.sleep(0.5)

    def sent(self, to: str, kind: str, containing: str) -> list[dict[str, Any]]:
        return [m for m in self.call("GET", f"/local/outbox?to={urllib.parse.quote(to)}&kind={kind}")
                if containing in (m.get("text") or "") + (m.get("subject") or "")]

    # --- narration ----------------------------------------------------------------------------
    def say(self, title: str, text: str) -> None:
        self.step += 1
        self.out(f"\n{self.step}. {title}")
        self.out(textwrap.fill(text, 96, initial_indent="   ", subsequent_indent="   "))

    def api(self, method: str, path: str, who: str) -> None:
        self.out(f"   -> {who}: {method} {path.split('?')[0]}")

    def show(self, label: str, text: str) -> None:
        self.out(f"   [{label}]")
        for line in text.strip().splitlines():
            self.out(textwrap.fill(line, 92, initial_indent="   | ", subsequent_indent="   | ") if line else "   |")

    # --- the story ----------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        agent = self.auth("agent", channel="callcenter", sub="agent-maria")
        store = self.auth("agent", channel="store", sub="agent-tom")
        marketing = self.auth("marketing", sub="marketer-lena")
        self.say(f"{NAME} is a customer of the operator (TMF629, TMF637)",
                 "The store registers her (mobile, email, address, consent to service and marketing messages) "
                 "with the Broadband 500 she has held for almost two years; its contract ends in 30 days.")
        now = dt.datetime.now(dt.timezone.utc)
        customer = self.call("POST", CUSTOMERS, {
            "name": NAME, "engagedParty": {"id": "party-demo-giulia", "name": NAME, "@referredType": "Individual"},
            "contactMedium": [{"mediumType": "mobile", "characteristic": {"phoneNumber": MOBILE}},
                              {"mediumType": "email", "characteristic": {"emailAddress": EMAIL}},
                              {"mediumType": "postalAddress", "characteristic": {
                                  "street1": "3 Park Row", "city": "Bristol", "postCode": "BS1 5LJ", "country": "GB"}}],
            "characteristic": [{"name": "segment", "value": "residential"}],
            "contactPreference": {"consent": {"sms": {"service": True, "marketing": True},
                                              "email": {"service": True, "marketing": True}}}}, store)
        self.api("POST", CUSTOMERS, "store")
        held = self.call("POST", f"{CUSTOMERS}/{customer['id']}/product", {
            "name": "Broadband 500", "productOffering": {"id": "po-broadband-500"},
            "contract": {"startDate": _iso(now - dt.timedelta(days=700)),
                         "endDate": _iso(now + dt.timedelta(days=30))}}, store)
        self.api("POST", f"{CUSTOMERS}/<id>/product", "store")
        self.out(f"   customer {customer['id']}; holds {held.get('name')} (product {held['id']})")
        me = customer["id"]
        tablet = {**self.auth("customer", channel="app", customerId=me, sub=me), "X-Journey-Key": JOURNEY}
        home_pc = {**self.auth("customer", channel="web", customerId=me, sub=me), "X-Journey-Key": JOURNEY}

        offer = self.call("GET", f"{OFFERINGS}/po-home-security", headers=marketing)
        stack = next((p.get("name") or p["id"] for p in offer.get("relatedParty") or []
                      if p.get("role") in ("fulfilmentStack", "partner", "provider")), "the IoT partner")
        self.say("Marketing launches Home Security and a campaign (TMF620, campaigns)",
                 f"'{offer['name']}' is federated from {stack}'s catalogue. Marketing schedules a campaign for "
                 "residential customers who hold Broadband 500 and whose contract ends within 60 days, by "
                 "SMS, five seconds from now (an EventBridge schedule the runtime fires).")
        campaign = self.call("POST", CAMPAIGNS, {
            "name": "Home Security launch", "productOffering": {"id": "po-home-security"},
            "targetSegment": {"rule": [{"attribute": "productsHeld", "value": ["po-broadband-500"]},
                                       {"attribute": "contractEndWithinDays", "operator": "lte", "value": 60}]},
            "channel": [{"id": "sms"}], "messageTemplate": {"sms": "Hi {firstName}, meet {offerName}: {link}"},
            "schedule": {"at": _iso(now + dt.timedelta(seconds=5))},
            "validFor": {"startDateTime": _iso(now), "endDateTime": _iso(now + dt.timedelta(days=7))}}, marketing)
        self.api("POST", CAMPAIGNS, "marketing")
        [promo] = self.wait("the campaign SMS", lambda: self.sent(MOBILE, "sms", campaign["id"])[:1])
        self.show(f"SMS to {NAME} {MOBILE}", promo["text"])
        code = CAMPAIGN_LINK.findall(promo["text"])[0]

        self.say("She follows the link on her tablet (campaign landing, TMF680)",
                 "The link lands on the offer; the campaign code travels with her. The portal shows what "
                 "Omnishop recommends for her, from her 360 view.")
        landing = self.call("GET", f"/c/{code}")
        self.api("GET", "/c/<code>", "tablet")
        recommended = self.call("POST", "/tmf-api/recommendationManagement/v4/queryProductRecommendation",
                                {"relatedParty": {"id": me, "@referredType": "Customer"}}, tablet)
        self.api("POST", "/tmf-api/recommendationManagement/v4/queryProductRecommendation", "tablet")
        names = [i["productOffering"].get("name") or i["productOffering"]["id"]
                 for r in ([recommended] if isinstance(recommended, dict) else recommended or [])
                 for i in r.get("recommendationItem") or []]
        self.out(f"   landing: {landing['productOffering'].get('name', 'Home Security')}; "
                 f"recommended for her: {', '.join(names[:3]) or 'nothing yet'}")

        self.say("At home on her PC she puts it in a basket and leaves (TMF663)",
                 "The same basket follows her across channels: it is kept with its context (campaign code, "
                 "device) in the Basket & Context Hub. She closes the browser.")
        cart = self.call("POST", CARTS, {
            "cartItem": [{"productOffering": {"id": "po-home-security"},
                          "product": {"productCharacteristic": [{"name": "cameras", "value": 4}]}}],
            "context": {"campaignCode": code, "device": "home PC"}}, home_pc)
        self.api("POST", CARTS, "web")
        basket = cart["id"]
        self.out(f"   basket {basket}: {len(cart['cartItem'])} item, status {cart['status']}")

        self.say("The idle basket starts the recovery process: an SMS offers help (Step Functions, SNS)",
                 "After the idle time the abandoned-basket workflow re-reads the basket, sees nothing "
                 "changed, and sends one SMS with a signed link (no personal data in it).")
        [reminder] = self.wait("the reminder SMS", lambda: [
            m for m in self.sent(MOBILE, "sms", "/recovery/link/")
            if any(self.call("GET", f"/recovery/link/{t}", ok=(200, 400, 401, 404, 410))
                   .get("shoppingCart", {}).get("id") == basket for t in RECOVERY_LINK.findall(m["text"]))][:1])
        self.show(f"SMS to {NAME} {MOBILE}", reminder["text"])
        token = RECOVERY_LINK.findall(reminder["text"])[0]

        self.say("She accepts help; an agent picks her basket from the worklist",
                 "Accepting puts the basket on the agents' worklist. Maria claims it and sees the basket, "
                 "her 360 view, her past interactions and what to recommend.")
        self.call("POST", f"/recovery/link/{token}/accept")
        self.api("POST", "/recovery/link/<token>/accept", "customer")
        self.call("POST", f"/recovery/worklist/{basket}/claim", headers=agent)
        self.api("POST", f"/recovery/worklist/{basket}/claim", "agent Maria")
        work = self.call("GET", f"/recovery/worklist/{basket}", headers=agent)
        held = [p.get("name") or p.get("productOffering", {}).get("id")
                for p in (work.get("customer360") or {}).get("productsHeld") or []]
        upsell = (work.get("recommendation") or [{}])[0].get("productOffering") or {}
        self.out(f"   she holds: {', '.join(held) or '-'}; recommended: {upsell.get('name') or upsell.get('id')}")
        self.call("PATCH", f"{CARTS}/{basket}", {"cartItem": [{"productOffering": {"id": upsell.get("id") or
                                                                                   "po-extreme-bundle"}}]}, agent)
        self.api("PATCH", f"{CARTS}/{basket}", "agent Maria (adds the bundle)")
        self.call("PATCH", f"{CARTS}/{basket}", {"status": "awaitingApproval"}, agent)
        self.api("PATCH", f"{CARTS}/{basket}", "agent Maria (hands it back for approval)")

        self.say("Maria books the engineers: one visit for the bundle, one for Home Security (TMF646)",
                 "Broadband and TV, and the partner's Home Security kit, are installed at home: the order needs an "
                 "appointment for each. She searches the free slots of the customer's postcode area and holds one "
                 "for each; the order confirms them, and each child order carries its stack's visit.")
        party = {"id": me, "role": "customer", "@referredType": "Customer"}
        slots = self.call("POST", SLOTS, {"relatedParty": party}, agent)["availableTimeSlot"]
        self.api("POST", SLOTS, "agent Maria")
        for slot, offering in zip(slots, (upsell.get("id") or "po-extreme-bundle", "po-home-security")):
            visit = self.call("POST", APPOINTMENTS, {"validFor": slot["validFor"], "relatedParty": [party], "relatedEntity": [
                {"id": offering, "role": "productOffering", "@referredType": "ProductOffering"}]}, agent)
            self.api("POST", APPOINTMENTS, "agent Maria")
            self.out(f"   {offering}: engineer {visit['validFor']['startDateTime'][:16]} to "
                     f"{visit['validFor']['endDateTime'][11:16]} ({visit['status']}, appointment {visit['id']})")

        self.say("The changed basket triggers an approval email; she approves (SES, TMF622)",
                 "The email summarises the basket with prices and carries an approval link. Approving "
                 "submits the order from the basket, once, whatever the number of clicks.")
        [email] = self.wait("the approval email", lambda: self.sent(EMAIL, "email", "/recovery/link/")[:1])
        self.show(f"email to {EMAIL}: {email.get('subject', '')}", email.get("text") or "")
        approve = RECOVERY_LINK.findall(email["text"])[0]
        outcome = self.call("POST", f"/recovery/link/{approve}/approve")
        self.api("POST", "/recovery/link/<token>/approve", "customer")
        self.out(f"   basket now {outcome.get('status')}")
        order = self.wait("the order", lambda: [o for o in self.call("GET", ORDERS, headers=home_pc)
                                                if (o.get("shoppingCart") or {}).get("id") == basket][:1])[0]
        fee = next((t["price"]["taxIncludedAmount"] for t in order.get("orderTotalPrice") or []
                    if t.get("priceType") == "oneTime"), None)
        if fee:
            self.say("She pays the installation fee (TMF676)",
                     "One-off charges are paid before anything goes to the stacks: the payment provider "
                     "(simulated locally) authorises her card, and only then does the order's workflow start.")
            paid = self.call("POST", PAYMENTS, {
                "account": {"id": "ba-giulia"}, "paymentMethod": {"id": "tok-visa"}, "totalAmount": fee,
                "paymentItem": [{"item": {"id": order["id"], "@referredType": "ProductOrder"}}]}, home_pc)
            self.api("POST", PAYMENTS, "customer")
            self.out(f"   {fee['value']} {fee['unit']}: payment {paid['status']}")

        self.say("The order is split by stack and fulfilled; she gets milestone SMS (queues per stack)",
                 f"Order {order['id']} is decomposed from the catalogue: one child order per fulfilling stack, "
                 "each sent to that stack's queue; the stacks report milestones back.")
        order = self.wait("the order's outcome", lambda: (lambda o: o if o["state"] in FINAL else None)(
            self.call("GET", f"{ORDERS}/{order['id']}", headers=home_pc)))
        children = []
        for relation in order.get("orderRelationship") or []:
            if relation.get("relationshipType") == "child":
                child = self.call("GET", f"{ORDERS}/{relation['id']}", headers=agent)
                stack_id = next((p["id"] for p in child.get("relatedParty") or [] if p.get("role") == "fulfilmentStack"), "?")
                items = ", ".join(f"{i.get('action')} {(i.get('productOffering') or {}).get('name') or (i.get('product') or {}).get('id')}"
                                  + (f" (engineer: {i['appointment'].get('description')})" if i.get("appointment") else "")
                                  for i in child.get("productOrderItem") or [])
                children.append((stack_id, child["id"], child["state"], items))
                self.out(f"   {stack_id:<15} {child['id']:<24} {child['state']:<10} {items}")
        milestones = self.wait("the milestone SMS", lambda: (lambda found: found if any(
            "complet" in m["text"].lower() for m in found) else None)(self.sent(MOBILE, "sms", order["id"])))
        for message in reversed(milestones):
            self.show(f"SMS to {NAME} at {message['sentAt'][11:19]}", message["text"])

        history = self.call("GET", f"{INTERACTIONS}?limit=100", headers=home_pc)
        on_journey = [i for i in history if i.get("journeyKey") == JOURNEY or JOURNEY in json.dumps(i)]
        report = self.call("GET", f"{CAMPAIGNS}/{campaign['id']}/report", headers=marketing)
        self.facts = {"report": report, "campaign": campaign["id"], "basket": basket, "order": order["id"], "state": order["state"],
                      "children": children, "interactions": len(on_journey),
                      "messages": len(self.sent(MOBILE, "sms", "")) + len(self.sent(EMAIL, "email", ""))}
        return self.facts

    def summary(self) -> None:
        f = self.facts
        self.out("\nSummary")
        self.out(f"   journey {JOURNEY}: campaign {f['campaign']} -> basket {f['basket']} -> order {f['order']} "
                 f"({f['state']})")
        self.out(f"   child orders: {', '.join(f'{s} {state}' for s, _, state, _ in f['children'])}")
        r = f["report"]
        self.out(f"   campaign report: targeted {r.get('targeted')}, sent {r.get('sent')}, landed {r.get('landed')}, "
                 f"baskets {r.get('baskets')}, orders {r.get('orders')}")
        self.out(f"   messages {NAME} received: {f['messages']}; interactions on her journey: {f['interactions']}")
        self.out("   the same story is checked by tests/journeys (make test)")


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a runtime already running (default: start one on free ports)")
    args = parser.parse_args(argv)
    try:
        if args.url:
            play(args.url)
            return 0
        from infra.local.process import RuntimeProcess

        print("Starting Omnishop locally (moto, every resource, demo data; a 3 s idle time for baskets)...")
        with RuntimeProcess(env={"OMNISHOP_BASKET_IDLE_SECONDS": "3",
                                 "OMNISHOP_SIMULATED_STACK_DELAY_SECONDS": "0.5"}) as runtime:
            print(f"API on {runtime.url}")
            play(runtime.url)
        return 0
    except Stuck as exc:
        print(f"\nThe demo stopped: {exc}", file=sys.stderr)
        return 1


def play(url: str) -> None:
    demo = Demo(url)
    demo.run()
    demo.summary()


if __name__ == "__main__":
    sys.exit(main())
