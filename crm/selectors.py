"""Reads for the calls to action: free call slots, and a sandbox's findings for its report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django_tenants.utils import schema_context

from crm.models import SalesCallSlot
from demoportal.core import catalogue
from demoportal.core.exceptions import DomainError
from sandboxes.models import Sandbox
from simulation.selectors.plant import plant_get, plant_kpis

SAVINGS_UNIT = "USD/year"


def slots_free(*, now: datetime | None = None) -> QuerySet[SalesCallSlot]:
    """Slots that start in the future and nobody has booked, soonest first, with their salesperson."""
    return (
        SalesCallSlot.objects.filter(starts_at__gt=now or timezone.now(), booking__isnull=True)
        .select_related("salesperson")
        .order_by("starts_at", "pk")
    )


def slots_nearest_free(*, around: datetime, limit: int = 3, now: datetime | None = None) -> list[SalesCallSlot]:
    """The ``limit`` free future slots whose start is nearest to ``around``, earlier or later, in time order.

    Two indexed range reads (the ``limit`` nearest on each side) rather than sorting every slot by distance.
    """
    free = slots_free(now=now)
    before = list(free.filter(starts_at__lt=around).order_by("-starts_at", "-pk")[:limit])
    after = list(free.filter(starts_at__gte=around)[:limit])
    nearest = sorted(before + after, key=lambda slot: (abs((slot.starts_at - around).total_seconds()), slot.pk))
    return sorted(nearest[:limit], key=lambda slot: (slot.starts_at, slot.pk))


@dataclass(frozen=True)
class Finding:
    name: str
    problem: str
    opportunity: str
    value: float
    unit: str


@dataclass(frozen=True)
class SandboxFindings:
    """What a sandbox's report says: its plant, the KPIs the engine computed, and the savings they add up to."""

    sandbox_name: str
    plant_name: str
    scenario_name: str
    industry: str
    product_name: str
    kpis: list[dict[str, Any]]
    stories: list[Finding]
    annual_savings_usd: float
    computed_at: datetime


def sandbox_findings(*, sandbox: Sandbox) -> SandboxFindings:
    """The sandbox's own figures, read inside its schema (``plant_kpis``: cached per hour, computed from
    the plant's data). The savings opportunity is the sum of the stories' headline figures in USD/year.
    A sandbox with no plant (being reset, or ended) is a 409 DomainError."""
    with schema_context(sandbox.schema_name):
        plant = plant_get()
        if plant is None:
            raise DomainError("This sandbox has no plant right now; try again in a moment.", status_code=409)
        kpis = plant_kpis(plant)
        plant_name, scenario_key = plant.name, plant.scenario
    scenario = catalogue.scenarios()[scenario_key]
    by_key = {kpi["key"]: kpi for kpi in kpis}
    stories = [
        Finding(
            name=story.name,
            problem=story.problem,
            opportunity=story.opportunity,
            value=float(by_key[story.headline.metric]["value"]),
            unit=str(by_key[story.headline.metric]["unit"]),
        )
        for story in scenario.stories
        if story.headline.metric in by_key
    ]
    product = catalogue.product(sandbox.product)
    return SandboxFindings(
        sandbox_name=sandbox.name,
        plant_name=plant_name,
        scenario_name=scenario.name,
        industry=scenario.industry,
        product_name=product["name"] if product else "",
        kpis=kpis,
        stories=stories,
        annual_savings_usd=sum(story.value for story in stories if story.unit == SAVINGS_UNIT),
        computed_at=timezone.now(),
    )
