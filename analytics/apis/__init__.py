"""The analytics API, by subject: events (both hosts); stats, leads and accounts (the portal, staff)."""
