"""Live values for many sandboxes at once: one vectorised tick across every sandbox and sensor.

A tick computes exactly what ``sensor_values`` would for that minute (same rows, same noise, same
episodes), so the live stream continues each chart's history without a jump; tests assert equality
to the last bit. What makes it cheap, without changing a value:

- each sandbox's rows, derived-sensor plan, noise keys and anomaly effects are prepared once per
  member, so a batch of a new set of sandboxes is a concatenation (a viewer arriving costs little);
- the noise keys of every row are hashed once (``hash64_more``), and the slow wander's grid points,
  which change every 2-4 hours, are kept between minutes: a minute draws one normal per row;
- the anomaly effects of every sandbox's active episodes are one vectorised expression;
- per sandbox, the episodes around "now" are cached for a day and refreshed when the tick leaves it;
  each sandbox's day starts at a different minute, so refreshes spread out instead of all landing in
  one tick.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulation.engine.noise import hash64, hash64_more, normal_of_hash
from simulation.engine.plant import PlantLayout
from simulation.engine.signals import (
    DERIVED_INPUTS,
    EFFECT_TAIL_MINUTES,
    LOAD_WANDER_MINUTES,
    MINUTES_PER_DAY,
    SENSOR_WANDER_MINUTES,
    Episode,
    Event,
    Noise,
    Overlay,
    Rows,
    applicable_overlays,
    base_values,
    derived_values,
    episode_event,
    episodes,
    events,
    failure_load_factor,
    load_wander_key,
    physical_clip,
    sensor_values,
    sensor_wander_key,
)

NO_CELL = np.iinfo(np.int64).min // 2  # a wander grid point not drawn yet


@dataclass(frozen=True)
class Effects:
    """The anomaly effects of a list of episodes on a plant's raw rows, one entry per (episode, sensor),
    in the order ``add_episode_effects`` adds them."""

    row: NDArray[np.int64]  # the member's raw row
    size: NDArray[np.float64]  # delta × magnitude
    creep: NDArray[np.bool_]  # shape "creep" (else a step with smooth ramps)
    ramp: NDArray[np.float64]
    start: NDArray[np.int64]
    end: NDArray[np.int64]

    @classmethod
    def of(cls, plant: PlantLayout, found: Sequence[Episode], row_of: dict[int, int]) -> Effects:
        columns: tuple[list[float], ...] = ([], [], [], [], [], [])
        for episode in found:
            for sensor in plant.sensors_of(episode.asset_index):
                effect = sensor.template.effects.get(episode.type)
                raw_row = row_of.get(sensor.index)
                if raw_row is None or effect is None or not effect.delta:
                    continue
                for column, value in zip(
                    columns,
                    (
                        raw_row,
                        effect.delta * episode.magnitude,
                        effect.shape == "creep",
                        max(5.0, 3.0 * sensor.template.tau_min),
                        episode.start,
                        episode.end,
                    ),
                    strict=True,
                ):
                    column.append(value)
        row, size, creep, ramp, start, end = columns
        return cls(
            np.array(row, dtype=np.int64),
            np.array(size, dtype=np.float64),
            np.array(creep, dtype=bool),
            np.array(ramp, dtype=np.float64),
            np.array(start, dtype=np.int64),
            np.array(end, dtype=np.int64),
        )


def _smoothstep(x: NDArray[np.float64]) -> NDArray[np.float64]:
    x = np.minimum(1.0, np.maximum(0.0, x))
    return x * x * (3.0 - 2.0 * x)


def effect_shapes(effects: Effects, minute: NDArray[np.int64]) -> NDArray[np.float64]:
    """``signals._episode_shape_at`` of every entry at its own minute, vectorised (same arithmetic)."""
    fall = 1.0 - _smoothstep((minute - effects.end) / effects.ramp)
    creep = np.minimum(1.0, np.maximum(0.0, (minute - effects.start) / np.maximum(1, effects.end - effects.start)))
    step = _smoothstep((minute - effects.start) / effects.ramp)
    result: NDArray[np.float64] = np.where(effects.creep, creep, step) * fall
    return result


@dataclass
class LiveMember:
    """One sandbox in a batch: its plant, its start (BASE_TS) and what people changed."""

    plant: PlantLayout
    base_minute: int
    overlays: Sequence[Overlay] = ()  # only those the plant can take are kept (``applicable_overlays``)
    cached_from: int = field(default=0, init=False)
    cached_to: int = field(default=-1, init=False)
    cached: list[Episode] = field(default_factory=list, init=False)
    effects: Effects | None = field(default=None, init=False)  # of ``cached``, built by the batch
    failures: list[Episode] = field(default_factory=list, init=False)  # the equipment failures in ``cached``
    parts: MemberParts | None = field(default=None, init=False)  # what a batch needs of this member

    def __post_init__(self) -> None:
        self.overlays = applicable_overlays(self.plant, self.overlays)

    def episodes_at(self, minute: int) -> list[Episode]:
        self.cache_day(minute)
        return [e for e in self.cached if e.start <= minute < e.end + EFFECT_TAIL_MINUTES]

    def cache_day(self, minute: int) -> bool:
        """Make sure the cached day of episodes covers ``minute``; True when it was refreshed."""
        if not self.cached_from <= minute < self.cached_to:
            # Each sandbox's cached day begins at its own minute of the day, so a thousand sandboxes
            # do not all refresh in the same tick at midnight.
            stagger = (self.plant.seed * 7919 + self.base_minute) % MINUTES_PER_DAY
            day_start = minute - (minute - stagger) % MINUTES_PER_DAY
            self.cached_from, self.cached_to = day_start, day_start + MINUTES_PER_DAY
            self.cached = episodes(
                self.plant,
                base_minute=self.base_minute,
                start=day_start - EFFECT_TAIL_MINUTES,
                end=day_start + MINUTES_PER_DAY + EFFECT_TAIL_MINUTES,
                overlays=self.overlays,
            )
            self.effects = None
            self.failures = [e for e in self.cached if e.type == "equipment_failure"]
            return True
        return False

    def events_between(self, start: int, end: int) -> list[Event]:
        """The events of episodes starting in [start, end), oldest first: from the cached day when it
        covers the window (the usual case), else computed (a window across the day's edge, or long)."""
        if self.cached_from <= start and end <= self.cached_to:
            found = [episode_event(self.plant, e) for e in self.cached if start <= e.start < end]
        else:
            found = events(self.plant, base_minute=self.base_minute, start=start, end=end, overlays=self.overlays)
        return sorted(found, key=lambda event: event.minute)


@dataclass
class MemberParts:
    """One member's share of a batch, prepared once: its raw rows, derived-sensor plan, noise keys and
    the wander's grid points it last drew (kept across batches)."""

    raw: NDArray[np.int64]  # sensor index of each raw row
    rows: Rows
    row_of: dict[int, int]  # sensor index → raw row
    derived: dict[str, dict[str, NDArray[np.int64]]]  # kind → {"position": sensor indices, input kind: raw rows}
    white_key: NDArray[np.uint64]  # hash64(seed, sensor): a minute's white noise is one more fold
    sensor_wander_key: NDArray[np.uint64]
    load_wander_key: NDArray[np.uint64]
    grid: dict[str, NDArray[np.float64] | NDArray[np.int64]]  # the wander's cached grid points

    @classmethod
    def of(cls, plant: PlantLayout) -> MemberParts:
        raw = np.array([s.index for s in plant.sensors if s.template.derived is None], dtype=np.int64)
        rows = Rows.of(plant, raw)
        row_of = {index: row for row, index in enumerate(raw.tolist())}
        plan: dict[str, dict[str, list[int]]] = {
            kind: {"position": [], **{i: [] for i in inputs}} for kind, inputs in DERIVED_INPUTS.items()
        }
        for sensor in plant.sensors:
            kind = sensor.template.derived
            if kind is None:
                continue
            by_kind = {s.kind: s.index for s in plant.sensors_of(sensor.asset_index)}
            plan[kind]["position"].append(sensor.index)
            for input_kind in DERIVED_INPUTS[kind]:
                plan[kind][input_kind].append(row_of[by_kind[input_kind]])
        n = len(raw)
        return cls(
            raw=raw,
            rows=rows,
            row_of=row_of,
            derived={kind: {k: np.array(v, dtype=np.int64) for k, v in p.items()} for kind, p in plan.items()},
            white_key=hash64(rows.seed, rows.sensor),
            sensor_wander_key=hash64(sensor_wander_key(rows)),
            load_wander_key=hash64(load_wander_key(rows)),
            grid={
                "sensor_cell": np.full(n, NO_CELL, dtype=np.int64),
                "sensor_left": np.zeros(n),
                "sensor_right": np.zeros(n),
                "load_cell": np.full(n, NO_CELL, dtype=np.int64),
                "load_left": np.zeros(n),
                "load_right": np.zeros(n),
            },
        )


def _concat(arrays: Sequence[NDArray[Any]], dtype: type) -> NDArray[Any]:
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.empty(0, dtype=dtype)


class LiveBatch:
    """Sensors of many sandboxes stacked into one set of rows; ``tick(minutes)`` returns each sandbox's
    values for every sensor of its plant, in sensor-index order, each at its own minute."""

    def __init__(self, members: Sequence[LiveMember]) -> None:
        self.members = list(members)
        for member in self.members:
            if member.parts is None:
                member.parts = MemberParts.of(member.plant)
        parts = [member.parts for member in self.members if member.parts is not None]
        self.counts = np.array([len(p.raw) for p in parts], dtype=np.int64)
        self.sizes = np.array([len(m.plant.sensors) for m in self.members], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(np.int64)
        self.out_offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
        self.size = int(self.sizes.sum())
        self.rows = Rows.concat([p.rows for p in parts])
        self.raw_positions = _concat([o + p.raw for o, p in zip(self.out_offsets, parts, strict=True)], np.int64)
        self.white_key = _concat([p.white_key for p in parts], np.uint64)
        self.sensor_wander_key = _concat([p.sensor_wander_key for p in parts], np.uint64)
        self.load_wander_key = _concat([p.load_wander_key for p in parts], np.uint64)
        self.grid = {name: np.concatenate([p.grid[name] for p in parts]) for name in parts[0].grid} if parts else {}
        self.derived: dict[str, dict[str, NDArray[np.int64]]] = {}
        for kind, inputs in DERIVED_INPUTS.items():
            plans = [(m, p.derived[kind]) for m, p in enumerate(parts) if len(p.derived[kind]["position"])]
            if not plans:
                continue
            self.derived[kind] = {
                "position": np.concatenate([self.out_offsets[m] + plan["position"] for m, plan in plans]),
                "member": np.concatenate([np.full(len(plan["position"]), m) for m, plan in plans]),
                **{i: np.concatenate([self.offsets[m] + plan[i] for m, plan in plans]) for i in inputs},
            }
        self.setpoints = [
            m for m, member in enumerate(self.members) if any(o.kind == "o2_setpoint" for o in member.overlays)
        ]
        self._effects: tuple[Effects, NDArray[np.int64]] | None = None
        self.episode_start = self.episode_member = np.empty(0, dtype=np.int64)  # of the cached days

    def keep_state(self) -> None:
        """Hand the wander's grid points back to the members, for the next batch they are in."""
        for m, member in enumerate(self.members):
            assert member.parts is not None
            start, stop = int(self.offsets[m]), int(self.offsets[m] + self.counts[m])
            member.parts.grid = {name: values[start:stop].copy() for name, values in self.grid.items()}

    def member_rows(self, members: Sequence[int]) -> NDArray[np.int64]:
        """The rows of these members, in their order."""
        return _concat([np.arange(self.offsets[m], self.offsets[m] + self.counts[m]) for m in members], np.int64)

    def member_positions(self, members: Sequence[int]) -> NDArray[np.int64]:
        """The output positions (``tick_into``) of these members' sensors, in their order."""
        return _concat([np.arange(self.out_offsets[m], self.out_offsets[m] + self.sizes[m]) for m in members], np.int64)

    def tick(
        self, minutes: int | Sequence[int] | NDArray[np.int64], members: Sequence[int] | None = None
    ) -> list[NDArray[np.float64]]:
        """The values of ``members`` (indices into the batch; default every one), each at its own minute:
        ``minutes`` is one minute for all of them or one per member, in the order of ``members``."""
        chosen = list(range(len(self.members))) if members is None else list(members)
        everything = self.tick_into(minutes, None if members is None else chosen)
        return [everything[self.out_offsets[m] : self.out_offsets[m] + self.sizes[m]] for m in chosen]

    def tick_into(
        self, minutes: int | Sequence[int] | NDArray[np.int64], members: Sequence[int] | None = None
    ) -> NDArray[np.float64]:
        """``tick`` as one array of every member's sensors (at ``out_offsets``); only the positions of
        ``members`` (default: all) are filled."""
        everything = np.empty(self.size)
        chosen = list(range(len(self.members))) if members is None else list(members)
        if not chosen:
            return everything
        at = np.broadcast_to(np.asarray(minutes, dtype=np.int64), (len(chosen),))
        member_minute = np.zeros(len(self.members), dtype=np.int64)
        member_minute[chosen] = at
        is_chosen = np.zeros(len(self.members), dtype=bool)
        is_chosen[chosen] = True
        every = members is None or (len(chosen) == len(self.members) and bool(is_chosen.all()))
        if every:
            chosen, at = list(range(len(self.members))), member_minute
        row_index = None if every else self.member_rows(chosen)
        rows = self.rows if row_index is None else self.rows.take(row_index)
        take = slice(None) if row_index is None else row_index
        row_minutes = np.repeat(member_minute[chosen], self.counts[chosen])

        refreshed = False
        for m, minute in zip(chosen, at.tolist(), strict=True):
            refreshed |= self.members[m].cache_day(minute)
        effects, effect_member = self._effect_table(refreshed)
        live = is_chosen[effect_member]
        minute_of = member_minute[effect_member]
        live &= (effects.start <= minute_of) & (minute_of < effects.end + EFFECT_TAIL_MINUTES)

        factor = self._failures(chosen, member_minute, rows, row_index)
        noise = Noise(
            self._wander(row_minutes - rows.lag, LOAD_WANDER_MINUTES, "load", self.load_wander_key, take)[:, None],
            self._wander(row_minutes, SENSOR_WANDER_MINUTES, "sensor", self.sensor_wander_key, take)[:, None],
            normal_of_hash(hash64_more(self.white_key[take], row_minutes))[:, None],
        )
        values = base_values(rows, row_minutes[:, None], factor, noise)[:, 0]
        if live.any():
            target = effects.row[live] if row_index is None else self._position_in(row_index)[effects.row[live]]
            chosen_effects = Effects(*(getattr(effects, f)[live] for f in Effects.__dataclass_fields__))
            np.add.at(values, target, chosen_effects.size * effect_shapes(chosen_effects, minute_of[live]))
        physical_clip(rows, values)

        flat = values if row_index is None else np.empty(len(self.rows.seed))
        if row_index is not None:
            flat[row_index] = values
        everything[self.raw_positions if row_index is None else self.raw_positions[row_index]] = values
        for kind, plan in self.derived.items():
            keep = is_chosen[plan["member"]]
            if not keep.any():
                continue
            inputs = [flat[plan[i][keep]] for i in DERIVED_INPUTS[kind]]
            everything[plan["position"][keep]] = derived_values(kind, inputs)
        for m in self.setpoints:  # rare: an O2 trim also changes fuel and efficiency; that sandbox exactly
            if is_chosen[m]:
                plant, member = self.members[m].plant, self.members[m]
                everything[self.out_offsets[m] : self.out_offsets[m] + self.sizes[m]] = sensor_values(
                    plant,
                    range(len(plant.sensors)),
                    member_minute[m : m + 1],
                    base_minute=member.base_minute,
                    overlays=member.overlays,
                )[:, 0]
        return everything

    def _position_in(self, row_index: NDArray[np.int64]) -> NDArray[np.int64]:
        position = np.full(len(self.rows.seed), -1, dtype=np.int64)
        position[row_index] = np.arange(len(row_index))
        return position

    def _effect_table(self, refreshed: bool) -> tuple[Effects, NDArray[np.int64]]:
        """Every member's anomaly effects of its cached day, in batch rows, with each entry's member."""
        if self._effects is None or refreshed:
            tables = []
            for member in self.members:
                if member.effects is None:
                    assert member.parts is not None
                    member.effects = Effects.of(member.plant, member.cached, member.parts.row_of)
                tables.append(member.effects)
            member_of = np.repeat(np.arange(len(tables)), [len(table.row) for table in tables])
            combined = Effects(
                _concat([t.row for t in tables], np.int64) + self.offsets[member_of],
                _concat([t.size for t in tables], np.float64),
                _concat([t.creep for t in tables], bool),
                _concat([t.ramp for t in tables], np.float64),
                _concat([t.start for t in tables], np.int64),
                _concat([t.end for t in tables], np.int64),
            )
            self._effects = (combined, member_of)
            self.episode_start = _concat(
                [np.array([e.start for e in m.cached], dtype=np.int64) for m in self.members], np.int64
            )
            self.episode_member = np.repeat(np.arange(len(self.members)), [len(m.cached) for m in self.members])
        return self._effects

    def starting(self, first: NDArray[np.int64], last: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Which members have a cached episode starting in [first, last] (one bound per member)."""
        self._effect_table(False)
        hit = (self.episode_start >= first[self.episode_member]) & (self.episode_start <= last[self.episode_member])
        result = np.zeros(len(self.members), dtype=bool)
        result[self.episode_member[hit]] = True
        return result

    def _failures(
        self, chosen: list[int], member_minute: NDArray[np.int64], rows: Rows, row_index: NDArray[np.int64] | None
    ) -> NDArray[np.float64] | None:
        """The load factor of assets that have failed (``failure_load_factor``), for the few members with one."""
        factor: NDArray[np.float64] | None = None
        start = np.concatenate([[0], np.cumsum(self.counts[chosen])[:-1]]) if row_index is not None else None
        for k, m in enumerate(chosen):
            member = self.members[m]
            if not member.failures:
                continue
            minute = int(member_minute[m])
            failures = [e for e in member.failures if e.start <= minute < e.end + EFFECT_TAIL_MINUTES]
            if not failures:
                continue
            assert member.parts is not None
            part = failure_load_factor(member.plant, member.parts.raw, member_minute[m : m + 1], failures)
            if part is not None:
                factor = np.ones((len(rows.seed), 1)) if factor is None else factor
                first = int(self.offsets[m]) if start is None else int(start[k])
                factor[first : first + int(self.counts[m])] = part
        return factor

    def _wander(
        self,
        minutes: NDArray[np.int64],
        period: int,
        name: str,
        keys: NDArray[np.uint64],
        take: slice | NDArray[np.int64],
    ) -> NDArray[np.float64]:
        """``smooth_noise`` of these rows at one minute each, from the grid points kept between ticks:
        entering a new cell draws one point (its right end), jumping further draws both."""
        cell = minutes // period
        known = self.grid[f"{name}_cell"][take]
        left = np.array(self.grid[f"{name}_left"][take], dtype=np.float64)
        right = np.array(self.grid[f"{name}_right"][take], dtype=np.float64)
        moved = known != cell
        if moved.any():
            advanced = known + 1 == cell
            fresh = moved & ~advanced
            left[advanced] = right[advanced]
            selected = keys[take]
            if fresh.any():
                left[fresh] = normal_of_hash(hash64_more(selected[fresh], cell[fresh]))
            right[moved] = normal_of_hash(hash64_more(selected[moved], cell[moved] + 1))
            self.grid[f"{name}_cell"][take] = cell
            self.grid[f"{name}_left"][take] = left
            self.grid[f"{name}_right"][take] = right
        fraction = (minutes - cell * period) / period
        result: NDArray[np.float64] = left + (right - left) * (fraction * fraction * (3.0 - 2.0 * fraction))
        return result
