import numpy as np
import pytest
import torch

from attnpool.data import DataError, from_arrays, load_data, to_npz

from .helpers import write_npz


def test_same_set_as_the_npz_reader(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3, 8, 2))
    mask = rng.random((40, 3, 8)) > 0.1
    y = np.arange(40) % 3
    path = write_npz(tmp_path / "d.npz", x=x, y=y, mask=mask, node_names=np.array(["a", "b", "c"]))
    a = load_data(str(path), seed=3)
    b = from_arrays(x, y, mask=mask, node_names=["a", "b", "c"], seed=3)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.mask, b.mask)
    np.testing.assert_array_equal(a.y, b.y)
    assert all(np.array_equal(a.splits[k], b.splits[k]) for k in ("train", "val", "test"))
    assert (a.task, a.node_names, a.class_names) == (b.task, b.node_names, b.class_names)
    assert b.source == "arrays"


def test_nan_marks_a_missing_step_and_combines_with_mask():
    x = np.ones((20, 2, 5, 2))
    x[0, 1, 3, 0] = np.nan  # one feature missing: the whole node step is masked, as in the CSV reader
    mask = np.ones((20, 2, 5), dtype=bool)
    mask[2, 0, 0] = False
    ds = from_arrays(x, np.arange(20) % 2, mask=mask)
    assert not ds.mask[0, 1, 3] and not ds.mask[2, 0, 0] and ds.mask.sum() == 20 * 2 * 5 - 2
    assert np.isfinite(ds.x).all() and (ds.x[0, 1, 3] == 0).all()


def test_string_labels_torch_input_and_given_parts():
    x = torch.randn(12, 1, 4, 1, dtype=torch.float64)
    y = np.array(["dog", "cat", "emu"] * 4, dtype=object)  # as a pandas column gives them
    parts = np.array(["train"] * 8 + ["val"] * 2 + ["test"] * 2)
    ds = from_arrays(x, y, parts=parts)
    assert ds.task == "classify" and ds.class_names == ["cat", "dog", "emu"]
    assert ds.y[:3].tolist() == [1, 0, 2]
    assert ds.splits["val"].tolist() == [8, 9] and ds.splits["test"].tolist() == [10, 11]
    ordered = from_arrays(x, y, parts=parts, class_names=["emu", "dog", "cat"])
    assert ordered.y[:3].tolist() == [1, 2, 0]


def test_float_y_is_regress_and_forecast_is_asked_for():
    x = np.random.default_rng(0).standard_normal((20, 2, 6, 1))
    assert from_arrays(x, np.linspace(0, 1, 20)).task == "regress"
    ds = from_arrays(x, np.zeros((20, 2, 3)), task="forecast")
    assert ds.task == "forecast" and ds.y.shape == (20, 2, 3)


@pytest.mark.parametrize("change, message", [
    (dict(x=np.zeros((20, 5, 1))), r"arrays: x must have 4 axes \[S, N, T, F\], got shape \(20, 5, 1\)"),
    (dict(mask=np.ones((20, 2, 4), dtype=bool)), r"mask must have shape \[S, N, T\] = \(20, 2, 5\), got \(20, 2, 4\)"),
    (dict(y=np.arange(19) % 2), r"classify y must have shape \[S\] = \(20,\), got \(19,\)"),
    (dict(x="abc"), r"x must be real numbers, got dtype <U3"),
    (dict(split=(0.5, 0.6, 0.1)), r"split must be three fractions >= 0 summing to 1"),
    (dict(y=np.array(["a", "b"] * 10), task="regress"), r"y holds strings, which only fit task 'classify'"),
])
def test_errors_are_one_line_and_name_the_array(change, message):
    args = dict(x=np.zeros((20, 2, 5, 1)), y=np.arange(20) % 2)
    args.update(change)
    with pytest.raises(DataError, match=message) as err:
        from_arrays(args.pop("x"), args.pop("y"), **args)
    assert "\n" not in str(err.value)


def test_inf_at_a_valid_step_is_refused_with_its_position():
    x = np.zeros((20, 2, 5, 1))
    x[4, 1, 2, 0] = np.inf
    with pytest.raises(DataError, match=r"x\[4, 1, 2, 0\] = inf is not finite"):
        from_arrays(x, np.arange(20) % 2)


def test_to_npz_round_trips_through_load_data(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((30, 2, 6, 3))
    x[3, 1, 2:4] = np.nan
    ds = from_arrays(x, rng.standard_normal((30, 2, 4)), task="forecast", adjacency=np.eye(2), seed=5)
    to_npz(ds, tmp_path / "d.npz")
    back = load_data(str(tmp_path / "d.npz"), task="forecast")
    for name in ("x", "mask", "y", "adjacency"):
        np.testing.assert_array_equal(getattr(back, name), getattr(ds, name))
    assert all(np.array_equal(back.splits[k], ds.splits[k]) for k in ("train", "val", "test"))


def test_load_data_points_arrays_to_from_arrays():
    with pytest.raises(DataError, match=r"got ndarray of shape \(50, 7, 30, 1\); for arrays in memory use "
                                        r"attnpool.data.from_arrays") as err:
        load_data(np.random.randn(50, 7, 30, 1))
    assert len(str(err.value)) < 300
