"""Training, evaluation, prediction and explanation of a forecasting set over a series build windows batch by
batch (never the whole set), and streamed metrics equal the one-shot metrics on materialised arrays."""

import csv

import numpy as np
import pytest
import torch

from attnpool.data import load_data
from attnpool.data.windows import WindowArray
from attnpool.models import SpatioTemporalNet
from attnpool.train import TrainConfig
from attnpool.train.metrics import regression_metrics
from attnpool.workflow import evaluate_run, explain_run, fit, predict_run
from attnpool.workflow.predict import evaluate_split


def hourly_csv(path, days=10, blank=()):
    start = np.datetime64("2024-01-01T00:00")
    lines = ["time,a,b"]
    for i in range(24 * days):
        a, b = f"{10 + 3 * np.sin(2 * np.pi * i / 24):.3f}", f"{np.cos(i / 5):.3f}"
        if (i, "a") in blank:
            a = ""
        lines.append(f"{str(start + i * np.timedelta64(1, 'h')).replace('T', ' ')},{a},{b}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture
def no_whole_materialisation(monkeypatch):
    """Any np.asarray of a whole WindowArray (every window at once) fails the test."""
    def refuse(self, dtype=None, copy=None):
        raise AssertionError(f"a whole {self!r} was materialised")

    monkeypatch.setattr(WindowArray, "__array__", refuse)


def test_fit_evaluate_predict_explain_build_windows_per_batch(tmp_path, no_whole_materialisation):
    data = hourly_csv(tmp_path / "h.csv", blank={(30, "a"), (31, "a")})
    cfg = TrainConfig(data=data, encoder="linear", epochs=1, batch_size=16, window=12, horizon=3, progress=False,
                      threads=1)
    result = fit(cfg, tmp_path / "run", quiet=True)
    test = result.metrics["test"]
    assert {"mae", "rmse", "persistence_mae", "persistence_rmse", "seasonal_naive_mae", "seasonal_naive_rmse"} <= set(test)
    assert test["seasonal_naive_mae"] < test["persistence_mae"]  # a daily sine: the day before is the better guess
    assert evaluate_run(tmp_path / "run")["test"] == test
    out = predict_run(tmp_path / "run", data, tmp_path / "pred.csv")
    rows = list(csv.reader(out.open()))
    ds = load_data(data, window=12, horizon=3, split=(1.0, 0.0, 0.0))
    assert len(rows) == 1 + 2 * len(ds) and rows[1][:2] == ["0", "a"] and rows[-1][0] == str(len(ds) - 1)
    explained = explain_run(tmp_path / "run", None, tmp_path / "explain", largest_errors=3)
    assert len(explained["figures"]) == 3 and len(explained["indices"]) == 3
    weights = list(csv.DictReader((tmp_path / "explain" / "weights.csv").open()))
    assert {r["sample"] for r in weights} == {str(i) for i in explained["indices"]}


def _model(ds, seed=0):
    torch.manual_seed(seed)
    model = SpatioTemporalNet(ds.n_nodes, ds.n_features, ds.task, int(ds.y.shape[-1]), encoder="linear").eval()
    model.set_normalization(*ds.split("train").windows.input_statistics())
    return model


def test_streamed_metrics_equal_one_shot_metrics(tmp_path):
    ds = load_data(hourly_csv(tmp_path / "h.csv", blank={(50, "a")}), window=12, horizon=4)
    model = _model(ds)
    part = ds.split("test")
    x, mask, y = (np.asarray(getattr(part, k)) for k in ("x", "mask", "y"))
    with torch.no_grad():
        pred = model(torch.from_numpy(x), torch.from_numpy(mask))[0].numpy()
    seasonal = part.batch(np.arange(len(part)), ("seasonal_naive",))["seasonal_naive"]
    expected = regression_metrics(y, pred, np.asarray(part.baseline), baseline_name="persistence")
    expected.update({k.replace("persistence", "seasonal_naive"): v for k, v in
                     regression_metrics(y, pred, seasonal, baseline_name="persistence").items() if "_" in k})
    got = evaluate_split(model, ds, "test", batch_size=7)
    assert set(got) == set(expected) and got["n"] == len(part)
    for k in expected:
        assert got[k] == pytest.approx(expected[k], rel=1e-5), k
    # max_batches: the first batches of the part, in order
    first = evaluate_split(model, ds, "test", batch_size=7, max_batches=2)
    assert first["n"] == 14
    assert first["mae"] == pytest.approx(float(np.abs(pred[:14] - y[:14]).mean()), rel=1e-5)
    with pytest.raises(Exception, match="max_batches must be a positive int"):
        evaluate_split(model, ds, "test", max_batches=0)


def test_in_memory_sets_evaluate_as_before(tmp_path):
    """A set in memory (NPZ) goes through the same batch path: metrics equal the one-shot computation."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 2, 6, 1)).astype(np.float32)
    np.savez(tmp_path / "r.npz", x=x, y=x.mean(axis=(1, 2, 3))[:, None] * 3)
    ds = load_data(str(tmp_path / "r.npz"))
    torch.manual_seed(0)
    model = SpatioTemporalNet(2, 1, "regress", 1, encoder="linear").eval()
    part = ds.split("test")
    with torch.no_grad():
        pred = model(torch.from_numpy(part.x))[0].numpy()
    expected = regression_metrics(part.y, pred, part.baseline)
    got = evaluate_split(model, ds, "test", batch_size=4)
    for k in expected:
        assert got[k] == pytest.approx(expected[k], rel=1e-6), k


def test_inference_batches_shrink_for_wide_sets():
    from types import SimpleNamespace

    from attnpool.workflow.predict import NODE_STEPS_PER_BATCH, inference_batch_size

    assert inference_batch_size(SimpleNamespace(n_nodes=7, n_steps=30)) == 256
    assert inference_batch_size(SimpleNamespace(n_nodes=207, n_steps=12)) == NODE_STEPS_PER_BATCH // 2484 == 52
    assert inference_batch_size(SimpleNamespace(n_nodes=10_000, n_steps=12)) == 1
    assert inference_batch_size(SimpleNamespace(n_nodes=10**7, n_steps=12)) == 1
    assert inference_batch_size(SimpleNamespace(n_nodes=10_000, n_steps=12), 64) == 64
    with pytest.raises(Exception, match="batch_size must be a positive int or None"):
        inference_batch_size(SimpleNamespace(n_nodes=3, n_steps=4), 0)
