"""CRM sync through a real Celery worker, from the prospect's click to the record in the CRM, and the faults a
worker meets: killed in the middle of a delivery, its queued tasks lost with Redis.

The first test runs the worker in this process (celery.contrib.testing's ``start_worker``: the real consumer on
the real Redis broker, the ``crm`` queue) so that the fake Salesforce org — ``responses``, which patches this
process's HTTP — answers it. The others run it as a process of its own, as in production, against the HubSpot
fake (a real HTTP server on 127.0.0.1), so it can be killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from analytics.models import Lead
from analytics.services.events import event_record
from crm.models import CrmRecord, CrmSync
from crm.services import pricing_request_create
from crm.sync import outbox
from crm.sync.clients import clients_forget
from demoportal.celery import app
from demoportal.core.models import User
from sandboxes.models import Sandbox
from tests.conftest import BASE_DIR, subprocess_environment, wait_for
from tests.conftest import test_database_url as database_url  # not collected as a test
from tests.crm.fake_hubspot import FakeHubSpot
from tests.crm.fake_salesforce import FakeSalesforceOrg

State = CrmSync.State


@pytest.fixture
def prospect(committed_db: None) -> Iterator[User]:
    user = User.objects.create_user(
        email="ada@northwind-steel.example",
        password="pw",
        first_name="Ada",
        last_name="Lovelace",
        company="Northwind Steel",
        role="engineer",
        country="US",
        contact_consent_at=timezone.now(),
    )
    clients_forget()
    for crm in ("salesforce", "hubspot"):
        outbox.delivery_flag_clear(crm)  # another test's task, queued and never run, holds no one back
    yield user
    Sandbox.objects.filter(owner=user).delete()
    user.delete()  # its lead, syncs and CRM records with it
    clients_forget()


def delivered(lead: Lead, crm: str) -> CrmSync | None:
    return CrmSync.objects.filter(lead=lead, crm=crm, state=State.DELIVERED).first()


def test_a_pricing_request_reaches_hubspot_and_salesforce_through_the_worker_within_seconds(
    fake_salesforce: FakeSalesforceOrg, fake_hubspot: FakeHubSpot, settings: Any, prospect: User
) -> None:
    for name, value in fake_salesforce.settings().items():
        setattr(settings, name, value)
    with start_worker(app, pool="solo", queues=["crm"], perform_ping_check=False, shutdown_timeout=30):
        clicked = time.monotonic()
        pricing_request_create(user=prospect, sandbox=None, company_size="1000-4999", sites=3, timeframe="0-3m")
        lead = Lead.objects.get(user=prospect)
        wait_for(lambda: delivered(lead, "salesforce") and delivered(lead, "hubspot"), "both syncs delivered", 20)
        took = time.monotonic() - clicked

    contact = fake_hubspot.contact(prospect.email)
    assert contact is not None
    assert contact["demo_stage"] == "mql"
    assert int(contact["demo_total_score"]) == lead.fit_score + 50
    assert "+50 requested pricing" in contact["demo_score_breakdown"]
    sf_lead = fake_salesforce.lead(f"lead-{lead.pk}")
    assert sf_lead is not None
    assert "+50 requested pricing" in sf_lead["Description"]
    assert {r.crm: r.record_id for r in CrmRecord.objects.filter(lead=lead)} == {
        "salesforce": sf_lead["Id"],
        "hubspot": fake_hubspot.contact_id(prospect.email),
    }
    print(f"pricing request → HubSpot and Salesforce: {took:.2f} s")

    sales = User.objects.create_user(email="jane.seller@vendor.example", password="pw", is_staff=True)
    try:
        sales.groups.add(Group.objects.get(name="Sales"))
        browser = Client(HTTP_HOST="localhost")
        browser.force_login(sales)
        log = browser.get(f"/admin/crm/crmsync/?lead__id__exact={lead.pk}").content.decode()
    finally:
        sales.delete()
    assert log.count("Delivered</span>") == 2  # both rows in the sync log, each with its CRM record's link
    assert f"Salesforce {sf_lead['Id']}" in log
    assert f"HubSpot {fake_hubspot.contact_id(prospect.email)}" in log


# --- a worker of its own ---------------------------------------------------------------------------------


class Worker:
    """``celery worker --queues crm`` as production runs it (prefork), pointed at the HubSpot fake."""

    def __init__(self, fake: FakeHubSpot, log: Path) -> None:
        self.fake, self.log = fake, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "celery", "--app", "demoportal.celery", "worker", "--pool", "prefork"),
                    *("--concurrency", "1", "--loglevel", "INFO", "--queues", "crm", "--without-mingle"),
                    *("--hostname", f"crm-worker-{time.monotonic_ns()}@%h"),
                ],
                cwd=BASE_DIR,
                env=subprocess_environment(DATABASE_URL=database_url(), **self.fake.environment()),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(lambda: b"ready." in self.log.read_bytes() or self.process.poll() is not None, "the worker")  # type: ignore[union-attr]
        assert self.process.poll() is None, self.log.read_text()

    def kill(self) -> None:
        """SIGKILL to the worker and its pool's child: no shutdown, no acknowledgement, nothing cleaned up."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


