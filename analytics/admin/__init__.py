"""Analytics in the admin, by subject: the records marketing reads (events, archived sandboxes), the leads
sales work (list, lead page, stage actions, accounts) and the scoring rules marketing own (versions,
preview, apply); marketing's dashboards, their lists and launch targets. Importing the modules registers
them, so admin autodiscovery finds them all."""

from analytics.admin import dashboards, leads, records, rules

__all__ = ["dashboards", "leads", "records", "rules"]
