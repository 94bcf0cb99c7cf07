"""Sensor values as a pure function of (plant, sensors, minutes, sandbox start, overlays).

Time is integer minutes since the Unix epoch (UTC). ``base_minute`` is the sandbox's creation: history
is the 12 months before it, live values continue after it with the very same function, so a chart's
history and the live stream join without a jump.

value = base + per_load × (load(t − τ) − nominal)      load: daily, weekly and seasonal cycles, wander
        + ambient_gain × ambient(t)                     outdoor temperature, for air inlets
        + wander_sd × smooth noise (2 h)                slow process variability
        + noise_sd × white noise                        measurement repeatability
        + anomaly effects + overlays                    episodes from the seed, scripted, injected

Delaying a slow input by the time constant τ is the first-order lag's phase response for ωτ ≪ 1
(daily cycles against τ of minutes); the amplitude factor 1/√(1+ω²τ²) > 0.999 there is neglected.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from simulation.engine.assets import ANOMALY_EVENTS, ANOMALY_MEAN_MINUTES, ASSET_TYPES, EFFICIENCY_INPUTS, NOMINAL_LOAD
from simulation.engine.calculations import combustion_efficiency_celsius, gj_per_t_to_kcal_per_kg
from simulation.engine.noise import normal, smooth_noise, uniform
from simulation.engine.plant import PlantLayout

logger = logging.getLogger(__name__)

MINUTES_PER_DAY = 1440
HISTORY_MINUTES = 365 * MINUTES_PER_DAY
LOOKBACK_DAYS = int(max(ANOMALY_MEAN_MINUTES.values()) * 1.5 / MINUTES_PER_DAY) + 1
DAILY_PEAK_HOUR = 14.0  # assumed: production and ambient peak mid-afternoon (plant clock = UTC)
O2_STACK_C_PER_PCT = 2.5  # assumed: less excess air → less flue gas → stack about 2.5 °C cooler per % O2
DERIVED_INPUTS: dict[str, tuple[str, ...]] = {
    "efficiency": EFFICIENCY_INPUTS,
    "specific_heat": ("fuel_rate", "clinker_rate"),
    "specific_energy": ("fuel_rate", "throughput"),
}
AMBIENT_KINDS = {"air_temp": 1.0}
# An effect fades out over up to 3 time constants after its episode ends: a window that starts within
# this many minutes of an episode's end must still see that episode.
EFFECT_TAIL_MINUTES = 6 * 60


@dataclass(frozen=True)
class Episode:
    """An anomaly on one asset over [start, end) minutes; magnitude scales its effects."""

    asset_index: int
    type: str
    start: int
    end: int
    magnitude: float = 1.0
    source: str = "generated"  # generated | scripted | injected


@dataclass(frozen=True)
class Overlay:
    """What a person changed from ``start`` on: an injected anomaly or an O2 setpoint (optimisation)."""

    kind: str  # "anomaly" | "o2_setpoint"
    asset_index: int
    start: int
    end: int | None = None
    anomaly_type: str | None = None
    magnitude: float = 1.0
    value: float | None = None  # the new setpoint


def applicable_overlays(plant: PlantLayout, overlays: Sequence[Overlay]) -> list[Overlay]:
    """The overlays this plant's assets can take (``AssetType.overlay_refusal``). Any other — a row stored
    before the rule, or for a plant whose scenario changed — is left out with a warning: one row the
    engine cannot apply must not break the whole plant's values (and with them every page and live tick)."""
    kept = []
    for overlay in overlays:
        kind = overlay.anomaly_type if overlay.kind == "anomaly" else overlay.kind
        asset = plant.assets[overlay.asset_index] if 0 <= overlay.asset_index < len(plant.assets) else None
        refusal = ("asset", "no such asset") if asset is None else ASSET_TYPES[asset.type].overlay_refusal(kind or "")
        if refusal is None and (overlay.kind != "o2_setpoint" or overlay.value is not None):
            kept.append(overlay)
        else:
            logger.warning("overlay left out, the engine cannot apply it: %s (%s)", overlay, refusal)
    return kept


