"""The credit rules, pure: which offerings need a check, the decision a score leads to, a profile's
validity, contract lines, deposits, the simulated bureau's deterministic answers."""
import datetime as dt
from decimal import Decimal

import pytest

from chalicelib import tmf
from chalicelib.credit import bureau, domain

AT = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc)
RULES = domain.rules()
TERM_24 = [{"name": "24 months", "duration": {"amount": 24, "units": "month"}}]


@pytest.mark.parametrize("offering, prices, need", [
    ({"productOfferingTerm": TERM_24}, [], domain.CONTRACT),
    ({"productOfferingTerm": [{"duration": {"amount": 2, "units": "year"}}]}, [], domain.CONTRACT),
    ({"productOfferingTerm": [{"duration": {"amount": 6, "units": "month"}}]}, [], None),      # too short
    ({"category": [{"id": "cat-devices"}]}, [{"priceType": "recurring"}], domain.FINANCING),    # a financed handset
    ({"category": [{"id": "cat-devices"}]}, [{"priceType": "oneTime"}], None),                 # bought outright
    ({"category": [{"id": "cat-tv"}]}, [{"priceType": "recurring"}], None),                    # no term, no device
    ({}, [None], None),
])
def test_which_offerings_need_a_check(offering, prices, need):
    assert domain.check_needed(offering, prices, RULES) == need


@pytest.mark.parametrize("score, decision", [(750, domain.APPROVE), (700, domain.APPROVE),
                                             (699, domain.DEPOSIT), (550, domain.LINE_LIMIT),
                                             (499, domain.REFUSE), (-5, domain.REFUSE)])
def test_score_bands(score, decision):
    assert domain.band(score, RULES)["decision"] == decision


def _profile(score, at=AT):
    return domain.new_profile(domain.Report(score, "ref-1", "simulated"), RULES, at)


def test_a_profile_is_tmf629_shaped_and_valid_for_the_rules_period():
    profile = _profile(650)
    assert profile["creditProfileDate"] == tmf.iso(AT) and profile["@type"] == "CreditProfile"
    assert profile["validFor"] == {"startDateTime": tmf.iso(AT),
                                   "endDateTime": tmf.iso(AT + dt.timedelta(days=RULES["validForDays"]))}
    assert profile["decision"] == domain.DEPOSIT and profile["deposit"] == {"perItem": 100, "unit": "EUR"}
    assert (profile["creditScore"], profile["creditRiskRating"]) == (650, 2)
    customer = domain.recorded({"id": "c1"}, profile)
    assert domain.current(customer, AT + dt.timedelta(days=1)) == profile
    assert domain.current(customer, AT + dt.timedelta(days=RULES["validForDays"])) is None     # expired
    assert domain.current(customer, AT - dt.timedelta(seconds=1)) is None                      # not yet


@pytest.mark.parametrize("profiles", [None, [], ["text"], [{"decision": "maybe", "validFor": {}}],
                                      [{"decision": "approve", "creditProfileDate": "yesterday"}],
                                      [{"decision": "approve"}]])
def test_no_decision_to_reuse(profiles):
    """Missing, foreign or hand-written profiles without a usable period are not reused."""
    assert domain.current({"creditProfile": profiles} if profiles is not None else None, AT) is None


def test_history_is_newest_first_and_bounded():
    customer = {"id": "c1"}
    for n in range(domain.HISTORY + 2):
        customer = domain.recorded(customer, {**_profile(750), "id": f"p{n}"})
    assert [p["id"] for p in customer["creditProfile"]] == [f"p{n}" for n in range(domain.HISTORY + 1, 1, -1)]


def test_refusals_and_line_limits():
    assert domain.refusal(_profile(420), 0)[0] == domain.REFUSED
    assert domain.refusal(_profile(550), 1) is None
    assert domain.refusal(_profile(550), 2)[0] == domain.TOO_MANY_LINES
    assert domain.refusal(_profile(750), 9) is None and domain.refusal(_profile(650), 9) is None


def test_contract_lines_count_running_contracts_kept_and_contracts_added():
    running = {"productTerm": [{"validFor": {"endDateTime": tmf.iso(AT + dt.timedelta(days=100))}}]}
    ended = {"productTerm": [{"validFor": {"endDateTime": tmf.iso(AT - dt.timedelta(days=1))}}]}
    held = {"p1": running, "p2": running, "p3": ended, "p4": {}}
    items = [{"id": "1", "action": "add", "quantity": 2}, {"id": "2", "action": "add"},
             {"id": "3", "action": "delete", "product": {"id": "p2"}}]
    needs = {"1": domain.CONTRACT, "2": domain.FINANCING}
    assert domain.contract_lines(items, needs, held, AT) == 1 + 2      # p1 kept; item 1 twice; financing is no line
    assert domain.contract_lines([], {}, held, AT) == 2


def test_deposit_per_item_checked():
    assert domain.deposit(_profile(650), 3) == (Decimal("300.00"), "EUR")
    assert domain.deposit(_profile(750), 3) is None and domain.deposit(_profile(650), 0) is None
    price = domain.deposit_price(Decimal("300.00"), "EUR", 3)
    assert price["name"] == "Deposit" and price["priceType"] == "oneTime"
    assert price["price"]["taxIncludedAmount"] == {"unit": "EUR", "value": 300}


@pytest.mark.parametrize("name, decision", [("Dana Deposit", domain.DEPOSIT), ("Lee LIMIT", domain.LINE_LIMIT),
                                            ("Rita Refuse", domain.REFUSE), ("Andrea Rossi", domain.APPROVE),
                                            ("", domain.APPROVE), ("Refuse Smith", domain.APPROVE)])
def test_the_simulated_bureau_answers_by_the_last_name(name, decision):
    first = bureau.SimulatedBureau().report({"id": "c1", "name": name})
    assert first == bureau.SimulatedBureau().report({"id": "c1", "name": name})      # deterministic
    assert domain.band(first.score, RULES)["decision"] == decision and first.bureau == "simulated"


def test_an_unknown_bureau_is_a_configuration_error(monkeypatch):
    monkeypatch.setenv("OMNISHOP_CREDIT_BUREAU", "acme-bureau")
    with pytest.raises(RuntimeError, match="acme-bureau"):
        bureau.current()


def test_summary_explains_the_decision():
    customer = domain.recorded({"id": "c1"}, _profile(550))
    shown = domain.summary(customer, AT)
    assert shown["valid"] and shown["decision"] == domain.LINE_LIMIT and shown["lineLimit"] == 1
    assert "at most 1 contract line" in shown["explanation"]
    later = domain.summary(customer, AT + dt.timedelta(days=365))
    assert not later["valid"] and later["decision"] == domain.LINE_LIMIT and "no valid credit check" in later["explanation"]
    assert domain.summary({"id": "c2"}, AT) == {"valid": False, "explanation": domain.explanation(None)}


def test_the_customer_schema_knows_the_same_decisions():
    import typing

    from chalicelib.customer import schemas

    allowed = schemas.CreditProfile.model_fields["decision"].annotation
    assert set(typing.get_args(typing.get_args(allowed)[0])) == set(domain.DECISIONS)
