"""`attnpool demo --walkthrough-only` replays the spec: the shapes it prints, the weights of sequence 0."""

import re
import subprocess
import sys


def test_walkthrough_prints_spec_shapes():
    proc = subprocess.run(
        [sys.executable, "-m", "attnpool", "demo", "--walkthrough-only", "--threads", "1"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    shapes = re.findall(r"\[\d+(?:, \d+)*\]", proc.stdout)
    assert shapes[:5] == ["[14, 30, 32]", "[14, 30, 1]", "[14, 30, 1]", "[14, 30, 32]", "[14, 32]"]
    weights = [float(w) for w in re.findall(r"step +\d+: weight ([0-9.]+)", proc.stdout)]
    assert len(weights) == 30
    assert abs(sum(weights) - 1.0) < 1e-3
    assert proc.stdout.count("<- largest") == 1
    top = int(re.search(r"largest at step (\d+)", proc.stdout).group(1))
    assert weights[top] == max(weights)
    assert "attention:" in proc.stdout and "mean:" in proc.stdout
