import csv

import numpy as np
import pytest

from attnpool.explain.compare import summarize_runs, write_compare_table


def _results():
    return [
        {"pool": "attention", "seed": 0, "test": {"accuracy": 0.9, "macro_f1": 0.8}, "train_seconds": 10.0,
         "pointing_accuracy": 0.95},
        {"pool": "mean", "seed": 0, "test": {"accuracy": 0.6, "macro_f1": 0.5}, "train_seconds": 8.0,
         "pointing_accuracy": None},
        {"pool": "attention", "seed": 1, "test": {"accuracy": 1.0, "macro_f1": 1.0}, "train_seconds": 12.0,
         "pointing_accuracy": 0.85},
        {"pool": "attention", "seed": 2, "test": {"accuracy": 0.8, "macro_f1": 0.9}, "train_seconds": 11.0,
         "pointing_accuracy": 0.9},
    ]


def test_summarize_runs_mean_and_sample_std_in_first_seen_order():
    rows = summarize_runs(_results())
    assert [row["pool"] for row in rows] == ["attention", "mean"]
    attention, mean = rows
    assert attention["n"] == 3 and attention["seeds"] == [0, 1, 2]
    assert attention["accuracy_mean"] == pytest.approx(0.9)
    assert attention["accuracy_std"] == pytest.approx(np.std([0.9, 1.0, 0.8], ddof=1))
    assert attention["macro_f1_std"] == pytest.approx(0.1)
    assert attention["train_seconds_mean"] == pytest.approx(11.0)
    assert attention["train_seconds_std"] == pytest.approx(1.0)
    assert attention["pointing_accuracy_mean"] == pytest.approx(0.9)
    # One seed: std 0, not NaN; a metric the pooling lacks: None.
    assert mean["n"] == 1 and mean["accuracy_mean"] == 0.6 and mean["accuracy_std"] == 0.0
    assert mean["pointing_accuracy_mean"] is None and mean["pointing_accuracy_std"] is None
    keys = [key for key in attention if key.endswith("_mean")]
    assert keys == ["accuracy_mean", "macro_f1_mean", "train_seconds_mean", "pointing_accuracy_mean"]


def test_summarize_runs_refuses_bad_results():
    with pytest.raises(ValueError, match="non-empty"):
        summarize_runs([])
    with pytest.raises(ValueError, match="'pool'"):
        summarize_runs([{"seed": 0}])
    with pytest.raises(ValueError, match="seed 0 twice"):
        summarize_runs([{"pool": "mean", "seed": 0, "test": {}}] * 2)


def test_write_compare_table_writes_markdown_csv_and_png(tmp_path):
    pytest.importorskip("matplotlib")
    rows = summarize_runs(_results())
    paths = write_compare_table(rows, tmp_path / "out", "synthetic:peaks", "attnpool compare synthetic:peaks --seeds 3")
    assert set(paths) == {"md", "csv", "png"}
    md = paths["md"].read_text()
    assert md.startswith("# synthetic:peaks\n")
    assert "`attnpool compare synthetic:peaks --seeds 3`" in md
    assert "Seeds per pooling: 1 / 3" in md
    assert "| pooling | seeds | accuracy | macro_f1 | train time (s) | pointing_accuracy |" in md
    assert "| attention | 3 | 0.900 ± 0.100 | 0.900 ± 0.100 | 11.0 ± 1.0 | 0.900 ± 0.050 |" in md
    assert "| mean | 1 | 0.600 ± 0.000 | 0.500 ± 0.000 | 8.0 ± 0.0 | – |" in md
    with paths["csv"].open() as fh:
        table = list(csv.DictReader(fh))
    assert [r["pool"] for r in table] == ["attention", "mean"]
    assert float(table[0]["accuracy_std"]) == pytest.approx(0.1)
    assert table[1]["pointing_accuracy_mean"] == ""
    assert paths["png"].read_bytes().startswith(b"\x89PNG")


def test_write_compare_table_main_metric_is_mae_for_regression(tmp_path):
    pytest.importorskip("matplotlib")
    results = [{"pool": p, "seed": s, "test": {"mae": 1.0 + s, "rmse": 2.0}, "train_seconds": 1.0}
               for p in ("attention", "last") for s in range(2)]
    paths = write_compare_table(summarize_runs(results), tmp_path, "t", "cmd")
    assert "| attention | 2 | 1.500 ± 0.707 | 2.000 ± 0.000 | 1.0 ± 0.0 |" in paths["md"].read_text()
    with pytest.raises(ValueError, match="metric must be one of"):
        write_compare_table(summarize_runs(results), tmp_path, "t", "cmd", metric="accuracy")
