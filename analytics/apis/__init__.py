"""The analytics API, by subject: events (both hosts) and stats (the portal, staff)."""
