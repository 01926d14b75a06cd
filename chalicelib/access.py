"""Authorization as data, in one place: what each role may do to each resource, which route does
what, which hub carries which resources, and which customer attributes only agents own.

- `RIGHTS[resource][action]` maps a role to its scope: `all`, `own` (a customer's own records),
  `anonymous` (records that name no customer), `published` (what is published for the caller's
  channel) or `own stack` (a fulfilment stack's own child orders). A role not listed may not.
- `ROUTES[(path, method)]` names the (resource, action) of every authenticated route. `http.endpoint`
  refuses a role the table does not list with 403 before the route runs, and refuses a route the
  table does not name (deny by default). The services check the scope (which customer, which stack).
- `HUBS[api]` names the resources whose events an API's hub carries; a role may subscribe when it
  may read one of them, and each event goes only to subscribers whose role and scope may read
  the resource in it (`event_for`), also for subscriptions made before roles were stored.
- `OWNED_ATTRIBUTES` are the customer attributes that decide status or eligibility: only the roles
  listed may set or change them.

The README's "Security model" table is `markdown()`; tests/security checks every route against it.
"""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib.view import ref_id
from chalicelib.auth import ROLES, Caller
from chalicelib.errors import forbidden

ALL, OWN, ANONYMOUS, PUBLISHED, OWN_STACK = "all", "own", "anonymous", "published", "own stack"
READ, WRITE = "read", "write"
SUBSCRIBERS = ("agent", "marketing", "catalog-admin", "stack", "channel")   # customers do not run listeners

_CATALOGUE_READERS = {"catalog-admin": ALL, "agent": ALL, "marketing": ALL, "stack": ALL,
                      "channel": PUBLISHED, "customer": PUBLISHED}
