"""Fixtures for the catalogue tests: its roles' headers and the demo catalogue alone (written
straight to the table: no stream record delivered)."""
import pytest

from tests.support import demo as demo_data


@pytest.fixture
def admin(token):
    return {"Authorization": f"Bearer {token('catalog-admin')}", "Content-Type": "application/json"}


@pytest.fixture
def web(token):
    return {"Authorization": f"Bearer {token('channel', channel='web')}"}


@pytest.fixture
def demo(aws):
    demo_data.load("catalog")
