"""JSON calls through the chalice test client, for the component tests (the `api` fixture)."""
from __future__ import annotations

import json


class Api:
    """JSON calls through the chalice test client: (status, body, headers)."""

    def __init__(self, client):
        self.client = client

    def call(self, method, path, headers, body=None):
        raw = body if body is None or isinstance(body, (bytes, str)) else json.dumps(body)
        r = getattr(self.client.http, method.lower())(path, headers=headers, **({"body": raw} if raw is not None else {}))
        return r.status_code, (json.loads(r.body) if r.body else None), r.headers
