"""Marketing's dashboard pages, the lists behind their figures, the exports and the launch targets in the admin
(analytics/admin/dashboards.py, analytics/admin/exports.py), on the story of tests/analytics/test_dashboards.py."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.test import Client
from openpyxl import load_workbook

from analytics.admin.dashboards import count, percent
from analytics.admin.exports import STREAM_CHUNK, chunks_of
from analytics.models import DemoSummary, LaunchTargets
from analytics.selectors.dashboards import demo_performance, lead_quality
from analytics.services.sample import sample_activity_create, sample_activity_remove
from demoportal.core.models import User
from tests.analytics.test_dashboards import Story, staff

pytestmark = pytest.mark.django_db

PAGES = ("demo-performance", "lead-quality", "product-engagement")


def signed_in(user: User) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


@pytest.fixture
def marketing() -> Client:
    return signed_in(staff("Marketing", "marketing@vendor.example"))


def body_of(response: Any) -> bytes:
    """The whole body; an export's is an async stream, read as the ASGI server reads it."""
    if not response.streaming:
        return bytes(response.content)
    assert response.is_async  # under ASGI a synchronous stream would be read whole before its first byte is sent

    async def read() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    return bytes(async_to_sync(read)())


def story_query(story: Story, **more: str) -> str:
    return urlencode({"from": story.d0.isoformat(), "to": story.today.isoformat(), **more})


def test_a_marketing_login_lands_on_demo_performance_and_a_superuser_on_the_admin(marketing: Client) -> None:
    landed = marketing.get("/admin/")
    superuser = User.objects.create_superuser(email="root@vendor.example", password="pw")

    assert (landed.status_code, landed["Location"]) == (302, "/admin/dashboards/demo-performance/")
    assert signed_in(superuser).get("/admin/").status_code == 200


@pytest.mark.parametrize("page", [*PAGES, "targets"])
def test_each_dashboard_answers_marketing_and_refuses_sales(story: Story, marketing: Client, page: str) -> None:
    url = f"/admin/dashboards/{page}/"
    sales = signed_in(User.objects.get(email="sales@vendor.example"))

    assert marketing.get(url).status_code == 200
    assert sales.get(url).status_code == 403
    anonymous = Client(HTTP_HOST="localhost").get(url)
    assert (anonymous.status_code, anonymous["Location"].startswith("/admin/login/")) == (302, True)


def test_an_unknown_dashboard_is_not_found(marketing: Client) -> None:
    assert marketing.get("/admin/dashboards/revenue/").status_code == 404


def test_the_cards_show_the_selectors_figures_against_the_previous_period(story: Story, marketing: Client) -> None:
    page = marketing.get(f"/admin/dashboards/demo-performance/?{story_query(story)}")
    figures = demo_performance(story.filters())

    cards = {card.label: card for card in page.context["cards"]}
    assert cards["Demos started"].value == count(figures["demos_started"]) == "7"
    assert cards["Completion rate"].value == percent(figures["completion_rate"])
    assert cards["Conversion rate"].value == percent(figures["conversion_rate"])
    # One demo (H) in the 15-day period before: 7 against 1 is +600 %.
    assert cards["Demos started"].change == "+600.0 % vs previous period"
    assert b"Definition" in page.content
    assert b"uPlot.iife.min.js" in page.content


def test_each_figure_links_to_the_list_behind_it(story: Story, marketing: Client) -> None:
    demos = {
        c.label: c.href
        for c in marketing.get(f"/admin/dashboards/demo-performance/?{story_query(story)}").context["cards"]
    }
    leads = {
        c.label: c.href for c in marketing.get(f"/admin/dashboards/lead-quality/?{story_query(story)}").context["cards"]
    }
    figures = demo_performance(story.filters())
    lead_figures = lead_quality(story.filters())

    def listed(href: str) -> int:
        response = marketing.get(href)
        assert response.status_code == 200, href
        return int(response.context["cl"].result_count)

    assert listed(demos["Demos started"]) == figures["demos_started"]
    assert listed(demos["Completion rate"]) == figures["demos_completed"]
    assert listed(demos["Conversion rate"]) == figures["demos_converted"]
    assert listed(leads["Leads generated"]) == lead_figures["leads_generated"]
    assert listed(leads["MQL rate"]) == lead_figures["mqls"]
    assert listed(leads["SQL rate"]) == lead_figures["sqls"]
    assert listed(leads["Opportunity value"]) == lead_figures["opportunities"]


def test_a_bad_filter_is_shown_beside_its_field_and_the_page_falls_back_to_30_days(marketing: Client) -> None:
    page = marketing.get("/admin/dashboards/lead-quality/?from=2026-13-01&product=nope")

    assert page.status_code == 200
    assert page.context["form"].errors["from"] == ["Enter a date as YYYY-MM-DD."]
    assert "product" in page.context["form"].errors
    assert page.context["filters"].days == 30
    assert b'role="alert"' in page.content


