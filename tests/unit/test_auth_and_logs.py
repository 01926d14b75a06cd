import json
import logging

import jwt
import pytest

from chalicelib import auth
from chalicelib.errors import ApiError
from chalicelib.observability import RedactingFormatter, redact


@pytest.fixture(autouse=True)
def local(monkeypatch):
    monkeypatch.setenv("OMNISHOP_LOCAL", "1")


def test_local_token_round_trip():
    token = auth.issue_local_token({"role": "customer", "channel": "web", "customerId": "c-1", "sub": "andrea"})
    caller = auth.caller_from_headers({"authorization": f"Bearer {token}"})
    assert caller == auth.Caller(sub="andrea", role="customer", channel="web", customer_id="c-1")


@pytest.mark.parametrize("claims", [{"role": "pirate"}, {"role": "customer", "channel": "web"},
                                    {"role": "channel"}, {"role": "agent", "channel": "fax"}])
def test_local_token_refuses_bad_claims(claims):
    with pytest.raises(ApiError) as exc:
        auth.issue_local_token(claims)
    assert exc.value.status == 400


def test_local_token_only_in_local_mode(monkeypatch):
    monkeypatch.setenv("OMNISHOP_LOCAL", "0")
    with pytest.raises(ApiError) as exc:
        auth.issue_local_token({"role": "agent"})
    assert exc.value.status == 403


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer", "Bearer not.a.jwt"])
def test_missing_or_invalid_tokens_are_401(header):
    with pytest.raises(ApiError) as exc:
        auth.caller_from_headers({"authorization": header} if header else {})
    assert exc.value.status == 401


def test_token_signed_by_another_key_is_401():
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode({"sub": "x", "role": "catalog-admin", "iss": "omnishop-local", "iat": 1, "exp": 4102444800},
                       other, algorithm="RS256")
    with pytest.raises(ApiError) as exc:
        auth.verify(token)
    assert exc.value.status == 401


def test_cognito_style_custom_claims_are_read():
    caller = auth.caller_from_claims({"sub": "s", "custom:role": "agent", "custom:channel": "callcenter"})
    assert caller.role == "agent" and caller.channel == "callcenter"


def test_require():
    auth.require(auth.Caller("s", "catalog-admin"), "catalog-admin")
    with pytest.raises(ApiError) as exc:
        auth.require(auth.Caller("s", "channel", "web"), "catalog-admin")
    assert exc.value.status == 403


def test_own_customer_id_is_the_customer_tokens_id():
    assert auth.Caller("s", "customer", "web", customer_id="c-1").own_customer_id == "c-1"
    with pytest.raises(ApiError) as refused:   # caller_from_claims never makes one, but never None
        _ = auth.Caller("s", "customer", "web").own_customer_id
    assert refused.value.status == 401


def test_log_lines_never_carry_contact_data():
    assert "andrea@example.com" not in redact("mail andrea@example.com now")
    assert "+447700900123" not in redact("sms to +447700900123")
    assert redact("order 12345 total 30") == "order 12345 total 30"
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "contact %s", ("+33612345678",), None)
    line = RedactingFormatter().format(record)
    assert "+33612345678" not in line and json.loads(line)["message"] == "contact <phone>"


@pytest.mark.parametrize("scope,role,channel,stack", [
    ("omnishop/channel.web", "channel", "web", None),
    ("omnishop/stack.csp-stack-b", "stack", None, "csp-stack-b"),
])
def test_cognito_client_credentials_scopes_map_to_roles(scope, role, channel, stack):
    caller = auth.caller_from_claims({"sub": "client-1", "scope": scope, "client_id": "client-1"})
    assert (caller.role, caller.channel, caller.stack) == (role, channel, stack)


@pytest.mark.parametrize("scope", ["omnishop/channel.web omnishop/channel.app", "omnishop/channel.fax",
                                   "other/stack", "omnishop/stack omnishop/channel.web",
                                   "omnishop/stack", "omnishop/stack.csp-stack-z",
                                   "omnishop/stack.csp-stack-a omnishop/stack.csp-stack-b",
                                   "omnishop/stack.csp-stack-a omnishop/channel.web"])
def test_ambiguous_or_foreign_scopes_are_refused(scope):
    with pytest.raises(ApiError) as exc:
        auth.caller_from_claims({"sub": "client-1", "scope": scope})
    assert exc.value.status == 401
