"""`attnpool compare` trains every pooling with the same budget and writes the table, CSV, chart and results."""

import csv
import json

import pytest

from ..cli_helpers import TINY, attnpool


@pytest.mark.slow
def test_compare_writes_table_csv_and_chart(tmp_path):
    out = tmp_path / "cmp"
    proc = attnpool("compare", "synthetic:peaks", "--pools", "attention,mean", "--seeds", "2", "--out", out,
                    "--encoder", "linear", *TINY)
    assert proc.returncode == 0, proc.stderr
    table = (out / "compare.md").read_text()
    assert "attnpool compare synthetic:peaks" in table
    assert "| attention |" in table and "| mean |" in table and "±" in table
    rows = list(csv.DictReader((out / "compare.csv").open()))
    assert [r["pool"] for r in rows] == ["attention", "mean"]
    assert all(r["n"] == "2" for r in rows)
    assert (out / "compare.png").read_bytes()[:4] == b"\x89PNG"
    assert "[4/4]" in proc.stderr  # the progress display counted every run
    results = json.loads((out / "results.json").read_text())
    assert sorted((r["pool"], r["seed"]) for r in results) == [("attention", 0), ("attention", 1), ("mean", 0), ("mean", 1)]
