"""DDP on 2 CPU processes (gloo) through the CLI, under a timeout (a broken loopback would hang for minutes)."""

import json
import os
import subprocess
import sys

import pytest


@pytest.mark.timeout(300)
def test_ddp_two_cpu_processes(tmp_path):
    run = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1", MASTER_ADDR="127.0.0.1", PYTHONWARNINGS="ignore")
    proc = subprocess.run(
        [sys.executable, "-m", "attnpool", "train", "synthetic:peaks", "--out", str(run), "--encoder", "linear",
         "--data-option", "samples=200", "--epochs", "2", "--batch-size", "32", "--no-progress", "--threads", "1",
         "--accelerator", "cpu", "--devices", "2", "--strategy", "ddp"],
        capture_output=True, text=True, timeout=280, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= metrics["test"]["accuracy"] <= 1.0
    assert (run / "checkpoints" / "last.ckpt").is_file()
    logged = (run / "logs").rglob("metrics.csv")
    assert any("val_loss" in p.read_text() for p in logged)


@pytest.mark.timeout(300)
def test_ddp_forecast_shards_the_windows(tmp_path):
    """A forecasting CSV (windows over a series) under DDP: each process builds its own training windows
    (DistributedSampler over the batch-wise loader), they cover the training part, and training finishes."""
    import numpy as np

    from attnpool.data import load_data

    start = np.datetime64("2024-01-01T00:00")
    lines = ["time,a,b,c"] + [
        f"{str(start + i * np.timedelta64(1, 'h')).replace('T', ' ')},{np.sin(i / 4):.4f},{np.cos(i / 6):.4f},"
        f"{i % 24}" for i in range(24 * 12)]
    csv = tmp_path / "hourly.csv"
    csv.write_text("\n".join(lines) + "\n")
    probe, run = tmp_path / "probe", tmp_path / "ddp"
    probe.mkdir()
    env = dict(os.environ, OMP_NUM_THREADS="1", MASTER_ADDR="127.0.0.1", PYTHONWARNINGS="ignore",
               PROBE_DIR=str(probe))
    script = os.path.join(os.path.dirname(__file__), "ddp_probe.py")
    proc = subprocess.run(
        [sys.executable, script, "train", str(csv), "--out", str(run), "--encoder", "linear", "--window", "12",
         "--horizon", "3", "--epochs", "1", "--batch-size", "8", "--no-progress", "--threads", "1",
         "--accelerator", "cpu", "--devices", "2", "--strategy", "ddp"],
        capture_output=True, text=True, timeout=280, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = [[int(i) for line in (probe / f"rank{r}.txt").read_text().split("\n") for i in line.split()]
            for r in (0, 1)]
    train = set(load_data(str(csv), window=12, horizon=3).splits["train"].tolist())
    assert all(seen[r] and set(seen[r]) <= train for r in (0, 1))
    # Disjoint shards (DistributedSampler pads an odd part with one repeat); together nearly all of train
    # (each process drops its last partial batch).
    assert len(set(seen[0]) & set(seen[1])) <= 1
    assert len(set(seen[0]) | set(seen[1])) >= len(train) - 2 * 8
    metrics = json.loads((run / "metrics.json").read_text())
    assert {"mae", "persistence_mae", "seasonal_naive_mae"} <= set(metrics["test"])
