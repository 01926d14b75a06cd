"""SMS origination settings the stack passes to the code (stack parameters SmsSenderId and
SmsOriginationNumber) are named on every SMS published."""
from __future__ import annotations

from chalicelib.notify import transport


def _published(monkeypatch) -> list[dict]:
    calls: list[dict] = []

    def call(service: str, operation: str, **kwargs):
        calls.append({"service": service, "operation": operation, **kwargs})
        return {"MessageId": "m-1"}

    monkeypatch.setattr(transport, "_call", call)
    return calls


def test_sender_id_and_origination_number_from_settings(monkeypatch):
    calls = _published(monkeypatch)
    monkeypatch.setenv("OMNISHOP_SMS_SENDER_ID", "Shop1")
    monkeypatch.setenv("OMNISHOP_SMS_ORIGINATION_NUMBER", "+18005550100")
    assert transport.send_sms("+447700900123", "hi", "service") == "m-1"
    attributes = calls[0]["MessageAttributes"]
    assert attributes["AWS.SNS.SMS.SenderID"]["StringValue"] == "Shop1"
    assert attributes["AWS.MM.SMS.OriginationNumber"] == {"DataType": "String", "StringValue": "+18005550100"}
    assert attributes["AWS.SNS.SMS.SMSType"]["StringValue"] == "Transactional"


def test_no_origination_number_when_the_parameter_is_empty(monkeypatch):
    calls = _published(monkeypatch)
    monkeypatch.setenv("OMNISHOP_SMS_ORIGINATION_NUMBER", "")
    transport.send_sms("+447700900123", "hi", "marketing")
    attributes = calls[0]["MessageAttributes"]
    assert "AWS.MM.SMS.OriginationNumber" not in attributes
    assert attributes["AWS.SNS.SMS.SMSType"]["StringValue"] == "Promotional"
