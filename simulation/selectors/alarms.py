"""A plant's alarms: the engine's and those raised by hand, in a window, and with their acknowledgement
(``alarms_with_acknowledgement``, the one place that asks). Run inside the sandbox's schema."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from demoportal.core.exceptions import DomainError
from simulation.engine.signals import Overlay, events
from simulation.models import (
    Acknowledgement,
    Plant,
    RaisedAlarm,
)
from simulation.selectors.display import ByKey
from simulation.selectors.plant import (
    from_minute,
    history_bounds,
    plant_layout,
    plant_overlays,
    plant_sim_now,
    to_minute,
)


def alarm_rows(
    plant: Plant, *, since_minute: int, end_minute: int, overlays: list[Overlay] | None = None
) -> list[dict[str, Any]]:
    """The plant's events and alarms in [since, end), newest first: the engine's (generated, scripted,
    injected) and those triggered in the sandbox, as the API shows them (without acknowledgement).
    ``overlays``: the plant's ``plant_overlays`` when the caller has them already."""
    engine_events = events(
        plant_layout(plant),
        base_minute=plant.base_minute,
        start=since_minute,
        end=end_minute,
        overlays=plant_overlays(plant) if overlays is None else overlays,
    )
    rows: list[dict[str, Any]] = [
        {
            "key": e.key,
            "kind": e.kind,
            "anomaly": e.anomaly,
            "asset": e.asset,
            "occurred_at": from_minute(e.minute),
            "ends_at": from_minute(e.end_minute),
            "origin": e.source,
            "message": e.message,
        }
        for e in engine_events
    ]
    triggered = RaisedAlarm.objects.select_related("asset").filter(occurred_at__gte=from_minute(since_minute))
    rows += [
        {
            "key": f"triggered:{t.pk}",
            "kind": t.kind,
            "anomaly": None,
            "asset": t.asset.tag,
            "occurred_at": t.occurred_at,
            "ends_at": None,
            "origin": "triggered",
            "message": t.message,
        }
        for t in triggered
    ]
    rows.sort(key=lambda row: row["occurred_at"], reverse=True)
    return rows


def asset_alarm_rows(
    plant: Plant, *, asset_tag: str, since_minute: int, end_minute: int, overlays: list[Overlay] | None = None
) -> list[AlarmRow]:
    """``alarm_rows`` of one asset, newest first, each with its acknowledgement (``alarms_with_acknowledgement``)."""
    return alarms_with_acknowledgement(
        [
            row
            for row in alarm_rows(plant, since_minute=since_minute, end_minute=end_minute, overlays=overlays)
            if row["asset"] == asset_tag
        ]
    )


ALARM_KIND_LABELS = {"alarm": "Alarm", "maintenance_due": "Maintenance due", "permit_exceedance": "Permit exceedance"}


@dataclass(frozen=True)
class AlarmRow(ByKey):
    """One of the plant's events or alarms (a row of ``alarm_rows``) with its acknowledgement, if any."""

    key: str
    kind: str
    anomaly: str | None
    asset: str
    occurred_at: datetime
    ends_at: datetime | None
    origin: str  # generated | scripted | injected | triggered
    message: str
    acknowledged_at: datetime | None
    acknowledged_by: str  # an e-mail; "" when not acknowledged, or acknowledged by no one known

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    @property
    def kind_label(self) -> str:
        return ALARM_KIND_LABELS.get(self.kind, self.kind)

    @property
    def staff_note(self) -> str:
        """How the event came about, for staff only ("raised by hand", "injected"); "" for the plant's own. A
        prospect sees every event as the plant raised it: the pages show this only to staff."""
        return STAFF_ORIGIN_NOTES.get(self.origin, "")


# What staff are told of an event that is not the plant's own doing; prospects never see these.
STAFF_ORIGIN_NOTES = {"triggered": "raised by hand", "injected": "injected anomaly"}


def alarms_with_acknowledgement(rows: Sequence[dict[str, Any]]) -> list[AlarmRow]:
    """``rows`` of ``alarm_rows``, in their order, each with its acknowledgement: the one place that asks
    whether an event was acknowledged (one query, however many rows)."""
    acknowledgements = {
        key: (at, by)
        for key, at, by in Acknowledgement.objects.filter(alarm_key__in=[row["key"] for row in rows]).values_list(
            "alarm_key", "acknowledged_at", "acknowledged_by"
        )
    }
    alarms = []
    for row in rows:
        acknowledged_at, acknowledged_by = acknowledgements.get(row["key"], (None, ""))
        alarms.append(
            AlarmRow(
                key=row["key"],
                kind=row["kind"],
                anomaly=row["anomaly"],
                asset=row["asset"],
                occurred_at=row["occurred_at"],
                ends_at=row["ends_at"],
                origin=row["origin"],
                message=row["message"],
                acknowledged_at=acknowledged_at,
                acknowledged_by=acknowledged_by,
            )
        )
    return alarms


DEFAULT_ALARMS_DAYS = 30


def alarm_rows_since(plant: Plant, *, since: datetime | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    """The plant's ``alarm_rows`` from ``since`` (default: ``DEFAULT_ALARMS_DAYS`` before the plant's now) up
    to its now, newest first, only those of ``kind`` if given. A ``since`` before the plant's history
    begins is a DomainError on ``since``."""
    first, last = history_bounds(plant)
    since_minute = to_minute(since if since is not None else plant_sim_now(plant) - timedelta(days=DEFAULT_ALARMS_DAYS))
    if since_minute < first:
        raise DomainError(
            "Some fields are not valid.",
            errors={"since": [f"since is before this sandbox's history begins ({from_minute(first).isoformat()})."]},
        )
    rows = alarm_rows(plant, since_minute=since_minute, end_minute=last + 1)
    return rows if kind is None else [row for row in rows if row["kind"] == kind]