@pytest.fixture
def worker(fake_hubspot: FakeHubSpot, tmp_path: Path) -> Iterator[Worker]:
    running = Worker(fake_hubspot, tmp_path / "worker.log")
    yield running
    running.stop()


def demo_with_pricing_request(user: User) -> Lead:
    (sandbox,) = Sandbox.objects.bulk_create(
        [Sandbox(schema_name="crm_worker_demo", slug="crm-worker-demo", name="Plant", industry="steel", owner=user)]
    )
    event_record(name="demo_started", user=user, sandbox=sandbox)
    event_record(name="pricing_requested", user=user, sandbox=sandbox)
    return Lead.objects.get(user=user)


def test_a_worker_killed_mid_delivery_leaves_one_contact_and_one_note_after_the_restart(
    fake_hubspot: FakeHubSpot, worker: Worker, prospect: User
) -> None:
    fake_hubspot.slow(120, path="/crm/v3/objects/contacts/batch/upsert")  # HubSpot is slow: the worker waits
    worker.start()
    lead = demo_with_pricing_request(prospect)
    wait_for(lambda: fake_hubspot.calls["contacts_upsert"] >= 1, "the worker's upsert reaching HubSpot")

    worker.kill()
    row = CrmSync.objects.get(lead=lead, crm="hubspot")
    assert row.state == State.DELIVERING

    worker.start()
    # The dead worker's claim runs out (after ``lease()``, a minute and a half: not waited for here) …
    CrmSync.objects.filter(pk=row.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    outbox.syncs_sweep()  # … and beat's sweep takes the row back
    wait_for(lambda: delivered(lead, "hubspot"), "the sync delivered by the restarted worker", 30)

    row.refresh_from_db()
    assert row.attempts == 2
    contact_id = fake_hubspot.contact_id(prospect.email)
    assert contact_id is not None
    assert sum(1 for c in fake_hubspot.contacts.values() if c["email"] == prospect.email) == 1
    assert len(fake_hubspot.notes_of(contact_id)) == 1


def test_syncs_whose_tasks_were_lost_with_redis_are_delivered_by_the_sweep(
    fake_hubspot: FakeHubSpot, worker: Worker, prospect: User
) -> None:
    lead = demo_with_pricing_request(prospect)  # its delivery task is queued; no worker yet
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    assert broker.llen("crm") >= 1
    broker.delete("crm")  # a Redis restart that keeps nothing on disk loses the queued tasks

    worker.start()
    time.sleep(1)
    assert CrmSync.objects.get(lead=lead, crm="hubspot").state == State.PENDING  # nobody knows of it

    outbox.syncs_sweep()  # beat, every 30 s
    wait_for(lambda: delivered(lead, "hubspot"), "the sync delivered after the sweep", 30)
    assert fake_hubspot.contact(prospect.email) is not None
