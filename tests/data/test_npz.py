import numpy as np
import pytest

from attnpool.data import DataError, load_data

from .helpers import write_npz


def test_classify_npz_round_trip(tmp_path):
    path = write_npz(tmp_path / "d.npz", node_names=np.array(["a", "b", "c"]), class_names=np.array(["u", "v", "w"]))
    ds = load_data(str(path))
    assert ds.task == "classify"
    assert ds.x.shape == (40, 3, 8, 2) and ds.x.dtype == np.float32
    assert ds.y.dtype == np.int64 and ds.y.shape == (40,)
    assert ds.node_names == ["a", "b", "c"] and ds.class_names == ["u", "v", "w"] and ds.n_classes == 3
    assert ds.feature_names == ["f0", "f1"]
    assert ds.mask is None
    parts = np.concatenate([ds.splits[k] for k in ("train", "val", "test")])
    assert sorted(parts.tolist()) == list(range(40))
    assert [len(ds.splits[k]) for k in ("train", "val", "test")] == [28, 6, 6]
    # Stratified: every class in every part.
    for k in ("train", "val", "test"):
        assert set(ds.y[ds.splits[k]].tolist()) == {0, 1, 2}


def test_split_is_seeded(tmp_path):
    path = str(write_npz(tmp_path / "d.npz"))
    a, b, c = load_data(path, seed=1), load_data(path, seed=1), load_data(path, seed=2)
    assert all(np.array_equal(a.splits[k], b.splits[k]) for k in a.splits)
    assert not all(np.array_equal(a.splits[k], c.splits[k]) for k in a.splits)


def test_float_y_infers_regress_in_original_units(tmp_path):
    # Normalisation belongs to the model (tests/models/test_network.py); the data keeps the file's units.
    rng = np.random.default_rng(1)
    y = rng.normal(5.0, 3.0, size=(40, 2)).astype(np.float32)
    path = write_npz(tmp_path / "d.npz", y=y)
    ds = load_data(str(path))
    assert ds.task == "regress" and ds.y.shape == (40, 2)
    train = ds.splits["train"]
    np.testing.assert_array_equal(ds.y, y)
    # Baseline: the training mean, in original units.
    np.testing.assert_allclose(ds.baseline, np.broadcast_to(y[train].mean(0), y.shape), rtol=1e-5)