def _ramp(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """0 → 1 smoothstep over x in [0, 1]."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def anomaly_start_probability(plant: PlantLayout, asset_index: int) -> float:
    """Chance an episode starts on a given day, so that the expected anomaly time is the scenario's rate."""
    types = ASSET_TYPES[plant.assets[asset_index].type].anomalies
    if not types:
        return 0.0
    mean_minutes = float(np.mean([ANOMALY_MEAN_MINUTES[t] for t in types]))
    return min(1.0, plant.scenario.anomaly_rate * MINUTES_PER_DAY / mean_minutes)


def episodes(
    plant: PlantLayout,
    *,
    base_minute: int,
    start: int,
    end: int,
    overlays: Sequence[Overlay] = (),
    assets: Collection[int] | None = None,
) -> list[Episode]:
    """Every episode overlapping [start, end): generated from the seed, scripted by the scenario, injected.

    Generated ones are drawn per (asset, day) relative to BASE_TS, vectorised over both; ``assets``
    limits the answer to those asset indices.
    """
    wanted = set(range(len(plant.assets))) if assets is None else set(assets)
    overlays = applicable_overlays(plant, overlays)
    found: list[Episode] = []
    prone = np.array([i for i in sorted(wanted) if anomaly_start_probability(plant, i) > 0], dtype=np.int64)
    if len(prone):
        days = np.arange(
            (start - base_minute) // MINUTES_PER_DAY - LOOKBACK_DAYS, (end - 1 - base_minute) // MINUTES_PER_DAY + 1
        )
        probability = np.array([anomaly_start_probability(plant, i) for i in prone])
        hits = uniform(plant.seed, prone[:, None], days[None, :], 0xA1) < probability[:, None]
        asset_hits, day_hits = prone[np.nonzero(hits)[0]], days[np.nonzero(hits)[1]]
        pick = uniform(plant.seed, asset_hits, day_hits, 0xA2)
        spread = uniform(plant.seed, asset_hits, day_hits, 0xA3)
        offset = uniform(plant.seed, asset_hits, day_hits, 0xA4)
        for asset_index, day, p, f, o in zip(asset_hits.tolist(), day_hits.tolist(), pick, spread, offset, strict=True):
            types = ASSET_TYPES[plant.assets[asset_index].type].anomalies
            kind = types[int(p * len(types))]
            begin = base_minute + day * MINUTES_PER_DAY + int(o * MINUTES_PER_DAY)
            length = int(ANOMALY_MEAN_MINUTES[kind] * (0.5 + f))
            if begin < end and begin + length > start:
                found.append(Episode(asset_index, kind, begin, begin + length))
    for incident in plant.scenario.incidents:
        begin = base_minute + incident.offset_minutes
        asset = plant.asset_by_tag(incident.asset)
        if asset.index in wanted and begin < end and begin + incident.duration_minutes > start:
            found.append(Episode(asset.index, incident.type, begin, begin + incident.duration_minutes, 1.0, "scripted"))
    for overlay in overlays:
        if overlay.kind == "anomaly" and overlay.asset_index in wanted:
            stop = overlay.end if overlay.end is not None else end + 1
            if overlay.start < end and stop > start:
                found.append(
                    Episode(
                        overlay.asset_index,
                        str(overlay.anomaly_type),
                        overlay.start,
                        stop,
                        overlay.magnitude,
                        "injected",
                    )
                )
    return sorted(found, key=lambda episode: (episode.start, episode.asset_index))


@dataclass(frozen=True)
class Event:
    """What an episode raises when it starts: an alarm, a maintenance notice or a permit exceedance."""

    kind: str
    anomaly: str
    asset: str  # asset tag
    minute: int
    end_minute: int
    source: str
    message: str

    @property
    def key(self) -> str:
        """Stable identity, for acknowledgements: the same episode always has the same key."""
        return f"{self.source}:{self.asset}:{self.anomaly}:{self.minute}"


def episode_event(plant: PlantLayout, episode: Episode) -> Event:
    """The event an episode raises when it starts."""
    asset = plant.assets[episode.asset_index]
    return Event(
        kind=ANOMALY_EVENTS[episode.type],
        anomaly=episode.type,
        asset=asset.tag,
        minute=episode.start,
        end_minute=episode.end,
        source=episode.source,
        message=f"{asset.name}: {episode.type.replace('_', ' ')}",
    )


def events(
    plant: PlantLayout, *, base_minute: int, start: int, end: int, overlays: Sequence[Overlay] = ()
) -> list[Event]:
    """The event each episode raises when it starts, for episodes starting in [start, end), newest first."""
    found = episodes(plant, base_minute=base_minute, start=start, end=end, overlays=overlays)
    result = [episode_event(plant, episode) for episode in found if start <= episode.start < end]
    return sorted(result, key=lambda event: -event.minute)


@dataclass(frozen=True)
class Rows:
    """Sensors to compute, one row each, possibly from many plants: everything a row's value needs.

    History (``sensor_values``) and live ticks across sandboxes (``live.LiveBatch``) both compute
    through these rows, so a live value is the same function as history, not a second model.
    """

    seed: NDArray[np.int64]
    sensor: NDArray[np.int64]
    asset: NDArray[np.int64]
    base: NDArray[np.float64]
    per_load: NDArray[np.float64]
    noise_sd: NDArray[np.float64]
    wander_sd: NDArray[np.float64]
    lag: NDArray[np.int64]  # whole minutes of first-order delay (the time constant)
    ambient_gain: NDArray[np.float64]
    phase: NDArray[np.int64]  # each asset's own daily rhythm, ±1 h
    daily_amplitude: NDArray[np.float64]
    seasonal_amplitude: NDArray[np.float64]
    weekend_factor: NDArray[np.float64]
    floor: NDArray[np.float64]  # the sensor's physical bounds (``assets.sensor_bounds``)
    ceiling: NDArray[np.float64]

    @classmethod
    def of(cls, plant: PlantLayout, sensor_indices: NDArray[np.int64]) -> Rows:
        arrays = plant.arrays
        n = len(sensor_indices)
        profile = plant.scenario.load_profile
        asset = arrays.asset[sensor_indices]
        return cls(
            seed=np.full(n, plant.seed, dtype=np.int64),
            sensor=sensor_indices.astype(np.int64),
            asset=asset,
            base=arrays.base[sensor_indices],
            per_load=arrays.per_load[sensor_indices],
            noise_sd=arrays.noise_sd[sensor_indices],
            wander_sd=arrays.wander_sd[sensor_indices],
            lag=np.rint(arrays.tau_min[sensor_indices]).astype(np.int64),
            ambient_gain=np.array([AMBIENT_KINDS.get(plant.sensors[i].kind, 0.0) for i in sensor_indices.tolist()]),
            phase=((uniform(plant.seed, asset, 0xF0) - 0.5) * 120).astype(np.int64),
            daily_amplitude=np.full(n, profile.daily_amplitude),
            seasonal_amplitude=np.full(n, profile.seasonal_amplitude),
            weekend_factor=np.full(n, profile.weekend_factor),
            floor=arrays.floor[sensor_indices],
            ceiling=arrays.ceiling[sensor_indices],
        )

    @classmethod
    def concat(cls, parts: Sequence[Rows]) -> Rows:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__dataclass_fields__))

    def take(self, rows: NDArray[np.int64]) -> Rows:
        """These rows only, in this order."""
        return Rows(*(getattr(self, f)[rows] for f in self.__dataclass_fields__))


