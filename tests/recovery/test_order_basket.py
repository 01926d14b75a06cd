"""ordering.order_basket (issue 19): a system orders a customer's basket for her through
ordering's public surface, as an explicit Actor (the platform), checked as her own checkout,
without making up a customer Caller."""
import pytest

from chalicelib import ordering
from chalicelib.actor import Actor
from chalicelib.errors import Conflict, NotFound
from tests.recovery.conftest import CARTS
from tests.support.orders import item


def _active_basket(api, andrea):
    status, cart, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-home-security")]})
    assert status == 201, cart
    return cart


def test_a_basket_not_approved_is_not_ordered_for_her(demo, api, andrea):
    cart = _active_basket(api, andrea)
    with pytest.raises(Conflict) as refused:
        ordering.order_basket(cart["id"], "cust-andrea", Actor.system("web"), only_approved=True)
    assert refused.value.code == "basketNotApproved"
    assert ordering.load(ordering.basket_order_id(cart["id"])) is None   # nothing written


def test_another_customers_basket_is_not_found(demo, api, andrea):
    cart = _active_basket(api, andrea)
    with pytest.raises(NotFound):
        ordering.order_basket(cart["id"], "cust-stacy", Actor.system("web"), only_approved=True)
    assert ordering.load(ordering.basket_order_id(cart["id"])) is None


def test_she_is_the_customer_the_capture_checks(monkeypatch):
    """What capture is asked: her basket, as her own checkout in the channel given, with the journey."""
    from chalicelib.ordering import capture

    asked = []
    monkeypatch.setattr(capture, "create", lambda *args, **kwargs: asked.append((args, kwargs)) or ({}, 1, True))
    placed = ordering.order_basket("cart-1", "cust-andrea", Actor.system("email"), "journey-9", approving=3)
    assert placed == ({}, 1, True)
    (body, caller, journey), kwargs = asked[0]
    assert body == {"shoppingCart": {"id": "cart-1"}} and journey == "journey-9"
    assert (caller.role, caller.customer_id, caller.sub, caller.channel) == ("customer", "cust-andrea", "cust-andrea",
                                                                            "email")
    assert kwargs == {"only_approved": False, "approving": 3}
