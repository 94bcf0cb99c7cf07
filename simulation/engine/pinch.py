"""Pinch analysis of a plant's process streams (WasteHeatRecovery's pinch screen): the targets of the problem
table (``calculations.pinch_analysis``) and the curves an engineer reads them from.

- The hot composite curve: every hot stream's heat added up over each temperature interval, temperature
  against cumulative enthalpy from the coldest point. The cold composite likewise, moved right by the minimum
  cold utility, so that the two curves come closest (ΔTmin apart) at the pinch.
- The grand composite curve: the problem table's heat cascade (plus the minimum hot utility) against the
  shifted temperature: it touches zero at the pinch; its ends are the minimum hot and cold utilities.

Linnhoff & Flower (1978); Kemp, "Pinch Analysis and Process Integration", 2nd ed., ch. 2.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulation.engine.calculations import PinchResult, Stream, pinch_analysis

Curve = tuple[tuple[float, float], ...]  # (enthalpy kW, temperature °C) points, in order


@dataclass(frozen=True)
class Pinch:
    streams: tuple[Stream, ...]
    dt_min_c: float
    targets: PinchResult
    hot_composite: Curve
    cold_composite: Curve
    grand_composite: Curve  # (net heat flow kW, shifted temperature °C), hottest first


def composite(streams: Sequence[Stream], offset_kw: float = 0.0) -> Curve:
    """Temperature against cumulative enthalpy of ``streams`` (all hot or all cold), from the coldest point."""
    temperatures = np.unique([t for s in streams for t in (s.supply_c, s.target_c)])
    points = [(offset_kw, float(temperatures[0]))]
    enthalpy = offset_kw
    for low, high in itertools.pairwise(temperatures):
        cp = sum(
            s.cp_kw_per_k for s in streams if min(s.supply_c, s.target_c) <= low and max(s.supply_c, s.target_c) >= high
        )
        enthalpy += cp * (high - low)
        points.append((float(enthalpy), float(high)))
    return tuple(points)


def grand_composite(streams: Sequence[Stream], dt_min_c: float, min_hot_utility_kw: float) -> Curve:
    shifted = [
        (s.supply_c - dt_min_c / 2, s.target_c - dt_min_c / 2, s.cp_kw_per_k)
        if s.is_hot
        else (s.supply_c + dt_min_c / 2, s.target_c + dt_min_c / 2, -s.cp_kw_per_k)
        for s in streams
    ]
    boundaries = sorted({t for a, b, _ in shifted for t in (a, b)}, reverse=True)
    flow = min_hot_utility_kw
    points = [(flow, boundaries[0])]
    for upper, lower in itertools.pairwise(boundaries):
        net_cp = sum(cp for a, b, cp in shifted if max(a, b) >= upper and min(a, b) <= lower)
        flow += net_cp * (upper - lower)
        points.append((float(flow), float(lower)))
    return tuple(points)


def pinch_of(streams: Sequence[Stream], dt_min_c: float) -> Pinch:
    targets = pinch_analysis(streams=streams, dt_min_c=dt_min_c)
    hot = [s for s in streams if s.is_hot]
    cold = [s for s in streams if not s.is_hot]
    return Pinch(
        streams=tuple(streams),
        dt_min_c=dt_min_c,
        targets=targets,
        hot_composite=composite(hot) if hot else (),
        cold_composite=composite(cold, offset_kw=targets.min_cold_utility_kw) if cold else (),
        grand_composite=grand_composite(streams, dt_min_c, targets.min_hot_utility_kw),
    )
