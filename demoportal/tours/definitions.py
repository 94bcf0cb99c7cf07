"""Guided tours on a sandbox's host: one definition per product × role in ``fixtures/tours/<product>.<role>.json``.

The definitions are part of the scenario catalogue: ``simulation.engine.tours`` parses and checks them (its
docstring says what a step holds) when ``demoportal.core.catalogue`` loads the catalogue, which also derives
each tour's estimated length from them. Here a tour is resolved against one sandbox's plant: pages as URLs,
live bindings as sensor ids, and the steps the plant has no asset for left out.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.urls import reverse

from demoportal.core import catalogue
from simulation.engine.tours import Tour, TourError, asset_for

logger = logging.getLogger(__name__)

TOURS_DIR = catalogue.FIXTURES_DIR / "tours"
DEFAULT_ROLE = "engineer"  # a sandbox made without a role (a partner's, by the API) gets the deep tour


def tour_get(*, product: str, role: str) -> Tour:
    """The tour for this product and role (a sandbox without a role gets DEFAULT_ROLE's), from the catalogue."""
    key = f"{product}.{role or DEFAULT_ROLE}"
    found = catalogue.tours().get(key)
    if found is None:
        raise TourError(f"No tour {key}.json in {TOURS_DIR}.")
    return found


def tour_resolve(tour: Tour, *, assets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tour's steps for one plant: pages as URLs, live bindings as sensor ids. A step whose asset
    this plant does not have (a cement works has no boiler to trim) is left out, and logged."""
    resolved = []
    for step in tour.steps:
        asset = asset_for(step.asset, assets) if step.asset else None
        if step.asset and asset is None:
            logger.info("tour %s: step %s left out, no asset with %s", tour.key, step.id, ", ".join(step.asset))
            continue
        url = (
            reverse("sandbox:asset", urlconf=settings.ROOT_URLCONF, args=[asset["tag"]])
            if step.page == "asset" and asset
            else "/"
        )
        until = dict(step.until)
        if "sensor" in until and asset is not None:
            until["sensor_id"] = asset["sensors"][until["sensor"]]
        resolved.append(
            {
                "id": step.id,
                "url": url,
                "title": step.title,
                "text": step.text,
                "target": step.target,
                "asset_tag": asset["tag"] if asset else "",
                "live_sensor_id": asset["sensors"][step.live] if step.live and asset else None,
                "until": until,
                "time_scale": step.time_scale,
                "records": step.records,
                "raises": step.raises,
            }
        )
    return resolved
