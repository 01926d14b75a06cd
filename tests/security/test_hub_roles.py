"""Hub delivery per role: every role subscribes to every API's hub (201 only where the access
table lets its role read the hub's resources, else 403), then customers, interactions, baskets
and the catalogue change, and each subscription's deliveries (what the hub-delivery queue would
carry to its callback) hold exactly the events its role may read. Subscriptions made before roles
were stored (no role, or a role since refused) receive nothing.

On the code before the access table this fails: channel, marketing, catalog-admin and stack got
201 on the customer and partyInteraction hubs and then every customer's phone, email and address.
"""
from __future__ import annotations

import collections

import pytest

from chalicelib import access, tmf
from tests.security.roles import ANDREA, ANDREA_MARKERS, CALLERS, as_role, http, world  # noqa: F401
from tests.security.servers import fake_dns

CM, PI, SC, PC = access.CM, access.PI, access.SC, access.PC


@pytest.fixture(autouse=True)
def public_listener(monkeypatch):
    """The listeners' host resolves to a public address: the outbound guard lets it
    be registered, and no test ever sends anything there (deliveries are only computed)."""
    fake_dns(monkeypatch, {"listener.example.com": ["93.184.216.34"]})


@pytest.fixture
def received(monkeypatch):
    """callback -> the events computed for it (the deliveries are not sent anywhere)."""
    from chalicelib.hub import service

    got: dict[str, list[dict]] = collections.defaultdict(list)
    real = service.deliveries

    def record(api, events):
        for d in real(api, events):
            got[d["callback"]].append(d["event"])
        return []
    monkeypatch.setattr(service, "deliveries", record)
    return got


def callback(name: str, api: str) -> str:
    return f"https://listener.example.com/{name.replace(' ', '-')}/{api}"


def test_subscriptions_and_deliveries_follow_the_access_table(world, as_role, http, pump, received):
    from chalicelib.hub.models import Subscription

    pump.drain()
    received.clear()
    refused, made = [], {}
    for api, (root, _) in access.HUBS.items():
        for name, (role, _) in CALLERS.items():
            status, body, _ = http("POST", f"{root}/hub", as_role(name), {"callback": callback(name, api)})
            expected = 201 if role in access.subscribers(api) else 403
            if status != expected:
                refused.append(f"{name} on {api}: {status}, expected {expected}")
            elif status == 201:
                made[(name, api)] = body["id"]
    assert not refused, refused
    # Made before roles were stored: one without a role, one by a channel (refused today).
    for legacy, role in (("legacy-none", None), ("legacy-channel", "channel")):
        for api in ("customerManagement", "partyInteraction", "shoppingCart"):
            Subscription(api, f"{legacy}-{api}", callback=callback(legacy, api), owner="old", created=tmf.now_iso(),
                         role=role, channel="web" if role else None).save()
    # Another channel (the store's) on the basket hub: the web visitors' baskets are not its to see.
    Subscription("shoppingCart", "store-shoppingCart", callback=callback("store channel", "shoppingCart"),
                 owner="store-backend", created=tmf.now_iso(), role="channel", channel="store").save()

    agent = as_role("agent")
    assert http("PATCH", f"{CM}/customer/{ANDREA}", agent, {"name": "Andrea Rossi-Bianchi"})[0] == 200
    assert http("POST", f"{PI}/partyInteraction", agent, {
        "reason": "called about her router", "direction": "inbound",
        "relatedParty": [{"id": ANDREA, "role": "customer", "@referredType": "Customer"}]})[0] == 201
    assert http("PATCH", f"{SC}/shoppingCart/cart-andrea", as_role("customer"),
                {"cartItem": [{"productOffering": {"id": "po-broadband-500"}}]})[0] == 200
    status, anonymous, _ = http("POST", f"{SC}/shoppingCart", as_role("channel"),
                                {"cartItem": [{"productOffering": {"id": "po-broadband-500"}}]})
    assert status == 201
    admin = as_role("catalog-admin")
    assert http("PATCH", f"{PC}/productOffering/po-broadband-1000", admin, {"description": "draft, not sold"})[0] == 200
    assert http("PATCH", f"{PC}/productOffering/po-home-security", admin, {"description": "now 4 cameras"})[0] == 200
    pump.drain()

    def subjects(name: str, api: str) -> set[str]:
        return {next(iter(e["event"].values()))["id"] for e in received.get(callback(name, api), [])}

    # The customer and interaction hubs: agents only, and nothing to the old subscriptions.
    assert ANDREA in subjects("agent", "customerManagement")
    assert len(subjects("agent", "partyInteraction")) >= 1
    # Baskets: agents see Andrea's and the anonymous one; the channel the anonymous one only.
    assert {"cart-andrea", anonymous["id"]} <= subjects("agent", "shoppingCart")
    assert subjects("channel", "shoppingCart") == {anonymous["id"]}
    assert subjects("store channel", "shoppingCart") == set()
    # Catalogue: the draft goes to roles that read every catalogue entry, not to the web channel.
    for name in ("agent", "marketing", "catalog-admin", "stack"):
        assert {"po-broadband-1000", "po-home-security"} <= subjects(name, "productCatalogManagement"), name
    assert subjects("channel", "productCatalogManagement") == {"po-home-security"}
    for legacy in ("legacy-none", "legacy-channel"):
        for api in ("customerManagement", "partyInteraction", "shoppingCart"):
            # a channel's old basket subscription still gets what a channel may read: anonymous baskets
            expected = {anonymous["id"]} if (legacy, api) == ("legacy-channel", "shoppingCart") else set()
            assert subjects(legacy, api) == expected, (legacy, api)
    # Nobody who may not read Andrea's record got her data from any hub.
    for cb, events in received.items():
        name = cb.split("/")[3].replace("-", " ")
        if name != "agent":
            leaked = [m for m in ANDREA_MARKERS for e in events if m in str(e)]
            assert not leaked, (cb, leaked)


