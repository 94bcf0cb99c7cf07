from __future__ import annotations

import numpy as np

from simulation.engine.noise import hash64, normal, smooth_noise, uniform


def test_same_keys_same_values_and_windows_agree() -> None:
    whole = uniform(7, np.arange(0, 10_000))
    window = uniform(7, np.arange(4_000, 4_100))

    np.testing.assert_array_equal(whole[4_000:4_100], window)


def test_different_seeds_differ() -> None:
    assert not np.array_equal(uniform(1, np.arange(100)), uniform(2, np.arange(100)))


def test_negative_indices_are_valid_keys() -> None:
    values = uniform(3, np.arange(-500, 500))

    assert values.min() >= 0.0
    assert values.max() < 1.0
    assert len(np.unique(values)) == 1000


def test_uniform_and_normal_have_the_right_moments() -> None:
    u = uniform(11, np.arange(200_000))
    z = normal(11, np.arange(200_000))

    assert abs(u.mean() - 0.5) < 0.005
    assert abs(z.mean()) < 0.01
    assert abs(z.std() - 1.0) < 0.01


def test_smooth_noise_is_continuous_between_grid_points() -> None:
    values = smooth_noise(5, np.arange(0, 6_000), period_min=60)

    assert np.abs(np.diff(values)).max() < 0.2  # no jumps minute to minute
    assert values.std() > 0.5  # but it does wander


def test_hash_broadcasts_keys() -> None:
    assert hash64(np.arange(3)[:, None], np.arange(4)[None, :]).shape == (3, 4)
