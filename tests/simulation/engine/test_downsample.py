from __future__ import annotations

import numpy as np

from simulation.engine.downsample import min_max_buckets


def test_keeps_at_most_max_points_in_time_order() -> None:
    minutes = np.arange(525_600, dtype=np.int64)
    values = np.sin(minutes / 500.0)

    kept_minutes, kept_values = min_max_buckets(minutes, values, 1000)

    assert len(kept_minutes) <= 1000
    assert (np.diff(kept_minutes) > 0).all()
    np.testing.assert_array_equal(kept_values, values[kept_minutes])


def test_a_one_minute_spike_survives() -> None:
    minutes = np.arange(100_000, dtype=np.int64)
    values = np.zeros(100_000)
    values[61_234] = 50.0
    values[7_777] = -20.0

    kept_minutes, kept_values = min_max_buckets(minutes, values, 200)

    assert 61_234 in kept_minutes
    assert 7_777 in kept_minutes
    assert kept_values.max() == 50.0


def test_a_short_series_is_returned_as_it_is() -> None:
    minutes = np.arange(10, dtype=np.int64)
    values = np.arange(10.0)

    kept_minutes, kept_values = min_max_buckets(minutes, values, 1000)

    np.testing.assert_array_equal(kept_minutes, minutes)
    np.testing.assert_array_equal(kept_values, values)
