"""Reads of the guided tour: a sandbox's tour, resolved against its plant."""

from __future__ import annotations

from typing import Any

from django_tenants.utils import schema_context

from demoportal.tours.definitions import tour_get, tour_resolve
from sandboxes.models import Sandbox
from simulation.engine.tours import Tour
from simulation.selectors.plant import sensor_list


def tour_steps(*, sandbox: Sandbox) -> tuple[Tour, list[dict[str, Any]]]:
    """The sandbox's tour (by its product and role) and its steps resolved against the sandbox's plant."""
    tour = tour_get(product=sandbox.product, role=sandbox.role)
    assets: dict[str, dict[str, Any]] = {}
    with schema_context(sandbox.schema_name):
        for tag, kind, pk in sensor_list().values_list("asset__tag", "kind", "pk"):
            assets.setdefault(tag, {"tag": tag, "sensors": {}})["sensors"][kind] = pk
    return tour, tour_resolve(tour, assets=list(assets.values()))