RIGHTS: dict[str, dict[str, dict[str, str]]] = {
    "catalogue": {READ: _CATALOGUE_READERS, WRITE: {"catalog-admin": ALL}},
    "catalogueJob": {READ: {"catalog-admin": ALL}, WRITE: {"catalog-admin": ALL}},
    "customer": {READ: {"agent": ALL, "customer": OWN},
                 "create": {"agent": ALL, "channel": ALL},          # a channel signs a visitor up
                 WRITE: {"agent": ALL, "customer": OWN}},
    "customerProduct": {READ: {"agent": ALL, "customer": OWN}, WRITE: {"agent": ALL, "stack": OWN_STACK}},
    "identityLink": {WRITE: {"agent": ALL, "channel": ALL}},
    # TMF637 products held: a stack reads and records the products it provides (relatedParty
    # fulfilmentStack); a channel reads them only with the customer's own token.
    "product": {READ: {"agent": ALL, "customer": OWN, "stack": OWN_STACK}, WRITE: {"agent": ALL, "stack": OWN_STACK}},        # the channel knows who logged in
    # Rendering a customer's name into a message (templates) is reading it.
    "customerPersonalData": {READ: {"agent": ALL, "marketing": ALL, "customer": OWN}},
    "partyInteraction": {READ: {"agent": ALL, "customer": OWN},
                         WRITE: {"agent": ALL, "customer": OWN, "channel": ALL, "marketing": ALL}},
    "shoppingCart": {READ: {"agent": ALL, "customer": OWN, "channel": ANONYMOUS},
                     WRITE: {"agent": ALL, "customer": OWN, "channel": ANONYMOUS}},
    "qualificationRule": {READ: {"catalog-admin": ALL, "agent": ALL}, WRITE: {"catalog-admin": ALL}},
    "productOfferingQualification": {READ: {"agent": ALL, "customer": OWN, "channel": ANONYMOUS},
                                     "list": {"agent": ALL, "customer": OWN},
                                     WRITE: {"agent": ALL, "customer": OWN, "channel": ANONYMOUS}},
    # A channel may ask to place an order only to be told to identify its visitor first (422).
    "productOrder": {READ: {"agent": ALL, "customer": OWN}, WRITE: {"agent": ALL, "customer": OWN},
                     "place": {"agent": ALL, "customer": OWN, "channel": ANONYMOUS},
                     "report": {"stack": OWN_STACK}},
    "communicationMessage": {READ: {"agent": ALL, "marketing": ALL, "customer": OWN},
                             "send": {"agent": ALL, "marketing": ALL, "channel": ALL},
                             WRITE: {"agent": ALL, "marketing": ALL}},
    "campaign": {READ: {"marketing": ALL, "agent": ALL}, WRITE: {"marketing": ALL}},
    # A channel asks for anonymous (basket-only) recommendations; naming a customer needs READ customer.
    "recommendation": {"ask": {"agent": ALL, "customer": OWN, "channel": ANONYMOUS}},
    "recoveryWorklist": {READ: {"agent": ALL}, WRITE: {"agent": ALL}},
    # TMF687 stock: availability per location is for every channel; only catalog admins and the
    # stacks (warehouse feeds) write it. Reservations: customers their own, channels for visitors.
    "productStock": {READ: {"catalog-admin": ALL, "stack": ALL, "agent": ALL, "channel": ALL, "customer": ALL},
                     WRITE: {"catalog-admin": ALL, "stack": ALL}},
    "reserveProductStock": {READ: {"catalog-admin": ALL, "agent": ALL, "customer": OWN, "channel": ANONYMOUS},
                            WRITE: {"catalog-admin": ALL, "agent": ALL, "customer": OWN, "channel": ANONYMOUS}},
    # TMF648 quotes: agents make them for a customer, a customer asks for her own and accepts
    # them; sales managers approve or reject those the approval rules hold (chalicelib/quote).
    "quote": {READ: {"agent": ALL, "sales-manager": ALL, "customer": OWN},
              WRITE: {"agent": ALL, "sales-manager": ALL, "customer": OWN}},

    # TMF646 installation appointments: a customer books her own, an agent for any customer; free
    # slots are searched by anyone selling (a visitor's channel names a postcode); a search (it
    # names a place) is read again only by whom it was made for: her, or the channel for its visitor.
    "appointment": {READ: {"agent": ALL, "customer": OWN}, WRITE: {"agent": ALL, "customer": OWN}},
    "searchTimeSlot": {READ: {"agent": ALL, "customer": OWN, "channel": ANONYMOUS},
                       WRITE: {"agent": ALL, "customer": ALL, "channel": ALL}},

    # TMF676 payments: a customer pays and sees her own; an agent takes payments for any customer.
    # Refunds: the platform's when a paid order is cancelled; an agent gives back part of a payment.
    "payment": {READ: {"agent": ALL, "customer": OWN}, WRITE: {"agent": ALL, "customer": OWN}},
    "refund": {READ: {"agent": ALL, "customer": OWN}, WRITE: {"agent": ALL}},

    # TMF671 promotions: catalog admins and marketing make them; channels and customers read the
    # live ones (active, inside validFor: chalicelib/promotion/domain.py live).
    "promotion": {READ: {"catalog-admin": ALL, "marketing": ALL, "agent": ALL, "channel": PUBLISHED,
                         "customer": PUBLISHED},
                  WRITE: {"catalog-admin": ALL, "marketing": ALL}},
}

PC, CM, PI = "/tmf-api/productCatalogManagement/v4", "/tmf-api/customerManagement/v4", "/tmf-api/partyInteraction/v4"
SC, POQ = "/tmf-api/shoppingCart/v4", "/tmf-api/productOfferingQualification/v4"
COM, PO = "/tmf-api/communicationManagement/v4", "/tmf-api/productOrderingManagement/v4"
CMP, REC = "/tmf-api/campaignManagement/v4", "/tmf-api/recommendationManagement/v4"
PINV = "/tmf-api/productInventory/v4"
STK = "/tmf-api/stockManagement/v4"
QM = "/tmf-api/quoteManagement/v4"

APT = "/tmf-api/appointment/v4"

PAY = "/tmf-api/paymentManagement/v4"

PRM = "/tmf-api/promotionManagement/v4"

# Each API's hub and the resources (table rows) its events are about, by the event's resource name.
HUBS: dict[str, tuple[str, dict[str, str]]] = {
    "productCatalogManagement": (PC, {k: "catalogue" for k in (
        "catalog", "category", "productSpecification", "productOfferingPrice", "productOffering")}),
    "customerManagement": (CM, {"customer": "customer"}),
    "partyInteraction": (PI, {"partyInteraction": "partyInteraction"}),
    "shoppingCart": (SC, {"shoppingCart": "shoppingCart"}),
    "communicationManagement": (COM, {"communicationMessage": "communicationMessage"}),
    "productOrderingManagement": (PO, {"productOrder": "productOrder", "cancelProductOrder": "productOrder"}),
    "productInventory": (PINV, {"product": "product"}),
    "quoteManagement": (QM, {"quote": "quote"}),

    "promotionManagement": (PRM, {"promotion": "promotion"}),
}


