"""No phone number or email address appears in clear in any log line: every log line of a whole
customer journey (API and stream consumer) is captured, from the real handler and every logger."""
import io
import logging

from chalicelib.observability import logger
from tests.customer.conftest import BASE, PI, andrea_body

PHONE, EMAIL = "+447700900321", "a.rossi@example.org"
BAD_PHONE, BAD_EMAIL = "0612345678", "rossi@@example"   # invalid input: not even redaction patterns match these
NEW_PHONE, NEW_EMAIL = "+33612345678", "andrea@new.example.net"


def test_no_contact_data_in_any_log_line(api, agent, as_customer, demo, pump, caplog, monkeypatch):
    powertools = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", powertools)
    caplog.set_level(logging.INFO)

    _, doc, _ = api.call("POST", f"{BASE}/customer", agent, andrea_body())
    cid = doc["id"]
    mine = as_customer(cid)
    api.call("PATCH", f"{BASE}/customer/{cid}", mine, {"contactMedium": [
        {"mediumType": "mobile", "characteristic": {"phoneNumber": NEW_PHONE}},
        {"mediumType": "email", "characteristic": {"emailAddress": NEW_EMAIL}}]})
    api.call("PATCH", f"{BASE}/customer/{cid}", mine, {"contactMedium": [
        {"mediumType": "mobile", "characteristic": {"phoneNumber": BAD_PHONE}}]})
    api.call("POST", f"{BASE}/customer", agent, andrea_body(contactMedium=[
        {"mediumType": "email", "characteristic": {"emailAddress": BAD_EMAIL}}]))
    api.call("PATCH", f"{BASE}/customer/{cid}", mine, {"contactPreference": {"consent": {"email": {"marketing": True}}}})
    for path in (f"customer/{cid}", f"customer/{cid}/view360", f"customer/{cid}/consentAudit", "customer"):
        api.call("GET", f"{BASE}/{path}", agent)
    api.call("POST", f"{PI}/partyInteraction", agent, {"reason": f"called back on {NEW_PHONE}", "direction": "outbound",
                                                       "channel": [{"id": "phone"}],
                                                       "relatedParty": [{"id": cid, "role": "customer"}]})
    api.call("POST", f"{BASE}/customer/{cid}/identityLink", agent, {"visitorId": "v-77"})
    pump.drain()
    assert pump.errors == []

    assert "customer opened by an agent" in powertools.getvalue()  # the real handler's output was captured
    lines = powertools.getvalue() + "\n".join(f"{r.name} {r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "customer created" in lines and "customer opened by an agent" in lines and "interaction recorded" in lines
    for secret in (PHONE, EMAIL, NEW_PHONE, NEW_EMAIL, BAD_PHONE, BAD_EMAIL, "+447700900123", "andrea.rossi@example.com",
                   "447700900321", "a.rossi"):
        assert secret not in lines, secret
