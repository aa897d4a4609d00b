"""Array arguments checked at the door: conversions, and messages that name the argument."""

import numpy as np
import pytest
import torch

from attnpool.explain.arrays import (
    as_labels,
    as_mask,
    as_weights,
    broadcast_int,
    check_count,
    check_finite_nonnegative,
    to_numpy,
)


def test_to_numpy_takes_tensors_that_require_grad_and_leaves_arrays_alone():
    t = torch.ones(2, 3, requires_grad=True)
    np.testing.assert_array_equal(to_numpy(t), np.ones((2, 3), dtype=np.float32))
    arr = np.zeros(3)
    assert to_numpy(arr) is arr


def test_as_weights_is_float64_and_refuses_bool_empty_and_flat():
    w = as_weights("weights", np.array([[1, 0]], dtype=np.int32), min_ndim=2)
    assert w.dtype == np.float64 and w.tolist() == [[1.0, 0.0]]
    with pytest.raises(TypeError, match="weights must be a numeric array, got dtype bool"):
        as_weights("weights", np.ones(3, dtype=bool), min_ndim=1)
    with pytest.raises(ValueError, match=r"weights must have at least 2 dimension\(s\), got shape \(3,\)"):
        as_weights("weights", np.ones(3), min_ndim=2)
    with pytest.raises(ValueError, match="at least one step"):
        as_weights("weights", np.ones((2, 0)), min_ndim=1)


def test_as_mask_needs_bool_of_the_weights_shape():
    assert as_mask("mask", np.ones((2, 3), dtype=bool), (2, 3)).shape == (2, 3)
    with pytest.raises(TypeError, match="mask must be bool"):
        as_mask("mask", np.ones((2, 3)), (2, 3))
    with pytest.raises(ValueError, match=r"mask must have the shape of weights \(2, 3\), got \(3, 2\)"):
        as_mask("mask", np.ones((3, 2), dtype=bool), (2, 3))


def test_finite_nonnegative_broadcast_labels_and_count():
    check_finite_nonnegative("weights", np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="found 1 NaN/inf"):
        check_finite_nonnegative("weights", np.array([np.nan, 1.0]))
    with pytest.raises(ValueError, match="non-negative, got minimum -1.0"):
        check_finite_nonnegative("weights", np.array([-1.0, 1.0]))
    np.testing.assert_array_equal(broadcast_int("start", np.array([[1], [2]]), (2, 3)), [[1, 1, 1], [2, 2, 2]])
    with pytest.raises(TypeError, match="start must be integer"):
        broadcast_int("start", np.array([1.5]), (2, 3))
    assert as_labels("ids", None, 3) == [0, 1, 2]
    assert as_labels("ids", np.array([7, 9]), 2) == [7, 9] and type(as_labels("ids", np.array([7]), 1)[0]) is int
    with pytest.raises(ValueError, match="ids must have 3 entries, got 2"):
        as_labels("ids", [1, 2], 3)
    check_count("k", 2)
    for bad in (0, True, 2.0):
        with pytest.raises(ValueError, match="k must be a positive int"):
            check_count("k", bad)
