"""Event capture: POST /api/v1/events, and the events the server records for its own actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis
from django.utils import timezone
from rest_framework.test import APIClient

from analytics.models import EVENT_NAMES, Event
from analytics.services.events import demos_abandoned_record
from demoportal.core.models import Partner, User
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_end, sandbox_extend, sandbox_provision

pytestmark = pytest.mark.django_db


@pytest.fixture
def prospect() -> tuple[APIClient, User]:
    user = User.objects.create_user(email="viewer@plant.example", password="pw")
    client = APIClient(HTTP_HOST="localhost")
    client.force_login(user)
    return client, user


def own_sandbox(user: User) -> int:
    sandbox = sandbox_provision(email=user.email, product="boileroptimizer", industry="cement").sandbox
    return int(sandbox.pk)


def test_a_prospect_records_an_event_for_their_sandbox(prospect: tuple[APIClient, User]) -> None:
    client, user = prospect
    sandbox_id = own_sandbox(user)

    response = client.post(
        "/api/v1/events",
        {"event": "feature_viewed", "sandbox_id": sandbox_id, "properties": {"feature": "o2_trim"}},
        format="json",
    )

    assert response.status_code == 202
    event = Event.objects.get(pk=response.json()["id"])
    assert (event.name, event.user, event.sandbox_id, event.source) == ("feature_viewed", user, sandbox_id, "client")
    assert event.properties == {"feature": "o2_trim"}


def test_an_unknown_event_is_refused_listing_the_allowed_names(prospect: tuple[APIClient, User]) -> None:
    client, _ = prospect

    response = client.post("/api/v1/events", {"event": "clicked_everything"}, format="json")

    assert response.status_code == 400
    message = response.json()["errors"]["event"][0]
    assert all(name in message for name in EVENT_NAMES)
    assert not Event.objects.filter(source="client").exists()


def test_a_repeated_idempotency_key_returns_the_same_id(prospect: tuple[APIClient, User]) -> None:
    client, _ = prospect
    body = {"event": "page_view", "properties": {"path": "/"}, "idempotency_key": "tab-1:42"}

    first = client.post("/api/v1/events", body, format="json").json()["id"]
    second = client.post("/api/v1/events", body, format="json").json()["id"]

    assert first == second
    assert Event.objects.filter(idempotency_key="tab-1:42").count() == 1


def test_a_sandbox_token_posts_for_its_own_sandbox_only(prospect: tuple[APIClient, User]) -> None:
    staff = APIClient(HTTP_HOST="localhost")
    staff.force_authenticate(User.objects.create_user(email="ae@vendor.example", password="pw", is_staff=True))
    body = {"email": "tok@plant.example", "product": "thermalcommand", "industry": "steel"}
    mine = staff.post("/api/v1/sandboxes", body, format="json").json()
    other = own_sandbox(prospect[1])
    token = APIClient(HTTP_HOST="localhost")
    token.credentials(HTTP_AUTHORIZATION=f"Bearer {mine['access_token']}")

    accepted = token.post("/api/v1/events", {"event": "dashboard_accessed"}, format="json")
    assert accepted.status_code == 202
    assert Event.objects.get(pk=accepted.json()["id"]).sandbox_id == mine["sandbox_id"]
    refused = token.post("/api/v1/events", {"event": "dashboard_accessed", "sandbox_id": other}, format="json")
    assert refused.status_code == 404


def test_someone_elses_sandbox_is_404_and_anonymous_is_refused(prospect: tuple[APIClient, User]) -> None:
    client, _ = prospect
    stranger = User.objects.create_user(email="stranger@plant.example", password="pw")

    body = {"event": "feature_clicked", "sandbox_id": own_sandbox(stranger)}
    assert client.post("/api/v1/events", body, format="json").status_code == 404
    anonymous = APIClient(HTTP_HOST="localhost")
    assert anonymous.post("/api/v1/events", {"event": "page_view"}, format="json").status_code in (401, 403)


@pytest.mark.parametrize(
    ("occurred_at", "message"),
    [(timedelta(hours=1), "future"), (timedelta(days=-2), "older than a day")],
)
def test_a_time_far_from_now_is_refused(prospect: tuple[APIClient, User], occurred_at: timedelta, message: str) -> None:
    client, _ = prospect
    body = {"event": "page_view", "occurred_at": (timezone.now() + occurred_at).isoformat()}

    response = client.post("/api/v1/events", body, format="json")

    assert response.status_code == 400
    assert message in response.json()["errors"]["occurred_at"][0]


def test_the_endpoint_is_rate_limited(
    prospect: tuple[APIClient, User], settings: Any, test_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    from analytics.apis.events import EventThrottle

    monkeypatch.setattr(EventThrottle, "THROTTLE_RATES", {"events": "3/min"})
    client, _ = prospect

    codes = [client.post("/api/v1/events", {"event": "page_view"}, format="json").status_code for _ in range(4)]

    assert codes == [202, 202, 202, 429]


def test_the_server_records_demo_started_and_demo_extended() -> None:
    sandbox = sandbox_provision(email="srv@plant.example", product="wasteheatrecovery", industry="steel").sandbox
    sandbox_extend(sandbox=sandbox, hours=2, actor=sandbox.owner)

    events = {e.name: e for e in Event.objects.filter(sandbox=sandbox, source="server")}
    assert events["demo_started"].properties == {
        "product": "wasteheatrecovery",
        "industry": "steel",
        "role": "",
        "from_pool": False,
        "source": "self_service",
    }
    assert events["demo_extended"].properties == {"hours": 2, "by_staff": False}
    assert events["demo_started"].user == sandbox.owner


def test_demo_started_records_who_made_the_sandbox(db: None) -> None:
    """Its source: the prospect themselves, staff for the prospect (sales-made), or a partner's user."""
    salesperson = User.objects.create_user(email="rep@vendor.example", is_staff=True)
    partner = Partner.objects.create(name="Heatwise", slug="heatwise")
    partner_user = User.objects.create_user(email="pat@heatwise.example", partner=partner)
    made = {
        "self_service": sandbox_provision(email="own@plant.example", product="boileroptimizer", industry="cement"),
        "sales": sandbox_provision(
            email="for@plant.example", product="boileroptimizer", industry="cement", actor=salesperson
        ),
        "partner": sandbox_provision(
            email=partner_user.email,
            product="boileroptimizer",
            industry="cement",
            actor=partner_user,
            partner=partner,
            purpose=Sandbox.Purpose.TRAINING,
        ),
    }

    for source, provisioned in made.items():
        event = Event.objects.get(sandbox=provisioned.sandbox, name="demo_started")
        assert event.properties["source"] == source


