"""What the outbox tests against each CRM's fake (and bench/crm.py) share: prospects with a demo, who asked for
pricing in it, and the sweep and deliveries run on a simulated clock as beat and the worker would."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from analytics.models import Lead
from analytics.services.events import event_record
from crm.models import CrmSync
from crm.sync import outbox
from demoportal.core.models import User
from sandboxes.models import Sandbox


def prospects_with_a_demo(count: int) -> list[tuple[User, Sandbox]]:
    """``count`` consenting prospects, each with a ThermalCommand demo begun (a sandbox row, no schema)."""
    people = []
    for n in range(count):
        user = User.objects.create_user(
            email=f"buyer{n}@plant{n}.example",
            password="pw",
            first_name="Ada",
            last_name=f"Buyer{n}",
            company=f"Plant {n}",
            role="engineer",
            country="US",
            contact_consent_at=timezone.now(),
        )
        (sandbox,) = Sandbox.objects.bulk_create(
            [
                Sandbox(
                    schema_name=f"sync_{n}",
                    slug=f"sync-{n}",
                    name="Plant",
                    industry="cement",
                    product="thermalcommand",
                    owner=user,
                )
            ]
        )
        event_record(name="demo_started", user=user, sandbox=sandbox)
        people.append((user, sandbox))
    return people


def prospects_asking_for_pricing(count: int) -> list[Lead]:
    """``prospects_with_a_demo`` who asked for pricing in it: each a lead with a sync waiting for every CRM."""
    leads = []
    for user, sandbox in prospects_with_a_demo(count):
        event_record(name="pricing_requested", user=user, sandbox=sandbox)
        leads.append(Lead.objects.get(user=user))
    return leads


def keep_trying(crm: str, start: datetime, *, hours: float) -> datetime:
    """Beat and the worker every minute for ``hours`` from ``start``; returns the time after."""
    at = start
    while at < start + timedelta(hours=hours):
        outbox.syncs_sweep(now=at)
        outbox.syncs_deliver(crm=crm, now=at)
        at += timedelta(minutes=1)
    return at


def deliver_until_done(crm: str, at: datetime, *, rounds: int = 30) -> datetime:
    """The sweep and a delivery each time at the next waiting row's due time, until none waits."""
    for _ in range(rounds):
        outbox.syncs_sweep(now=at)
        outbox.syncs_deliver(crm=crm, now=at)
        waiting = CrmSync.objects.filter(crm=crm, state__in=CrmSync.WAITING).order_by("due_at").first()
        if waiting is None:
            return at
        at = max(at + timedelta(seconds=1), waiting.due_at)
    return at
