"""Who acts on a resource: one small value, instead of role, subject, channel and a `by` dict
passed side by side. Domain functions decide rights with it and record it as `by`/`changedBy`."""
from __future__ import annotations

import dataclasses
from typing import Any, Protocol

SYSTEM = "system"        # the platform itself: the abandoned-basket process, ordering, hand-over
SYSTEM_ID = "omnishop"


class _Caller(Protocol):   # chalicelib.auth.Caller, without importing auth into every domain module
    @property
    def role(self) -> str: ...
    @property
    def sub(self) -> str: ...
    @property
    def channel(self) -> str | None: ...


@dataclasses.dataclass(frozen=True)
class Actor:
    role: str                    # customer, channel, agent, ... or SYSTEM
    id: str                      # the token's subject, or SYSTEM_ID
    channel: str | None = None   # the channel it acts through, when there is one

    @classmethod
    def of(cls, caller: _Caller) -> Actor:
        """The person or system a verified token names."""
        return cls(caller.role, caller.sub, caller.channel)

    @classmethod
    def system(cls, channel: str | None = None) -> Actor:
        """The platform, acting on its own (optionally in a channel's name: the customer's last one)."""
        return cls(SYSTEM, SYSTEM_ID, channel)

    @property
    def by(self) -> dict[str, Any]:
        """As recorded on a resource (`by`, `changedBy`): no contact data, no empty fields."""
        return {k: v for k, v in (("id", self.id), ("role", self.role), ("channel", self.channel)) if v}
