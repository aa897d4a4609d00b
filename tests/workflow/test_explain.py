"""`attnpool explain` on a tiny run: figures, weights and statistics exist, are non-empty, and say the right things."""

import csv
import json

from ..cli_helpers import attnpool


def test_explain_writes_figures_weights_and_stats(tiny_run, tmp_path):
    run, _ = tiny_run
    out = tmp_path / "explain"
    proc = attnpool("explain", run, "--out", out, "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    figures = sorted(out.glob("sample_*.png"))
    assert figures
    assert all(f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f.stat().st_size > 5000 for f in figures)
    rows = list(csv.DictReader((out / "weights.csv").open()))
    assert set(rows[0]) == {"sample", "node", "step", "weight"}
    per_node = {}
    for r in rows:
        per_node[(r["sample"], r["node"])] = per_node.get((r["sample"], r["node"]), 0.0) + float(r["weight"])
    assert all(abs(v - 1) < 1e-4 for v in per_node.values())
    stats = list(csv.DictReader((out / "stats.csv").open()))
    assert {"entropy", "effective_steps", "argmax_step"} <= set(stats[0])
    summary = json.loads((out / "summary.json").read_text())
    assert 0.0 <= summary["pointing_accuracy"] <= 1.0


def test_explain_chosen_samples_and_bad_sample(tiny_run, tmp_path):
    run, _ = tiny_run
    proc = attnpool("explain", run, "--out", tmp_path / "e", "--samples", "0,3", "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "e").glob("*.png")) == ["sample_0.png", "sample_3.png"]
    proc = attnpool("explain", run, "--out", tmp_path / "e2", "--samples", "9999", "--threads", "1")
    assert proc.returncode == 2 and "--samples must be in [0," in proc.stderr and "Traceback" not in proc.stderr
