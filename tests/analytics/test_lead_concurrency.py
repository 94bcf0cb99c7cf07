"""Two events of one lead scored at the same moment, on two connections: both count, the MQL happens once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.utils import timezone

from analytics.models import Event, Lead, LeadStageChange, ScoreEntry
from analytics.services.events import event_record
from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_create


@pytest.fixture
def committed_prospect(committed_db: None) -> Iterator[tuple[User, Sandbox]]:
    user = User.objects.create_user(
        email="racer@northwind-steel.example", password="pw", role="engineer", contact_consent_at=timezone.now()
    )
    sandbox = sandbox_create(slug="racing-lead", name="Racing", scenario="steel", owner=user, product="boileroptimizer")
    yield user, sandbox
    sandbox.delete(force_drop=True)
    Event.objects.filter(user=user).delete()
    user.delete()


def test_two_events_of_one_lead_at_once_are_both_scored(
    committed_prospect: tuple[User, Sandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    user, sandbox = committed_prospect
    told: list[list[str]] = []  # instead of the worker's e-mail (and its extension of the sandbox)
    monkeypatch.setattr("analytics.services.leads.sales_tell_later", lambda *, lead_id, reasons: told.append(reasons))

    def record(name: str) -> None:
        try:
            event_record(name=name, user=user, sandbox=sandbox)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(record, ["pricing_requested", "sales_contact_requested"]))

    scored = set(ScoreEntry.objects.filter(lead__user=user).values_list("signal", flat=True))
    assert {"pricing_requested", "sales_contact_requested"} <= scored
    lead = Lead.objects.get(user=user)
    assert lead.engagement_points == 90
    assert LeadStageChange.objects.filter(lead=lead, after="mql").count() == 1
    # Sales hear of the new MQL once; the other hand-raise is either in that e-mail's breakdown (both events
    # were committed before the first scoring) or told on its own (the second was scored after the first).
    reasons = [reason for batch in told for reason in batch]
    assert len([r for r in reasons if r.startswith("New MQL")]) == 1
    assert len(reasons) <= 2
