"""Lambda handlers that are not HTTP. Each is a thin Powertools handler over chalicelib."""
