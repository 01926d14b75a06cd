"""Fixtures for the notification component tests: the demo customers alone in the `aws` moto.
What moto's SNS and SES received: tests/support/stored.py; the fixed clock (`clock`, NOON,
NIGHT) and provider failures (`failing`): tests/support/fixtures.py."""
import pytest

from tests.support import demo as demo_data
from tests.support.names import ANDREA_EMAIL, ANDREA_MOBILE, STACY_MOBILE  # noqa: F401 (this folder's names too)


@pytest.fixture
def demo(aws, pump):
    demo_data.load("customer", pump=pump)


def customer_interactions(customer_id):
    from chalicelib.customer import store

    return store.interactions(store.customer_pk(customer_id))
