"""benchmarks/data_scale.py --quick: the CSV part end to end on a tiny traffic-like file (a generated wide CSV,
load_data in its own process, `attnpool train` with --limit-batches), rows and report written where asked."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_csv_part_writes_a_row_with_memory_and_baselines(tmp_path):
    cmd = [sys.executable, str(ROOT / "benchmarks" / "data_scale.py"), "--part", "csv", "--quick", "--work",
           str(tmp_path / "w"), "--jsonl", str(tmp_path / "rows.jsonl")]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (row,) = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert (row["nodes"], row["steps"], row["limit_batches"]) == (5, 700, 5)
    assert row["train_peak_rss_mb"] > 50 and row["train_peak_anon_mb"] > 10 and row["load_seconds"] > 0
    assert row["batch_size"] == 16 and row["windows_per_s"] > 0 and row["seconds_to_first_batch"] > 0
    assert {"mae", "persistence_mae", "seasonal_naive_mae"} <= set(row["test"])  # 5-minute steps: a day's season
    report = (tmp_path / "rows.md").read_text()
    assert "Wide CSV" in report and "5 x 700" in report
