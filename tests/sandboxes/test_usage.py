"""Per-sandbox request counting, the 1,000-a-minute limit, last access, health and storage."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis
from django.test import Client
from rest_framework.test import APIClient

from demoportal.core.health import heartbeat_write
from demoportal.core.models import User
from sandboxes.models import Sandbox, SandboxAuditEntry
from sandboxes.services import sandbox_create, sandbox_end
from sandboxes.usage import last_access_flush

pytestmark = pytest.mark.django_db


def test_detail_shows_health_usage_and_last_access(staff: APIClient, test_redis: redis.Redis) -> None:
    sandbox = sandbox_create(slug="usage-one", name="Usage", scenario="cement")
    heartbeat_write("simulator", "sim-1")

    staff.get(f"/api/v1/sandboxes/{sandbox.pk}/assets")
    body = staff.get(f"/api/v1/sandboxes/{sandbox.pk}").json()

    assert body["health"] == {"database": "ok", "simulator": "ok"}
    assert body["usage"]["storage_bytes"] > 100_000  # its schema's tables and indexes
    assert body["usage"]["requests_last_minute"] == 2
    assert body["last_accessed_at"] is not None


def test_over_the_limit_a_sandbox_answers_429_with_retry_after(
    staff: APIClient, client: Client, settings: Any, test_redis: redis.Redis
) -> None:
    settings.SANDBOX_REQUESTS_PER_MINUTE = 3
    sandbox = sandbox_create(slug="busy-usage", name="Busy", scenario="cement")
    other = sandbox_create(slug="calm-usage", name="Calm", scenario="cement")

    codes = [staff.get(f"/api/v1/sandboxes/{sandbox.pk}/assets").status_code for _ in range(4)]
    page = client.get("/", HTTP_HOST="busy-usage.localhost")
    limited = staff.get(f"/api/v1/sandboxes/{sandbox.pk}/kpis")

    assert codes == [200, 200, 200, 429]
    assert page.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert "more than 3 requests this minute" in limited.json()["detail"]
    assert staff.get(f"/api/v1/sandboxes/{other.pk}/assets").status_code == 200  # per sandbox


def test_health_names_a_missing_simulator(staff: APIClient, test_redis: redis.Redis) -> None:
    sandbox = sandbox_create(slug="lonely-one", name="Lonely", scenario="cement")

    body = staff.get(f"/api/v1/sandboxes/{sandbox.pk}").json()

    assert body["health"]["simulator"] == "no simulator heartbeat"


def test_last_access_is_kept_in_redis_and_written_to_the_database_each_minute(
    staff: APIClient, test_redis: redis.Redis
) -> None:
    sandbox = sandbox_create(slug="flushed-one", name="Flushed", scenario="cement")

    seen = staff.get(f"/api/v1/sandboxes/{sandbox.pk}").json()["last_accessed_at"]

    assert seen is not None  # the API reads the unflushed time
    assert Sandbox.objects.get(pk=sandbox.pk).last_accessed_at is None  # no write on the request path
    assert last_access_flush() == 1
    stored = Sandbox.objects.get(pk=sandbox.pk).last_accessed_at
    assert stored is not None
    assert stored.isoformat().replace("+00:00", "Z") == seen
    assert last_access_flush() == 0  # nothing new since


def test_stats_count_states_durations_and_requests(staff: APIClient, test_redis: redis.Redis) -> None:
    ended = sandbox_create(slug="ended-one", name="Ended", scenario="cement")
    sandbox_create(slug="running-one", name="Running", scenario="cement")
    sandbox_end(sandbox=ended)
    # It lived 90 minutes: move its creation back.
    Sandbox.objects.filter(pk=ended.pk).update(
        created_at=SandboxAuditEntry.objects.get(sandbox=ended, action="destroyed").at - timedelta(minutes=90)
    )
    staff.get(f"/api/v1/sandboxes/{Sandbox.objects.get(slug='running-one').pk}/assets")

    stats = staff.get("/api/v1/stats").json()

    demos = Sandbox.objects.filter(kind="demo")
    assert stats["total_sandboxes"] == demos.count()
    assert stats["active_sandboxes"] == demos.filter(status="ready").count()
    assert stats["destroyed_sandboxes"] == 1
    assert stats["expired_sandboxes"] == 0
    # The old names, kept for one release (docs/api.md), say the same.
    for total in ("total", "active", "destroyed", "expired"):
        assert stats[f"{total}_sessions"] == stats[f"{total}_sandboxes"]
    assert stats["avg_duration_minutes"] == pytest.approx(90, abs=0.5)
    assert stats["total_requests"] == 1


def test_stats_are_for_staff_only() -> None:
    client = APIClient(HTTP_HOST="localhost")
    client.force_authenticate(User.objects.create_user(email="p@plant.example", password="pw"))

    assert client.get("/api/v1/stats").status_code == 403


def test_storage_past_the_warning_size_is_flagged(staff: APIClient, settings: Any, test_redis: redis.Redis) -> None:
    sandbox = sandbox_create(slug="big-usage", name="Big", scenario="cement")
    assert staff.get(f"/api/v1/sandboxes/{sandbox.pk}").json()["usage"]["storage_warning"] is None

    settings.SANDBOX_STORAGE_WARNING_BYTES = 1024  # a real schema is far bigger than a kilobyte

    warning = staff.get(f"/api/v1/sandboxes/{sandbox.pk}").json()["usage"]["storage_warning"]
    assert "over the 0 GB a sandbox should need" in warning
