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
