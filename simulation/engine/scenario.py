"""Scenario files (``fixtures/scenarios/<key>.json``) parsed into frozen dataclasses.

Loading is all-or-nothing: every problem in a file is collected as ``file: path: problem`` and the
whole catalogue is refused if there is any, so a broken file never half-loads.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulation.engine.assets import ANOMALY_EVENTS, ASSET_TYPES
from simulation.engine.calculations import FUEL_LHV_GJ_PER_T
from simulation.engine.tours import Tour, TourError, TourPace, tour_minutes, tour_parse

MARKER = re.compile(r"^BASE_TS(?:\s*-\s*(\d+)\s*([mhd]))?$")
MARKER_MINUTES = {"m": 1, "h": 60, "d": 1440}
STORY_METRICS = (
    "o2_trim_annual_saving_usd",
    "nox_permit_use_pct",
    "pinch_recoverable_mw",
    "trap_loss_annual_usd",
    "reheat_specific_energy_gj_per_t",
    "reheat_saving_annual_usd",
    "economiser_saving_annual_usd",
    "economiser_payback_years",
    "kiln_specific_heat_kcal_per_kg",
    "kiln_heat_saving_annual_usd",
)


def asset_tag(prefix: str, group_index: int, number: int) -> str:
    """Tag of the ``number``-th (0-based) asset of the ``group_index``-th group: H-101, H-102, …, B-201, …"""
    return f"{prefix}-{101 + 100 * group_index + number:03d}"


class ScenarioError(ValueError):
    """One or more problems in the catalogue; ``problems`` lists them as "file: path: problem"."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class AssetGroup:
    type: str
    name: str
    tag_prefix: str
    count: int
    capacity_min: float
    capacity_max: float
    capacity_unit: str
    design: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Incident:
    """A scripted anomaly at a marker relative to the sandbox's creation, e.g. ``BASE_TS - 3d``."""

    marker: str
    offset_minutes: int  # negative: before creation
    asset: str  # an asset tag, e.g. "B-201"
    type: str
    duration_minutes: int


@dataclass(frozen=True)
class Headline:
    metric: str
    value: float
    unit: str
    text: str


@dataclass(frozen=True)
class Story:
    key: str
    name: str
    problem: str
    opportunity: str
    features: tuple[str, ...]  # "product.feature"
    headline: Headline
    parameters: dict[str, Any]


@dataclass(frozen=True)
class LoadProfile:
    daily_amplitude: float
    weekend_factor: float
    seasonal_amplitude: float


@dataclass(frozen=True)
class Scenario:
    key: str
    name: str
    industry: str
    version: str
    annual_energy_cost_usd: float
    co2_t_per_year: float
    fuel: str
    fuel_price_usd_per_mmbtu: float
    sampling_minutes: int
    history_months: int
    anomaly_rate: float
    load_profile: LoadProfile
    assets: tuple[AssetGroup, ...]
    incidents: tuple[Incident, ...]
    stories: tuple[Story, ...]
    sources: dict[str, str]
    streams: tuple[dict[str, Any], ...] = ()  # pinch-analysis process streams, where the story needs them
    # The specification's names of the features this industry's prospects are shown (products.json maps each
    # onto the product feature whose screen serves it).
    specified_features: tuple[str, ...] = ()

    @property
    def asset_types(self) -> frozenset[str]:
        return frozenset(group.type for group in self.assets)


