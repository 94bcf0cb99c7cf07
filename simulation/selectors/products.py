"""The products' areas on a sandbox's host: each product's landing (``product_area`` → ``ProductArea``) and
each of its feature screens (``feature_screen`` → ``FeatureScreen``), from ``fixtures/products.json``.

A product feature is a screen of its product. Which plants have it is data: the asset types it ``needs`` (a
plant without one of them has no such screen, and the landing says why), the specification's feature names it
``serves``, the sensor kinds it shows live. The prospect's chosen product is where they land; the other three
are "also available". Run inside the sandbox's schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from demoportal.core import catalogue
from simulation.engine.assets import ASSET_TYPES
from simulation.engine.scenario import Scenario, feature_absence
from simulation.models import Plant
from simulation.selectors.display import ByKey
from simulation.selectors.pages import SensorReading
from simulation.selectors.plant import (
    asset_rows,
    plant_overlays,
    plant_sim_now,
    sensor_rows,
    sensor_values_window,
    to_minute,
)


def slug_of(key: str) -> str:
    """A catalogue key as it reads in a URL: ``co2_accounting`` → ``co2-accounting``."""
    return key.replace("_", "-")


def key_of(slug: str) -> str:
    return slug.replace("-", "_")


@dataclass(frozen=True)
class FeatureEntry(ByKey):
    """One feature of a product, and whether this plant has its screen (``absence``: why not)."""

    product: str
    key: str
    name: str
    description: str
    serves: tuple[str, ...]
    sensors: tuple[str, ...]
    absence: str | None

    @property
    def slug(self) -> str:
        return slug_of(self.key)

    @property
    def url(self) -> str:
        return reverse("sandbox:feature", args=[self.product, self.slug])

    @property
    def event_key(self) -> str:
        """How ``feature_viewed`` names it: ``<product>.<feature>``, as the scenarios' stories do."""
        return f"{self.product}.{self.key}"


@dataclass(frozen=True)
class ProductArea(ByKey):
    """A product as this sandbox shows it: its features (those this plant lacks with the reason), whether it
    is the product the prospect chose, and the other products, "also available"."""

    product: dict[str, Any]
    chosen: bool
    features: tuple[FeatureEntry, ...]
    others: tuple[dict[str, Any], ...]
    scenario: Scenario

    @property
    def key(self) -> str:
        return str(self.product["key"])

    @property
    def url(self) -> str:
        return reverse("sandbox:product", args=[self.key])

    @property
    def available(self) -> tuple[FeatureEntry, ...]:
        return tuple(feature for feature in self.features if feature.absence is None)

    @property
    def absent(self) -> tuple[FeatureEntry, ...]:
        return tuple(feature for feature in self.features if feature.absence is not None)


def product_area(*, product_key: str, chosen_key: str, scenario: Scenario) -> ProductArea | None:
    """The area of ``product_key`` on a plant of ``scenario``, for a sandbox made for ``chosen_key``; None for
    no such product."""
    product = catalogue.product(product_key)
    if product is None:
        return None
    features = tuple(
        FeatureEntry(
            product=product_key,
            key=str(feature["key"]),
            name=str(feature["name"]),
            description=str(feature["description"]),
            serves=tuple(feature.get("serves") or ()),
            sensors=tuple(feature.get("sensors") or ()),
            absence=feature_absence(feature, scenario.asset_types),
        )
        for feature in product["features"]
    )
    others = tuple(
        {**item, "url": reverse("sandbox:product", args=[item["key"]])}
        for item in catalogue.products()
        if item["key"] != product_key
    )
    return ProductArea(
        product=product, chosen=product_key == chosen_key, features=features, others=others, scenario=scenario
    )


@dataclass(frozen=True)
class AssetReadings(ByKey):
    """One asset a feature screen covers, with a reading (or None) for each of the screen's columns."""

    tag: str
    name: str
    type_name: str
    cells: tuple[SensorReading | None, ...]

    @property
    def url(self) -> str:
        return reverse("sandbox:asset", args=[self.tag])


@dataclass(frozen=True)
class FeatureScreen(ByKey):
    """A feature's screen: the plant's assets that carry its sensors, each with their values now (updated live
    on the page), and the kinds shown as the table's columns."""

    area: ProductArea
    feature: FeatureEntry
    columns: tuple[tuple[str, str, str], ...]  # (kind, name, unit) of each kind shown, in the feature's order
    assets: tuple[AssetReadings, ...]


def feature_screen(*, plant: Plant, area: ProductArea, feature: FeatureEntry) -> FeatureScreen:
    """The screen of ``feature`` (which this plant has) on ``plant``: its values read once, at the plant's
    current minute, with the plant's overlays (a trim the prospect applied shows)."""
    kinds = feature.sensors
    rows = [row for row in sensor_rows() if row["kind"] in kinds]
    values: list[float] = []
    if rows:
        minute = to_minute(plant_sim_now(plant))
        window = sensor_values_window(plant, rows, start=minute, end=minute + 1, overlays=plant_overlays(plant))
        values = window[:, 0].tolist()
    readings: dict[int, list[SensorReading]] = {}
    for row, value in zip(rows, values, strict=True):
        readings.setdefault(row["asset_id"], []).append(SensorReading(**row, value=value, trended=False))
    order = {kind: n for n, kind in enumerate(kinds)}
    shown = sorted({(row["kind"], row["name"], row["unit"]) for row in rows}, key=lambda c: (order[c[0]], c[1], c[2]))
    columns: list[tuple[str, str, str]] = []
    for column in shown:  # one column per kind (the first name and unit it has)
        if not columns or columns[-1][0] != column[0]:
            columns.append(column)
    assets = []
    for asset in asset_rows():
        found = {reading.kind: reading for reading in readings.get(asset["id"], [])}
        if not found:
            continue
        asset_type = ASSET_TYPES.get(asset["type"])
        assets.append(
            AssetReadings(
                tag=asset["tag"],
                name=asset["name"],
                type_name=asset_type.name if asset_type is not None else asset["type"],
                cells=tuple(found.get(kind) for kind, _, _ in columns),
            )
        )
    return FeatureScreen(area=area, feature=feature, columns=tuple(columns), assets=tuple(assets))