def _crud(root: str, name: str, resource: str, methods: tuple[str, ...] = ("GET", "POST", "PATCH", "DELETE"),
          param: str = "rid") -> dict[tuple[str, str], tuple[str, str]]:
    out = {}
    for method in methods:
        action = READ if method == "GET" else WRITE
        if method in ("GET", "POST"):
            out[(f"{root}/{name}", method)] = (resource, action)
        if method != "POST":
            out[(f"{root}/{name}/{{{param}}}", method)] = (resource, action)
    return out


ROUTES: dict[tuple[str, str], tuple[str, str]] = {
    **{k: v for name in ("catalog", "category", "productSpecification", "productOfferingPrice", "productOffering")
       for k, v in _crud(PC, name, "catalogue").items()},
    **_crud(PC, "importJob", "catalogueJob", ("GET", "POST", "DELETE")),
    **_crud(PC, "exportJob", "catalogueJob", ("GET", "POST", "DELETE")),
    (f"{CM}/customer", "GET"): ("customer", READ),
    (f"{CM}/customer", "POST"): ("customer", "create"),
    (f"{CM}/customer/{{cid}}", "GET"): ("customer", READ),
    (f"{CM}/customer/{{cid}}", "PATCH"): ("customer", WRITE),
    (f"{CM}/customer/{{cid}}/view360", "GET"): ("customer", READ),
    (f"{CM}/customer/{{cid}}/consentAudit", "GET"): ("customer", READ),
    (f"{CM}/customer/{{cid}}/product", "GET"): ("customerProduct", READ),
    (f"{CM}/customer/{{cid}}/product", "POST"): ("customerProduct", WRITE),
    (f"{CM}/customer/{{cid}}/identityLink", "POST"): ("identityLink", WRITE),
    (f"{PI}/partyInteraction", "GET"): ("partyInteraction", READ),
    (f"{PI}/partyInteraction", "POST"): ("partyInteraction", WRITE),
    (f"{PI}/partyInteraction/{{rid}}", "GET"): ("partyInteraction", READ),
    **_crud(SC, "shoppingCart", "shoppingCart"),
    **_crud(PINV, "product", "product", param="pid"),
    **_crud(STK, "productStock", "productStock", param="sid"),
    **_crud(STK, "reserveProductStock", "reserveProductStock", ("GET", "POST", "PATCH"), param="rid"),
    **_crud(QM, "quote", "quote", ("GET", "POST", "PATCH"), param="qid"),

    **_crud(APT, "appointment", "appointment", ("GET", "POST", "PATCH"), param="aid"),
    (f"{APT}/searchTimeSlot", "POST"): ("searchTimeSlot", WRITE),
    (f"{APT}/searchTimeSlot/{{sid}}", "GET"): ("searchTimeSlot", READ),

    **_crud(PAY, "payment", "payment", ("GET", "POST"), param="pid"),
    **_crud(PAY, "refund", "refund", ("GET", "POST"), param="rid"),

    **_crud(PRM, "promotion", "promotion", param="pid"),
    **_crud(POQ, "qualificationRule", "qualificationRule"),
    (f"{POQ}/productOfferingQualification", "GET"): ("productOfferingQualification", "list"),
    (f"{POQ}/productOfferingQualification", "POST"): ("productOfferingQualification", WRITE),
    (f"{POQ}/productOfferingQualification/{{qid}}", "GET"): ("productOfferingQualification", READ),
    (f"{POQ}/guidedSelling/{{oid}}", "GET"): ("productOfferingQualification", READ),
    (f"{PO}/productOrder", "GET"): ("productOrder", READ),
    (f"{PO}/productOrder", "POST"): ("productOrder", "place"),
    (f"{PO}/productOrder/{{rid}}", "GET"): ("productOrder", READ),
    (f"{PO}/productOrder/{{rid}}", "PATCH"): ("productOrder", WRITE),
    (f"{PO}/cancelProductOrder", "GET"): ("productOrder", READ),
    (f"{PO}/cancelProductOrder", "POST"): ("productOrder", WRITE),
    (f"{PO}/cancelProductOrder/{{rid}}", "GET"): ("productOrder", READ),
    (f"{PO}/listener/productOrderStateChangeEvent", "POST"): ("productOrder", "report"),
    (f"{COM}/communicationMessage", "GET"): ("communicationMessage", READ),
    (f"{COM}/communicationMessage", "POST"): ("communicationMessage", "send"),
    (f"{COM}/communicationMessage/{{mid}}", "GET"): ("communicationMessage", READ),
    (f"{COM}/communicationMessage/{{mid}}", "PATCH"): ("communicationMessage", WRITE),
    (f"{COM}/communicationMessage/{{mid}}", "DELETE"): ("communicationMessage", WRITE),
    **_crud(CMP, "campaign", "campaign", param="cid"),
    (f"{CMP}/campaign/{{cid}}/report", "GET"): ("campaign", READ),
    (f"{CMP}/campaign/{{cid}}/run", "POST"): ("campaign", WRITE),
    (f"{REC}/queryProductRecommendation", "POST"): ("recommendation", "ask"),
    ("/recovery/worklist", "GET"): ("recoveryWorklist", READ),
    ("/recovery/worklist/{bid}", "GET"): ("recoveryWorklist", READ),
    ("/recovery/worklist/next", "POST"): ("recoveryWorklist", WRITE),
    ("/recovery/worklist/{bid}/claim", "POST"): ("recoveryWorklist", WRITE),
    **{k: ("hub:" + api, action) for api, (root, _) in HUBS.items() for k, action in (
        ((f"{root}/hub", "POST"), "subscribe"), ((f"{root}/hub/{{sid}}", "GET"), "subscribe"),
        ((f"{root}/hub/{{sid}}", "DELETE"), "subscribe"))},
}

