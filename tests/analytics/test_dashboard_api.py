"""The dashboards' API (analytics/apis/dashboards.py): the selectors' figures under the same filters, a 400 naming
each bad filter, and Marketing (or a superuser) alone may read it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from analytics.selectors.dashboards import demo_performance, lead_quality, product_engagement, targets_progress
from demoportal.core.models import User
from tests.analytics.test_dashboards import Story, prospect, staff, story_make

pytestmark = pytest.mark.django_db

PORTAL = "localhost"
ENDPOINTS = (
    "/api/v1/dashboards/demo-performance",
    "/api/v1/dashboards/lead-quality",
    "/api/v1/dashboards/product-engagement",
    "/api/v1/dashboards/targets",
)
FILTERED = ENDPOINTS[:3]


@pytest.fixture(autouse=True)
def utc_days(settings: Any) -> None:
    settings.DASHBOARD_TIME_ZONE = "UTC"


@pytest.fixture
def story() -> Story:
    return story_make()


def api(user: User | None = None) -> APIClient:
    client = APIClient(HTTP_HOST=PORTAL)
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def marketing() -> APIClient:
    return api(staff("Marketing", "marketing@vendor.example"))


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def without_engagement(shown: dict[str, Any]) -> dict[str, Any]:
    """Lead Quality without the accounts' engagement, which decays between the request and the selector's call."""
    accounts = [{k: v for k, v in row.items() if k != "engagement"} for row in shown["top_accounts"]]
    return {**shown, "top_accounts": accounts}


def test_each_endpoint_returns_the_selectors_figures(story: Story, marketing: APIClient) -> None:
    query = {"from": story.d0.isoformat(), "to": story.today.isoformat(), "product": "boileroptimizer"}
    filters = story.filters(product="boileroptimizer")

    demos = marketing.get(ENDPOINTS[0], query)
    assert demos.status_code == 200, demos.content[:500]
    body = demos.json()
    assert body.pop("filters") == {
        "from": story.d0.isoformat(),
        "to": story.today.isoformat(),
        "interval": "day",
        "product": "boileroptimizer",
        "industry": None,
        "role": None,
        "partner": None,
        "source": None,
    }
    assert body == as_json(demo_performance(filters))
    assert (body["demos_started"], body["completion_rate"], body["avg_duration"]) == (3, 0.3333, 1000.0)

    leads = marketing.get(ENDPOINTS[1], query).json()
    leads.pop("filters")
    assert without_engagement(leads) == without_engagement(as_json(lead_quality(filters)))
    assert (leads["leads_generated"], leads["mql_rate"]) == (2, 0.0)  # ada and cy

    engagement = marketing.get(ENDPOINTS[2], query).json()
    engagement.pop("filters")
    assert engagement == as_json(product_engagement(filters))
    assert engagement["top_features"] == ["kpis", "history"]

    targets = marketing.get(ENDPOINTS[3])
    assert targets.status_code == 200
    assert targets.json() == as_json(targets_progress())


def test_the_partner_is_named_by_its_slug_and_the_interval_is_kept(story: Story, marketing: APIClient) -> None:
    query = {"from": story.d0.isoformat(), "to": story.today.isoformat(), "partner": "heatwise", "interval": "week"}

    body = marketing.get(ENDPOINTS[0], query).json()

    assert (body["filters"]["partner"], body["filters"]["interval"]) == ("heatwise", "week")
    assert body["demos_started"] == 1
    assert [row["demos_started"] for row in body["series"]] == [1, 0]


def test_without_dates_the_last_30_days_are_shown(story: Story, marketing: APIClient) -> None:
    body = marketing.get(ENDPOINTS[0]).json()

    assert (body["filters"]["from"], body["filters"]["to"]) == (
        (story.today - timedelta(days=29)).isoformat(),
        story.today.isoformat(),
    )
    assert body["demos_started"] == 8  # the story's seven and H, all within a month


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"from": "2026-13-01"}, "from", "Enter a date as YYYY-MM-DD."),
        ({"product": "nope"}, "product", "Use one of: thermalcommand"),
        ({"industry": "mining"}, "industry", "Use one of:"),
        ({"role": "ceo"}, "role", "Use one of:"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to", "Must be on or after"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "from", "A range of at most 731 days."),
        ({"partner": "unknown"}, "partner", "No partner has this slug."),
        ({"source": "x"}, "source", "Use one of: self_service, partner, sales."),
        ({"interval": "month"}, "interval", "Use one of: day, week."),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field(
    marketing: APIClient, query: dict[str, str], field: str, message: str
) -> None:
    for path in FILTERED:
        response = marketing.get(path, query)

        assert response.status_code == 400, path
        body = response.json()
        assert body["detail"] == "Some fields are not valid."
        assert list(body["errors"]) == [field], path
        assert message in body["errors"][field][0]


def test_a_range_of_731_days_is_allowed(marketing: APIClient) -> None:
    response = marketing.get(ENDPOINTS[0], {"from": "2024-01-01", "to": "2025-12-31"})

    assert response.status_code == 200
    assert response.json()["filters"]["interval"] == "week"


def test_a_superuser_reads_them_without_a_group(db: None) -> None:
    client = api(User.objects.create_superuser(email="root@vendor.example"))

    for path in ENDPOINTS:
        assert client.get(path).status_code == 200, path


def test_sales_other_staff_and_prospects_are_refused(db: None) -> None:
    refused = [api(staff("Sales")), api(User.objects.create_user(email="ops@vendor.example", is_staff=True))]
    refused.append(api(prospect("ada@northwind.example", "engineer")))

    for path in ENDPOINTS:
        for client in refused:
            response = client.get(path)
            assert response.status_code == 403, path
            assert response.json() == {"detail": "Only Marketing can read the dashboards.", "errors": {}}


def test_anonymous_callers_are_asked_to_authenticate(db: None) -> None:
    for path in ENDPOINTS:
        response = api().get(path)
        assert response.status_code == 401, path
        assert set(response.json()) == {"detail", "errors"}
