"""The prospect's activity a sandbox's lifecycle makes (``sandboxes/signals.py``): a demo begins, gets more
time, and an ended sandbox's numbers are kept when its record goes."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from analytics.models import DemoSource
from analytics.services.events import event_record, sandbox_archive
from demoportal.core.models import User
from sandboxes.models import Sandbox
from sandboxes.signals import demo_started, sandbox_extended, sandbox_purging


@receiver(demo_started, dispatch_uid="analytics.demo_started")
def demo_started_record(sender: Any, sandbox: Sandbox, from_pool: bool, actor: User | None = None, **_: Any) -> None:
    if sandbox.partner_id is not None:
        source = DemoSource.PARTNER
    elif actor is not None and actor.is_staff and actor.pk != sandbox.owner_id:
        source = DemoSource.SALES  # staff made it for the prospect
    else:
        source = DemoSource.SELF_SERVICE
    event_record(
        name="demo_started",
        user=sandbox.owner,
        sandbox=sandbox,
        properties={
            "product": sandbox.product,
            "industry": sandbox.industry,
            "role": sandbox.role,
            "from_pool": from_pool,
            "source": source,
        },
    )


@receiver(sandbox_extended, dispatch_uid="analytics.demo_extended")
def demo_extended_record(sender: Any, sandbox: Sandbox, hours: int, by_staff: bool, **_: Any) -> None:
    event_record(
        name="demo_extended", user=sandbox.owner, sandbox=sandbox, properties={"hours": hours, "by_staff": by_staff}
    )


@receiver(sandbox_purging, dispatch_uid="analytics.sandbox_archive")
def sandbox_purging_archive(sender: Any, sandbox: Sandbox, **_: Any) -> None:
    sandbox_archive(sandbox=sandbox)
