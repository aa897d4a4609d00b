"""The ``explain`` and ``compare`` verbs: explanations of a finished run, and poolings trained side by side.

This module sits on top of training (it loads runs and trains models); the rest of :mod:`attnpool.explain`
works on plain arrays.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np


def explain_run(run_dir, data: str | None, out_dir, *, samples: list[int] | None = None, per_class: int = 2,
                largest_errors: int = 6) -> dict:
    """Predict ``data`` (default: the run's own test split) with the run's model and write explanations.

    Writes into ``out_dir``: ``sample_<i>.png`` (each node's signal above its nodes x time attention heatmap),
    ``weights.csv`` (sample, node, step, weight), ``stats.csv`` (entropy, effective steps, step of maximum weight
    per node), and ``summary.json`` (means of those, plus the pointing game where the data knows the true peaks).
    Sample ids are positions in ``data`` (or in the run's test split when ``data`` is None).
    """
    from ..train.run import ground_truth_metrics, load_dataset, load_run, predict_arrays
    from .report import write_explanations

    model, cfg, meta = load_run(run_dir)
    if data is None:
        full = load_dataset(cfg)
        ds = full.subset(full.splits["test"])
    else:
        ds = load_dataset(cfg, data)
    pred, weights = predict_arrays(model, ds)
    if samples is not None:
        bad = [s for s in samples if not 0 <= s < len(ds)]
        if bad:
            raise ValueError(f"--samples must be in [0, {len(ds)}), got {bad}")
    out = write_explanations(
        out_dir, ds.x, weights, mask=ds.mask, y_true=ds.y, y_pred=pred, task=ds.task,
        class_names=meta["class_names"], node_names=meta["node_names"], feature_names=meta["feature_names"],
        indices=None if samples is None else np.asarray(samples), per_class=per_class, largest_errors=largest_errors,
    )
    summary = dict(out["summary"])
    summary.update(ground_truth_metrics(ds, weights))
    summary["samples_drawn"] = [int(i) for i in out["indices"]]
    (Path(out_dir) / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    out["summary"] = summary
    return out


def compare_pools(base_cfg, pools: list[str], seeds: int, out_dir, *, command: str, stream=None) -> dict:
    """Train every pooling in ``pools`` with ``seeds`` seeds (same budget), and write the comparison table.

    Runs go to ``out_dir/runs/<pool>-seed<k>``; ``compare.md``, ``compare.csv`` and ``compare.png`` to ``out_dir``.
    Returns ``{"rows": [...], "paths": {...}, "results": [...]}``.
    """
    from ..train.run import fit
    from .compare import Progress, summarize_runs, write_compare_table

    out_dir = Path(out_dir)
    stream = stream or sys.stderr
    progress = Progress(len(pools) * seeds, label="compare", stream=stream)
    results = []
    for pool in pools:
        for seed in range(seeds):
            desc = f"{pool} seed {seed}"
            progress.start(desc)
            cfg = replace(base_cfg, pool=pool, seed=seed, progress=False, data_options=dict(base_cfg.data_options),
                          pool_kwargs=dict(base_cfg.pool_kwargs) if pool == base_cfg.pool else {})
            start = time.perf_counter()
            run = fit(cfg, out_dir / "runs" / f"{pool}-seed{seed}", overwrite=True, quiet=True)
            seconds = time.perf_counter() - start
            item = {"pool": pool, "seed": seed, "test": _numeric(run.metrics["test"]), "train_seconds": seconds}
            if "pointing_accuracy" in run.metrics["test"]:
                item["test"]["pointing_accuracy"] = run.metrics["test"]["pointing_accuracy"]
            results.append(item)
            progress.done(desc)
    rows = summarize_runs(results)
    title = f"Poolings compared on {base_cfg.data} ({seeds} seeds each, {base_cfg.epochs} epochs max)"
    paths = write_compare_table(rows, out_dir, title, command)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    return {"rows": rows, "paths": paths, "results": results}


def _numeric(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if isinstance(v, float) and k != "n"}
