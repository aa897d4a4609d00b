import numpy as np
import pytest
import torch

import attnpool
from attnpool.data import DataError, TimeSeriesSet, load_data, make_loader
from attnpool.data.splits import chronological_split, random_split

from .helpers import write_npz


@pytest.fixture
def peaks():
    return load_data("synthetic:peaks", samples=120)


def test_loader_batches(peaks):
    batch = next(iter(make_loader(peaks, "train", batch_size=16, shuffle=True, seed=0)))
    assert batch["x"].shape == (16, 7, 30, 1) and batch["x"].dtype == torch.float32
    assert batch["mask"].shape == (16, 7, 30) and batch["mask"].dtype == torch.bool and batch["mask"].all()
    assert batch["y"].shape == (16,) and batch["y"].dtype == torch.int64
    assert set(batch["index"].tolist()) <= set(peaks.splits["train"].tolist())
    np.testing.assert_array_equal(batch["x"].numpy(), peaks.x[batch["index"].numpy()])


def test_loader_covers_split_once_and_is_seeded(peaks):
    def order(seed):
        return torch.cat([b["index"] for b in make_loader(peaks, "val", 7, shuffle=True, seed=seed)]).tolist()

    assert sorted(order(0)) == sorted(peaks.splits["val"].tolist())
    assert order(0) == order(0) and order(0) != order(1)
    plain = torch.cat([b["index"] for b in make_loader(peaks, "test", 7, shuffle=False)]).tolist()
    assert plain == peaks.splits["test"].tolist()


def test_loader_masks_and_forecast_targets(tmp_path):
    x = np.random.default_rng(0).standard_normal((20, 2, 5, 1))
    mask = np.ones((20, 2, 5), bool)
    mask[0, 1, 3] = False
    ds = load_data(str(write_npz(tmp_path / "d.npz", x=x, y=np.zeros((20, 2, 3)), mask=mask)), task="forecast")
    batch = next(iter(make_loader(ds, "train", batch_size=20)))
    assert batch["y"].shape[1:] == (2, 3) and batch["y"].dtype == torch.float32
    assert batch["mask"].sum() == batch["mask"].numel() - (0 in ds.splits["train"])
    with pytest.raises(DataError, match="split must be one of"):
        make_loader(ds, "holdout", 4)


def test_subset_remaps_splits_and_meta(peaks):
    idx = np.concatenate([peaks.splits["test"][:3], peaks.splits["train"][:2]])
    sub = peaks.subset(idx)
    assert len(sub) == 5
    assert sub.splits["test"].tolist() == [0, 1, 2] and sub.splits["train"].tolist() == [3, 4]
    assert len(sub.splits["val"]) == 0
    np.testing.assert_array_equal(sub.meta["peak_start"], peaks.meta["peak_start"][idx])
    assert sub.meta["peak_width"] == peaks.meta["peak_width"]
    train = peaks.split("train")
    assert len(train) == len(peaks.splits["train"]) and len(train.splits["train"]) == len(train)


def test_summary_and_sizes(peaks):
    text = peaks.summary()
    assert text.startswith("synthetic:peaks: classify, 120 samples (train 84 / val 18 / test 18), 7 nodes x 30 steps")
    assert text.count("\n") <= 1
    assert (peaks.n_nodes, peaks.n_steps, peaks.n_features, peaks.n_classes) == (7, 30, 1, 7)
    assert peaks.target_shape == ()


def test_per_node_regress_targets_keep_their_units(tmp_path):
    y = np.random.default_rng(0).normal(3, 2, (40, 3, 4))  # regress per node: [S, N, D]
    ds = load_data(str(write_npz(tmp_path / "d.npz", y=y)))
    assert ds.task == "regress" and ds.target_shape == (3, 4)
    np.testing.assert_allclose(ds.y, y, rtol=1e-6)
    np.testing.assert_allclose(ds.baseline[0], y[ds.splits["train"]].mean(0), rtol=1e-5)


def test_classify_baseline_is_training_majority(tmp_path):
    y = np.array([0] * 30 + [1] * 10)
    ds = load_data(str(write_npz(tmp_path / "d.npz", y=y)))
    assert (ds.baseline == 0).all() and ds.baseline.dtype == np.int64


def test_split_helpers():
    parts = random_split(100, (0.7, 0.15, 0.15), 0, labels=np.arange(100) % 5)
    assert [len(parts[k]) for k in ("train", "val", "test")] == [70, 15, 15]
    for k in parts:
        assert np.bincount(np.arange(100)[parts[k]] % 5).min() > 0
    chrono = chronological_split(20, (0.5, 0.25, 0.25), gap=2)
    assert chrono["train"].tolist() == list(range(10))
    assert chrono["val"].tolist() == [12, 13, 14, 15, 16]
    assert chrono["test"].tolist() == [19]


def test_import_attnpool_stays_light():
    import subprocess
    import sys

    code = "import sys, attnpool.data; print('aeon' in sys.modules, 'lightning' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
    assert isinstance(attnpool.data.TimeSeriesSet, type) and TimeSeriesSet is attnpool.data.TimeSeriesSet
