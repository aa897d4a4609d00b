"""``compare_pools``: train several poolings with the same budget and seeds, then tabulate them."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from ..errors import ConfigError
from ..explain import summarize_runs, write_compare_table
from ..models.registry import registry_key
from ..pooling import POOLS
from ..train import TrainConfig
from .fitting import fit
from .progress import Progress


def compare_pools(base_cfg: TrainConfig, pools: list[str], seeds: int, out_dir: str | os.PathLike, *,
                  command: str, stream=None) -> dict:
    """Train every pooling in ``pools`` with ``seeds`` seeds (same budget), and write the comparison table.

    Runs go to ``out_dir/runs/<pool>-seed<k>``; ``compare.md``, ``compare.csv`` and ``compare.png`` to ``out_dir``.
    ``base_cfg`` is not changed: each run trains a copy with its pooling and seed. The comparison is of the
    poolings alone: ``distribution="auto"`` becomes 0 (no distribution summary head, whose probe could mix it into
    some runs and not others); a count the caller names is kept for every run.
    Returns ``{"rows": [...], "paths": {...}, "results": [...]}``.
    """
    unknown = [p for p in pools if registry_key(p) not in POOLS]
    if unknown or not pools:
        raise ConfigError(f"pools must be names from {', '.join(POOLS)}, got {pools!r}", key="pools")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ConfigError(f"seeds must be an int >= 1, got {seeds!r}", key="seeds")
    base_cfg.validate()
    out_dir = Path(out_dir)
    progress = Progress(len(pools) * seeds, label="compare", stream=stream or sys.stderr)
    results = []
    for pool in pools:
        for seed in range(seeds):
            desc = f"{pool} seed {seed}"
            progress.start(desc)
            cfg = replace(base_cfg, pool=pool, seed=seed, progress=False, data_options=dict(base_cfg.data_options),
                          pool_kwargs=dict(base_cfg.pool_kwargs) if pool == base_cfg.pool else {},
                          distribution=compared_distribution(base_cfg.distribution))
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


def compared_distribution(distribution):
    """The ``distribution`` each compared run trains with: 0 for ``"auto"`` (the poolings alone), else as named."""
    return 0 if distribution == "auto" else distribution


def _numeric(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if isinstance(v, float) and k != "n"}


__all__ = ["compare_pools", "compared_distribution"]
