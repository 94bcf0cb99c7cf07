"""Writes of the guided tour: the prospect's progress through it."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from analytics.models import Event
from analytics.services.events import event_record
from demoportal.core.exceptions import DomainError
from demoportal.core.models import User
from demoportal.tours.models import TourProgress
from demoportal.tours.selectors import tour_steps
from sandboxes.models import Sandbox
from simulation.engine.tours import Tour
from simulation.models import Asset
from simulation.services import alarm_raise

logger = logging.getLogger(__name__)

TOUR_ACTIONS = ("shown", "complete", "missing", "dismiss", "resume", "restart")


def _awaits_event(progress: TourProgress, step: dict[str, Any]) -> bool:
    """The step waits for an event (``until.event``) that the sandbox has not had since the step began."""
    name = step["until"].get("event")
    return name is not None and not (
        Event.objects.filter(sandbox=progress.sandbox, name=name, occurred_at__gte=progress.step_started_at).exists()
    )


def _advance(progress: TourProgress, steps: list[dict[str, Any]], *, now: datetime) -> None:
    """On to the first step after the current one that is not done; past the last, the tour is finished
    and records demo_completed (once: a finished tour does not advance again)."""
    ids = [step["id"] for step in steps]
    position = ids.index(progress.step) + 1 if progress.step in ids else 0
    following = [step_id for step_id in ids[position:] if step_id not in progress.completed]
    progress.step_started_at = now
    if following:
        progress.step = following[0]
        return
    progress.step, progress.status = "", TourProgress.Status.FINISHED
    event_record(
        name="demo_completed",
        user=progress.user,
        sandbox=progress.sandbox,
        properties={
            "tour": progress.tour,
            "steps_done": len(progress.completed),
            "steps_missing": len(progress.missing),
        },
    )


def _complete_while_done(progress: TourProgress, steps: list[dict[str, Any]], *, now: datetime) -> None:
    """Complete the current step, and the ones after it, while what they wait for has already happened
    (the prospect applied the O2 trim, the page reloaded: the tour moves on by itself)."""
    by_id = {step["id"]: step for step in steps}
    while progress.status == TourProgress.Status.ACTIVE and progress.step in by_id:
        if "event" not in by_id[progress.step]["until"] or _awaits_event(progress, by_id[progress.step]):
            return
        progress.completed = [*progress.completed, progress.step]
        _advance(progress, steps, now=now)


def _raise(*, sandbox: Sandbox, step: dict[str, Any]) -> None:
    """The event a step raises on its asset when first shown (an alarm to acknowledge), as sales would."""
    if not step["raises"]:
        return
    with schema_context(sandbox.schema_name):
        asset = Asset.objects.get(tag=step["asset_tag"])
        alarm_raise(sandbox=sandbox, asset_id=asset.pk, actor=None, **step["raises"])  # the tour: the system


def tour_progress_get(*, user: User, sandbox: Sandbox) -> tuple[TourProgress, Tour, list[dict[str, Any]]]:
    """The prospect's place in the sandbox's tour (started at its first step on the first visit), moved on
    past steps whose condition is already met."""
    tour, steps = tour_steps(sandbox=sandbox)
    now = timezone.now()
    with transaction.atomic():
        progress, _ = TourProgress.objects.select_for_update().get_or_create(
            user=user,
            sandbox=sandbox,
            defaults={"tour": tour.key, "step": steps[0]["id"] if steps else "", "step_started_at": now},
        )
        if progress.status == TourProgress.Status.ACTIVE and progress.step not in {s["id"] for s in steps}:
            _advance(progress, steps, now=now)  # the definition changed under them: the next step not done
        _complete_while_done(progress, steps, now=now)
        progress.save()
    return progress, tour, steps


def tour_step_act(
    *, user: User, sandbox: Sandbox, action: str, step_id: str = ""
) -> tuple[TourProgress, Tour, list[dict[str, Any]]]:
    """What the tour's page reports: a step was ``shown`` (records its event once), is ``complete``, its
    element is ``missing`` from the page (skipped and logged, never a frozen tour), or the prospect
    wants to ``dismiss``, ``resume`` or ``restart`` the tour.

    ``complete`` and ``missing`` apply to the current step only (409 otherwise); a step that waits for
    an event is complete only once the server has that event (409 "Not yet" before).
    """
    if action not in TOUR_ACTIONS:
        raise DomainError(f"Unknown action {action!r}.", errors={"action": [f"Use one of: {', '.join(TOUR_ACTIONS)}."]})
    progress, tour, steps = tour_progress_get(user=user, sandbox=sandbox)
    by_id = {step["id"]: step for step in steps}
    now = timezone.now()
    if action in ("shown", "complete", "missing"):
        if step_id not in by_id:
            raise DomainError(f"No step {step_id!r} in this tour.", errors={"step": ["Not a step of this tour."]})
        if action != "shown" and step_id != progress.step:
            raise DomainError(f"Step {step_id!r} is not the current step.", status_code=409)
    with transaction.atomic():
        progress = TourProgress.objects.select_for_update().get(pk=progress.pk)
        if action == "shown" and step_id not in progress.shown:
            progress.shown = [*progress.shown, step_id]
            _raise(sandbox=sandbox, step=by_id[step_id])
            event_record(
                name=by_id[step_id]["records"],
                user=user,
                sandbox=sandbox,
                properties={"feature": f"tour.{step_id}", "tour": tour.key, "step": step_id},
            )
        elif action == "complete":
            if _awaits_event(progress, by_id[step_id]):
                raise DomainError("Not yet: this step waits for something to happen in the plant.", status_code=409)
            progress.completed = [*progress.completed, step_id]
            _advance(progress, steps, now=now)
        elif action == "missing":
            logger.warning(
                "tour %s: step %s skipped, %s not on %s",
                tour.key,
                step_id,
                by_id[step_id]["target"],
                by_id[step_id]["url"],
            )
            progress.missing = [*progress.missing, step_id]
            _advance(progress, steps, now=now)
        elif action == "dismiss" and progress.status == TourProgress.Status.ACTIVE:
            progress.status = TourProgress.Status.DISMISSED
        elif action == "resume" and progress.status == TourProgress.Status.DISMISSED:
            progress.status, progress.step_started_at = TourProgress.Status.ACTIVE, now
        elif action == "restart":
            progress.status, progress.completed, progress.missing = TourProgress.Status.ACTIVE, [], []
            progress.step, progress.step_started_at = (steps[0]["id"] if steps else ""), now
        progress.save()
    return progress, tour, steps
