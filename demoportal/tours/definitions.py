"""Guided tours: one definition per product × role in ``fixtures/tours/<product>.<role>.json``.

A step names the page it runs on (the sandbox home, or the page of the first asset that has the
sensors it needs), the element it points at, its text, an optional live value shown in the text
(``{value}``), and an optional condition that completes it:

- ``{"event": "optimization_applied" | "alert_acknowledged" | "savings_calculated"}``: the server
  finds that event of this sandbox recorded since the step began;
- ``{"sensor": <kind>, "above" | "below" | "rises_by" | "falls_by": <number>}``: judged by the page
  from the live stream, i.e. from the very values the prospect sees move.

A step may ask the plant's clock to run faster while it waits (``time_scale``, 1–3600), to show a trend,
and may raise an event on its asset when first shown (``raises``: an alarm for the prospect to
acknowledge, so the step never waits for an alarm the plant happens not to have).
Definitions are checked when loaded; an error names the file, the step and the field.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import reverse

logger = logging.getLogger(__name__)

TOURS_DIR = Path(settings.BASE_DIR) / "fixtures" / "tours"
PAGES = ("home", "asset")
EVENT_CONDITIONS = ("optimization_applied", "alert_acknowledged", "savings_calculated")  # analytics event names
VALUE_CONDITIONS = ("above", "below", "rises_by", "falls_by")
RAISE_KINDS = ("alarm", "maintenance_due", "permit_exceedance")  # simulation.models.RaisedAlarm's kinds
STEP_EVENTS = ("feature_viewed", "recommendation_viewed", "dashboard_accessed", "anomaly_detected")
MAX_TIME_SCALE = 3600
DEFAULT_ROLE = "engineer"  # a sandbox made without a role (a partner's, by the API) gets the deep tour


class TourError(ValueError):
    """A tour definition that cannot be used; the message names the file, the step and the field."""


@dataclass(frozen=True)
class Step:
    id: str
    page: str
    title: str
    text: str
    target: str = ""  # CSS selector; empty: a step in the middle of the page, pointing at nothing
    asset: tuple[str, ...] = ()  # sensor kinds the step's asset must have (first such asset by index)
    live: str = ""  # sensor kind on the step's asset whose live value replaces {value}
    until: dict[str, Any] = field(default_factory=dict)
    time_scale: int = 1
    records: str = "feature_viewed"  # the event that showing the step records
    raises: dict[str, str] = field(default_factory=dict)  # {kind, message}: raised on the asset when first shown


@dataclass(frozen=True)
class Tour:
    key: str  # <product>.<role>
    title: str
    steps: tuple[Step, ...]


def _require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise TourError(f"{where}: {message}")


def _step(raw: Any, where: str) -> Step:
    _require(isinstance(raw, dict), where, "a step is an object")
    known = {"id", "page", "title", "text", "target", "asset", "live", "until", "time_scale", "records", "raises"}
    unknown = sorted(set(raw) - known)
    _require(not unknown, where, f"unknown field(s) {', '.join(unknown)}")
    for name in ("id", "page", "title", "text"):
        _require(isinstance(raw.get(name), str) and raw[name].strip() != "", where, f"'{name}' is required text")
    _require(raw["page"] in PAGES, where, f"'page' must be one of {', '.join(PAGES)}")
    asset = raw.get("asset", [])
    _require(
        isinstance(asset, list) and all(isinstance(kind, str) for kind in asset), where, "'asset' is a list of kinds"
    )
    _require(raw["page"] != "asset" or bool(asset), where, "a step on the asset page needs 'asset'")
    live = raw.get("live", "")
    _require(isinstance(live, str), where, "'live' is a sensor kind")
    _require(not live or live in asset, where, "'live' must be one of the step's 'asset' kinds")
    _require(("{value}" in raw["text"]) == bool(live), where, "'text' has {value} exactly when 'live' is set")
    until = raw.get("until", {})
    _require(isinstance(until, dict), where, "'until' is an object")
    if "event" in until:
        _require(set(until) == {"event"}, where, "'until' with 'event' has nothing else")
        _require(until["event"] in EVENT_CONDITIONS, where, f"'until.event' must be one of {EVENT_CONDITIONS}")
    elif until:
        tests = [name for name in VALUE_CONDITIONS if name in until]
        _require(set(until) == {"sensor", *tests} and len(tests) == 1, where, "'until' is {sensor, one test}")
        _require(until["sensor"] in asset, where, "'until.sensor' must be one of the step's 'asset' kinds")
        number = until[tests[0]]
        _require(isinstance(number, int | float) and not isinstance(number, bool), where, "the test is a number")
    scale = raw.get("time_scale", 1)
    _require(
        isinstance(scale, int) and not isinstance(scale, bool) and 1 <= scale <= MAX_TIME_SCALE,
        where,
        f"'time_scale' is a whole number from 1 to {MAX_TIME_SCALE}",
    )
    _require(scale == 1 or bool(until), where, "'time_scale' only on a step that waits for something")
    raises = raw.get("raises", {})
    _require(isinstance(raises, dict), where, "'raises' is an object")
    if raises:
        _require(bool(asset), where, "a step that 'raises' an event needs 'asset'")
        _require(set(raises) == {"kind", "message"}, where, "'raises' is {kind, message}")
        _require(raises["kind"] in RAISE_KINDS, where, f"'raises.kind' must be one of {', '.join(RAISE_KINDS)}")
        message = raises["message"]
        _require(isinstance(message, str) and 0 < len(message.strip()) <= 300, where, "'raises.message' is text")
    records = raw.get("records", "feature_viewed")
    _require(records in STEP_EVENTS, where, f"'records' must be one of {', '.join(STEP_EVENTS)}")
    return Step(
        id=raw["id"],
        page=raw["page"],
        title=raw["title"],
        text=raw["text"],
        target=raw.get("target", ""),
        asset=tuple(asset),
        live=live,
        until=until,
        time_scale=scale,
        records=records,
        raises=raises,
    )


def tour_parse(raw: Any, *, key: str, source: str) -> Tour:
    """A tour from its JSON; TourError naming ``source``, the step and the field when it is not usable."""
    _require(isinstance(raw, dict) and raw.get("version") == 1, source, "expected an object with version 1")
    _require(isinstance(raw.get("title"), str) and raw["title"].strip() != "", source, "'title' is required text")
    steps = raw.get("steps")
    _require(isinstance(steps, list) and len(steps) >= 2, source, "'steps' is a list of at least two steps")
    parsed = tuple(_step(step, f"{source}, step {n}") for n, step in enumerate(steps, start=1))
    ids = [step.id for step in parsed]
    _require(len(ids) == len(set(ids)), source, "step ids must be unique")
    return Tour(key=key, title=raw["title"], steps=parsed)


@cache
def tour_get(*, product: str, role: str) -> Tour:
    """The tour for this product and role (a sandbox without a role gets DEFAULT_ROLE's)."""
    key = f"{product}.{role or DEFAULT_ROLE}"
    path = TOURS_DIR / f"{key}.json"
    if not path.exists():
        raise TourError(f"No tour {path.name} in {TOURS_DIR}.")
    try:
        raw = json.loads(path.read_text())
    except ValueError as error:
        raise TourError(f"{path.name}: not JSON ({error})") from error
    return tour_parse(raw, key=key, source=path.name)


def asset_for(kinds: tuple[str, ...], assets: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first asset (by index) with a sensor of every kind; ``assets`` carry ``tag`` and ``sensors``
    (kind → sensor id)."""
    return next((asset for asset in assets if all(kind in asset["sensors"] for kind in kinds)), None)


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
