"""Each role may do what it may do, however its statements are spread over policies: the shared
data-access statements are written once, as customer-managed policies attached to every function's
role and the API's (infra/stack.py `_data_access_policies`), not copied into each role.

tests/infra/role_grants_before.json is what every role could do before that change (from the
template the stack made then, `python -m tests.infra.permissions <template>`). A role may not lose
any of it, nor gain anything on a resource that was there then; grants on resources added since
(a new table, queue...) are the new resources' own business. Regenerate the file only for a
deliberate change of what roles may do, and say so in the commit.
"""
from __future__ import annotations

import json
import pathlib
import re

from infra import resources as res
from infra.names import logical_id
from tests.infra.permissions import from_json, role_grants

BEFORE = pathlib.Path(__file__).with_name("role_grants_before.json")
IAM_MANAGED_POLICIES_PER_ROLE = 10   # IAM's default quota (it can be raised to 20)


def _referenced(text: str) -> set[str]:
    return set(re.findall(r'"(?:Ref|Fn::GetAtt)": \[?"([A-Za-z0-9]+)', text))


def test_every_role_may_do_exactly_what_it_did(synth):
    before = from_json(json.loads(BEFORE.read_text()))
    known = set().union(*(_referenced(grant[2]) for grants in before.values() for grant in grants))
    after = role_grants(synth.template)
    for role, grants in before.items():
        assert role in after, f"role {role} is gone (or renamed: its grants cannot be compared)"
        lost = grants - after[role]
        assert not lost, f"{role} lost {len(lost)} grants, e.g. {sorted(lost)[:3]}"
        gained = {g for g in after[role] - grants if _referenced(g[2]) <= known}
        assert not gained, f"{role} gained {len(gained)} grants on existing resources, e.g. {sorted(gained)[:3]}"


def _attached(synth) -> dict[str, set[str]]:
    """{role: the managed policies attached to it}."""
    found: dict[str, set[str]] = {role: set() for role in synth.of_type("AWS::IAM::Role")}
    for key, policy in synth.of_type("AWS::IAM::ManagedPolicy").items():
        for role in policy["Properties"]["Roles"]:
            found[role["Ref"]].add(key)
    return found


def test_data_access_is_written_once(synth):
    managed = synth.of_type("AWS::IAM::ManagedPolicy")
    shared = {key for key in managed if key.startswith("DataAccess")}
    assert shared and shared == set(managed), "only the data-access policies (no OverflowPolicy)"
    roles = [synth.resources[logical_id("Function", f.name)]["Properties"]["Role"]["Fn::GetAtt"][0]
             for f in res.FUNCTIONS]
    roles.append(synth.resources["APIHandler"]["Properties"]["Role"]["Fn::GetAtt"][0])
    attached = _attached(synth)
    for role in roles:
        assert attached[role] == shared, role
        assert len(attached[role]) <= IAM_MANAGED_POLICIES_PER_ROLE, role
    for key in shared:   # the function waits for its permissions
        assert all(key in synth.resources[f]["DependsOn"] for f in
                   [logical_id("Function", f.name) for f in res.FUNCTIONS] + ["APIHandler"]), key


def test_data_access_policies_fit_in_iam(synth):
    from infra.stack import MANAGED_POLICY_LIMIT, POLICY_BUDGET, policy_size   # the CDK only here (infra/names.py)

    for key, policy in synth.of_type("AWS::IAM::ManagedPolicy").items():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert policy_size(statements) <= POLICY_BUDGET < MANAGED_POLICY_LIMIT, key


def test_each_role_policy_stays_inline(synth):
    """Without the shared statements a role's own policy is far under IAM's 10,240 characters."""
    from infra.stack import policy_size

    for key, policy in synth.of_type("AWS::IAM::Policy").items():
        assert policy_size(policy["Properties"]["PolicyDocument"]["Statement"]) < 10240 // 2, key


def test_policy_size_counts_references_as_arns():
    from infra.stack import REFERENCE_SIZE, policy_size

    plain = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "x" * REFERENCE_SIZE}
    assert policy_size([{**plain, "Resource": {"Fn::GetAtt": ["QueueA", "Arn"]}}]) == policy_size([plain])
    joined = {**plain, "Resource": {"Fn::Join": ["", [{"Ref": "AWS::Partition"}, ":x"]]}}
    assert policy_size([joined]) == policy_size([{**plain, "Resource": "x" * REFERENCE_SIZE + ":x"}])
    assert policy_size([plain]) == len(json.dumps({"Version": "2012-10-17", "Statement": [plain]},
                                                  separators=(",", ":")))


RESOURCE_POLICIES = {"AWS::KMS::Key": "KeyPolicy", "AWS::SQS::QueuePolicy": "PolicyDocument",
                     "AWS::SNS::TopicPolicy": "PolicyDocument", "AWS::SecretsManager::ResourcePolicy": "ResourcePolicy"}


def test_resource_policies_name_their_principals(synth):
    """The shared statements are made by CDK's grants on a stand-in principal: none of them may
    leak into a resource's policy (where, without a principal, it would be invalid or open)."""
    for key, resource in synth.resources.items():
        if resource["Type"] in RESOURCE_POLICIES:
            for statement in resource["Properties"][RESOURCE_POLICIES[resource["Type"]]]["Statement"]:
                assert "Principal" in statement, (key, statement)


def test_key_lets_each_role_read_the_secrets(synth):
    """Reading a secret needs the key's policy to name the role (Decrypt through Secrets Manager)."""
    (key,) = synth.of_type("AWS::KMS::Key").values()
    named = {s["Principal"]["AWS"]["Fn::GetAtt"][0] for s in key["Properties"]["KeyPolicy"]["Statement"]
             if isinstance(s["Principal"].get("AWS"), dict) and "Fn::GetAtt" in s["Principal"]["AWS"]
             and "kms:Decrypt" in s["Action"]}
    roles = {synth.resources[logical_id("Function", f.name)]["Properties"]["Role"]["Fn::GetAtt"][0]
             for f in res.FUNCTIONS} | {synth.resources["APIHandler"]["Properties"]["Role"]["Fn::GetAtt"][0]}
    assert res.SECRETS and named == roles
