"""Fewer points for a chart without losing what matters: min/max per bucket, so peaks survive."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def min_max_buckets(
    minutes: NDArray[np.int64], values: NDArray[np.float64], max_points: int
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """At most ``max_points`` points: each of ``max_points // 2`` equal buckets keeps its lowest and its
    highest sample, in time order. A series that already fits is returned unchanged."""
    n = len(values)
    if n <= max_points:
        return minutes, values
    buckets = max(1, max_points // 2)
    size = -(-n // buckets)  # ceiling division
    padded = np.full(buckets * size, np.nan)
    padded[:n] = values
    rows = padded.reshape(buckets, size)
    valid = ~np.isnan(rows).all(axis=1)
    offsets = np.arange(buckets)[valid] * size
    low = offsets + np.nanargmin(rows[valid], axis=1)
    high = offsets + np.nanargmax(rows[valid], axis=1)
    keep = np.unique(np.concatenate([low, high]))  # sorted, and one point where min and max coincide
    return minutes[keep], values[keep]
