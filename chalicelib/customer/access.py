"""Who may touch which customer's data, per the access table (chalicelib/access.py). A customer
token reaches only its own customer (any other id is 404, never their data); an agent in the call
centre or a store reaches every customer."""
from __future__ import annotations


from chalicelib import access as rights
from chalicelib.auth import Caller, require
from chalicelib.errors import forbidden, not_found

AGENT_CHANNELS = ("callcenter", "store")


def is_agent(caller: Caller) -> bool:
    return caller.role == "agent"


def check_agent(caller: Caller) -> None:
    if is_agent(caller) and caller.channel not in AGENT_CHANNELS:
        raise forbidden(f"an agent works with customers from one of {', '.join(AGENT_CHANNELS)} "
                        "(the token's channel)")


def check_roles(caller: Caller, *roles: str) -> None:
    require(caller, *roles)
    check_agent(caller)


def check_customer(caller: Caller, customer_id: str, *roles: str) -> None:
    """May `caller` reach customer `customer_id`'s data? Roles other than agent/customer must be
    listed in `roles`."""
    check_roles(caller, *rights.roles("customer", rights.READ), *roles)
    if caller.role == "customer" and caller.customer_id != customer_id:
        raise not_found("customer", customer_id)


