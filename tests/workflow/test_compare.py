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


def test_compare_trains_the_poolings_alone_without_the_summary_head(tmp_path):
    """`distribution="auto"` would let the probe mix the summary head into some runs and not others; compare
    pins it to 0 (no probe, no head in any run), and keeps a count the caller names."""
    import dataclasses
    import io

    import numpy as np

    from attnpool.data import from_arrays
    from attnpool.workflow import TrainConfig
    from attnpool.workflow.compare import compare_pools, compared_distribution

    assert compared_distribution("auto") == 0 and compared_distribution(0) == 0 and compared_distribution(9) == 9
    rng = np.random.default_rng(0)
    y = np.arange(24) % 2
    x = (rng.normal(size=(24, 1, 16, 1)) + np.where(y == 1, 2.0, -2.0)[:, None, None, None]).astype(np.float32)
    ds = from_arrays(x, y, parts=np.array(["train"] * 16 + ["test"] * 8))
    base = TrainConfig(data=ds, steps=2, channels=8, ensemble=1, progress=False, augment="scale,jitter")
    assert base.distribution == "auto"
    for named, expected in (("auto", 0), (5, 5)):
        out = tmp_path / str(named)
        compare_pools(dataclasses.replace(base, distribution=named), ["attention", "mean"], 1, out,
                      command="test", stream=io.StringIO())
        for pool in ("attention", "mean"):
            saved = json.loads((out / "runs" / f"{pool}-seed0" / "config.json").read_text())["resolved"]
            assert saved["model"]["distribution"] == expected
            assert "augment_probe" not in saved["schedule"]
