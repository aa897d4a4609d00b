"""Summaries of a pooling comparison: mean +- std over seeds, and the markdown/CSV table with its chart.

No training happens here: the trainer runs every (pooling, seed) and hands over one result dict per run.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

# Metrics drawn in the bar chart, in order of preference; the first one present is the main metric.
MAIN_METRICS = ("accuracy", "mae")
# Metrics that are times: shown with one decimal in the table.
_SECONDS = ("train_seconds",)


def summarize_runs(results: list[dict]) -> list[dict]:
    """One row per pooling: mean and standard deviation over seeds of every metric and of the training time.

    Each result is ``{"pool": str, "seed": int, "test": {metric: float, ...}, "train_seconds": float, ...}``;
    every numeric top-level entry other than ``seed`` (``train_seconds``, ``pointing_accuracy``,
    ``attention_mass``, ...) is summarised too. A metric that is missing or None in some runs (e.g. the
    pointing game for mean pooling) is averaged over the runs that have it; with none it is None.
    The std is the sample standard deviation (``ddof=1``) when there are at least two values, else 0.

    Args:
        results: one dict per training run.

    Returns:
        Rows in the order the poolings were first seen: ``{"pool", "n", "seeds", "<metric>_mean",
        "<metric>_std", ...}``, test metrics first, then the top-level ones in the order first seen.
    """
    if not isinstance(results, (list, tuple)) or not results:
        raise ValueError(f"results must be a non-empty list of run dicts, got {results!r}")
    groups: dict[str, list[dict]] = {}
    metric_names: list[str] = []
    top_names: list[str] = []
    for i, result in enumerate(results):
        if not isinstance(result, dict) or "pool" not in result:
            raise ValueError(f"results[{i}] must be a dict with a 'pool' entry, got {result!r}")
        test = result.get("test") or {}
        if not isinstance(test, dict):
            raise ValueError(f"results[{i}]['test'] must be a dict of metrics, got {test!r}")
        runs = groups.setdefault(str(result["pool"]), [])
        seed = result.get("seed")
        if seed is not None and any(run.get("seed") == seed for run in runs):
            raise ValueError(f"pool {result['pool']!r} has seed {seed} twice in results")
        runs.append(result)
        for name, value in test.items():
            if _is_number(value) and name not in metric_names:
                metric_names.append(name)
        for name, value in result.items():
            if name not in ("pool", "seed", "test") and _is_number(value) and name not in top_names:
                top_names.append(name)

    rows = []
    for pool, runs in groups.items():
        row = {"pool": pool, "n": len(runs), "seeds": [run.get("seed") for run in runs]}
        for name in metric_names:
            row.update(_mean_std(name, [(run.get("test") or {}).get(name) for run in runs]))
        for name in top_names:
            row.update(_mean_std(name, [run.get(name) for run in runs]))
        rows.append(row)
    return rows


def write_compare_table(rows: list[dict], out_dir, title: str, command: str, metric: str | None = None) -> dict:
    """Write the comparison as ``compare.md``, ``compare.csv`` and the bar chart ``compare.png``.

    The markdown table has one row per pooling and one column per metric, each cell ``mean ± std``, under
    the title, the command that made it, and the number of seeds.

    Args:
        rows: the rows of :func:`summarize_runs`.
        out_dir: folder to write into (created).
        title: heading of the markdown file, e.g. ``"synthetic:peaks, 5 seeds"``.
        command: the command line that produced the results, quoted in the markdown.
        metric: the metric of the bar chart (default: ``accuracy`` if present, else ``mae``, else the first).

    Returns:
        ``{"md": Path, "csv": Path, "png": Path}``.
    """
    if not rows:
        raise ValueError("rows must be the non-empty list of summarize_runs")
    names = metric_columns(rows)
    if not names:
        raise ValueError("rows carry no '<metric>_mean' entries; pass the rows of summarize_runs")
    if metric is None:
        metric = next((m for m in MAIN_METRICS if m in names), names[0])
    elif metric not in names:
        raise ValueError(f"metric must be one of {names}, got {metric!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"md": out_dir / "compare.md", "csv": out_dir / "compare.csv", "png": out_dir / "compare.png"}

    seeds = sorted({row["n"] for row in rows})
    seed_text = " / ".join(str(n) for n in seeds)
    lines = [
        f"# {title}",
        "",
        f"Made by: `{command}`",
        "",
        f"Seeds per pooling: {seed_text}. Cells are mean ± std over seeds (sample std, ddof=1).",
        "",
        "| pooling | seeds | " + " | ".join(_header(name) for name in names) + " |",
        "|---|---:|" + "---:|" * len(names),
    ]
    for row in rows:
        cells = [_cell(name, row.get(f"{name}_mean"), row.get(f"{name}_std")) for name in names]
        lines.append(f"| {row['pool']} | {row['n']} | " + " | ".join(cells) + " |")
    paths["md"].write_text("\n".join(lines) + "\n")

    with paths["csv"].open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["pool", "n", *[f"{name}_{part}" for name in names for part in ("mean", "std")]])
        for row in rows:
            values = [row.get(f"{name}_{part}") for name in names for part in ("mean", "std")]
            writer.writerow([row["pool"], row["n"], *["" if v is None else format(v, ".8g") for v in values]])

    from .plots import plot_compare

    plot_compare(paths["png"], rows, metric, title=f"{title}\n{metric}: mean ± std over {seed_text} seed(s)")
    return paths


def metric_columns(rows: list[dict]) -> list[str]:
    """The metric names of summary rows (``accuracy`` for ``accuracy_mean``), in first-seen order."""
    names: list[str] = []
    for row in rows:
        for key in row:
            if key.endswith("_mean") and key[: -len("_mean")] not in names:
                names.append(key[: -len("_mean")])
    return names


# ----------------------------------------------------------------------------------------------- helpers


def _is_number(value) -> bool:
    if isinstance(value, bool):
        return False
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, (str, bytes))


def _mean_std(name: str, values: list) -> dict:
    present = [float(v) for v in values if v is not None and _is_number(v)]
    if not present:
        return {f"{name}_mean": None, f"{name}_std": None}
    mean = math.fsum(present) / len(present)
    if len(present) > 1:
        std = math.sqrt(math.fsum((v - mean) ** 2 for v in present) / (len(present) - 1))
    else:
        std = 0.0
    return {f"{name}_mean": mean, f"{name}_std": std}


def _header(name: str) -> str:
    return "train time (s)" if name == "train_seconds" else name


def _cell(name: str, mean, std) -> str:
    if mean is None:
        return "–"
    digits = 1 if name in _SECONDS else 3
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


__all__ = ["metric_columns", "summarize_runs", "write_compare_table"]
