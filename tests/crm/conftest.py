"""Fixtures for the calls to action: a prospect who owns the test sandbox, signed in on its host."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from crm.models import SalesCallSlot
from demoportal.core.models import User
from sandboxes.models import Sandbox
from tests.crm.fake_hubspot import FakeHubSpot, running
from tests.crm.fake_salesforce import FakeSalesforceOrg

HOST = "test-sandbox.localhost"


@pytest.fixture
def prospect(db: None) -> User:
    """A prospect who agreed to be contacted at sign-up (test_consent.py: one who did not)."""
    return User.objects.create_user(
        email="buyer@refinery.example",
        password="pw",
        first_name="Ada",
        last_name="Buyer",
        company="Gulf Refining",
        job_title="Energy manager",
        phone="+442079460958",
        role="engineer",
        contact_consent_at=timezone.now(),
        contact_consent_version="2026-11",
    )


@pytest.fixture
def own_sandbox(sandbox: Sandbox, prospect: User) -> Sandbox:
    """The session's test sandbox (its own schema, the refinery's plant), owned by the prospect for this test."""
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=prospect, product="thermalcommand", role="engineer")
    sandbox.refresh_from_db()
    return sandbox


@pytest.fixture
def member(client: Client, own_sandbox: Sandbox, prospect: User) -> Client:
    """A test client signed in as the sandbox's owner, talking to the sandbox's host."""
    client.force_login(prospect)
    client.defaults["HTTP_HOST"] = HOST
    return client


@pytest.fixture
def salesperson(db: None) -> User:
    user = User.objects.create_user(
        email="jane.seller@vendor.example", password="pw", first_name="Jane", last_name="Seller", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Sales"))
    return user


def in_days(days: float, hour: int = 14) -> datetime:
    """An aware UTC time ``days`` from today at ``hour``:00."""
    moment = timezone.now() + timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def make_slot(salesperson: User):
    def make(starts_at: datetime, **fields: object) -> SalesCallSlot:
        return SalesCallSlot.objects.create(starts_at=starts_at, salesperson=salesperson, **fields)

    return make


@pytest.fixture
def fake_salesforce() -> Iterator[FakeSalesforceOrg]:
    """A Salesforce org in memory answering every thread's requests (tests/crm/fake_salesforce.py); no database."""
    with FakeSalesforceOrg() as org:
        yield org


@pytest.fixture
def fake_hubspot(settings: Any) -> Iterator[FakeHubSpot]:
    """A HubSpot CRM v3 API on 127.0.0.1 (tests/crm/fake_hubspot.py), the HUBSPOT_* settings pointing at it."""
    yield from running(settings)
