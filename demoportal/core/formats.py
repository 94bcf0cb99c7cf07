"""How dates and times read on every page, the portal's and a sandbox's: one date-time format and one date
format (and a calendar month's), written here once. Templates use them through the ``dates`` filters
(``{% load dates %}``: ``|moment``, ``|day``, ``|month``); Python code that writes a date into a page or a
message calls these functions; the pages' scripts write the same format (``static/js/sandbox.js``:
``demoMoment``; the charts' time axes in ``history-chart.js``).

Times are UTC, said so on the page: plant time, the sandboxes' clocks and the sales calls are all UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.utils import dateformat

DATETIME_FORMAT = "j M Y H:i"  # 3 Dec 2026 16:13 (then " UTC")
DATE_FORMAT = "j M Y"  # 3 Dec 2026
TIME_FORMAT = "H:i"  # 16:13, for the end of a span on the same day
MONTH_FORMAT = "M Y"  # Dec 2026, a calendar month (a table's row)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("an aware datetime is needed: the pages say UTC")
    return value.astimezone(UTC)


def moment_text(value: datetime) -> str:
    """A moment as every page writes it: "3 Dec 2026 16:13 UTC"."""
    return f"{dateformat.format(_utc(value), DATETIME_FORMAT)} UTC"


def day_text(value: date) -> str:
    """A day as every page writes it: "3 Dec 2026" (a datetime's day in UTC)."""
    return dateformat.format(_utc(value) if isinstance(value, datetime) else value, DATE_FORMAT)


def month_text(value: date) -> str:
    """A calendar month: "Dec 2026"."""
    return dateformat.format(_utc(value) if isinstance(value, datetime) else value, MONTH_FORMAT)


def span_text(start: datetime, end: datetime) -> str:
    """A span of time: "3 Dec 2026 09:00–09:30 UTC" on one day, both moments in full across days."""
    start_utc, end_utc = _utc(start), _utc(end)
    if start_utc.date() != end_utc.date():
        return f"{moment_text(start_utc)} – {moment_text(end_utc)}"
    return f"{dateformat.format(start_utc, DATETIME_FORMAT)}–{dateformat.format(end_utc, TIME_FORMAT)} UTC"
