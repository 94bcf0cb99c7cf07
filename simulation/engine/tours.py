"""Guided tours as the catalogue states them: one definition per product × role in
``fixtures/tours/<product>.<role>.json``, parsed and checked; which of its steps a plant keeps; and how long
it takes there (``tour_minutes``), derived from those steps at the pace ``products.json`` states.

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

Django-free, like the rest of the engine: the portal's tours (``demoportal.tours``) resolve a definition
against one sandbox's plant and keep each prospect's progress.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PAGES = ("home", "asset")
EVENT_CONDITIONS = ("optimization_applied", "alert_acknowledged", "savings_calculated")  # analytics event names
VALUE_CONDITIONS = ("above", "below", "rises_by", "falls_by")
RAISE_KINDS = ("alarm", "maintenance_due", "permit_exceedance")  # simulation.models.RaisedAlarm's kinds
STEP_EVENTS = ("feature_viewed", "recommendation_viewed", "dashboard_accessed", "anomaly_detected")
MAX_TIME_SCALE = 3600


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

    @property
    def hands_on(self) -> bool:
        """The step waits: for the prospect to act (an event) or for the plant to respond (a live value)."""
        return bool(self.until)


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


def asset_for(kinds: Sequence[str], assets: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The first asset (by index) with a sensor of every kind; ``assets`` carry ``sensors``, a collection of
    their sensor kinds (for a sandbox's plant: kind → sensor id, with ``tag``). The one rule of which asset a
    step runs on, and so of which steps a plant keeps."""
    return next((asset for asset in assets if all(kind in asset["sensors"] for kind in kinds)), None)


def tour_steps_kept(tour: Tour, *, assets: Sequence[Mapping[str, Any]]) -> tuple[Step, ...]:
    """The steps of ``tour`` a plant with these ``assets`` keeps: those without an asset, and those some asset of
    the plant can run (``asset_for``). A cement works has no fired heater to trim, so its tour has no trim."""
    return tuple(step for step in tour.steps if not step.asset or asset_for(step.asset, assets) is not None)


@dataclass(frozen=True)
class TourPace:
    """How long a prospect spends on one step of a tour (``products.json``, ``tour_pace``): reading a card and
    looking at what it points at, or a hands-on step, one that waits for them to act or for the plant to
    respond (``Step.hands_on``). Seconds."""

    card_seconds: int
    hands_on_seconds: int


def tour_minutes(tour: Tour, *, pace: TourPace, assets: Sequence[Mapping[str, Any]]) -> int:
    """The estimated length of ``tour`` on a plant with these ``assets``, in whole minutes (rounded up, at least
    one): its kept steps (``tour_steps_kept``) at ``pace``. The one estimate every page that shows one uses."""
    steps = tour_steps_kept(tour, assets=assets)
    seconds = sum(pace.hands_on_seconds if step.hands_on else pace.card_seconds for step in steps)
    return max(1, math.ceil(seconds / 60))
