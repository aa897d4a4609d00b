"""Choosing the samples to explain: per class, or the largest errors."""

import numpy as np
import pytest

from attnpool.explain.samples import choose_samples


def test_choose_samples_prefers_correct_per_class_and_is_deterministic():
    y_true = np.array([0, 1, 0, 2, 1, 0, 2, 1])
    y_pred = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    # class 0: correct 2, 5 (0 is wrong); class 1: correct 1, 4; class 2: none correct -> 3, 6.
    chosen = choose_samples(y_true, y_pred, per_class=2)
    np.testing.assert_array_equal(chosen, [2, 5, 1, 4, 3, 6])
    np.testing.assert_array_equal(choose_samples(y_true, y_pred, per_class=2), chosen)
    np.testing.assert_array_equal(choose_samples(y_true, y_pred, per_class=1), [2, 1, 3])
    # Scores [S, K] are argmaxed; a class with fewer samples than asked gives what it has.
    scores = np.eye(3)[y_pred]
    np.testing.assert_array_equal(choose_samples(y_true, scores, per_class=5), [2, 5, 0, 1, 4, 7, 3, 6])
    assert chosen.dtype == np.int64


def test_choose_samples_largest_errors_for_regression():
    y_true = np.array([[1.0, 1.0], [0.0, 0.0], [2.0, 2.0], [0.0, 0.0]])
    y_pred = np.array([[1.0, 2.0], [3.0, 3.0], [2.0, 2.0], [0.5, 1.5]])  # errors 0.5, 3, 0, 1
    np.testing.assert_array_equal(choose_samples(y_true, y_pred, largest_errors=2), [1, 3])
    errors = np.array([0.2, 0.9, 0.9, np.nan])
    np.testing.assert_array_equal(choose_samples(None, None, largest_errors=3, errors=errors), [3, 1, 2])
    np.testing.assert_array_equal(choose_samples(None, None, per_class=1, errors=errors), [3])
    with pytest.raises(ValueError, match="largest_errors"):
        choose_samples(y_true, y_pred, largest_errors=0)
