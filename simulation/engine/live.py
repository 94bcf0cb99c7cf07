"""Live values for many sandboxes at once: one vectorised tick across every sandbox and sensor.

A tick computes exactly what ``sensor_values`` would for that minute (same rows, same noise, same
episodes), so the live stream continues each chart's history without a jump. Per sandbox, the
episodes around "now" are cached for a day and refreshed when the tick leaves it; each sandbox's day
starts at a different minute, so refreshes spread out instead of all landing in one tick.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from simulation.engine.calculations import combustion_efficiency_celsius, gj_per_t_to_kcal_per_kg
from simulation.engine.plant import Plant
from simulation.engine.signals import (
    DERIVED_INPUTS,
    EFFECT_TAIL_MINUTES,
    MINUTES_PER_DAY,
    Episode,
    Event,
    Overlay,
    Rows,
    add_episode_effects,
    base_values,
    episode_event,
    episodes,
    events,
    failure_load_factor,
    sensor_values,
)


@dataclass
class LiveMember:
    """One sandbox in a batch: its plant, its start (BASE_TS) and what people changed."""

    plant: Plant
    base_minute: int
    overlays: Sequence[Overlay] = ()
    cached_from: int = field(default=0, init=False)
    cached_to: int = field(default=-1, init=False)
    cached: list[Episode] = field(default_factory=list, init=False)

    def episodes_at(self, minute: int) -> list[Episode]:
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
        return [e for e in self.cached if e.start <= minute < e.end + EFFECT_TAIL_MINUTES]

    def events_between(self, start: int, end: int) -> list[Event]:
        """The events of episodes starting in [start, end), oldest first: from the cached day when it
        covers the window (the usual case), else computed (a window across the day's edge, or long)."""
        if self.cached_from <= start and end <= self.cached_to:
            found = [episode_event(self.plant, e) for e in self.cached if start <= e.start < end]
        else:
            found = events(self.plant, base_minute=self.base_minute, start=start, end=end, overlays=self.overlays)
        return sorted(found, key=lambda event: event.minute)


class LiveBatch:
    """Sensors of many sandboxes stacked into one set of rows; ``tick(minute)`` returns each sandbox's
    values for every sensor of its plant, in sensor-index order."""

    def __init__(self, members: Sequence[LiveMember]) -> None:
        self.members = list(members)
        parts, self.raw, self.offsets, self.out_offsets = [], [], [], []
        start = out_start = 0
        for member in self.members:
            raw = np.array([s.index for s in member.plant.sensors if s.template.derived is None], dtype=np.int64)
            parts.append(Rows.of(member.plant, raw))
            self.raw.append(raw)
            self.offsets.append(start)
            self.out_offsets.append(out_start)
            start += len(raw)
            out_start += len(member.plant.sensors)
        self.rows = Rows.concat(parts)
        self.row_of = [{index: row for row, index in enumerate(raw.tolist())} for raw in self.raw]
        self.raw_positions = np.concatenate([o + raw for o, raw in zip(self.out_offsets, self.raw, strict=True)])
        self.size = out_start
        self._derived_plan()

    def _derived_plan(self) -> None:
        """Index arrays to compute every derived sensor of every member in one call per kind."""
        plans: dict[str, dict[str, list[int]]] = {
            kind: {"position": [], "member": [], **{i: [] for i in inputs}} for kind, inputs in DERIVED_INPUTS.items()
        }
        for m, member in enumerate(self.members):
            row_of = {index: self.offsets[m] + row for row, index in enumerate(self.raw[m].tolist())}
            for sensor in member.plant.sensors:
                kind = sensor.template.derived
                if kind is None:
                    continue
                by_kind = {s.kind: s.index for s in member.plant.sensors_of(sensor.asset_index)}
                plan = plans[kind]
                plan["position"].append(self.out_offsets[m] + sensor.index)
                plan["member"].append(m)
                for input_kind in DERIVED_INPUTS[kind]:
                    plan[input_kind].append(row_of[by_kind[input_kind]])
        self.derived = {
            kind: {name: np.array(column, dtype=np.int64) for name, column in plan.items()}
            for kind, plan in plans.items()
            if plan["position"]
        }

    def tick(
        self, minutes: int | Sequence[int] | NDArray[np.int64], members: Sequence[int] | None = None
    ) -> list[NDArray[np.float64]]:
        """The values of ``members`` (indices into the batch; default every one), each at its own minute:
        ``minutes`` is one minute for all of them or one per member, in the order of ``members``."""
        chosen = list(range(len(self.members))) if members is None else list(members)
        at = np.broadcast_to(np.asarray(minutes, dtype=np.int64), (len(chosen),))
        if not chosen:
            return []
        counts = np.array([len(self.raw[m]) for m in chosen], dtype=np.int64)
        if members is None:
            rows, row_index = self.rows, None
        else:
            row_index = np.concatenate([np.arange(self.offsets[m], self.offsets[m] + len(self.raw[m])) for m in chosen])
            rows = self.rows.take(row_index)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).tolist()
        row_minutes = np.repeat(at, counts)[:, None]
        active = [self.members[m].episodes_at(int(minute)) for m, minute in zip(chosen, at.tolist(), strict=True)]
        factor: NDArray[np.float64] | None = None
        for k, (m, found) in enumerate(zip(chosen, active, strict=True)):
            part = failure_load_factor(self.members[m].plant, self.raw[m], at[k : k + 1], found)
            if part is not None:
                factor = np.ones((len(rows.seed), 1)) if factor is None else factor
                factor[starts[k] : starts[k] + counts[k]] = part
        values = base_values(rows, row_minutes, factor)
        for k, (m, found) in enumerate(zip(chosen, active, strict=True)):
            if found:
                block = values[starts[k] : starts[k] + counts[k]]
                add_episode_effects(self.members[m].plant, self.raw[m], at[k : k + 1], found, block, self.row_of[m])
        flat = np.empty(len(self.rows.seed))
        if row_index is None:
            flat[:] = values[:, 0]
        else:
            flat[row_index] = values[:, 0]
        everything = np.empty(self.size)
        is_chosen = np.zeros(len(self.members), dtype=bool)
        is_chosen[chosen] = True
        raw_chosen = self.raw_positions if row_index is None else self.raw_positions[row_index]
        everything[raw_chosen] = flat if row_index is None else flat[row_index]
        for kind, plan in self.derived.items():
            keep = is_chosen[plan["member"]]
            if not keep.any():
                continue
            inputs = [flat[plan[i][keep]] for i in DERIVED_INPUTS[kind]]
            if kind == "efficiency":
                o2, stack, air = inputs
                result = np.asarray(
                    combustion_efficiency_celsius(o2_pct=np.clip(o2, 0.5, 15.0), stack_c=stack, air_c=air)
                )
            else:
                ratio = inputs[0] / np.maximum(inputs[1], 1e-6)
                result = np.asarray(gj_per_t_to_kcal_per_kg(ratio)) if kind == "specific_heat" else ratio
            everything[plan["position"][keep]] = result
        out = []
        for k, m in enumerate(chosen):
            member = self.members[m]
            if any(o.kind == "o2_setpoint" for o in member.overlays):  # rare: recompute that sandbox exactly
                plant = member.plant
                out.append(
                    sensor_values(
                        plant,
                        range(len(plant.sensors)),
                        at[k : k + 1],
                        base_minute=member.base_minute,
                        overlays=member.overlays,
                    )[:, 0]
                )
            else:
                out.append(everything[self.out_offsets[m] : self.out_offsets[m] + len(member.plant.sensors)])
        return out
