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
    """Mix integer keys (scalars or broadcastable arrays, negatives allowed) into one 64-bit hash each.

    Keys are folded in order and the result only grows to the shape of the keys seen so far, so put
    scalar keys first: only the big array key then costs a full pass.
    """
    return hash64_more(np.zeros((), dtype=np.uint64), *keys)


def hash64_more(prefix: NDArray[np.uint64], *keys: ArrayLike) -> NDArray[np.uint64]:
    """Fold more keys into the hash of the keys before them: ``hash64_more(hash64(a), b) == hash64(a, b)``,
    so a caller that draws for the same leading keys again and again (a live tick) hashes them once."""
    h = prefix
    for key in keys:
        h = _splitmix64(h ^ np.asarray(key).astype(np.int64).view(np.uint64))
    return h


def _unit(h: NDArray[np.uint64]) -> NDArray[np.float64]:
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def uniform(*keys: ArrayLike) -> NDArray[np.float64]:
    """Uniform in [0, 1) for each key combination."""
    return _unit(hash64(*keys))


def normal(*keys: ArrayLike) -> NDArray[np.float64]:
    """Standard normal for each key combination: Box-Muller on the two 32-bit halves of one hash
    (tails reach about 6.7 σ, plenty for measurement noise)."""
    return normal_of_hash(hash64(*keys))


def normal_of_hash(h: NDArray[np.uint64]) -> NDArray[np.float64]:
    """The standard normal ``normal`` draws for a hash."""
    u1 = ((h >> np.uint64(32)).astype(np.float64) + 0.5) * (1.0 / 2**32)
    u2 = (h & np.uint64(0xFFFFFFFF)).astype(np.float64) * (1.0 / 2**32)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def smooth_noise(seed: ArrayLike, minutes: NDArray[np.int64], period_min: int) -> NDArray[np.float64]:
    """Zero-mean, unit-variance-ish noise that varies smoothly over about ``period_min`` minutes.

    Value noise: standard normals at grid points ``period_min`` apart (only those in the window are
    drawn), joined by smoothstep interpolation; a function of absolute minute, so any window is
    consistent with any other. ``seed`` is a scalar or a column (rows, 1); ``minutes`` (rows or 1, n).
    """
    minutes = np.asarray(minutes, dtype=np.int64)
    seed_column = np.asarray(seed, dtype=np.int64).reshape(-1, 1)
    cell = minutes // period_min
    fraction_of_cell = (minutes - cell * period_min) / period_min
    if minutes.ndim == 2 and minutes.shape[1] == 1:  # one minute per row (a live tick): draw just its two points
        left, right = normal(seed_column, cell), normal(seed_column, cell + 1)
        return left + (right - left) * (fraction_of_cell * fraction_of_cell * (3.0 - 2.0 * fraction_of_cell))
    first = int(cell.min())
    grid = normal(seed_column, np.arange(first, int(cell.max()) + 2)[None, :])  # (seeds, cells)
    rows = np.arange(grid.shape[0])[:, None] * grid.shape[1] if grid.shape[0] > 1 else 0
    index = rows + (cell - first)
    flat = grid.ravel()
    left = flat[index]
    right = flat[index + 1]
    fraction = np.arange(period_min) / period_min
    weight = (fraction * fraction * (3.0 - 2.0 * fraction))[minutes - cell * period_min]
    result: NDArray[np.float64] = left + (right - left) * weight
    return result if np.ndim(seed) or minutes.ndim > 1 else result.reshape(minutes.shape)
