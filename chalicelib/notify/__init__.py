"""Notifications (TMF681 communicationManagement): every SMS and email the platform sends.

The public surface: what other contexts may call. Read on first use: importing the package
loads none of it.
    send                send a customer a message for a purpose, once per id (consent, quiet hours)
    MessageRequest      what to send (customer or address, purpose, templates, fields...), checked
    SendRefused         the provider refused the message: it is failed
    TransientSendError  not sent now, may be sent later
    prepare, claim_in,  a new message's claim written in the caller's own transaction (a
    dispatch, Claim     campaign's target and cap), then sent and finished with the caller's
                        finishing writes in one transaction
    release             such a claim given back unsent (its lease ends now)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import deferred

if TYPE_CHECKING:   # for mypy and import-linter; at run time __getattr__ reads them on first use
    from chalicelib.notify.service import (Claim, MessageRequest, SendRefused, TransientSendError, claim_in,
                                           dispatch, prepare, release, send)

__all__ = ["Claim", "MessageRequest", "SendRefused", "TransientSendError", "claim_in", "dispatch", "prepare", "release",
           "send"]
if not TYPE_CHECKING:   # mypy sees the names imported above, and no other
    __getattr__ = deferred.exports(__name__, service=__all__)