# Customer attributes that decide status, credit or eligibility (central rules read `segment`):
# who may set or change them. A customer or channel gets 403 naming the attribute.
AGENT_OWNED = ("agent",)
OWNED_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "status": AGENT_OWNED, "statusReason": AGENT_OWNED, "account": AGENT_OWNED, "engagedParty": AGENT_OWNED,
    "creditProfile": AGENT_OWNED, "paymentMethod": AGENT_OWNED, "agreement": AGENT_OWNED,
    # an organisation's contacts and their roles, and its parent: who may buy, accept and order
    "relatedParty": AGENT_OWNED,
    "characteristic.segment": AGENT_OWNED, "characteristic.customerType": AGENT_OWNED,
    "characteristic.creditRating": AGENT_OWNED, "characteristic.riskScore": AGENT_OWNED,
}


# A business customer (an Organization) acts through its contacts: each is an Individual in its
# relatedParty with one or more of these roles, and a customer token names the contact it was
# issued to (claim partyId). A contact of a parent organisation holds its roles in the children.
# What each contact role may do, by the right a route needs (`contact_right`):
#   read      see the organisation's baskets, quotes, orders, products, payments...
#   buy       make and change baskets, quotes, reservations, appointments, interactions
#   accept    accept or reject a quote
#   order     place, change or cancel orders, and pay
#   manage    change the organisation's own record (sites, contact media)
CONTACT_RIGHTS: dict[str, tuple[str, ...]] = {
    "buyer": ("read", "buy", "accept", "order"),
    "approver": ("read", "accept", "order", "manage"),
    "technicalContact": ("read", "buy"),
    "contact": ("read",),
}
CONTACT_ROLES = tuple(CONTACT_RIGHTS)
_ORDERING = ("productOrder", "payment", "refund")


def contact_right(resource: str, action: str, method: str) -> str:
    """The contact right a customer route needs (see CONTACT_RIGHTS)."""
    if method.upper() in ("GET", "HEAD") or action in (READ, "list", "ask"):
        return "read"
    if resource in _ORDERING:
        return "order"
    if resource == "quote" and method.upper() == "PATCH":
        return "accept"
    if resource in ("customer", "customerProduct", "customerPersonalData"):
        return "manage"
    return "buy"


