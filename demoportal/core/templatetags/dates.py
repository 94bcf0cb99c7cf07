"""``{% load dates %}``: the pages' one date-time format (``|moment``: "3 Dec 2026 16:13 UTC") and one date
format (``|day``: "3 Dec 2026"; ``|month``: "Dec 2026"), from ``demoportal.core.formats``. Nothing given,
nothing shown."""

from __future__ import annotations

from datetime import date, datetime

from django import template

from demoportal.core.formats import day_text, moment_text, month_text

register = template.Library()


@register.filter
def moment(value: datetime | None) -> str:
    return moment_text(value) if value else ""


@register.filter
def day(value: date | None) -> str:
    return day_text(value) if value else ""


@register.filter
def month(value: date | None) -> str:
    return month_text(value) if value else ""
