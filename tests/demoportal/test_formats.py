"""One date-time format and one date format for every page (``demoportal.core.formats``, ``{% load dates %}``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from django.template import Context, Template

from demoportal.core.formats import day_text, moment_text, span_text

MOMENT = datetime(2026, 12, 3, 9, 5, tzinfo=UTC)


def test_a_moment_is_day_month_year_and_24_hour_time_in_utc() -> None:
    assert moment_text(MOMENT) == "3 Dec 2026 09:05 UTC"
    # Another zone's moment is written as the same instant in UTC.
    assert moment_text(MOMENT.astimezone(timezone(timedelta(hours=-5)))) == "3 Dec 2026 09:05 UTC"


def test_a_day_is_day_month_year() -> None:
    assert day_text(date(2026, 12, 3)) == "3 Dec 2026"
    assert day_text(datetime(2026, 12, 3, 23, 30, tzinfo=timezone(timedelta(hours=-2)))) == "4 Dec 2026"  # UTC day


def test_a_span_names_its_day_once_and_both_days_when_it_crosses_midnight() -> None:
    assert span_text(MOMENT, MOMENT + timedelta(minutes=30)) == "3 Dec 2026 09:05–09:35 UTC"
    assert span_text(MOMENT, MOMENT + timedelta(days=1)) == "3 Dec 2026 09:05 UTC – 4 Dec 2026 09:05 UTC"


def test_a_moment_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="aware datetime"):
        moment_text(datetime(2026, 12, 3, 9, 5))  # noqa: DTZ001 - the case under test


def test_the_template_filters_write_the_same_and_nothing_for_nothing() -> None:
    template = Template(
        "{% load dates %}[{{ at|moment }}] [{{ at|day }}] [{{ at|month }}] [{{ none|moment }}] [{{ none|day }}]"
    )

    assert template.render(Context({"at": MOMENT, "none": None})) == (
        "[3 Dec 2026 09:05 UTC] [3 Dec 2026] [Dec 2026] [] []"
    )
