"""Reads of analytics records, by subject: stats, leads."""
