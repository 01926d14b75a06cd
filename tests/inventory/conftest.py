"""Fixtures for the inventory tests (moto in-process, chalice test client), with the demo
catalogue, customers, their products and rules loaded. Reuses the basket and ordering fixtures."""

import pytest

from tests.support.names import ORDERS, PRODUCTS  # noqa: F401 (this folder's names too)
from tests.support.products import SPEC, stored_products, valid_product  # noqa: F401 (the folder's tests use them)

BASE = "/tmf-api/productInventory/v4"


@pytest.fixture
def stack(headers):
    return lambda name: headers("stack", sub=name, stack=name)


@pytest.fixture
def as_customer(headers):
    return lambda cid, channel="web": headers("customer", channel=channel, customerId=cid, sub=cid)
