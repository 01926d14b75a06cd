"""Signed links: round trip, expiry, tampering, purpose, rotation; no personal data inside."""
import base64
import os

import pytest

from chalicelib.errors import ApiError
from chalicelib.notify import links

SECRETS = ["s3cret-new", "s3cret-old"]


def test_round_trip_and_url_safe():
    token = links.sign("basket.assist", "b-42", 3600, now=1000, secrets=SECRETS)
    assert all(c.isalnum() or c in "-_." for c in token) and len(token) < 80
    assert links.verify(token, "basket.assist", now=1001, secrets=SECRETS) == links.Link("basket.assist", "b-42", 4600)


def test_payload_holds_only_purpose_subject_and_expiry():
    payload = links.sign("basket.resume", "b-42", 60, now=0, secrets=SECRETS).split(".")[0]
    assert base64.urlsafe_b64decode(payload + "==").decode() == "basket.resume~b-42~60"


def test_expired_is_410():
    token = links.sign("basket.assist", "b-42", 60, now=1000, secrets=SECRETS)
    with pytest.raises(ApiError) as err:
        links.verify(token, now=1060, secrets=SECRETS)
    assert err.value.status == 410 and err.value.code == "linkExpired"


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),               # signature changed
    lambda t: links.sign("basket.assist", "b-43", 60, now=1000, secrets=SECRETS).split(".")[0]
    + "." + t.split(".")[1],                                                     # subject swapped
    lambda t: "not-a-token", lambda t: "", lambda t: t + ".x", lambda t: "%%%.%%%", lambda t: "a" * 500,
])
def test_forged_or_malformed_is_400(mangle):
    token = links.sign("basket.assist", "b-42", 60, now=1000, secrets=SECRETS)
    with pytest.raises(ApiError) as err:
        links.verify(mangle(token), now=1001, secrets=SECRETS)
    assert err.value.status == 400 and err.value.code == "invalidLink"


def test_other_purpose_is_400_and_other_secret_is_refused():
    token = links.sign("basket.resume", "b-42", 60, now=1000, secrets=SECRETS)
    with pytest.raises(ApiError, match="for basket.resume, not basket.assist"):
        links.verify(token, "basket.assist", now=1001, secrets=SECRETS)
    with pytest.raises(ApiError, match="signature"):
        links.verify(token, now=1001, secrets=["another"])


def test_rotation_old_secret_still_verifies():
    old = links.sign("basket.assist", "b-42", 60, now=1000, secrets=["s3cret-old"])
    assert links.verify(old, now=1001, secrets=SECRETS).subject == "b-42"


def test_settings_secret_locally_and_refused_when_unconfigured(monkeypatch):
    monkeypatch.setenv("OMNISHOP_LOCAL", "1")
    monkeypatch.delenv("OMNISHOP_SECRET_ID_LINK_KEYS", raising=False)
    assert links.verify(links.sign("basket.assist", "b-1")).subject == "b-1"
    assert links.url("abc").endswith("/l/abc")
    monkeypatch.setenv("OMNISHOP_LOCAL", "0")
    with pytest.raises(RuntimeError, match="OMNISHOP_SECRET_ID_LINK_KEYS"):
        links.sign("basket.assist", "b-1")


@pytest.mark.parametrize("purpose,subject", [("basket assist", "b-1"), ("a", "andrea@example.com"), ("a", ""),
                                             ("a", "x~y")])
def test_parts_are_plain_ids(purpose, subject):
    with pytest.raises(ValueError):
        links.sign(purpose, subject, 60, secrets=SECRETS)


def test_keys_come_from_secrets_manager_read_once_per_max_age(aws, monkeypatch):
    """The local runtime's secret in moto (infra/resources.py SECRETS); a changed value is seen
    only once the cached one is older than settings.secret_max_age_seconds()."""
    from chalicelib import aws as aws_clients
    from chalicelib import settings

    secret_id = settings.secret_id(settings.LINK_SECRET)
    assert secret_id and secret_id.startswith("arn:aws:secretsmanager:")
    assert "OMNISHOP_LINK_SECRETS" not in os.environ
    assert links.keys() == [settings.LOCAL_LINK_SECRET]
    token = links.sign("basket.assist", "b-7", 60)
    aws_clients.client("secretsmanager").put_secret_value(SecretId=secret_id, SecretString="new-key,old-key")
    assert links.keys() == [settings.LOCAL_LINK_SECRET], "cached for secret_max_age_seconds"
    links._provider.cache_clear()   # a new container (or the cache expired)
    assert links.keys() == ["new-key", "old-key"]
    with pytest.raises(ApiError, match="signature"):
        links.verify(token)
    assert links.verify(links.sign("basket.assist", "b-7", 60), secrets=["new-key"]).subject == "b-7"