_DAILY_UNIT = np.cos(2 * np.pi * (np.arange(MINUTES_PER_DAY) / 60.0 - DAILY_PEAK_HOUR) / 24.0)


def asset_load(
    rows: Rows, minutes: NDArray[np.int64], wander_unit: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Fraction of capacity each row's asset runs at (rows, n): daily, weekly and seasonal cycles plus
    slow wander. ``minutes`` is (rows or 1, n); calendar terms come from per-minute-of-day and per-day
    tables rather than being evaluated for every minute. ``wander_unit``: the wander's noise when the
    caller has it already (``load_wander_unit``; a live tick keeps it between minutes)."""
    daily = rows.daily_amplitude[:, None] * _DAILY_UNIT[(minutes - rows.phase[:, None]) % MINUTES_PER_DAY]
    day = minutes // MINUTES_PER_DAY
    first_day = int(day.min())
    days = np.arange(first_day, int(day.max()) + 1)
    seasonal_unit = np.cos(2 * np.pi * ((days % 365.25) - 15) / 365.25)
    weekend_day = (days + 3) % 7 >= 5  # 1970-01-01 was a Thursday
    offset = day - first_day
    seasonal = rows.seasonal_amplitude[:, None] * seasonal_unit[offset]
    weekend = np.where(weekend_day[offset], rows.weekend_factor[:, None], 1.0)
    if wander_unit is None:
        wander_unit = smooth_noise(load_wander_key(rows)[:, None], minutes, LOAD_WANDER_MINUTES)
    wander = 0.04 * wander_unit
    load: NDArray[np.float64] = NOMINAL_LOAD * (1.0 + daily + seasonal) * weekend + wander
    return np.clip(load, 0.05, 1.0)


LOAD_WANDER_MINUTES = 240  # the load's slow wander varies over about 4 hours...
SENSOR_WANDER_MINUTES = 120  # ...each sensor's own over about 2


def load_wander_key(rows: Rows) -> NDArray[np.int64]:
    """The noise stream of each row's asset load wander (one per plant and asset)."""
    return rows.seed * 7919 + rows.asset


def sensor_wander_key(rows: Rows) -> NDArray[np.int64]:
    """The noise stream of each row's own slow wander."""
    return rows.seed * 104729 + rows.sensor


@dataclass(frozen=True)
class Noise:
    """The random terms of ``base_values``, (rows, n) each, for a caller that draws them itself
    (a live tick, which hashes each row's keys once and keeps the wander's grid points between minutes)."""

    load_wander: NDArray[np.float64]  # unit smooth noise of the asset load, at each row's lagged minute
    sensor_wander: NDArray[np.float64]  # unit smooth noise of the sensor
    white: NDArray[np.float64]  # standard normal measurement noise


def base_values(
    rows: Rows,
    minutes: NDArray[np.int64],
    load_factor: NDArray[np.float64] | None = None,
    noise: Noise | None = None,
) -> NDArray[np.float64]:
    """Every row's value at ``minutes`` before anomalies and overlays, shape (rows, n). ``minutes`` is
    1-D (the same minutes for every row) or (rows, n) (each row its own, e.g. sandboxes whose clocks
    run at different speeds). ``load_factor`` (rows, n) scales the load, e.g. to zero while equipment
    has failed."""
    grid = minutes[None, :] if minutes.ndim == 1 else minutes
    load = asset_load(rows, grid - rows.lag[:, None], noise.load_wander if noise is not None else None)
    if load_factor is not None:
        load = load * load_factor
    values = rows.base[:, None] + rows.per_load[:, None] * (load - NOMINAL_LOAD)
    if rows.ambient_gain.any():
        values += rows.ambient_gain[:, None] * ambient(grid)
    if noise is None:
        key = rows.sensor[:, None]
        noise = Noise(
            np.empty(0),
            smooth_noise(sensor_wander_key(rows)[:, None], grid, SENSOR_WANDER_MINUTES),
            normal(rows.seed[:, None], key, grid),
        )
    values += rows.wander_sd[:, None] * noise.sensor_wander
    values += rows.noise_sd[:, None] * noise.white
    return values


def physical_clip(rows: Rows, values: NDArray[np.float64]) -> None:
    """Hold every row's values (rows, n) or (rows,) within its sensor's physical bounds, in place. Effects
    add up: stacked anomalies and a trim would otherwise drive a reading past physics (flue-gas O2 above
    air's, a negative concentration). History and live ticks both bound their raw values here, after
    every effect; derived sensors are computed from bounded inputs."""
    if values.ndim == 2:
        np.clip(values, rows.floor[:, None], rows.ceiling[:, None], out=values)
    else:
        np.clip(values, rows.floor, rows.ceiling, out=values)


def ambient(minutes: NDArray[np.int64]) -> NDArray[np.float64]:
    """Outdoor temperature deviation from the annual mean, °C: ±10 seasonal (July peak), ±4 daily (assumed)."""
    daily_table = 4.0 * np.cos(2 * np.pi * (np.arange(MINUTES_PER_DAY) / 60.0 - 15.0) / 24.0)
    day = minutes // MINUTES_PER_DAY
    first_day = int(day.min())
    days = np.arange(first_day, int(day.max()) + 1)
    seasonal_table = 10.0 * np.cos(2 * np.pi * ((days % 365.25) - 196) / 365.25)
    result: NDArray[np.float64] = daily_table[minutes % MINUTES_PER_DAY] + seasonal_table[day - first_day]
    return result


def _episode_shape(
    episode: Episode, shape: str, minutes: NDArray[np.int64], ramp_minutes: float
) -> NDArray[np.float64]:
    t = minutes.astype(np.float64)
    rise = _ramp((t - episode.start) / ramp_minutes)
    fall = 1.0 - _ramp((t - episode.end) / ramp_minutes)
    if shape == "creep":
        progress = np.clip((t - episode.start) / max(1, episode.end - episode.start), 0.0, 1.0)
        return progress * fall
    return rise * fall


def sensor_values(
    plant: PlantLayout,
    sensor_indices: Sequence[int],
    minutes: NDArray[np.int64],
    *,
    base_minute: int,
    overlays: Sequence[Overlay] = (),
) -> NDArray[np.float64]:
    """Values of the given sensors at the given minutes (ascending), shape (sensors, minutes)."""
    minutes = np.asarray(minutes, dtype=np.int64)
    overlays = applicable_overlays(plant, overlays)
    requested = [plant.sensors[i] for i in sensor_indices]
    setpoints = [o for o in overlays if o.kind == "o2_setpoint" and o.value is not None]
    needed = {s.index for s in requested}
    for sensor in requested:
        inputs = DERIVED_INPUTS.get(sensor.template.derived or "", ())
        if not inputs and any(o.asset_index == sensor.asset_index for o in setpoints):
            inputs = DERIVED_INPUTS["efficiency"]  # a fuel reading under an O2 trim needs the efficiencies
        needed.update(s.index for s in plant.sensors_of(sensor.asset_index) if s.kind in inputs)
    raw = sorted(i for i in needed if plant.sensors[i].template.derived is None)
    row_of = {index: row for row, index in enumerate(raw)}
    found = episodes(
        plant,
        base_minute=base_minute,
        start=int(minutes[0]) - EFFECT_TAIL_MINUTES,
        end=int(minutes[-1]) + 1,
        overlays=overlays,
        assets={plant.sensors[i].asset_index for i in raw},
    )

    rows = Rows.of(plant, np.array(raw, dtype=np.int64))
    values = _raw_values(plant, rows, minutes, found)
    before_trim = values.copy() if setpoints else values
    for overlay in setpoints:
        _apply_o2_setpoint(plant, overlay, row_of, minutes, values)
    if setpoints:
        physical_clip(rows, values)

    out = np.empty((len(requested), len(minutes)))
    for row, sensor in enumerate(requested):
        if sensor.template.derived is None:
            out[row] = values[row_of[sensor.index]]
            trims = [o for o in setpoints if o.asset_index == sensor.asset_index]
            if trims and sensor.kind == ASSET_TYPES[plant.assets[sensor.asset_index].type].fuel_sensor:
                ratio = _efficiency(plant, sensor.asset_index, row_of, before_trim) / _efficiency(
                    plant, sensor.asset_index, row_of, values
                )
                out[row] *= ratio  # same duty, better efficiency: less fuel
        else:
            out[row] = _derived(plant, sensor.asset_index, sensor.template.derived, row_of, values)
    return out


def _raw_values(
    plant: PlantLayout, rows: Rows, minutes: NDArray[np.int64], found: list[Episode]
) -> NDArray[np.float64]:
    if len(rows.sensor) == 0:
        return np.empty((0, len(minutes)))
    load_factor = failure_load_factor(plant, rows.sensor, minutes, found)
    values = base_values(rows, minutes, load_factor)
    add_episode_effects(plant, rows.sensor, minutes, found, values)
    physical_clip(rows, values)
    return values


def failure_load_factor(
    plant: PlantLayout, raw: NDArray[np.int64], minutes: NDArray[np.int64], found: Sequence[Episode]
) -> NDArray[np.float64] | None:
    """Load multiplier for rows whose asset has failed: ramps to 5 % and back (None when nothing failed)."""
    failures = [e for e in found if e.type == "equipment_failure"]
    if not failures:
        return None
    factor = np.ones((len(raw), len(minutes)))
    asset = plant.arrays.asset[raw]
    for episode in failures:
        rows = asset == episode.asset_index
        if rows.any():
            factor[rows] *= 1.0 - 0.95 * episode.magnitude * _episode_shape(episode, "step", minutes, 5.0)
    return factor


def add_episode_effects(
    plant: PlantLayout,
    raw: NDArray[np.int64],
    minutes: NDArray[np.int64],
    found: Sequence[Episode],
    values: NDArray[np.float64],
    row_of: dict[int, int] | None = None,
) -> None:
    """Add each episode's effect to the rows (sensors of ``raw``) of its asset, in place."""
    row_of = row_of if row_of is not None else {index: row for row, index in enumerate(raw.tolist())}
    single = len(minutes) == 1  # a live tick: plain floats beat numpy on one element
    for episode in found:
        for sensor in plant.sensors_of(episode.asset_index):
            effect = sensor.template.effects.get(episode.type)
            row = row_of.get(sensor.index)
            if row is None or effect is None or not effect.delta:
                continue
            ramp = max(5.0, 3.0 * sensor.template.tau_min)
            size = effect.delta * episode.magnitude
            if single:
                values[row, 0] += size * _episode_shape_at(episode, effect.shape, int(minutes[0]), ramp)
            else:
                values[row] += size * _episode_shape(episode, effect.shape, minutes, ramp)


def _smoothstep(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3.0 - 2.0 * x)


def _episode_shape_at(episode: Episode, shape: str, minute: int, ramp_minutes: float) -> float:
    """``_episode_shape`` for one minute, in plain floats."""
    fall = 1.0 - _smoothstep((minute - episode.end) / ramp_minutes)
    if shape == "creep":
        return min(1.0, max(0.0, (minute - episode.start) / max(1, episode.end - episode.start))) * fall
    return _smoothstep((minute - episode.start) / ramp_minutes) * fall


def _apply_o2_setpoint(
    plant: PlantLayout,
    overlay: Overlay,
    row_of: dict[int, int],
    minutes: NDArray[np.int64],
    values: NDArray[np.float64],
) -> None:
    """Move the asset's O2 to the new setpoint from ``overlay.start`` (first-order, τ ≈ 10 min) and cool the stack."""
    assert overlay.value is not None
    stop = overlay.end if overlay.end is not None else int(minutes[-1]) + 1
    window = Episode(overlay.asset_index, "o2_setpoint", overlay.start, stop)
    shape = _episode_shape(window, "step", minutes, 30.0)
    for sensor in plant.sensors_of(overlay.asset_index):
        if sensor.index not in row_of:
            continue
        if sensor.kind == "o2":
            change = overlay.value - sensor.template.base
            values[row_of[sensor.index]] += change * shape
            stack = next((s for s in plant.sensors_of(overlay.asset_index) if s.kind == "stack_temp"), None)
            if stack is not None and stack.index in row_of:
                values[row_of[stack.index]] += O2_STACK_C_PER_PCT * change * shape


def _inputs(
    plant: PlantLayout, asset_index: int, derived: str, row_of: dict[int, int], values: NDArray[np.float64]
) -> list[NDArray[np.float64]]:
    by_kind = {s.kind: s.index for s in plant.sensors_of(asset_index)}
    return [values[row_of[by_kind[kind]]] for kind in DERIVED_INPUTS[derived]]


def _efficiency(
    plant: PlantLayout, asset_index: int, row_of: dict[int, int], values: NDArray[np.float64]
) -> NDArray[np.float64]:
    return derived_values("efficiency", _inputs(plant, asset_index, "efficiency", row_of, values))


def _derived(
    plant: PlantLayout, asset_index: int, derived: str, row_of: dict[int, int], values: NDArray[np.float64]
) -> NDArray[np.float64]:
    return derived_values(derived, _inputs(plant, asset_index, derived, row_of, values))


def efficiency_pct(
    o2: NDArray[np.float64], stack: NDArray[np.float64], air: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Combustion efficiency from the readings (DOE table): O2 held to 0.5-15 %, where extrapolating the
    table still makes sense, and the stack no colder than its combustion air (combustion only heats the
    gas), so a reading an upset drives to its physical bound never makes the efficiency undefined."""
    return np.asarray(
        combustion_efficiency_celsius(o2_pct=np.clip(o2, 0.5, 15.0), stack_c=np.maximum(stack, air), air_c=air)
    )


def derived_values(kind: str, inputs: Sequence[NDArray[np.float64]]) -> NDArray[np.float64]:
    """A derived sensor's values from its inputs' (``DERIVED_INPUTS[kind]``, in that order); history and
    live ticks both compute them here."""
    if kind == "efficiency":
        o2, stack, air = inputs
        return efficiency_pct(o2, stack, air)
    fuel, product = inputs
    gj_per_t = fuel / np.maximum(product, 1e-6)
    if kind == "specific_heat":
        return np.asarray(gj_per_t_to_kcal_per_kg(gj_per_t))
    return gj_per_t


_POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="signals")
PARALLEL_MIN_MINUTES = 50_000


def sensor_values_parallel(
    plant: PlantLayout,
    sensor_indices: Sequence[int],
    minutes: NDArray[np.int64],
    *,
    base_minute: int,
    overlays: Sequence[Overlay] = (),
) -> NDArray[np.float64]:
    """``sensor_values`` for a long window, its parts computed on every core at once.

    Exact, not approximate: any window is computed independently of any other (counter-based noise,
    episodes fetched with their tails), so the parts join seamlessly. numpy releases the GIL.
    """
    parts = os.cpu_count() or 1
    if parts == 1 or len(minutes) < PARALLEL_MIN_MINUTES:
        return sensor_values(plant, sensor_indices, minutes, base_minute=base_minute, overlays=overlays)
    chunks = np.array_split(minutes, parts)
    futures = [
        _POOL.submit(sensor_values, plant, sensor_indices, chunk, base_minute=base_minute, overlays=overlays)
        for chunk in chunks
    ]
    return np.concatenate([future.result() for future in futures], axis=1)