def contact_may(roles: set[str] | frozenset[str], right: str) -> bool:
    return any(right in CONTACT_RIGHTS.get(role, ()) for role in roles)


def contact_roles_for(right: str) -> tuple[str, ...]:
    return tuple(role for role, rights in CONTACT_RIGHTS.items() if right in rights)


# --- questions -----------------------------------------------------------------------------------
def scope(role: str, resource: str, action: str) -> str | None:
    """The scope in which `role` may do `action` on `resource`; None: it may not."""
    if resource.startswith("hub:"):
        return ALL if role in subscribers(resource[4:]) else None
    return RIGHTS[resource].get(action, {}).get(role)


def roles(resource: str, action: str) -> tuple[str, ...]:
    return tuple(r for r in ROLES if scope(r, resource, action) is not None)


def may(caller: Caller, resource: str, action: str) -> bool:
    return scope(caller.role, resource, action) is not None


def check(caller: Caller, resource: str, action: str) -> str:
    """403 unless the table lets the caller's role do it; returns the scope."""
    found = scope(caller.role, resource, action)
    if found is None:
        allowed = roles(resource, action)
        raise forbidden(f"role {caller.role!r} may not {action} {resource.removeprefix('hub:')}"
                        + (f"; it needs one of: {', '.join(allowed)}" if allowed else ""))
    return found


def route(path: str, method: str) -> tuple[str, str] | None:
    return ROUTES.get((path, method.upper()))


def check_route(caller: Caller, path: str, method: str) -> None:
    """The edge check every authenticated route passes (http.endpoint)."""
    rule = route(path, method)
    if rule is None:
        raise forbidden(f"{method.upper()} {path} has no entry in the access table (chalicelib/access.py); "
                        "nobody may call it until it has one")
    check(caller, *rule)
    if caller.role == "customer":   # a business customer's contact: what their roles allow
        from chalicelib.customer import contacts

        contacts.check(caller, contact_right(rule[0], rule[1], method))


# --- hub subscriptions and deliveries ------------------------------------------------------------
def subscribers(api: str) -> tuple[str, ...]:
    """Roles that may subscribe to `api`'s hub: those that may read one of its resources."""
    resources = set(HUBS[api][1].values())
    return tuple(r for r in SUBSCRIBERS if any(RIGHTS[res][READ].get(r) for res in resources))


def _party(doc: Mapping[str, Any], role: str) -> str | None:
    for party in doc.get("relatedParty") or []:
        if isinstance(party, Mapping) and str(party.get("role") or "").lower() == role.lower():
            return party.get("id")
    return None


def _customer_of(resource: str, doc: Mapping[str, Any]) -> str | None:
    if resource == "customer":
        return doc.get("id")
    if resource == "communicationMessage":
        return next(((ref_id(r, "party")) for r in doc.get("receiver") or []
                     if isinstance(r, Mapping) and ref_id(r, "party")), None)
    return _party(doc, "customer")


def _in_scope(scope_: str, resource: str, name: str, doc: Mapping[str, Any], who: Mapping[str, Any],
              before: bool = False) -> bool:
    """Whether `who` may read `doc`; `before`: `doc` is the image a change replaced, and a published
    entry counts as seen until the change, or until its validFor ended (the sweep retires it after)."""
    if scope_ == ALL:
        return True
    if scope_ == OWN:
        return who.get("customerId") is not None and _customer_of(resource, doc) == who.get("customerId")
    if scope_ == ANONYMOUS:   # and, as a channel lists them, only those started in its own channel
        started = (doc.get("context") or {}).get("originatingChannel") if isinstance(doc.get("context"), Mapping) \
            else None
        return _customer_of(resource, doc) is None and started is not None and started == who.get("channel")
    if scope_ == OWN_STACK:
        return who.get("stack") is not None and _party(doc, "fulfilmentStack") == who.get("stack")
    if scope_ == PUBLISHED and resource == "promotion":   # live promotions (chalicelib/promotion)
        from chalicelib import tmf
        from chalicelib.promotion import domain as promotion_domain

        return promotion_domain.live(doc, tmf.now())
    if scope_ == PUBLISHED:
        from chalicelib import tmf
        from chalicelib.catalog import domain as catalog_domain

        at, period = tmf.now(), doc.get("validFor")
        end = period.get("endDateTime") if isinstance(period, Mapping) else None
        if before and end:
            import datetime as dt

            at = min(at, tmf.parse_datetime(end, "validFor.endDateTime") - dt.timedelta(microseconds=1))
        return catalog_domain.visible(catalog_domain.kind(name), doc, who.get("channel"), at)
    return False


