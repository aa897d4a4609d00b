"""benchmarks/read_speed.py on tiny files runs end to end and writes its table (a smoke test, ~20 s: one
process per reader, each importing attnpool; the slow row-by-row reader is skipped)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("/usr/bin/time") is None, reason="needs /usr/bin/time -v")
def test_read_speed_tiny(tmp_path):
    pytest.importorskip("pyarrow")
    out = tmp_path / "read.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "read_speed.py"), "--dir", str(tmp_path / "d"), "--steps", "60",
         "--nodes", "4", "--npy-steps", "50", "--npy-nodes", "3", "--skip-rows", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert "--npy-steps 50" in text
    for row in ("| csv | wide_4x60.csv |", "| parquet | wide.parquet |", "| parquet | long.parquet |",
                "| npy | series_50x3.npy |"):
        assert row in text
    assert text.count("(60, 4, 1) float64 ndarray") == 3 and "(50, 3, 1) float32 memmap" in text
    assert not (tmp_path / "d" / "series_50x3.npy").exists()  # the .npy is deleted after its run