def test_a_role_reads_only_its_own_subscriptions(aws, as_role, http):
    status, sub, _ = http("POST", f"{SC}/hub", as_role("agent"), {"callback": "https://listener.example.com/a"})
    assert status == 201
    assert http("GET", f"{SC}/hub/{sub['id']}", as_role("agent"))[0] == 200
    assert http("GET", f"{SC}/hub/{sub['id']}", as_role("channel"))[0] == 404
    assert http("DELETE", f"{SC}/hub/{sub['id']}", as_role("marketing"))[0] == 403


def test_a_channel_is_told_an_offering_left_its_view(world, as_role, http, pump, received):
    """Retiring a published offering is news to the channels it was sold in: they receive the
    StateChangeEvent with only id, href, @type and lifecycleStatus. An offering no channel ever
    saw (a draft) still sends them nothing; roles that read every entry get the whole document."""
    pump.drain()
    received.clear()
    for name in ("channel", "agent"):
        assert http("POST", f"{PC}/hub", as_role(name), {"callback": callback(name, "pc")})[0] == 201
    admin = as_role("catalog-admin")
    assert http("PATCH", f"{PC}/productOffering/po-home-security", admin, {"lifecycleStatus": "retired"})[0] == 200
    assert http("PATCH", f"{PC}/productOffering/po-broadband-1000", admin, {"lifecycleStatus": "rejected"})[0] == 200
    pump.drain()

    told = received[callback("channel", "pc")]
    assert [e["eventType"] for e in told] == ["ProductOfferingStateChangeEvent"], told
    offering = told[0]["event"]["productOffering"]
    assert offering["id"] == "po-home-security" and offering["lifecycleStatus"] == "retired"
    assert set(offering) <= {"id", "href", "@type", "lifecycleStatus"}, offering
    agent = {e["event"]["productOffering"]["id"]: e["event"]["productOffering"] for e in received[callback("agent", "pc")]}
    assert {"po-home-security", "po-broadband-1000"} <= set(agent)
    assert agent["po-home-security"]["description"].startswith("Protect your home")
    for events in received.values():
        assert not [e for e in events if any(k.startswith("_") for k in e)], "the previous image is never sent"


@pytest.mark.parametrize("change", ["channel dropped", "validFor ended", "never published"])
def test_event_for_a_channel_judges_the_image_before_and_after(change):
    from chalicelib.hub import domain

    old = {"id": "po-x", "href": "/po-x", "@type": "ProductOffering", "name": "X", "description": "secret price",
           "lifecycleStatus": "launched", "channel": [{"id": "web"}]}
    if change == "channel dropped":
        new = {**old, "channel": [{"id": "store"}]}
    elif change == "validFor ended":   # the sweep retires it after its end
        old = {**old, "validFor": {"endDateTime": "2020-01-01T00:00:00Z"}}
        new = {**old, "lifecycleStatus": "retired"}
    else:
        old = {**old, "lifecycleStatus": "inDesign"}
        new = {**old, "lifecycleStatus": "rejected"}
    [event] = domain.events_for_change("productOffering", "ProductOffering", old, new, "e", "2026-11-22T10:00:00Z")
    seen = access.event_for("productCatalogManagement", event, {"role": "channel", "channel": "web"})
    if change == "never published":
        assert seen is None
    else:
        assert seen["event"] == {"productOffering": {k: new[k] for k in ("id", "href", "@type", "lifecycleStatus")}}
        assert domain.PREVIOUS not in seen
    full = access.event_for("productCatalogManagement", event, {"role": "agent"})
    assert full["event"]["productOffering"] == new and domain.PREVIOUS not in full