def test_the_demos_export_streams_every_demo_of_the_range_as_csv(story: Story, marketing: Client) -> None:
    response = marketing.get(f"/admin/dashboards/demo-performance/export/demos.csv?{story_query(story)}")

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(body_of(response).decode("utf-8-sig"))))
    assert rows[0][:3] == ["started_at", "product", "industry"]
    expected = DemoSummary.objects.filter(day__gte=story.d0, day__lte=story.today).count()
    assert len(rows) - 1 == expected == 7


def test_an_export_honours_the_filters(story: Story, marketing: Client) -> None:
    query = story_query(story, product="boileroptimizer")
    response = marketing.get(f"/admin/dashboards/demo-performance/export/demos.csv?{query}")

    rows = list(csv.DictReader(io.StringIO(body_of(response).decode("utf-8-sig"))))
    assert {row["product"] for row in rows} == {"boileroptimizer"}
    assert len(rows) == 3


def test_the_xlsx_export_opens_in_a_spreadsheet_with_the_same_rows_as_the_csv(story: Story, marketing: Client) -> None:
    query = story_query(story)
    as_csv = list(
        csv.reader(
            io.StringIO(
                body_of(marketing.get(f"/admin/dashboards/lead-quality/export/leads.csv?{query}")).decode("utf-8-sig")
            )
        )
    )
    response = marketing.get(f"/admin/dashboards/lead-quality/export/leads.xlsx?{query}")

    assert response.streaming
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(body_of(response)), read_only=True).worksheets[0]
    assert sheet.title == "Leads"
    rows = [["" if value is None else str(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == as_csv[0]
    assert [row[1] for row in rows[1:]] == [row[1] for row in as_csv[1:]]  # the e-mails, in order
    assert len(rows) == len(as_csv) >= 2


@pytest.mark.parametrize(
    ("dashboard", "table"),
    [("demo-performance", "series"), ("demo-performance", "segments"), ("lead-quality", "score-distribution"),
     ("lead-quality", "top-accounts"), ("product-engagement", "features"), ("product-engagement", "tour-steps"),
     ("product-engagement", "exit-pages")],
)  # fmt: skip
def test_every_table_exports(story: Story, marketing: Client, dashboard: str, table: str) -> None:
    for fmt in ("csv", "xlsx"):
        response = marketing.get(f"/admin/dashboards/{dashboard}/export/{table}.{fmt}?{story_query(story)}")
        assert response.status_code == 200, (table, fmt)
        assert body_of(response)


def test_an_export_with_a_bad_filter_says_which_and_an_unknown_table_is_not_found(marketing: Client) -> None:
    bad = marketing.get("/admin/dashboards/demo-performance/export/demos.csv?from=2026-01-10&to=2026-01-01")
    unknown = marketing.get("/admin/dashboards/demo-performance/export/leads.csv")
    wrong_format = marketing.get("/admin/dashboards/demo-performance/export/demos.pdf")

    assert bad.status_code == 400
    assert b"to: Must be on or after" in bad.content
    assert (unknown.status_code, wrong_format.status_code) == (404, 404)


def test_sales_cannot_export(story: Story) -> None:
    sales = signed_in(User.objects.get(email="sales@vendor.example"))
    assert sales.get("/admin/dashboards/demo-performance/export/demos.csv").status_code == 403


def test_the_targets_page_counts_from_the_first_demo_until_marketing_set_the_launch_date(
    story: Story, marketing: Client
) -> None:
    unset = marketing.get("/admin/dashboards/targets/")
    assert unset.context["progress"]["set"] is False
    assert b"Set the launch date and targets" in unset.content

    to_add = marketing.get("/admin/analytics/launchtargets/")
    assert to_add["Location"] == "/admin/analytics/launchtargets/add/"
    form = {"launch_date": story.d0.isoformat()} | {
        f"{m}_{w}": v
        for w, values in ((30, (500, 60, 200, 25, 50, 5000000)), (90, (2000, 70, 800, 30, 200, 20000000)))
        for m, v in zip(
            ("demos_started", "completion_rate", "leads_generated", "mql_rate", "meetings_booked", "pipeline"),
            values,
            strict=True,
        )
    }
    saved = marketing.post("/admin/analytics/launchtargets/add/", form)
    assert (saved.status_code, saved["Location"]) == (302, "/admin/dashboards/targets/")

    targets = LaunchTargets.objects.get()
    assert targets.updated_by is not None
    assert targets.updated_by.email == "marketing@vendor.example"
    page = marketing.get("/admin/dashboards/targets/")
    assert page.context["progress"]["launch_date"] == story.d0.isoformat()
    demos = page.context["progress"]["windows"][0]["metrics"][0]
    assert (demos["metric"], demos["actual"]) == ("demos_started", 7)
    # The list and a second "add" both lead to the one row.
    change = f"/admin/analytics/launchtargets/{targets.pk}/change/"
    assert marketing.get("/admin/analytics/launchtargets/")["Location"] == change
    assert marketing.get("/admin/analytics/launchtargets/add/")["Location"] == change


def test_a_target_rate_above_100_is_refused_beside_its_field(marketing: Client) -> None:
    response = marketing.post(
        "/admin/analytics/launchtargets/add/", {"launch_date": "2026-11-01", "completion_rate_30": "140"}
    )

    assert response.status_code == 200
    assert "completion_rate_30" in response.context["adminform"].form.errors
    assert not LaunchTargets.objects.exists()


def test_sales_cannot_change_the_targets(story: Story) -> None:
    sales = signed_in(User.objects.get(email="sales@vendor.example"))
    assert sales.get("/admin/analytics/launchtargets/add/").status_code == 403


def test_the_rebuild_command_summarises_every_demo_again(story: Story, settings: Any) -> None:
    settings.DASHBOARD_TIME_ZONE = "Pacific/Kiritimati"  # UTC+14: every demo of the story moves a day on
    out = io.StringIO()

    call_command("dashboards_rebuild", stdout=out)

    assert "Rebuilt the rollups of 8 demos" in out.getvalue()
    a = DemoSummary.objects.get(sandbox_id=story.demos["A"].pk)
    assert a.day == story.d0 + timedelta(days=1)


def test_each_table_row_links_to_the_list_behind_it(story: Story, marketing: Client) -> None:
    """A day of the series, a segment, a feature, an exit page, a fit grade, an account: each row's link lists
    as many demos or leads as the row counts."""

    def rows(dashboard: str, table: str) -> list[dict[str, Any]]:
        page = marketing.get(f"/admin/dashboards/{dashboard}/?{story_query(story)}")
        return next(t["rows"] for t in page.context["tables"] if t["table"].name == table)

    def listed(href: str) -> int:
        response = marketing.get(href)
        assert response.status_code == 200, href
        return int(response.context["cl"].result_count)

    d0 = next(row for row in rows("demo-performance", "series") if row["cells"][0] == story.d0.isoformat())
    assert listed(d0["href"]) == int(d0["cells"][1]) == 3  # A, B and G started on d0
    for row in rows("demo-performance", "segments"):
        assert listed(row["href"]) == int(row["cells"][3])
    for row in rows("product-engagement", "features"):
        assert listed(row["href"]) == int(row["cells"][1]), row["cells"][0]
    [exit_page] = rows("product-engagement", "exit-pages")
    assert listed(exit_page["href"]) == int(exit_page["cells"][1]) == 1
    for row in rows("lead-quality", "top-accounts"):
        assert listed(row["href"]) == int(row["cells"][1])
    grades = {row["cells"][0]: row["href"] for row in rows("lead-quality", "score-distribution")}
    figures = lead_quality(story.filters())["score_distribution"]["grid"]
    for grade in figures:
        assert listed(grades[grade["fit_grade"]]) == sum(grade["counts"])


def test_sample_activity_is_labelled_on_every_dashboard(marketing: Client) -> None:
    assert b"Sample data." not in marketing.get("/admin/dashboards/demo-performance/").content
    sample_activity_create(leads=6, seed=3)
    for page in (*PAGES, "targets"):
        assert b"Sample data." in marketing.get(f"/admin/dashboards/{page}/").content, page
    sample_activity_remove()
    assert b"Sample data." not in marketing.get("/admin/dashboards/targets/").content


def test_an_export_hands_out_its_first_rows_before_reading_the_rest() -> None:
    """The stream pulls STREAM_CHUNK pieces at a time: the first reaches the server while the rows still come."""
    pulled = 0

    def rows() -> Iterator[str]:
        nonlocal pulled
        for n in range(10 * STREAM_CHUNK):
            pulled += 1
            yield f"row {n}\n"

    async def first() -> tuple[str, int]:
        stream = chunks_of(rows())
        return await anext(stream), pulled

    piece, pulled_then = async_to_sync(first)()
    assert piece == "row 0\n"
    assert pulled_then == STREAM_CHUNK


def test_an_export_hands_out_large_pieces_as_soon_as_they_make_64_kib() -> None:
    """An XLSX's pieces are parts of the zip, tens of KiB each: two already make a handful to send."""
    pulled = 0

    def parts() -> Iterator[bytes]:
        nonlocal pulled
        for _ in range(50):
            pulled += 1
            yield b"x" * 40_000

    async def first() -> int:
        await anext(chunks_of(parts()))
        return pulled

    assert async_to_sync(first)() == 2


def test_the_filters_show_the_range_the_page_shows(marketing: Client) -> None:
    page = marketing.get("/admin/dashboards/demo-performance/")
    filters = page.context["filters"]

    assert f'value="{filters.start.isoformat()}"'.encode() in page.content
    assert f'value="{filters.end.isoformat()}"'.encode() in page.content
