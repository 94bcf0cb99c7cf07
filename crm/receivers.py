"""What sets off a CRM sync (``analytics/signals.py``): a lead scored because of a triggering event, or
becoming an MQL, or raising a hand. The row is written in the same transaction as the event."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from analytics.models import Event, Lead
from analytics.signals import lead_scored
from crm.sync.outbox import sync_request, triggers_of


@receiver(lead_scored, dispatch_uid="crm.lead_scored")
def lead_scored_sync(sender: Any, lead: Lead, event: Event | None, told: list[str], **_: Any) -> None:
    triggers = triggers_of(event_name=event.name if event else None, told=told)
    if triggers:
        sync_request(lead=lead, triggers=triggers)
