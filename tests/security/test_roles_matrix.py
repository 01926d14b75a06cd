"""The cross-role matrix, generated from the app's route table: every route x every role (a
customer on her own resources, another customer on hers, agent, marketing, catalog-admin, stack,
channel), with the outcome the access table (chalicelib/access.py) promises:

- a role the table does not list for the route's (resource, action) gets 403 with a TMF error
  body, and nothing else happens (the check runs before the route);
- a role it lists is never refused with 403 on its own resources, and nothing answers 5xx;
- another customer's resources are 403/404 to a customer, and no answer to a caller that may not
  read Andrea's record ever carries her name, phone, email or address.

On the code before the access table this fails: hubs answered 201 to channel, marketing, stack and
catalog-admin on the customer and partyInteraction APIs.
"""
from __future__ import annotations

from chalicelib import access
from chalicelib.docs import openapi
from tests.security.roles import ANDREA_MARKERS, CALLERS, andrea_records, as_role, http, world  # noqa: F401

# Routes that take no bearer token (their own secrets: signed links, short codes) and the local
# runtime's own routes (/local/*: registered only when OMNISHOP_LOCAL=1, never deployed).
PUBLIC = {("/health", "GET"), ("/local/token", "POST"), ("/local/outbox", "GET"), ("/local/alarms", "GET"),
          ("/recovery/link/{token}", "GET"),
          ("/recovery/link/{token}/{action}", "POST"), ("/c/{code}", "GET"),
          ("/tmf-api/quoteManagement/v4/quoteLink/{token}", "GET"),          # the quote's accept link
          ("/tmf-api/quoteManagement/v4/quoteLink/{token}/accept", "POST"),
          ("/docs", "GET"), ("/docs/{asset}", "GET"),   # the API reference (chalicelib/docs)
          ("/tmf-api/paymentManagement/v4/providerCallback", "POST")}   # HMAC-signed by the provider
PUBLIC |= {(openapi.document_path(api), "GET") for api in openapi.apis(__import__("app").app.routes)}
# A path parameter right after a collection of Andrea's records (tests.security.roles.andrea_records:
# customer/{cid}, product/{pid}, productOrder/{rid}, communicationMessage/{mid}, ...) names her record
# there, whatever the parameter is called; the "other customer", Stacy, is sent to them too.


def _routes():
    from app import app

    return sorted((path, method) for path, entry in app.routes.items() for method in entry)


def _fill(path: str, andreas: dict[str, str]) -> str:
    parts = path.split("/")
    return "/".join(andreas.get(parts[n - 1], "no-such-id") if part.startswith("{") else part
                    for n, part in enumerate(parts))


def _may_see_andrea(name: str, resource: str) -> bool:
    role = CALLERS[name][0]
    if name == "other customer":
        return False
    return (access.scope(role, "customer", access.READ) is not None
            or access.scope(role, resource, access.READ) == access.ALL and resource == "communicationMessage")


def test_every_route_is_in_the_access_table():
    missing = [r for r in _routes() if r not in PUBLIC and access.route(*r) is None]
    assert not missing, f"routes with no access rule (add them to chalicelib/access.py ROUTES): {missing}"
    stale = [r for r in access.ROUTES if r not in _routes()]
    assert not stale, f"access rules for routes the app does not have: {stale}"


def test_every_route_for_every_role(andrea_records, as_role, http, pump):
    problems, checked, opened = [], 0, {}
    # Writes run last so that reads see the demo data as loaded; DELETE at the very end.
    order = {"GET": 0, "POST": 1, "PATCH": 2, "DELETE": 3}
    for path, method in sorted((r for r in _routes() if r not in PUBLIC), key=lambda r: (order[r[1]], r)):
        resource, action = access.route(path, method)
        for name, (role, _) in CALLERS.items():
            other = name == "other customer"
            url = _fill(path, andrea_records)
            body = None if method in ("GET", "DELETE") else {}
            status, answer, text = http(method, url, as_role(name), body)
            checked += 1
            where = f"{method} {url} as {name}"
            if method == "GET" and path.endswith("}") and path.split("/")[-2] in andrea_records \
                    and name in ("customer", "agent"):
                opened[(path.split("/")[-2], name)] = status
            allowed = access.scope(role, resource, action)
            if status >= 500:
                problems.append(f"{where}: {status} {text[:200]}")
            elif allowed is None:
                if status != 403 or not isinstance(answer, dict) or answer.get("@type") != "Error":
                    problems.append(f"{where}: the table refuses {role} ({resource}/{action}) but got {status}")
            elif other and allowed == access.OWN and "{" in path and status not in (403, 404):
                problems.append(f"{where}: another customer's resource answered {status}")
            elif not other and status == 403:
                problems.append(f"{where}: the table lets {role} {action} {resource} ({allowed}) but got 403: "
                                f"{text[:200]}")
            if not _may_see_andrea(name, resource) and any(m in text for m in ANDREA_MARKERS):
                problems.append(f"{where}: {status} carries Andrea's personal data: {text[:300]}")
        pump.drain()
    assert checked > 400
    # Her records are real ones (she and an agent open each), so Stacy's 403/404 above means something.
    assert opened == {(segment, name): 200 for segment in andrea_records for name in ("customer", "agent")}, opened
    assert not problems, "\n".join(problems)


def test_the_readme_shows_the_access_table():
    readme = (__import__("pathlib").Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert access.markdown() in readme, "README's Security model table differs from chalicelib.access.markdown()"