def test_a_demo_idle_for_thirty_minutes_is_recorded_abandoned_once() -> None:
    idle = sandbox_provision(email="idle@plant.example", product="thermalcommand", industry="cement").sandbox
    busy = sandbox_provision(email="busy@plant.example", product="thermalcommand", industry="cement").sandbox
    done = sandbox_provision(email="done@plant.example", product="thermalcommand", industry="cement").sandbox
    now = timezone.now()
    Sandbox.objects.filter(pk__in=[idle.pk, done.pk]).update(last_accessed_at=now - timedelta(minutes=45))
    Sandbox.objects.filter(pk=busy.pk).update(last_accessed_at=now - timedelta(minutes=10))
    Event.objects.create(
        name="demo_completed", user=done.owner, sandbox=done, occurred_at=now - timedelta(minutes=40), source="client"
    )

    assert demos_abandoned_record() == 1

    abandoned = Event.objects.get(name="demo_abandoned")
    assert (abandoned.sandbox_id, abandoned.user) == (idle.pk, idle.owner)
    assert abandoned.properties["idle_minutes"] == 45
    assert demos_abandoned_record() == 0  # not twice for the same idle spell


def test_an_event_for_an_ended_sandbox_is_404(prospect: tuple[APIClient, User]) -> None:
    client, user = prospect
    sandbox_id = own_sandbox(user)
    sandbox_end(sandbox=Sandbox.objects.get(pk=sandbox_id))

    response = client.post("/api/v1/events", {"event": "page_view", "sandbox_id": sandbox_id}, format="json")

    assert response.status_code == 404
    assert not Event.objects.filter(source="client").exists()
