"""Writes to analytics records, by subject: events, leads, rules."""
