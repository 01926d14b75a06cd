"""What the stack (infra/stack.py) names and declares that needs no CDK: its resources' logical ids,
physical names and environment variables, and its Cognito scopes and claims. The infra tests read
them too; importing them loads no CDK (aws_cdk starts node and loads the aws-cdk-lib assembly:
about 1.5 CPU-seconds a process, in every pytest worker when a test module imported it at
collection, docs/decisions.md session 17).
"""
from __future__ import annotations

import re

from chalicelib import auth, settings

PROJECT = "omnishop"
ALARM_TOPIC = "ops-alarms"                       # resources.TOPICS: "alarms go to the ops topic"
# Machine clients (client credentials): one scope, and so one client, per channel backend and
# per fulfilment stack. chalicelib/auth.py turns the scope into the caller's role/channel/stack.
SCOPES = {**{auth.channel_scope(c): f"The {c} channel's own backend" for c in auth.CHANNELS},
          **{auth.stack_scope(s): f"Fulfilment stack {s} reporting on its own child orders" for s in auth.stacks()}}
# The claims chalicelib/auth.py reads (as `custom:<name>` from Cognito), with their max length.
CUSTOM_ATTRIBUTES = {"role": 32, "channel": 32, "customerId": 128}


def logical_id(kind: str, name: str) -> str:
    """`("Table", "hub-delivery")` -> "TableHubDelivery": the resource's id in the template."""
    return kind + "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name))


def env_name(kind: str, name: str) -> str:
    """The variable chalicelib/settings.py reads for a resource, e.g. OMNISHOP_TABLE_CATALOG."""
    return settings.PREFIX + f"{kind}_" + settings._key(name)


def physical_name(stage: str, name: str) -> str:
    """Names we must fix in advance (see stack.py _state_machine_arn); settings.resource_name's shape."""
    return f"{PROJECT}-{stage}-{name}"
