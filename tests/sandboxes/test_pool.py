"""The warm pool: clones made ahead per industry, claimed by one conditional UPDATE, refilled by Celery."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from demoportal.celery import app
from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.selectors import pool_status
from sandboxes.services import pool_claim, pool_refill, sandbox_provision
from sandboxes.tasks import pool_refill_task
from simulation.selectors.plant import plant_get
from simulation.services import template_ensure

Status = Sandbox.Status


def pooled(industry: str = "cement") -> list[Sandbox]:
    return list(Sandbox.objects.filter(kind="demo", status=Status.POOLED, industry=industry).order_by("pk"))


@pytest.fixture
def pool_of_two(settings: Any, db: None) -> list[Sandbox]:
    settings.SANDBOX_POOL_SIZE = 2
    assert pool_refill(industry="cement") == 2
    return pooled()


@pytest.mark.django_db
def test_a_pooled_clone_is_ready_but_nobodys_until_claimed(pool_of_two: list[Sandbox], client: Client) -> None:
    waiting = pool_of_two[0]

    assert (waiting.owner, waiting.expires_at, waiting.product) == (None, None, "")
    with schema_context(waiting.schema_name):
        assert plant_get() is not None
    # Its address leads nowhere yet, and the API does not reveal it.
    host = f"{waiting.slug}.localhost"
    assert client.get("/", HTTP_HOST=host).status_code == 404
    staff = APIClient(HTTP_HOST="localhost")
    staff.force_authenticate(User.objects.create_user(email="ae@vendor.example", password="pw", is_staff=True))
    assert staff.get(f"/api/v1/sandboxes/{waiting.pk}").status_code == 404
    assert waiting.pk not in [s["sandbox_id"] for s in staff.get("/api/v1/sandboxes").json()["results"]]

    claimed = sandbox_provision(email="first@cement.example", product="thermalcommand", industry="cement").sandbox
    assert claimed.owner is not None
    client.force_login(claimed.owner)
    assert client.get("/", HTTP_HOST=host).status_code == 200  # claimed: now it is someone's sandbox


@pytest.mark.django_db
def test_a_request_takes_the_oldest_pooled_clone_and_its_plant_starts_now(pool_of_two: list[Sandbox]) -> None:
    Sandbox.objects.filter(pk=pool_of_two[0].pk).update(ready_at=timezone.now() - timedelta(hours=3))
    staff = User.objects.create_user(email="ae@vendor.example", password="pw", is_staff=True)

    provisioned = sandbox_provision(
        email="buyer@cement.example", product="boileroptimizer", industry="cement", role="engineer", actor=staff
    )
    sandbox = provisioned.sandbox

    assert provisioned.created
    assert provisioned.password
    assert sandbox.pk == pool_of_two[0].pk
    assert sandbox.status == Status.READY
    assert sandbox.owner is not None
    assert sandbox.owner.email == "buyer@cement.example"
    assert (sandbox.product, sandbox.role) == ("boileroptimizer", "engineer")
    assert sandbox.expires_at is not None
    assert abs((sandbox.expires_at - timezone.now()) - timedelta(hours=24)) < timedelta(minutes=1)
    with schema_context(sandbox.schema_name):
        plant = plant_get()
        assert plant is not None
        assert timezone.now() - plant.started_at < timedelta(minutes=1)
    claim = sandbox.audit_entries.get(action="claim")
    assert (claim.from_status, claim.to_status, claim.actor_label) == ("pooled", "ready", "ae@vendor.example")
    assert claim.duration_ms is not None
    assert sandbox.provisioning_ms is not None
    assert sandbox.provisioning_ms <= claim.duration_ms  # the wait the prospect saw
    assert [s.pk for s in pooled()] == [pool_of_two[1].pk]


@pytest.mark.django_db
def test_an_empty_pool_means_a_fresh_clone(settings: Any) -> None:
    owner = User.objects.create_user(email="x@steel.example", password="pw")
    assert pool_claim(industry="steel", owner=owner, product="thermalcommand", role="", actor=None) is None

    provisioned = sandbox_provision(email="x@steel.example", product="thermalcommand", industry="steel")
    sandbox = provisioned.sandbox

    assert provisioned.created
    assert sandbox.status == Status.READY
    assert list(sandbox.audit_entries.values_list("action", flat=True)) == ["provision"]


@pytest.mark.django_db
def test_a_pool_of_another_industry_is_not_touched(pool_of_two: list[Sandbox]) -> None:
    sandbox = sandbox_provision(email="y@chem.example", product="thermalcommand", industry="chemicals").sandbox

    assert sandbox.industry == "chemicals"
    assert len(pooled()) == 2


@pytest.mark.django_db
def test_refill_tops_up_to_the_size_and_no_further(pool_of_two: list[Sandbox], settings: Any) -> None:
    assert pool_refill(industry="cement") == 0
    settings.SANDBOX_POOL_SIZE = 3
    assert pool_refill(industry="cement") == 1
    assert len(pooled()) == 3


@pytest.mark.django_db
def test_a_refill_already_running_elsewhere_is_left_alone(settings: Any) -> None:
    settings.SANDBOX_POOL_SIZE = 1
    other_worker = connections.create_connection("default")  # its own session, as another process would have
    try:
        with other_worker.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(hashtextextended('sandbox-pool-refill:steel', 0))")
            assert pool_refill(industry="steel") == 0
            cursor.execute("SELECT pg_advisory_unlock(hashtextextended('sandbox-pool-refill:steel', 0))")
    finally:
        other_worker.close()
    assert pool_refill(industry="steel") == 1


@pytest.mark.django_db
def test_a_new_template_version_throws_the_stale_pool_away(
    pool_of_two: list[Sandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    template = Sandbox.objects.get(kind="template", industry="cement")
    with schema_context(template.schema_name):
        plant = plant_get()
        assert plant is not None
        plant.scenario_version = "outdated"
        plant.save(update_fields=["scenario_version"])

    template_ensure(industry="cement")

    assert pooled() == []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = ANY(%s)", [[s.schema_name for s in pool_of_two]]
        )
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db
def test_the_admin_shows_the_pool_per_industry(pool_of_two: list[Sandbox], admin_client: Client) -> None:
    rows = {row["industry"]: row for row in pool_status()}
    assert (rows["cement"]["waiting"], rows["cement"]["target"]) == (2, 2)
    assert rows["steel"]["waiting"] == 0

    page = admin_client.get("/admin/sandboxes/sandbox/", HTTP_HOST="localhost")

    assert b"Warm pool" in page.content
    assert b"Demo Cement Works" in page.content
    assert pool_of_two[0].slug.encode() not in page.content  # pool members are not sandboxes to manage


# Concurrency and the real worker need committed rows, visible to other connections and processes.


@pytest.fixture
def committed_pool(committed_db: None, settings: Any) -> Iterator[None]:
    settings.SANDBOX_POOL_SIZE = 2
    yield
    for sandbox in Sandbox.objects.filter(kind="demo", industry="food_beverage"):
        sandbox.delete(force_drop=True)
    User.objects.filter(email__endswith="@food.example").delete()


def test_concurrent_claims_take_different_clones(committed_pool: None) -> None:
    assert pool_refill(industry="food_beverage") == 2
    owners = [User.objects.create_user(email=f"buyer{n}@food.example", password="pw") for n in range(2)]

    def claim(owner: User) -> int | None:
        try:
            found = pool_claim(industry="food_beverage", owner=owner, product="thermalcommand", role="", actor=None)
            return found.pk if found else None
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as executor:
        claimed = list(executor.map(claim, owners))

    assert None not in claimed
    assert len(set(claimed)) == 2
    assert pooled("food_beverage") == []


@pytest.mark.usefixtures("celery_worker_process")
def test_the_pool_worker_refills_through_its_own_queue(committed_pool: None) -> None:
    route = app.amqp.router.route({}, "sandboxes.tasks.pool_refill_task")
    assert route["queue"].name == "warmup"

    made = pool_refill_task.delay(industry="food_beverage").get(timeout=60)

    assert made == 1  # the worker runs with SANDBOX_POOL_SIZE=1 (tests/conftest.py)
    assert len(pooled("food_beverage")) == 1
