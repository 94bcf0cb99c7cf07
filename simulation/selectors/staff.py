"""What staff see of a prospect's sandbox: its plant's clock and the anomalies active in it now (the admin's
sandbox page, run inside the sandbox's schema)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.timesince import timesince

from simulation.engine.signals import episodes
from simulation.selectors.plant import from_minute, plant_get, plant_layout, plant_overlays, plant_sim_now, to_minute

SOURCES = {"generated": "the plant's own", "scripted": "the scenario's", "injected": "injected"}


def name_of_asset(tag: str, name: str) -> str:
    """An asset as people call it: its name, with its tag in front unless the name has it ("H-101 Crude heater",
    but "Steam trap ST-991")."""
    return name if tag in name else f"{tag} {name}"


@dataclass(frozen=True)
class ActiveAnomaly:
    asset_tag: str
    asset_name: str
    type: str  # a key of ANOMALY_EVENTS, e.g. "excess_air"
    source: str  # generated (from the seed), scripted (by the scenario) or injected (by sales or a tour)
    started_at: datetime  # plant time
    ends_at: datetime  # plant time

    @property
    def asset_label(self) -> str:
        return name_of_asset(self.asset_tag, self.asset_name)

    @property
    def type_name(self) -> str:
        return self.type.replace("_", " ")

    @property
    def source_name(self) -> str:
        return SOURCES.get(self.source, self.source)


@dataclass(frozen=True)
class PlantState:
    """The plant's clock (how fast its time runs, and its "now") and the anomalies it is showing now."""

    time_scale: int
    plant_now: datetime
    ahead: timedelta  # how far the plant's time is ahead of the wall clock, from running faster
    anomalies: list[ActiveAnomaly]

    @property
    def ahead_text(self) -> str:
        """How far ahead in words ("2 hours, 5 minutes"), or "" when less than a minute."""
        if self.ahead < timedelta(minutes=1):
            return ""
        return timesince(self.plant_now - self.ahead, self.plant_now)


def plant_state(*, now: datetime | None = None) -> PlantState | None:
    """This sandbox's plant clock and every anomaly active at the plant's now: the seed's, the scenario's and
    those injected, as the engine computes them (``episodes``). Three queries; None without a plant."""
    plant = plant_get()
    if plant is None:
        return None
    wall_now = now or timezone.now()
    plant_now = plant_sim_now(plant, wall_now)
    minute = to_minute(plant_now)
    layout = plant_layout(plant)
    overlays = plant_overlays(plant)
    found = episodes(layout, base_minute=plant.base_minute, start=minute, end=minute + 1, overlays=overlays)
    anomalies = [
        ActiveAnomaly(
            asset_tag=layout.assets[episode.asset_index].tag,
            asset_name=layout.assets[episode.asset_index].name,
            type=episode.type,
            source=episode.source,
            started_at=from_minute(episode.start),
            ends_at=from_minute(episode.end),
        )
        for episode in found
    ]
    return PlantState(time_scale=plant.time_scale, plant_now=plant_now, ahead=plant_now - wall_now, anomalies=anomalies)