def test_given_split_is_kept_and_x_is_unchanged(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((40, 2, 6, 1))
    split = np.array(["train"] * 20 + ["val"] * 10 + ["test"] * 10)
    x[20:] += 100.0
    path = write_npz(tmp_path / "d.npz", x=x, y=np.arange(40) % 2, split=split)
    ds = load_data(str(path))
    np.testing.assert_allclose(ds.x, x.astype(np.float32))
    assert ds.x[20:].mean() > 50
    np.testing.assert_array_equal(ds.splits["train"], np.arange(20))


def test_masked_steps_are_zero(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((30, 2, 5, 1))
    mask = np.ones((30, 2, 5), dtype=bool)
    mask[:, :, -1] = False
    x[:, :, -1] = np.nan  # NaN is fine where the mask says invalid
    split = np.array([0] * 20 + [1] * 5 + [2] * 5)
    path = write_npz(tmp_path / "d.npz", x=x, mask=mask, split=split, y=np.arange(30) % 2)
    ds = load_data(str(path))
    assert np.isfinite(ds.x).all()
    assert (ds.x[:, :, -1] == 0).all()
    np.testing.assert_allclose(ds.x[:, :, :-1], x[:, :, :-1].astype(np.float32))


def test_given_split_without_val_trains_whole_unless_fractions_ask_for_val(tmp_path):
    split = np.array(["train"] * 30 + ["test"] * 10)
    path = str(write_npz(tmp_path / "d.npz", split=split))
    ds = load_data(path)  # split=None: the shipped train part stays whole
    np.testing.assert_array_equal(ds.splits["test"], np.arange(30, 40))
    np.testing.assert_array_equal(ds.splits["train"], np.arange(30))
    assert len(ds.splits["val"]) == 0
    carved = load_data(path, split=(0.7, 0.15, 0.15))
    np.testing.assert_array_equal(carved.splits["test"], np.arange(30, 40))
    assert len(carved.splits["val"]) > 0
    assert set(carved.splits["val"]) | set(carved.splits["train"]) == set(range(30))


def test_string_labels_and_adjacency(tmp_path):
    y = np.array(["cat", "dog"] * 20)
    ds = load_data(str(write_npz(tmp_path / "d.npz", y=y, adjacency=np.eye(3))))
    assert ds.class_names == ["cat", "dog"]
    assert ds.y.tolist() == [0, 1] * 20
    assert ds.adjacency.dtype == np.float32 and ds.adjacency.shape == (3, 3)


def test_forecast_task_from_npz_persistence(tmp_path):
    x = np.arange(20 * 2 * 4, dtype=np.float64).reshape(20, 2, 4, 1)
    y = x[:, :, -1:, 0] + 1.0  # [S, N, 1]
    ds = load_data(str(write_npz(tmp_path / "d.npz", x=x, y=y)), task="forecast")
    np.testing.assert_allclose(ds.baseline, x[:, :, -1:, 0], rtol=1e-5)


@pytest.mark.parametrize(
    "arrays, message",
    [
        (dict(x=np.zeros((40, 3, 8))), "x must have 4 axes [S, N, T, F], got shape (40, 3, 8)"),
        (dict(y=np.arange(39) % 3), "classify y must have shape [S] = (40,), got (39,)"),
        (dict(y=np.array([0] * 39 + [-1])), "labels out of range"),
        (dict(class_names=np.array(["a", "b"])), "labels out of range: expected [0, 2), got 2"),
        (dict(mask=np.ones((40, 3, 7), bool)), "mask must have shape [S, N, T] = (40, 3, 8), got (40, 3, 7)"),
        (dict(adjacency=np.eye(2)), "adjacency must have shape [N, N] = (3, 3), got (2, 2)"),
        (dict(node_names=np.array(["a"])), "node_names must have 3 entries, got 1"),
        (dict(y=None), "missing array 'y'"),
        (dict(split=np.array([5] * 40)), "split values must be 0 (train), 1 (val), 2 (test)"),
    ],
)
def test_bad_arrays(tmp_path, arrays, message):
    path = write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError) as err:
        load_data(str(path))
    text = str(err.value)
    assert message in text and str(path) in text and "\n" not in text


def test_nan_at_valid_step(tmp_path):
    x = np.zeros((40, 3, 8, 2))
    x[4, 1, 6, 0] = np.inf
    with pytest.raises(DataError, match=r"x\[4, 1, 6, 0\] = inf is not finite in float32 \(1 steps"):
        load_data(str(write_npz(tmp_path / "bad.npz", x=x)))


def test_nan_in_regress_y(tmp_path):
    y = np.ones((40, 1))
    y[3] = np.nan
    with pytest.raises(DataError, match=r"y\[3, 0\] = nan is not finite in float32 \(1 such"):
        load_data(str(write_npz(tmp_path / "bad.npz", y=y)))


def test_too_few_samples_for_split(tmp_path):
    with pytest.raises(DataError, match=r"too few samples for the split .*3 samples give train 3, val 0"):
        load_data(str(write_npz(tmp_path / "small.npz", S=3, classes=1)))


def test_empty_truncated_missing_files(tmp_path):
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="empty.npz: file is empty"):
        load_data(str(empty))
    good = write_npz(tmp_path / "good.npz")
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DataError, match="cut.npz: truncated or corrupt NPZ file"):
        load_data(str(cut))
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"hello world")
    with pytest.raises(DataError, match="junk.npz: not an NPZ archive"):
        load_data(str(junk))
    single = tmp_path / "single.npz"
    with open(single, "wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(DataError, match="single.npz: a single .npy array, not an NPZ archive"):
        load_data(str(single))
    with pytest.raises(DataError, match="nothere.npz: file not found"):
        load_data(str(tmp_path / "nothere.npz"))


def test_object_arrays_are_refused(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, x=np.zeros((10, 1, 2, 1)), y=np.zeros(10, int), node_names=np.array([["a"], "b"], dtype=object))
    with pytest.raises(DataError, match="object array"):
        load_data(str(path))


def test_bad_arguments(tmp_path):
    path = str(write_npz(tmp_path / "d.npz"))
    with pytest.raises(DataError, match="task must be one of"):
        load_data(path, task="cluster")
    with pytest.raises(DataError, match="split must be three fractions >= 0 summing to 1"):
        load_data(path, split=(0.5, 0.5, 0.5))
    with pytest.raises(DataError, match="nodes= groups UEA channels"):
        load_data(path, nodes=2)
    with pytest.raises(DataError, match="unknown source"):
        load_data(str(tmp_path / "d.feather"))
