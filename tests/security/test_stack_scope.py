"""Stack identity is bound in the token: a stack token names its stack (claim `stack` locally,
scope omnishop/stack.<name> from Cognito) and reports only on its own stack's child orders,
whatever its `sub` (in AWS a client-credentials token's sub is the app client id).

On the code before: the check applied only when `sub` was a demo stack name, so a stack token
with any other sub failed another stack's child order and the whole order.
"""
from __future__ import annotations

import pytest

from chalicelib import auth
from chalicelib.errors import ApiError
from tests.security.roles import as_role, http, world  # noqa: F401
from tests.support.appointments import installed
from tests.support.orders import andrea_order, settle

PO = "/tmf-api/productOrderingManagement/v4"
LISTENER = f"{PO}/listener/productOrderStateChangeEvent"


def _children_by_stack(order):
    from chalicelib.ordering import domain, store

    out = {}
    for rel in order.get("orderRelationship") or []:
        child = store.load(rel["id"]).doc
        out[domain.stack_of(child)] = child
    return out


def test_a_stack_reports_only_on_its_own_child_orders(world, as_role, http, token, pump, stacks, monkeypatch):
    monkeypatch.setenv("OMNISHOP_SIMULATED_STACKS_SILENT", "csp-stack-a,csp-stack-b,iot-partner-x")
    installed("cust-andrea", "po-broadband-500", "po-home-security")
    status, order, _ = http("POST", f"{PO}/productOrder", as_role("customer"),
                            andrea_order("po-broadband-500", "po-home-security"))
    assert status == 201, order
    order = settle(pump, order["id"], done=("inProgress",), finished=False)
    children = _children_by_stack(order)
    assert {"csp-stack-a", "iot-partner-x"} <= set(children), children

    def as_stack(stack, sub):
        return {"Authorization": f"Bearer {token('stack', stack=stack, sub=sub)}", "Content-Type": "application/json"}

    iot_child = children["iot-partner-x"]["id"]
    failed = {"event": {"productOrder": {"id": iot_child, "state": "failed"}}}
    # csp-stack-a, whatever its sub (an app client id, or even another stack's name), is not iot-partner-x
    for sub in ("3q9v7client", "iot-partner-x", "anything"):
        got, body, _ = http("POST", LISTENER, as_stack("csp-stack-a", sub), failed)
        assert got == 404 and body["@type"] == "Error", (sub, got, body)
    from chalicelib.ordering import store
    assert store.load(iot_child).doc["state"] != "failed"
    assert store.load(order["id"]).doc["state"] == "inProgress"
    # iot-partner-x, with any sub, may
    got, body, _ = http("POST", LISTENER, as_stack("iot-partner-x", "client-77"),
                        {"event": {"productOrder": {"id": iot_child, "state": "completed"}}})
    assert got == 201 and body["state"] == "completed"
    # a stack reads no orders and does not subscribe to order events (it gets its own on its queue)
    assert http("GET", f"{PO}/productOrder/{iot_child}", as_role("stack"))[0] == 403
    assert http("POST", f"{PO}/hub", as_role("stack"), {"callback": "https://stack.example.com/e"})[0] == 403


@pytest.mark.parametrize("claims", [{}, {"stack": "csp-stack-z"}, {"stack": ""}, {"stack": ["csp-stack-a"]}])
def test_a_local_stack_token_must_name_a_known_stack(aws, http, claims):
    status, body, _ = http("POST", "/local/token", {"Content-Type": "application/json"},
                           {"role": "stack", "sub": "csp-stack-a", **claims})
    assert status == 400 and "stack" in body["message"], body


def test_only_stack_tokens_name_a_stack(aws, http):
    status, body, _ = http("POST", "/local/token", {"Content-Type": "application/json"},
                           {"role": "agent", "channel": "callcenter", "stack": "csp-stack-a"})
    assert status == 400


@pytest.mark.parametrize("claims,stack", [
    ({"scope": "omnishop/stack.iot-partner-x"}, "iot-partner-x"),
    ({"role": "stack", "stack": "csp-stack-b"}, "csp-stack-b"),
    ({"custom:role": "stack", "custom:stack": "csp-stack-a"}, "csp-stack-a"),
])
def test_the_stack_comes_from_the_token_not_the_sub(claims, stack):
    caller = auth.caller_from_claims({"sub": "4jd8client", **claims})
    assert (caller.role, caller.stack, caller.sub) == ("stack", stack, "4jd8client")


@pytest.mark.parametrize("claims", [{"scope": "omnishop/stack"}, {"role": "stack"},
                                    {"scope": "omnishop/stack.csp-stack-a omnishop/stack.iot-partner-x"},
                                    {"role": "stack", "stack": "nobody"}])
def test_a_stack_token_without_one_known_stack_is_refused(claims):
    with pytest.raises(ApiError) as exc:
        auth.caller_from_claims({"sub": "csp-stack-a", **claims})
    assert exc.value.status == 401


def test_cognito_has_one_scope_per_stack():
    from infra import stack as cdk_stack

    assert {s for s in cdk_stack.SCOPES if s.startswith("stack")} == {f"stack.{s}" for s in auth.stacks()}
