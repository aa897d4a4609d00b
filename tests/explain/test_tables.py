"""Weights and statistics as rows and CSV files."""

import csv
import math

import numpy as np
import pytest

from attnpool.explain.stats import attention_stats
from attnpool.explain.tables import weights_table, write_stats_csv, write_weights_csv


def test_weights_csv_has_one_row_per_valid_step(tmp_path):
    weights = np.array([[[0.25, 0.75], [1.0, 0.0]]])  # [1, 2, 2]
    mask = np.array([[[True, True], [True, False]]])
    rows = weights_table(weights, sample_ids=[17], node_names=["left", "right"], mask=mask)
    assert rows == [(17, "left", 0, 0.25), (17, "left", 1, 0.75), (17, "right", 0, 1.0)]
    path = write_weights_csv(tmp_path / "sub" / "weights.csv", weights, [17], ["left", "right"], mask)
    with path.open() as fh:
        table = list(csv.reader(fh))
    assert table == [
        ["sample", "node", "step", "weight"],
        ["17", "left", "0", "0.25"],
        ["17", "left", "1", "0.75"],
        ["17", "right", "0", "1"],
    ]
    assert len(weights_table(weights)) == 4  # default labels 0.., no mask


def test_stats_csv_matches_attention_stats(tmp_path):
    weights = np.array([[[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]], [[0.25] * 4, [0.0] * 4]])
    stats = attention_stats(weights)
    path = write_stats_csv(tmp_path / "stats.csv", stats, sample_ids=["a", "b"], node_names=["x", "y"])
    with path.open() as fh:
        table = list(csv.DictReader(fh))
    assert list(table[0]) == ["sample", "node", "entropy", "effective_steps", "argmax_step", "max_weight"]
    assert [(r["sample"], r["node"]) for r in table] == [("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")]
    assert float(table[0]["entropy"]) == pytest.approx(math.log(2), rel=1e-7)
    assert float(table[0]["effective_steps"]) == 2.0
    assert table[1]["argmax_step"] == "3"
    assert float(table[2]["effective_steps"]) == 4.0
    assert table[3]["argmax_step"] == "-1"
    with pytest.raises(ValueError, match="node_names"):
        write_stats_csv(tmp_path / "bad.csv", stats, node_names=["only one"])
    with pytest.raises(KeyError, match="entropy"):
        write_stats_csv(tmp_path / "bad.csv", {"max_weight": stats["max_weight"]})
