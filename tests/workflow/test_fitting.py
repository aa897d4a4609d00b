"""Regression from NPZ and forecasting from a wide CSV through the training API: metrics with their baselines."""

import json

import numpy as np

from attnpool.train import TrainConfig, evaluate_run, fit, predict_run


def _quick(data, **kw):
    return TrainConfig(data=data, encoder="linear", epochs=4, batch_size=32, patience=4, progress=False, **kw)


def test_regress_from_npz_reports_baseline_and_original_units(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3, 12, 2)).astype(np.float32)
    y = (x[:, :, :, 0].max(axis=(1, 2)) * 10 + 500).astype(np.float32)[:, None]  # [S, 1], far from 0
    np.savez(tmp_path / "reg.npz", x=x, y=y)
    result = fit(_quick(str(tmp_path / "reg.npz")), tmp_path / "run", quiet=True)
    test = result.metrics["test"]
    assert {"mae", "rmse", "baseline_mae", "baseline_rmse"} <= set(test)
    assert test["mae"] < 100  # in the target's units: an untrained scale would be off by ~500
    assert evaluate_run(tmp_path / "run")["test"]["mae"] == test["mae"]


def test_forecast_from_wide_csv_shows_persistence(tmp_path):
    t = np.arange(400)
    rows = ["time,a,b,c"] + [f"{i},{np.sin(i / 5):.4f},{np.cos(i / 7):.4f},{np.sin(i / 3) * 2:.4f}" for i in t]
    (tmp_path / "wide.csv").write_text("\n".join(rows) + "\n")
    cfg = _quick(str(tmp_path / "wide.csv"), window=20, horizon=3)
    result = fit(cfg, tmp_path / "run", quiet=True)
    test = result.metrics["test"]
    assert {"mae", "rmse", "persistence_mae", "persistence_rmse"} <= set(test)
    assert test["persistence_mae"] > 0
    out = predict_run(tmp_path / "run", str(tmp_path / "wide.csv"), tmp_path / "pred.csv")
    header = out.read_text().splitlines()[0].split(",")
    assert header == ["sample", "node", "pred_1", "pred_2", "pred_3", "max_attention_step"]
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["task"] == "forecast" and saved["horizon"] == 3


def test_predict_on_a_few_new_samples(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 2, 8, 1)).astype(np.float32)
    y = (x[:, 0, :, 0].mean(1) > 0).astype(np.int64)
    np.savez(tmp_path / "train.npz", x=x, y=y, class_names=np.array(["low", "high"]))
    fit(_quick(str(tmp_path / "train.npz")), tmp_path / "run", quiet=True)
    np.savez(tmp_path / "new.npz", x=x[:3], y=y[:3])
    out = predict_run(tmp_path / "run", str(tmp_path / "new.npz"), tmp_path / "p.csv")
    lines = out.read_text().splitlines()
    assert len(lines) == 4 and lines[0].startswith("sample,predicted,p_low,p_high")
    assert evaluate_run(tmp_path / "run", str(tmp_path / "new.npz"))["all"]["n"] == 3


def test_limit_batches_caps_each_epoch_and_the_batch_rule_is_recorded(tmp_path, monkeypatch):
    import csv

    from attnpool.workflow import fitting

    asked = []
    real = fitting.evaluate_split
    monkeypatch.setattr(fitting, "evaluate_split", lambda *a, **kw: asked.append(kw) or real(*a, **kw))

    cfg = TrainConfig(data="synthetic:peaks", data_options={"samples": 300}, encoder="linear", epochs=3,
                      limit_batches=2, progress=False)
    result = fit(cfg, tmp_path / "run", quiet=True)
    assert result.metrics["steps"] == 6  # 3 epochs x 2 batches, not 3 x 13
    assert result.metrics["limited_to_batches"] == 2
    assert [kw["max_batches"] for kw in asked] == [2, 2]  # the final evaluation of val and test is capped too
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["batch_size"] is None and saved["resolved"]["schedule"]["batch_size"] == 16  # the rule, resolved beside
    assert saved["limit_batches"] == 2
    rows = list(csv.DictReader(open(tmp_path / "run" / "logs" / "metrics.csv")))
    assert max(int(r["step"]) for r in rows if r.get("step")) <= 6
    assert result.metrics["train_samples_per_second"] > 0 and result.metrics["seconds_to_first_batch"] > 0
