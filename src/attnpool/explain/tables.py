"""Attention weights and their statistics as tables: rows in memory, or CSV files.

The CSVs are what ``attnpool explain`` writes: ``weights.csv`` (one row per valid step) and ``stats.csv`` (one
row per sample and node).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .arrays import as_labels, as_mask, as_weights
from .stats import STATS_COLUMNS


def weights_table(weights, sample_ids=None, node_names=None, mask=None) -> list[tuple]:
    """All weights as rows ``(sample, node, step, weight)``, sample-major, then node, then step.

    Args:
        weights: ``[S, N, T]``.
        sample_ids: ``S`` labels for the samples (default: ``0 .. S-1``), e.g. their indices in the data set.
        node_names: ``N`` node names (default: ``0 .. N-1``).
        mask: optional bool ``[S, N, T]``; masked steps are left out of the table.

    Returns:
        List of ``(sample, node, step, weight)`` tuples, ``weight`` a Python float.
    """
    return list(_iter_weight_rows(weights, sample_ids, node_names, mask))


def write_weights_csv(path, weights, sample_ids=None, node_names=None, mask=None) -> Path:
    """Write all weights as CSV with columns ``sample,node,step,weight`` (see :func:`weights_table`).

    Args:
        path: file to write (parent folders are created).
        weights: ``[S, N, T]``.
        sample_ids: ``S`` sample labels (default: ``0 .. S-1``).
        node_names: ``N`` node names (default: ``0 .. N-1``).
        mask: optional bool ``[S, N, T]``; masked steps are left out.

    Returns:
        The path written.
    """
    rows = _iter_weight_rows(weights, sample_ids, node_names, mask)  # streamed: S*N*T rows can be many
    path = _prepare(path)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("sample", "node", "step", "weight"))
        for sample, node, step, weight in rows:
            writer.writerow((sample, node, step, _fmt(weight)))
    return path


def write_stats_csv(path, stats, sample_ids=None, node_names=None) -> Path:
    """Write per-node statistics as CSV: ``sample,node,entropy,effective_steps,argmax_step,max_weight``.

    Args:
        path: file to write (parent folders are created).
        stats: the dict of :func:`attention_stats` on ``[S, N, T]`` weights, each entry ``[S, N]``.
        sample_ids: ``S`` sample labels (default: ``0 .. S-1``).
        node_names: ``N`` node names (default: ``0 .. N-1``).

    Returns:
        The path written.
    """
    missing = [key for key in STATS_COLUMNS if key not in stats]
    if missing:
        raise KeyError(f"stats is missing {missing}; expected the dict of attention_stats with keys {STATS_COLUMNS}")
    arrays = {key: np.asarray(stats[key]) for key in STATS_COLUMNS}
    shape = arrays["entropy"].shape
    if len(shape) != 2 or any(a.shape != shape for a in arrays.values()):
        shapes = {key: a.shape for key, a in arrays.items()}
        raise ValueError(f"stats entries must all be [S, N], got shapes {shapes}")
    samples = as_labels("sample_ids", sample_ids, shape[0])
    nodes = as_labels("node_names", node_names, shape[1])
    path = _prepare(path)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("sample", "node", *STATS_COLUMNS))
        for s, sample in enumerate(samples):
            for n, node in enumerate(nodes):
                writer.writerow(
                    (
                        sample,
                        node,
                        _fmt(arrays["entropy"][s, n]),
                        _fmt(arrays["effective_steps"][s, n]),
                        int(arrays["argmax_step"][s, n]),
                        _fmt(arrays["max_weight"][s, n]),
                    )
                )
    return path

# ----------------------------------------------------------------------------------------------- helpers


def _iter_weight_rows(weights, sample_ids, node_names, mask):
    w = as_weights("weights", weights, min_ndim=1)
    if w.ndim != 3:
        raise ValueError(f"weights must be [S, N, T], got shape {tuple(w.shape)}")
    if mask is not None:
        mask = as_mask("mask", mask, w.shape)
    samples = as_labels("sample_ids", sample_ids, w.shape[0])
    nodes = as_labels("node_names", node_names, w.shape[1])

    # Checked above, iterated lazily below: a bad argument fails before any file is opened.
    def rows():
        for s, sample in enumerate(samples):
            for n, node in enumerate(nodes):
                for t in range(w.shape[2]):
                    if mask is None or mask[s, n, t]:
                        yield (sample, node, t, float(w[s, n, t]))

    return rows()


def _prepare(path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _fmt(value) -> str:
    # Eight significant digits: exact enough to recompute statistics, short enough to read.
    return format(float(value), ".8g")


__all__ = ["weights_table", "write_stats_csv", "write_weights_csv"]
