"""Template context every page of a sandbox's host may use (``TEMPLATES`` in settings)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from sandboxes.models import Sandbox
from simulation.selectors.plant import PlantClock, plant_clock, plant_get


def _clock() -> PlantClock | None:
    plant = plant_get()
    return plant_clock(plant) if plant is not None else None


def sandbox_plant_clock(request: HttpRequest) -> dict[str, Any]:
    """``plant_clock``: the sandbox's ``PlantClock`` (or None without a plant) for the sandbox bar
    (``templates/sandbox/layout.html``). Read only if a template uses it: one query, in the sandbox's schema,
    which the host's middleware has set. Nothing on the portal's host."""
    tenant = getattr(request, "tenant", None)
    if not isinstance(tenant, Sandbox) or tenant.kind != Sandbox.Kind.DEMO:
        return {}
    return {"plant_clock": SimpleLazyObject(_clock)}