def event_for(api: str, event: Mapping[str, Any], who: Mapping[str, Any]) -> dict[str, Any] | None:
    """The event as subscriber `who` ({role, channel, stack, customerId}) may receive it, or None
    when its role may not read the resource in it. A subscriber without a role receives nothing.

    A change event carries the image it replaced (hub.domain.PREVIOUS, never sent on): a channel
    that could see a catalogue entry before is told it left its view (retired, channel dropped,
    validFor ended), with the new document cut down to what says so."""
    from chalicelib.hub.domain import PREVIOUS

    role = who.get("role")
    body = event.get("event")
    if not role or not isinstance(body, Mapping) or len(body) != 1:
        return None
    (name, doc), = body.items()
    resource = HUBS[api][1].get(name)
    if resource is None or not isinstance(doc, Mapping):
        return None
    scope_ = scope(role, resource, READ)
    if scope_ is None:
        return None
    sent = {k: v for k, v in event.items() if k != PREVIOUS}
    if _in_scope(scope_, resource, name, doc, who):
        return {**sent, "event": {name: shown(role, resource, doc)}}   # as GET answers it
    previous = event.get(PREVIOUS)
    if scope_ == PUBLISHED and isinstance(previous, Mapping) and _in_scope(scope_, resource, name, previous, who,
                                                                           before=True):
        return {**sent, "event": {name: {k: doc[k] for k in ("id", "href", "@type", "lifecycleStatus") if k in doc}}}
    return None


# --- fields a role may not see in a resource it may read ----------------------------------------
def shown(role: str, resource: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    """`doc` as `role` may see it. A stack fulfils the products it provides; it is not told the
    holder's name (the customer's id and the billing account's id are what it works with)."""
    if role != "stack" or resource != "product":
        return dict(doc)
    import copy

    out = copy.deepcopy(dict(doc))
    for party in out.get("relatedParty") or []:
        if isinstance(party, dict) and str(party.get("role") or "").lower() == "customer":
            party.pop("name", None)
    if isinstance(out.get("billingAccount"), dict):
        out["billingAccount"].pop("name", None)
    return out


# --- customer attributes -------------------------------------------------------------------------
def _owned_values(doc: Mapping[str, Any]) -> dict[str, Any]:
    given = doc.get("characteristic")
    chars = {c["name"]: c.get("value") for c in (given if isinstance(given, list) else [])
             if isinstance(c, Mapping) and isinstance(c.get("name"), str)}
    return {attr: (chars.get(attr.split(".", 1)[1]) if attr.startswith("characteristic.") else doc.get(attr))
            for attr in OWNED_ATTRIBUTES}


def check_owned_attributes(role: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    """403 naming each owned attribute `role` may not set that differs between before and after."""
    old, new = _owned_values(before), _owned_values(after)
    touched = [a for a in OWNED_ATTRIBUTES if old[a] != new[a] and role not in OWNED_ATTRIBUTES[a]]
    if touched:
        owners = sorted({r for a in touched for r in OWNED_ATTRIBUTES[a]})
        raise forbidden(f"role {role!r} may not set {', '.join(touched)}: "
                        f"{'it is' if len(touched) == 1 else 'they are'} owned by {', '.join(owners)}")


# --- documentation -------------------------------------------------------------------------------
def markdown() -> str:
    """The README's table: one row per resource and action, one column per role."""
    head = "| resource | action | " + " | ".join(ROLES) + " |"
    rows = [head, "|" + "---|" * (len(ROLES) + 2)]
    for resource, actions in RIGHTS.items():
        for action, granted in actions.items():
            rows.append(f"| {resource} | {action} | " + " | ".join(granted.get(r, "-") for r in ROLES) + " |")
    for api in HUBS:
        rows.append(f"| {api} hub | subscribe | "
                    + " | ".join("yes" if r in subscribers(api) else "-" for r in ROLES) + " |")
    return "\n".join(rows)
