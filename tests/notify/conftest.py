"""Fixtures for the notification component tests: the demo customers alone in the `aws` moto.
What moto's SNS and SES received: tests/support/stored.py; the fixed clock (`clock`, NOON,
NIGHT) and provider failures (`failing`): tests/support/fixtures.py."""
import pytest

from tests.support import demo as demo_data

ANDREA_MOBILE, ANDREA_EMAIL, STACY_MOBILE = "+447700900123", "andrea.rossi@example.com", "+447700900456"


@pytest.fixture
def demo(aws, pump):
    demo_data.load("customer", pump=pump)


def customer_interactions(customer_id):
    from chalicelib.customer import store

    return store.interactions(store.customer_pk(customer_id))
