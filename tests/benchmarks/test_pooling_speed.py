"""benchmarks/pooling_speed.py --quick runs end to end and writes its report (a smoke test, a few seconds)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_quick_writes_report(tmp_path):
    out = tmp_path / "quick.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "pooling_speed.py"), "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert "Command: `" in text and "--quick" in text
    assert "| spec eager |" in text and "ours (auto)" in text and "floor: feat.sum()" in text
    assert "threads: torch.get_num_threads() = 2" in text
    assert "MB |" in text  # the memory subprocess ran
