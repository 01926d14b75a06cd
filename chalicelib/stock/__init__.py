"""Stock (TMF687 v4): stock per device offering per location, and reservations of it."""