class _Reader:
    """Reads a JSON object, recording problems instead of stopping at the first one."""

    def __init__(self, filename: str, problems: list[str]) -> None:
        self.filename = filename
        self.problems = problems

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{self.filename}: {path}: {message}")

    def get(self, data: Any, path: str, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        full = f"{path}.{key}" if path else key
        if not isinstance(data, dict) or key not in data:
            if default is not ...:
                return default
            self.problem(full, "is missing")
            return None
        value = data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            self.problem(full, f"must be {names}, got {type(value).__name__}")
            return None
        return value

    def number(self, data: Any, path: str, key: str, low: float, high: float) -> float:
        value = self.get(data, path, key, float)
        if value is not None and not low <= value <= high:
            self.problem(f"{path}.{key}" if path else key, f"must be between {low:g} and {high:g}, got {value:g}")
        return float(value) if value is not None else 0.0


def parse_scenario(data: Any, filename: str, features: set[str], problems: list[str]) -> Scenario | None:
    """Parse one scenario file's JSON; problems are appended, None returned if any were found here."""
    before = len(problems)
    r = _Reader(filename, problems)
    if r.get(data, "", "schema_version", int) not in (None, 1):
        r.problem("schema_version", "must be 1")
    profile = r.get(data, "", "load_profile", dict) or {}
    groups = []
    tags: set[str] = set()
    for i, group in enumerate(r.get(data, "", "assets", list) or []):
        path = f"assets[{i}]"
        type_key = r.get(group, path, "type", str)
        if type_key is not None and type_key not in ASSET_TYPES:
            r.problem(f"{path}.type", f"unknown asset type {type_key!r}; the engine knows {', '.join(ASSET_TYPES)}")
        capacity = r.get(group, path, "capacity", dict) or {}
        low = r.number(capacity, f"{path}.capacity", "min", 0, 1e6)
        high = r.number(capacity, f"{path}.capacity", "max", 0, 1e6)
        if high < low:
            r.problem(f"{path}.capacity", f"max {high:g} is below min {low:g}")
        unit = r.get(capacity, f"{path}.capacity", "unit", str)
        if type_key in ASSET_TYPES and unit is not None and unit != ASSET_TYPES[type_key].capacity_unit:
            r.problem(f"{path}.capacity.unit", f"must be {ASSET_TYPES[type_key].capacity_unit!r} for {type_key}")
        count = r.get(group, path, "count", int)
        if count is not None and not 1 <= count <= 500:
            r.problem(f"{path}.count", f"must be between 1 and 500, got {count}")
        prefix = r.get(group, path, "tag_prefix", str) or ""
        design = r.get(group, path, "design", dict, default={})
        for name, value in (design or {}).items():
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                r.problem(f"{path}.design.{name}", "must be a number")
        groups.append(
            AssetGroup(
                type_key or "",
                r.get(group, path, "name", str) or "",
                prefix,
                count or 0,
                low,
                high,
                unit or "",
                {k: float(v) for k, v in (design or {}).items() if isinstance(v, (int, float))},
            )
        )
        tags.update(asset_tag(prefix, i, n) for n in range(count or 0))
    incidents = []
    for i, item in enumerate(r.get(data, "", "incidents", list, default=[]) or []):
        path = f"incidents[{i}]"
        marker = r.get(item, path, "at", str) or ""
        match = MARKER.match(marker.strip())
        if match is None:
            r.problem(f"{path}.at", f"must look like 'BASE_TS - 3d' (m, h or d), got {marker!r}")
        offset = -int(match.group(1)) * MARKER_MINUTES[match.group(2)] if match and match.group(1) else 0
        asset = r.get(item, path, "asset", str) or ""
        if asset and asset not in tags:
            r.problem(f"{path}.asset", f"no asset is tagged {asset!r}")
        anomaly = r.get(item, path, "type", str) or ""
        if anomaly and anomaly not in ANOMALY_EVENTS:
            r.problem(f"{path}.type", f"unknown anomaly {anomaly!r}; known: {', '.join(ANOMALY_EVENTS)}")
        duration = r.get(item, path, "duration_minutes", int) or 0
        incidents.append(Incident(marker, offset, asset, anomaly, duration))
    stories = []
    for i, item in enumerate(r.get(data, "", "stories", list) or []):
        path = f"stories[{i}]"
        story_features = tuple(r.get(item, path, "features", list) or [])
        for feature in story_features:
            if feature not in features:
                r.problem(f"{path}.features", f"{feature!r} is not a feature of its product (see products.json)")
        headline = r.get(item, path, "headline", dict) or {}
        metric = r.get(headline, f"{path}.headline", "metric", str) or ""
        if metric and metric not in STORY_METRICS:
            r.problem(f"{path}.headline.metric", f"unknown metric {metric!r}; known: {', '.join(STORY_METRICS)}")
        stories.append(
            Story(
                r.get(item, path, "key", str) or "",
                r.get(item, path, "name", str) or "",
                r.get(item, path, "problem", str) or "",
                r.get(item, path, "opportunity", str) or "",
                tuple(str(f) for f in story_features),
                Headline(
                    metric,
                    r.number(headline, f"{path}.headline", "value", -1e12, 1e12),
                    r.get(headline, f"{path}.headline", "unit", str) or "",
                    r.get(headline, f"{path}.headline", "text", str) or "",
                ),
                r.get(item, path, "parameters", dict, default={}) or {},
            )
        )
    sources = r.get(data, "", "sources", dict) or {}
    if not sources:
        r.problem("sources", "must cite at least one source")
    fuel = r.get(data, "", "fuel", dict) or {}
    fuel_name = r.get(fuel, "fuel", "name", str) or ""
    group_types = {group.type for group in groups}
    for i, group in enumerate(groups):
        burner = ASSET_TYPES[group.type].grinds_fuel_for if group.type in ASSET_TYPES else None
        if burner is None:
            continue
        if burner not in group_types:
            r.problem(f"assets[{i}].type", f"a {group.type} grinds the fuel of a {burner}, and this plant has none")
        if fuel_name not in FUEL_LHV_GJ_PER_T:
            r.problem(
                "fuel.name",
                f"a {group.type} grinds a solid fuel: one of {', '.join(sorted(FUEL_LHV_GJ_PER_T))}"
                f" (its LHV gives the feed), got {fuel_name!r}",
            )
    scenario = Scenario(
        key=r.get(data, "", "key", str) or "",
        name=r.get(data, "", "name", str) or "",
        industry=r.get(data, "", "industry", str) or "",
        version=r.get(data, "", "version", str) or "",
        annual_energy_cost_usd=r.number(data, "", "annual_energy_cost_usd", 1e5, 1e10),
        co2_t_per_year=r.number(data, "", "co2_t_per_year", 1e3, 1e8),
        fuel=fuel_name,
        fuel_price_usd_per_mmbtu=r.number(fuel, "fuel", "price_usd_per_mmbtu", 0.5, 100),
        sampling_minutes=int(r.number(data, "", "sampling_minutes", 1, 1)),
        history_months=int(r.number(data, "", "history_months", 12, 12)),
        anomaly_rate=r.number(data, "", "anomaly_rate", 0.0, 0.2),
        load_profile=LoadProfile(
            r.number(profile, "load_profile", "daily_amplitude", 0, 0.5),
            r.number(profile, "load_profile", "weekend_factor", 0.2, 1.2),
            r.number(profile, "load_profile", "seasonal_amplitude", 0, 0.5),
        ),
        assets=tuple(groups),
        incidents=tuple(incidents),
        stories=tuple(stories),
        sources={str(k): str(v) for k, v in sources.items()},
        streams=tuple(r.get(data, "", "streams", list, default=[]) or []),
        specified_features=tuple(str(name) for name in r.get(data, "", "specified_features", list, default=[]) or []),
    )
    return scenario if len(problems) == before else None


def load_catalogue(directory: Path) -> tuple[dict[str, Scenario], dict[str, Any]]:
    """Every scenario under ``directory/scenarios`` plus products, roles and the tours (``directory/tours``), or
    ScenarioError listing all problems. The second item holds ``products`` and ``roles`` as the files state
    them, ``tours`` (``<product>.<role>`` → ``Tour``) and ``tour_minutes`` (product → role → scenario →
    minutes, each ``tour_minutes`` of that tour on that scenario's plant)."""
    problems: list[str] = []
    products = _load_json(directory / "products.json", problems)
    roles = _load_json(directory / "roles.json", problems)
    pace = tour_minutes_check(products, problems) if products is not None else None
    features = {
        f"{product.get('key')}.{feature.get('key')}"
        for product in (products or {}).get("products", [])
        for feature in product.get("features", [])
    }
    scenarios: dict[str, Scenario] = {}
    for path in sorted((directory / "scenarios").glob("*.json")):
        data = _load_json(path, problems)
        if data is None:
            continue
        scenario = parse_scenario(data, path.name, features, problems)
        if scenario is not None:
            if scenario.key != path.stem:
                problems.append(f"{path.name}: key: must equal the file name, {path.stem!r}")
            scenarios[scenario.key] = scenario
    tours = tours_load(directory / "tours", products, roles, problems) if products and roles else {}
    minutes = tour_minutes_table(tours, scenarios, pace, problems) if pace is not None else {}
    if products is not None and not problems:  # the mapping is judged against every scenario, once all load
        features_check(products, scenarios, problems)
    if problems:
        raise ScenarioError(problems)
    return scenarios, {"products": products, "roles": roles, "tours": tours, "tour_minutes": minutes}


def feature_absence(feature: dict[str, Any], asset_types: frozenset[str]) -> str | None:
    """Why a plant with ``asset_types`` has no screen for a product ``feature`` (products.json), or None when it
    has: the feature needs one asset of a type it lists (``needs``; none: every plant has it)."""
    needs = feature.get("needs") or []
    if not needs or asset_types & set(needs):
        return None
    names = [ASSET_TYPES[key].name.lower() for key in needs if key in ASSET_TYPES]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return f"{feature.get('name', 'This feature')} works on a {listed}, and this plant has none."


def features_check(products: Any, scenarios: dict[str, Scenario], problems: list[str]) -> None:
    """Each product feature names the asset types it needs and the sensor kinds its screen shows, all known to
    the engine; each name a scenario specifies is served by exactly one feature, which that plant has; and
    every name served is specified by some scenario."""
    kinds = {kind for asset_type in ASSET_TYPES.values() for kind in asset_type.sensor_kinds}
    served: dict[str, list[dict[str, Any]]] = {}
    for i, product in enumerate(products.get("products", [])):
        for j, feature in enumerate(product.get("features", [])):
            path = f"products.json: products[{i}].features[{j}]"
            for name, known, what in (("needs", ASSET_TYPES, "asset type"), ("sensors", kinds, "sensor kind")):
                values = feature.get(name)
                if not isinstance(values, list):
                    problems.append(f"{path}.{name}: must be a list of {what}s")
                    continue
                for value in values:
                    if value not in known:
                        problems.append(f"{path}.{name}: unknown {what} {value!r}")
            for name in feature.get("serves") or []:
                served.setdefault(name, []).append({**feature, "product": product.get("key")})
    specified = set()
    for scenario in scenarios.values():
        for name in scenario.specified_features:
            specified.add(name)
            where = f"{scenario.key}.json: specified_features: {name!r}"
            features = served.get(name, [])
            if len(features) != 1:
                owners = ", ".join(f"{f['product']}.{f['key']}" for f in features) or "none"
                problems.append(f"{where}: must be served by exactly one product feature, is by {owners}")
                continue
            absence = feature_absence(features[0], scenario.asset_types)
            if absence:
                problems.append(f"{where}: served by {features[0]['product']}.{features[0]['key']}, but {absence}")
    for name in sorted(set(served) - specified):
        problems.append(f"products.json: serves {name!r}, which no scenario specifies (specified_features)")


TOUR_PACE_RANGES = {"card_seconds": (5, 300), "hands_on_seconds": (10, 1800)}
TOUR_MINUTES_RANGE = (1, 60)


def tour_minutes_check(products: Any, problems: list[str]) -> TourPace | None:
    """The pace every tour estimate is derived from (``tour_pace`` in ``products.json``: seconds per card read and
    per hands-on step), or None after naming its problems. A tour's length is never stated by hand: a product
    that carries its own ``tour_minutes`` is refused, since those figures drifted from the tours they described."""
    for i, product in enumerate(products.get("products", [])):
        if "tour_minutes" in product:
            problems.append(
                f"products.json: products[{i}].tour_minutes: remove it; a tour's length is derived from its steps"
                " (fixtures/tours/<product>.<role>.json) at the pace of 'tour_pace'"
            )
    raw = products.get("tour_pace")
    if not isinstance(raw, dict):
        problems.append("products.json: tour_pace: must state card_seconds and hands_on_seconds")
        return None
    figures: dict[str, int] = {}
    for name, (low, high) in TOUR_PACE_RANGES.items():
        value = raw.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems.append(
                f"products.json: tour_pace.{name}: must be whole seconds from {low} to {high}, got {value!r}"
            )
        else:
            figures[name] = value
    for name in sorted(set(raw) - {*TOUR_PACE_RANGES, "note"}):
        problems.append(f"products.json: tour_pace: {name!r} is not a pace (card_seconds, hands_on_seconds, note)")
    return TourPace(**figures) if len(figures) == len(TOUR_PACE_RANGES) else None


def tours_load(directory: Path, products: Any, roles: Any, problems: list[str]) -> dict[str, Tour]:
    """The tour of every product × role (``<product>.<role>.json`` in ``directory``), each checked by ``tour_parse``;
    a missing tour, or a file for no product × role, is a problem."""
    keys = [
        f"{product.get('key')}.{role.get('key')}"
        for product in products.get("products", [])
        for role in roles.get("roles", [])
    ]
    tours: dict[str, Tour] = {}
    for key in keys:
        path = directory / f"{key}.json"
        raw = _load_json(path, problems, name=f"tours/{path.name}")
        if raw is None:
            continue
        try:
            tours[key] = tour_parse(raw, key=key, source=f"tours/{path.name}")
        except TourError as error:
            problems.append(str(error))
    for path in sorted(directory.glob("*.json")):
        if path.stem not in keys:
            problems.append(f"tours/{path.name}: (file): no product × role of that name (products.json, roles.json)")
    return tours


def tour_minutes_table(
    tours: dict[str, Tour], scenarios: dict[str, Scenario], pace: TourPace, problems: list[str]
) -> dict[str, dict[str, dict[str, int]]]:
    """product → role → scenario → the tour's estimated minutes on that scenario's plant (``tour_minutes``); an
    estimate outside ``TOUR_MINUTES_RANGE`` is a problem."""
    low, high = TOUR_MINUTES_RANGE
    table: dict[str, dict[str, dict[str, int]]] = {}
    for key, tour in tours.items():
        product, role = key.split(".", 1)
        for name, scenario in scenarios.items():
            minutes = tour_minutes(tour, pace=pace, assets=scenario_assets(scenario))
            if not low <= minutes <= high:
                problems.append(
                    f"tours/{key}.json: takes {minutes} min on {name}'s plant at this pace, outside {low}–{high}"
                )
            table.setdefault(product, {}).setdefault(role, {})[name] = minutes
    return table


def scenario_assets(scenario: Scenario) -> list[dict[str, Any]]:
    """The scenario's plant as ``tours.asset_for`` reads it: one entry per asset group with its sensor kinds (every
    asset of a type carries the same kinds, ``AssetType.sensor_kinds``)."""
    return [
        {"tag": group.tag_prefix, "sensors": ASSET_TYPES[group.type].sensor_kinds}
        for group in scenario.assets
        if group.type in ASSET_TYPES
    ]


def _load_json(path: Path, problems: list[str], *, name: str = "") -> Any:
    name = name or path.name
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        problems.append(f"{name}: (file): not found")
    except json.JSONDecodeError as exc:
        problems.append(f"{name}: line {exc.lineno} column {exc.colno}: {exc.msg}")
    return None
