"""Metrics accumulated batch by batch equal the one-shot functions on the concatenated batches."""

import numpy as np
import pytest

from attnpool.train.metrics import classification_metrics, regression_metrics
from attnpool.train.running_metrics import RunningClassification, RunningRegression


def test_running_classification_equals_one_shot():
    rng = np.random.default_rng(0)
    truth, pred = rng.integers(0, 4, 103), rng.integers(0, 4, 103)
    pred[truth == 3] = 0  # class 3 never predicted
    running = RunningClassification(5)  # class 4 neither true nor predicted: left out of macro-F1
    for start in range(0, 103, 10):
        running.update(truth[start : start + 10], pred[start : start + 10])
    expected, got = classification_metrics(truth, pred, 5), running.result()
    assert got["n"] == expected["n"] == 103
    assert got["accuracy"] == pytest.approx(expected["accuracy"])
    assert got["macro_f1"] == pytest.approx(expected["macro_f1"])


def test_running_regression_equals_one_shot_with_baselines():
    rng = np.random.default_rng(1)
    y, pred, base = (rng.normal(size=(50, 3, 4)) for _ in range(3))
    running = RunningRegression(["persistence"])
    for start in range(0, 50, 8):
        part = slice(start, start + 8)
        running.update(y[part], pred[part], {"persistence": base[part]})
    expected = regression_metrics(y, pred, base, baseline_name="persistence")
    got = running.result()
    assert set(got) == set(expected) and got["n"] == 50
    for k in expected:
        assert got[k] == pytest.approx(expected[k], rel=1e-12)


def test_nothing_seen_is_nan_not_an_error():
    got = RunningRegression(["baseline"]).result()
    assert got["n"] == 0 and np.isnan(got["mae"]) and np.isnan(got["baseline_rmse"])
    assert np.isnan(RunningClassification(3).result()["accuracy"])
