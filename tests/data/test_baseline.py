"""Baselines: majority class, training mean, persistence from the last valid step (or the node's mean)."""

import numpy as np

from attnpool.data.baseline import baseline


def test_persistence_uses_the_last_valid_step_and_falls_back_to_the_training_mean():
    x = np.arange(2 * 2 * 4, dtype=np.float64).reshape(2, 2, 4, 1)  # [S, N, T, F]
    mask = np.ones((2, 2, 4), dtype=bool)
    mask[0, 0, 3] = False  # sample 0, node 0: last valid step is 2
    mask[1, 1] = False  # sample 1, node 1: no valid step at all
    x = np.where(mask[..., None], x, 0.0)
    y = np.zeros((2, 2, 3))
    base = baseline("forecast", x, mask, y, train=np.array([0]))
    np.testing.assert_array_equal(base[0, 0], [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(base[0, 1], [7.0, 7.0, 7.0])
    np.testing.assert_array_equal(base[1, 0], [11.0, 11.0, 11.0])
    # Node 1's training mean over its valid steps in sample 0: (4 + 5 + 6 + 7) / 4.
    np.testing.assert_array_equal(base[1, 1], [5.5, 5.5, 5.5])
    np.testing.assert_array_equal(baseline("forecast", x, None, y, np.array([0]))[:, :, 0], x[:, :, -1, 0])


def test_classify_and_regress_baselines():
    y = np.array([2, 1, 2, 0])
    np.testing.assert_array_equal(baseline("classify", None, None, y, np.array([0, 1, 2])), [2, 2, 2, 2])
    y = np.array([[1.0], [3.0], [10.0]])
    np.testing.assert_array_equal(baseline("regress", None, None, y, np.array([0, 1])), [[2.0], [2.0], [2.0]])


def test_seasonal_offsets_step_back_whole_seasons_before_the_forecast():
    from attnpool.data.baseline import seasonal_offsets

    # T = 5, m = 3: steps 5..11 copy steps 2, 3, 4, then 2, 3, 4 (two seasons back), then 2.
    np.testing.assert_array_equal(seasonal_offsets(5, 7, 3), [2, 3, 4, 2, 3, 4, 2])
    # m longer than the window: the copied rows lie before the window's first row.
    np.testing.assert_array_equal(seasonal_offsets(4, 3, 10), [-6, -5, -4])
    assert (seasonal_offsets(12, 30, 7) < 12).all()


def test_seasonal_naive_falls_back_where_missing():
    from attnpool.data.baseline import seasonal_naive

    season = np.array([[[1.0, np.nan, 3.0]]])
    np.testing.assert_array_equal(seasonal_naive(season, np.full((1, 1, 3), 9.0)), [[[1.0, 9.0, 3.0]]])
