"""What staff see of a prospect's sandbox: its plant's clock and the anomalies active in it now (the admin's
sandbox page, run inside the sandbox's schema), and the page the prospect is on (the watch bar)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.timesince import timesince

from analytics.models import Event
from sandboxes.models import Sandbox
from simulation.engine.signals import episodes
from simulation.models import Asset
from simulation.selectors.plant import from_minute, plant_get, plant_layout, plant_overlays, plant_sim_now, to_minute

SOURCES = {"generated": "the plant's own", "scripted": "the scenario's", "injected": "injected"}


def name_of_asset(tag: str, name: str) -> str:
    """An asset as people call it: its name, with its tag in front unless the name has it ("K-101 Rotary kiln",
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


# The sandbox's pages a watcher may be sent to, by URL name, and what the watch bar calls them. Only these:
# the path comes from the prospect's browser, and a link such as the one-time ``enter/`` must never be one.
PAGE_TITLES = {
    "sandbox:home": "Plant overview",
    "sandbox:asset": "an asset",  # named after the asset (``name_of_asset``)
    "crm:pricing": "Request pricing",
    "crm:poc": "Start a proof of concept",
    "crm:call": "Book a sales call",
    "crm:materials": "Materials",
}
SANDBOX_URLCONF = "demoportal.urls_sandbox"
PATH_MAX = 300


@dataclass(frozen=True)
class ProspectPage:
    """The page the prospect last opened in their sandbox: its path (None when it is no page a watcher
    may follow them to), what to call it, and when they opened it."""

    path: str | None
    title: str
    seen_at: datetime


def page_title(path: str) -> str | None:
    """What the watch bar calls the sandbox's page at ``path`` (the sandbox's schema active, for an asset's
    name), or None if ``path`` is none of ``PAGE_TITLES``' pages."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > PATH_MAX:
        return None
    try:
        match = resolve(path, urlconf=SANDBOX_URLCONF)
    except Resolver404:
        return None
    title = PAGE_TITLES.get(match.view_name)
    if title is None:
        return None
    if match.view_name == "sandbox:asset":
        asset = Asset.objects.filter(tag=match.kwargs["tag"]).only("tag", "name").first()
        return name_of_asset(asset.tag, asset.name) if asset is not None else None
    return title


def prospect_page(*, sandbox: Sandbox) -> ProspectPage | None:
    """The page the sandbox's owner last opened in it: their latest ``page_view`` there (the page's script
    records one on every page), or None when they have opened none or nobody owns it. Run in the sandbox's
    schema (an asset's page is named after the asset)."""
    if sandbox.owner_id is None:
        return None
    event = (
        Event.objects.filter(user_id=sandbox.owner_id, sandbox=sandbox, name="page_view")
        .order_by("-occurred_at", "-pk")
        .only("properties", "occurred_at")
        .first()
    )
    if event is None:
        return None
    properties = event.properties if isinstance(event.properties, dict) else {}
    path = str(properties.get("path", ""))
    title = page_title(path)
    if title is None:
        return ProspectPage(path=None, title="a page the watch bar cannot take you to", seen_at=event.occurred_at)
    return ProspectPage(path=path, title=title, seen_at=event.occurred_at)
