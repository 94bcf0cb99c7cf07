"""Writes to analytics records."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from analytics.models import EVENT_NAMES, ArchivedSandbox, Event
from analytics.services.leads import lead_refresh
from analytics.services.rollups import demo_stale_mark
from analytics.services.sample import SAMPLE_SLUG_PREFIX
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.usage import requests_of


def sandbox_archive(*, sandbox: Sandbox) -> ArchivedSandbox:
    """Keep an ended sandbox's numbers, without who owned it or where it lived, before its record goes."""
    assert sandbox.ended_at is not None, "only an ended sandbox is archived"
    return ArchivedSandbox.objects.create(
        industry=sandbox.industry,
        product=sandbox.product,
        role=sandbox.role,
        created_at=sandbox.created_at,
        ended_at=sandbox.ended_at,
        end_status=sandbox.status,
        extensions=sandbox.extensions,
        resets=sandbox.audit_entries.filter(action__in=["reset", "auto_reset"]).count(),
        requests=requests_of(sandbox=sandbox),
        provisioning_ms=sandbox.provisioning_ms,
        sample=sandbox.slug.startswith(SAMPLE_SLUG_PREFIX),
    )


def event_record(
    *,
    name: str,
    user: User | None,
    sandbox: Sandbox | None = None,
    properties: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
    idempotency_key: str = "",
    source: str = Event.Source.SERVER,
) -> tuple[Event, bool]:
    """Record that ``user`` did ``name`` (a name from EVENT_NAMES): (the event, whether it is new).

    A repeated ``idempotency_key`` of the same user returns the first event and records nothing, even
    when two copies arrive at once (a unique constraint decides).

    The event carries the partner its lead is attributed to: the sandbox's when it happened in one
    (whoever did it), otherwise the user's partner organisation, if any.
    """
    if name not in EVENT_NAMES:
        raise DomainError(f"Unknown event {name!r}.", errors={"event": [f"Use one of: {', '.join(EVENT_NAMES)}."]})
    if idempotency_key and user is not None:
        existing = Event.objects.filter(user=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing, False
    # The event, its lead's new score and what that sets off (the CRM outbox row) commit together.
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = Event.objects.create(
                    name=name,
                    user=user,
                    sandbox=sandbox,
                    partner_id=event_partner_id(user=user, sandbox=sandbox),
                    properties=properties or {},
                    occurred_at=occurred_at or timezone.now(),
                    idempotency_key=idempotency_key,
                    source=source,
                )
        except IntegrityError:  # the same key, arriving at the same moment
            return Event.objects.get(user=user, idempotency_key=idempotency_key), False
        if sandbox is not None:
            demo_stale_mark(sandbox_id=sandbox.pk)  # the dashboards' rollups take it within the minute
        if user is not None:
            lead_refresh(user=user, event=event)  # the lead's score and breakdown, within the same request
    return event, True


def event_partner_id(*, user: User | None, sandbox: Sandbox | None) -> int | None:
    """The partner an event is attributed to (see ``event_record``), without a query."""
    if sandbox is not None:
        return sandbox.partner_id  # type: ignore[no-any-return]  # the tenant base class is untyped
    return user.partner_id if user is not None else None


ABANDONED_AFTER = timedelta(minutes=30)


def demos_abandoned_record(*, now: datetime | None = None) -> int:
    """Record ``demo_abandoned`` for each ready sandbox idle ABANDONED_AFTER (beat, every five minutes)
    whose demo was neither completed nor already marked abandoned since its last activity. Returns how
    many it recorded; running it again records nothing new."""
    now = now or timezone.now()
    idle = Sandbox.objects.filter(kind=Sandbox.Kind.DEMO, status=Sandbox.Status.READY, owner__isnull=False).filter(
        Q(last_accessed_at__lte=now - ABANDONED_AFTER)
        | Q(last_accessed_at__isnull=True, ready_at__lte=now - ABANDONED_AFTER)
    )
    count = 0
    for sandbox in idle.select_related("owner"):
        last_activity = sandbox.last_accessed_at or sandbox.ready_at
        ended = Event.objects.filter(
            sandbox=sandbox, name__in=["demo_completed", "demo_abandoned"], occurred_at__gte=last_activity
        )
        if ended.exists():
            continue
        idle_minutes = round((now - last_activity).total_seconds() / 60) if last_activity else None
        event_record(
            name="demo_abandoned",
            user=sandbox.owner,
            sandbox=sandbox,
            properties={"idle_minutes": idle_minutes},
            occurred_at=now,
        )
        count += 1
    return count
