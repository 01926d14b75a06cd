"""Notifications (TMF681 communicationManagement): every SMS and email the platform sends.

The public surface: what other contexts may call. Read on first use: importing the package
loads none of it.
    send                send a customer a message for a purpose, once per id (consent, quiet hours)
    MessageRequest      what to send (customer or address, purpose, templates, fields...), checked
    SendRefused         the provider refused the message: it is failed
    TransientSendError  not sent now, may be sent later
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import deferred

if TYPE_CHECKING:   # for mypy and import-linter; at run time __getattr__ reads them on first use
    from chalicelib.notify.service import MessageRequest, SendRefused, TransientSendError, send

__all__ = ["MessageRequest", "SendRefused", "TransientSendError", "send"]
if not TYPE_CHECKING:   # mypy sees the names imported above, and no other
    __getattr__ = deferred.exports(__name__, service=__all__)
