"""benchmarks/uea_accuracy.py --quick: trains through attnpool.workflow.fit, appends JSONL rows, writes the report,
and a second call resumes (nothing left to do). MiniRocket is left out here (numba compiles it for minutes)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("aeon")

ROOT = Path(__file__).resolve().parents[2]


def _run(tmp_path):
    cmd = [sys.executable, str(ROOT / "benchmarks" / "uea_accuracy.py"), "--quick", "--no-minirocket", "--jobs", "1",
           "--jsonl", str(tmp_path / "runs.jsonl"), "--out", str(tmp_path / "report.md"), "--runs", str(tmp_path / "r")]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_quick_run_writes_rows_and_report_then_resumes(tmp_path):
    out = _run(tmp_path)
    assert "2 attnpool runs and 0 MiniRocket fits to do" in out
    rows = [json.loads(line) for line in (tmp_path / "runs.jsonl").read_text().splitlines()]
    assert [(r["set"], r["seed"], r["method"], r["optimizer_steps"]) for r in rows] == [
        ("ItalyPowerDemand", 0, "attention-mean", 8), ("ItalyPowerDemand", 0, "mean", 8)]  # 6 steps -> 2 epochs of 4
    assert all(0.0 <= r["accuracy"] <= 1.0 and r["train_seconds"] > 0 for r in rows)
    assert rows[0]["gate_share"] is not None and rows[1]["gate_share"] is None
    # the rules' values (ItalyPowerDemand: T=24, 67 train samples: stride 1, no shift, 3 members) and the cost
    assert all(r["recipe"] == "R7" and (r["stride"], r["shift"], r["members"]) == (1, 0, 3) for r in rows)
    assert all(r["log_scaled"] == 0 for r in rows)  # standardised, signed values: the log rule does not fire
    # T = 24: no shift to probe, only the summary head (one candidate, the run's own augmentations)
    assert all(set(r["probe"]["accuracy"]) == {"auto"} == set(r["probe"]["summary_accuracy"]) for r in rows)
    assert all(r["probe_seconds"] > 0 and r["probe"]["distribution"] in (0, 33) for r in rows)
    assert all((r["probe"]["distribution"] > 0) == (r["probe"]["summary_weight"] > 0) for r in rows)
    assert rows[0]["augment"] == ["scale", "jitter", "mixup"]
    assert all(r["cpu_seconds"] > 0 and r["load_average_start"] >= 0 for r in rows)
    report = (tmp_path / "report.md").read_text()
    assert "Command: `python " in report and "--quick" in report
    assert "| ItalyPowerDemand | 0." in report and "Checks (issue 9):" in report
    probe = rows[0]["probe"]
    share = f"summary {probe['summary_weight']:.2f}" if probe["distribution"] else "off"
    assert (f"| ItalyPowerDemand | attention-mean | 1 | 2 (8) | 3 | 0 | net {probe['accuracy']['auto']:.2f} / summary "
            f"{probe['summary_accuracy']['auto']:.2f} -> {share} |") in report
    assert "0 attnpool runs and 0 MiniRocket fits to do (2 already in" in _run(tmp_path)
