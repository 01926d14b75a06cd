"""The credit-decision adapter: one call, `report(customer)`, answering a score for a customer.
Locally (and in tests) the simulated bureau answers deterministically from the customer's name
(data/credit.json `simulatedBureau`): a name ending in "Deposit", "Limit" or "Refuse" gets the
score of that outcome, everyone else one that approves. A real bureau is another class with the
same method, chosen by OMNISHOP_CREDIT_BUREAU (chalicelib/settings.py)."""
from __future__ import annotations

import hashlib
from typing import Any, Mapping, Protocol

from chalicelib import settings
from chalicelib.credit import domain


class CreditBureau(Protocol):
    def report(self, customer: Mapping[str, Any]) -> domain.Report: ...


class SimulatedBureau:
    name = "simulated"

    def report(self, customer: Mapping[str, Any]) -> domain.Report:
        table = domain.rules()["simulatedBureau"]
        words = str(customer.get("name") or "").split()
        score = table["scoreByLastName"].get(words[-1].lower() if words else "", table["defaultScore"])
        digest = hashlib.sha256(f"{customer.get('id')}:{score}".encode()).hexdigest()[:12]
        return domain.Report(score=int(score), reference=f"sim-{digest}", bureau=self.name)


BUREAUS: dict[str, type] = {"simulated": SimulatedBureau}


def current() -> CreditBureau:
    """The configured bureau (settings.credit_bureau())."""
    name = settings.credit_bureau()
    if name not in BUREAUS:
        raise RuntimeError(f"OMNISHOP_CREDIT_BUREAU={name!r}: no such credit bureau adapter "
                           f"(known: {', '.join(BUREAUS)})")
    return BUREAUS[name]()
