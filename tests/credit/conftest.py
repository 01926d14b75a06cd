"""Fixtures for the credit-check tests: the demo shop (catalogue, customers, rules) in moto, the
basket fixtures (api, headers, roles), customers made through the API with a name the simulated
bureau answers for (data/credit.json), and a count of bureau calls."""
import pytest

from tests.support.names import (  # noqa: F401
    CUSTOMER,
    ORDERS,
    POQ,  # noqa: F401
)

QUALIFY = f"{POQ}/productOfferingQualification"


@pytest.fixture
def bureau_calls(monkeypatch):
    """The customers the bureau was asked about, in order."""
    from chalicelib.credit import bureau

    asked = []
    real = bureau.SimulatedBureau.report

    def report(self, customer):
        asked.append(customer.get("id"))
        return real(self, customer)
    monkeypatch.setattr(bureau.SimulatedBureau, "report", report)
    return asked


@pytest.fixture
def customer(api, agent, headers):
    """customer(name) -> (id, her headers): a customer an agent signed up, with no credit check yet."""
    def make(name):
        status, body, _ = api.call("POST", f"{CUSTOMER}/customer", agent, {
            "name": name, "engagedParty": {"id": f"party-{name.split()[0].lower()}", "@referredType": "Individual"},
            "contactMedium": [{"mediumType": "email", "characteristic": {"emailAddress": "test@example.com"}},
                              {"mediumType": "postalAddress", "characteristic": {
                                  "street1": "1 Quay St", "city": "Bristol", "postCode": "BS1 4DJ", "country": "GB"}}]})
        assert status == 201, body
        return body["id"], headers("customer", channel="web", customerId=body["id"], sub=body["id"])
    return make


def order(*offerings, quantity=1):
    return {"productOrderItem": [{"id": str(n), "action": "add", "quantity": quantity, "productOffering": {"id": o}}
                                 for n, o in enumerate(offerings, 1)]}
