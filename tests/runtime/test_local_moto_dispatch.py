"""The local runtime's moto server chooses a request's backend once per host
(infra/local/moto_dispatch.py), with moto's own answer."""
from __future__ import annotations

from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from infra.local import moto_dispatch

HOSTS = ("dynamodb.eu-west-1.amazonaws.com", "sqs.eu-west-1.amazonaws.com", "states.eu-west-1.amazonaws.com",
         "sns.eu-west-1.amazonaws.com", "email.eu-west-1.amazonaws.com", "moto_api", None, "nothing.example")


def test_each_host_gets_motos_backend_and_the_package_is_listed_once_per_host(monkeypatch):
    app = DomainDispatcherApplication(create_backend_app)
    expected = {host: app.get_backend_for_host(host) for host in HOSTS}   # moto's own (or already kept) answers
    assert expected["dynamodb.eu-west-1.amazonaws.com"] == "dynamodb" and expected["nothing.example"] is None
    moto_dispatch.install()
    moto_dispatch.install()   # idempotent
    listed = []
    original = backends.list_of_moto_modules
    monkeypatch.setattr(backends, "list_of_moto_modules", lambda: listed.append(1) or original())
    app = DomainDispatcherApplication(create_backend_app)
    for _ in range(3):
        assert {host: app.get_backend_for_host(host) for host in HOSTS} == expected
    assert len(listed) <= len(HOSTS)   # at most once per host, not once per request (24 here)
