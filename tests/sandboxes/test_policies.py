"""Lifetime policies: the daily auto-reset, the retention purge, and provisioning that is all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connections, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from analytics.models import ArchivedSandbox
from analytics.selectors.stats import sandbox_stats
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User
from sandboxes import services
from sandboxes.models import Domain, Sandbox, SandboxAuditEntry
from sandboxes.services import (
    sandbox_create,
    sandbox_end,
    sandbox_provision,
    sandboxes_auto_reset,
    sandboxes_expire,
    sandboxes_purge,
)
from simulation import services as simulation_services
from simulation.models import InjectedAnomaly
from simulation.selectors.plant import plant_get


def plant_started(sandbox: Sandbox, hours_ago: float) -> None:
    Sandbox.objects.filter(pk=sandbox.pk).update(reset_at=timezone.now() - timedelta(hours=hours_ago))


@pytest.mark.django_db
def test_a_day_old_plant_is_reset_to_its_start_by_the_sweep() -> None:
    due = sandbox_create(slug="due-reset", name="Due", scenario="cement")
    fresh = sandbox_create(slug="fresh-reset", name="Fresh", scenario="cement")
    opted_out = sandbox_create(slug="kept-running", name="Kept", scenario="cement")
    Sandbox.objects.filter(pk=opted_out.pk).update(auto_reset=False)
    for sandbox in (due, opted_out):
        plant_started(sandbox, hours_ago=25)
    plant_started(fresh, hours_ago=23)
    with schema_context(due.schema_name):
        plant = plant_get()
        assert plant is not None
        InjectedAnomaly.objects.create(asset=plant.assets.earliest("pk"), type="excess_air", starts_at=timezone.now())

    assert sandboxes_auto_reset() == 1

    due.refresh_from_db()
    assert due.reset_at is not None
    assert timezone.now() - due.reset_at < timedelta(minutes=1)
    entry = due.audit_entries.get(action="auto_reset")
    assert (entry.actor_label, entry.from_status, entry.to_status) == ("system", "ready", "ready")
    with schema_context(due.schema_name):
        assert InjectedAnomaly.objects.count() == 0
    assert not fresh.audit_entries.filter(action="auto_reset").exists()
    assert not opted_out.audit_entries.filter(action="auto_reset").exists()
    assert sandboxes_auto_reset() == 0  # its clock started again


@pytest.mark.django_db
def test_the_auto_reset_sweep_skips_a_sandbox_that_is_busy_and_goes_on_after_a_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    busy = sandbox_create(slug="busy-reset", name="Busy", scenario="cement")
    broken = sandbox_create(slug="broken-reset", name="Broken", scenario="cement")
    good = sandbox_create(slug="good-reset", name="Good", scenario="cement")
    for sandbox in (busy, broken, good):
        plant_started(sandbox, hours_ago=30)
    Sandbox.objects.filter(pk=busy.pk).update(status=Sandbox.Status.RESETTING)  # someone resets it by hand
    real_start = simulation_services.plant_start

    def failing_for_broken(**kwargs: Any) -> Any:
        from django.db import connection

        if connection.schema_name == broken.schema_name:  # type: ignore[attr-defined]
            raise RuntimeError("disk full")
        return real_start(**kwargs)

    monkeypatch.setattr("simulation.receivers.plant_start", failing_for_broken)

    assert sandboxes_auto_reset() == 1

    broken.refresh_from_db()
    assert broken.status == Sandbox.Status.FAILED
    assert "disk full" in broken.failure_reason
    assert good.audit_entries.filter(action="auto_reset").exists()


@pytest.mark.django_db
def test_ended_sandboxes_record_when_they_ended() -> None:
    destroyed = sandbox_end(sandbox=sandbox_create(slug="ends-now", name="Ends", scenario="cement"))
    expiring = sandbox_create(slug="ends-later", name="Expires", scenario="cement")
    Sandbox.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    sandboxes_expire()

    for sandbox in (destroyed, expiring):
        sandbox.refresh_from_db()
        assert sandbox.ended_at is not None
        assert timezone.now() - sandbox.ended_at < timedelta(minutes=1)


@pytest.mark.django_db
def test_records_are_purged_after_the_retention_and_the_numbers_stay_anonymised(settings: Any) -> None:
    settings.SANDBOX_RETENTION_DAYS = 7
    owner = User.objects.create_user(email="old@plant.example", password="pw", company="Old Plant Ltd")
    old = sandbox_create(
        slug="old-ended", name="Old", scenario="steel", owner=owner, product="emissionsguardian", role="executive"
    )
    recent = sandbox_create(slug="recent-ended", name="Recent", scenario="steel")
    running = sandbox_create(slug="still-running", name="Running", scenario="steel")
    for sandbox in (old, recent):
        sandbox_end(sandbox=sandbox)
    ended = timezone.now() - timedelta(days=8)
    Sandbox.objects.filter(pk=old.pk).update(ended_at=ended, created_at=ended - timedelta(hours=2))
    Sandbox.objects.filter(pk=recent.pk).update(ended_at=timezone.now() - timedelta(days=6))
    before = sandbox_stats()

    assert sandboxes_purge() == 1

    assert not Sandbox.objects.filter(pk=old.pk).exists()
    assert not Domain.objects.filter(domain__startswith="old-ended.").exists()
    assert not SandboxAuditEntry.objects.filter(sandbox_id=old.pk).exists()
    assert Sandbox.objects.filter(pk__in=[recent.pk, running.pk]).count() == 2
    archived = ArchivedSandbox.objects.get()
    assert (archived.industry, archived.product, archived.role) == ("steel", "emissionsguardian", "executive")
    assert (archived.end_status, archived.ended_at - archived.created_at) == ("destroyed", timedelta(hours=2))
    stored = str([getattr(archived, f.attname) for f in ArchivedSandbox._meta.fields])
    assert "old@plant.example" not in stored
    assert "old-ended" not in stored
    assert User.objects.filter(pk=owner.pk).exists()  # the lead stays; only the sandbox record goes
    assert sandbox_stats() == before  # the totals count the archive


@pytest.mark.django_db
def test_a_failure_while_provisioning_leaves_no_login_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_clone(**kwargs: Any) -> Sandbox:
        raise RuntimeError("clone failed")

    monkeypatch.setattr(services, "sandbox_create", broken_clone)

    with pytest.raises(RuntimeError):
        sandbox_provision(email="first@try.example", product="thermalcommand", industry="cement")

    assert not User.objects.filter(email="first@try.example").exists()
    monkeypatch.undo()
    provisioned = sandbox_provision(email="first@try.example", product="thermalcommand", industry="cement")
    assert provisioned.created
    assert provisioned.password  # the retry still hands out the new login


@pytest.mark.django_db
def test_the_database_refuses_a_second_active_sandbox_for_one_prospect_and_product() -> None:
    owner = User.objects.create_user(email="twice@plant.example", password="pw")
    sandbox_create(slug="first-active", name="First", scenario="cement", owner=owner, product="thermalcommand")
    other = sandbox_create(slug="second-active", name="Second", scenario="cement", product="thermalcommand")

    # What a racing request would write after both passed the check in Python:
    with pytest.raises(IntegrityError), transaction.atomic():
        Sandbox.objects.filter(pk=other.pk).update(owner=owner)


@pytest.fixture
def racing_prospect(committed_db: None) -> Iterator[str]:
    yield "racer@plant.example"
    for sandbox in Sandbox.objects.filter(owner__email="racer@plant.example"):
        sandbox.delete(force_drop=True)
    User.objects.filter(email="racer@plant.example").delete()


def test_two_racing_requests_for_one_prospect_get_one_sandbox(racing_prospect: str) -> None:
    def provision(_: int) -> tuple[int, bool]:
        try:
            provisioned = sandbox_provision(email=racing_prospect, product="wasteheatrecovery", industry="chemicals")
            return provisioned.sandbox.pk, provisioned.created
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as executor:
        results = list(executor.map(provision, range(2)))

    assert results[0][0] == results[1][0]
    assert sorted(created for _, created in results) == [False, True]
    assert Sandbox.objects.filter(owner__email=racing_prospect).count() == 1
    assert User.objects.filter(email=racing_prospect).count() == 1


@pytest.mark.django_db
def test_an_unknown_product_is_refused_before_anything_is_made() -> None:
    with pytest.raises(DomainError) as refused:
        sandbox_provision(email="z@plant.example", product="furnacepro", industry="cement")

    assert "product" in refused.value.errors
    assert not User.objects.filter(email="z@plant.example").exists()


@pytest.fixture
def two_prospects(committed_db: None) -> Iterator[list[str]]:
    emails = ["one@parallel.example", "two@parallel.example"]
    yield emails
    for sandbox in Sandbox.objects.filter(owner__email__in=emails):
        sandbox.delete(force_drop=True)
    User.objects.filter(email__in=emails).delete()


def test_two_prospects_provisioned_at_the_same_moment_both_get_a_clone(two_prospects: list[str]) -> None:
    # Each clone runs in its own transaction; django-tenants' own clone path replaced the clone function
    # inside that transaction, so a second clone waited for the first and then failed.
    def provision(email: str) -> str:
        try:
            provisioned = sandbox_provision(email=email, product="thermalcommand", industry="cement")
            assert provisioned.created
            return provisioned.sandbox.status
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as executor:
        statuses = list(executor.map(provision, two_prospects))

    assert statuses == ["ready", "ready"]
