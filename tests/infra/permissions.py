"""What each IAM role of a synthesized template may do, as flat (effect, action, resource,
condition) grants: every statement of every inline policy (AWS::IAM::Policy) and customer-managed
policy (AWS::IAM::ManagedPolicy) attached to the role, split into one grant per action and
resource. How the statements are grouped, merged or spread over policies does not show; what
the role may do does. `python -m tests.infra.permissions <template.json>` prints the grants as
JSON (the form of tests/infra/role_grants_before.json)."""
from __future__ import annotations

import json
import sys
from typing import Any

Grant = tuple[str, str, str, str]   # effect, action, resource, condition: the last two as JSON


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def role_grants(template: dict[str, Any]) -> dict[str, set[Grant]]:
    """{role logical id: its grants} for every AWS::IAM::Role of the template."""
    resources = template["Resources"]
    grants: dict[str, set[Grant]] = {k: set() for k, r in resources.items() if r["Type"] == "AWS::IAM::Role"}
    attached: dict[str, set[str]] = {k: set() for k in grants}   # role -> policy logical ids
    for key, resource in resources.items():
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for role in resource["Properties"].get("Roles", []):
                attached[role["Ref"]].add(key)
        if resource["Type"] == "AWS::IAM::Role":
            for arn in resource["Properties"].get("ManagedPolicyArns", []):
                assert set(arn) == {"Ref"}, f"{key}: a managed policy not of this template: {arn}"
                attached[key].add(arn["Ref"])
    for role, policies in attached.items():
        for policy in policies:
            for statement in resources[policy]["Properties"]["PolicyDocument"]["Statement"]:
                assert not {"NotAction", "NotResource"} & set(statement), statement
                condition = _text(statement.get("Condition", {}))
                grants[role] |= {(statement["Effect"], action, _text(resource), condition)
                                 for action in _listed(statement["Action"])
                                 for resource in _listed(statement["Resource"])}
    return grants


def as_json(grants: dict[str, set[Grant]]) -> dict[str, Any]:
    """The grants written down once each: those at least half the roles hold as "shared", and
    per role whether it holds all of them and its "own" others."""
    counts: dict[Grant, int] = {}
    for found in grants.values():
        for grant in found:
            counts[grant] = counts.get(grant, 0) + 1
    shared = {grant for grant, count in counts.items() if 2 * count >= len(grants)}
    roles = {}
    for role, found in sorted(grants.items()):
        holds = shared <= found
        roles[role] = {"shared": holds, "own": sorted(map(list, found - shared if holds else found))}
    return {"shared": sorted(map(list, shared)), "roles": roles}


def from_json(data: dict[str, Any]) -> dict[str, set[Grant]]:
    """as_json's form read back."""
    shared = {tuple(grant) for grant in data["shared"]}
    return {role: {tuple(g) for g in entry["own"]} | (shared if entry["shared"] else set())  # type: ignore[misc]
            for role, entry in data["roles"].items()}


if __name__ == "__main__":
    with open(sys.argv[1]) as file:
        print(json.dumps(as_json(role_grants(json.load(file))), indent=0))
