"""Deterministic randomness addressed by integers: the value for (seed, stream, index) never depends on
which window was asked for, so history, a zoomed window and a live tick agree to the last bit.

splitmix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014) as a
counter-based generator, vectorised with numpy's wrapping uint64 arithmetic.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return z ^ (z >> np.uint64(31))


def hash64(*keys: ArrayLike) -> NDArray[np.uint64]:
    """Mix integer keys (scalars or broadcastable arrays, negatives allowed) into one 64-bit hash each."""
    h = np.zeros(np.broadcast_shapes(*(np.shape(k) for k in keys)), dtype=np.uint64)
    for key in keys:
        h = _splitmix64(h ^ np.asarray(key).astype(np.int64).view(np.uint64))
    return h


def uniform(*keys: ArrayLike) -> NDArray[np.float64]:
    """Uniform in [0, 1) for each key combination."""
    return (hash64(*keys) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def normal(*keys: ArrayLike) -> NDArray[np.float64]:
    """Standard normal for each key combination (Box-Muller on two independent uniforms)."""
    u1 = uniform(*keys, 1)
    u2 = uniform(*keys, 2)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def smooth_noise(seed: ArrayLike, minutes: ArrayLike, period_min: float) -> NDArray[np.float64]:
    """Zero-mean, unit-variance-ish noise that varies smoothly over about ``period_min`` minutes.

    Value noise: standard normals at grid points ``period_min`` apart, joined by smoothstep
    interpolation; a function of absolute minute, so any window is consistent with any other.
    """
    t = np.asarray(minutes, dtype=np.float64) / period_min
    cell = np.floor(t)
    frac = t - cell
    weight = frac * frac * (3.0 - 2.0 * frac)
    left = normal(seed, cell.astype(np.int64))
    right = normal(seed, cell.astype(np.int64) + 1)
    return left + (right - left) * weight
