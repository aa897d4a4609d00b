"""Passes over a series ``[L, N, F]`` in chunks of rows: per-row summaries and weighted per-node statistics.

A series may be a memory-mapped file larger than RAM, so nothing here holds more than one chunk of rows
(about :data:`CHUNK_BYTES`) plus vectors of length ``L``; what is kept per row is a number, never a row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

#: Bytes of float64 values per chunk of rows (the float32 chunk read from the series is half of it).
CHUNK_BYTES = 16 * 2**20
FLOAT32_MAX = float(np.finfo(np.float32).max)


def row_chunks(n_rows: int, row_values: int, start: int = 0, chunk_bytes: int | None = None) -> Iterator[slice]:
    """Consecutive slices over rows ``[start, n_rows)``, each about ``chunk_bytes`` of float64 (at least one row).

    Args:
        n_rows: L. row_values: values per row (``N * F``). start: the first row.
        chunk_bytes: default :data:`CHUNK_BYTES` (read at the call).
    """
    step = max(1, (CHUNK_BYTES if chunk_bytes is None else chunk_bytes) // max(1, 8 * row_values))
    for r0 in range(start, n_rows, step):
        yield slice(r0, min(r0 + step, n_rows))


@dataclass
class RowScan:
    """What one pass over the series keeps: one number per row, and the first value that cannot be used.

    Attributes:
        target_ok: bool ``[L]``: feature 0 (the target) is present (not NaN) at every node.
        invalid_nodes: int32 ``[L]``: nodes with a missing value (NaN in any feature) in the row; such a node's
            step is masked.
        first_bad: ``(row, node, feature)`` of the first value that is infinite (or overflows float32), or None.
    """

    target_ok: np.ndarray
    invalid_nodes: np.ndarray
    first_bad: tuple[int, int, int] | None

    @property
    def has_missing(self) -> bool:
        return bool(self.invalid_nodes.any())


def scan_rows(values: np.ndarray, chunk_bytes: int | None = None) -> RowScan:
    """One streamed pass over ``values [L, N, F]`` (NaN = missing): the :class:`RowScan`.

    Values are checked as the model reads them, in float32: an infinite value, or a float64 beyond float32's
    range, is reported in ``first_bad`` (the caller names it); NaN is a missing value, not an error.
    """
    L, N, F = values.shape
    target_ok = np.zeros(L, dtype=bool)
    invalid_nodes = np.zeros(L, dtype=np.int32)
    first_bad = None
    for rows in row_chunks(L, N * F, chunk_bytes=chunk_bytes):
        chunk = np.asarray(values[rows])  # [c, N, F]: the only copy of the series that exists at a time
        missing = np.isnan(chunk)
        target_ok[rows] = ~missing[..., 0].any(axis=1)
        invalid_nodes[rows] = (missing.any(axis=2) if F > 1 else missing[..., 0]).sum(axis=1)
        if first_bad is None:
            if chunk.dtype.itemsize > 4:  # beyond float32's range becomes inf in the model (inf included)
                bad = (chunk > FLOAT32_MAX) | (chunk < -FLOAT32_MAX)
            else:
                bad = np.isinf(chunk)
            if bad.any():
                r, n, f = np.argwhere(bad)[0]
                first_bad = (int(r) + rows.start, int(n), int(f))
    return RowScan(target_ok=target_ok, invalid_nodes=invalid_nodes, first_bad=first_bad)


def weighted_statistics(values: np.ndarray, weights: np.ndarray,
                        chunk_bytes: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-node, per-feature mean and (population) standard deviation over rows, row ``r`` counted ``weights[r]``
    times, over the steps where every feature of the node is present.

    Chunks are combined with Chan et al.'s pairwise update (mean and sum of squared deviations per chunk), so the
    result is as accurate as a two-pass computation. Values are read as float32 (as the model sees them) and
    summed in float64. Rows of weight 0 are skipped.

    Args:
        values: ``[L, N, F]``, NaN = missing. weights: ``[L]``, non-negative (e.g. how many training windows
            hold each row).

    Returns:
        ``(mean [N, F], std [N, F], count [N])`` float64; a node with no counted step has mean 0, std 0, count 0.
    """
    L, N, F = values.shape
    count = np.zeros(N)
    mean = np.zeros((N, F))
    m2 = np.zeros((N, F))
    used = np.flatnonzero(weights > 0)
    if used.size == 0:
        return mean, np.zeros((N, F)), count
    first, last = int(used[0]), int(used[-1]) + 1
    for rows in row_chunks(last, N * F, start=first, chunk_bytes=chunk_bytes):
        w_rows = np.asarray(weights[rows], dtype=np.float64)
        if not w_rows.any():
            continue
        chunk = np.asarray(values[rows]).astype(np.float32, copy=False).astype(np.float64)  # [c, N, F]
        valid = ~np.isnan(chunk).any(axis=2)  # [c, N]
        w = w_rows[:, None] * valid  # [c, N]
        chunk[~valid] = 0.0
        n_c = w.sum(axis=0)  # [N]
        mean_c = np.einsum("cn,cnf->nf", w, chunk) / np.maximum(n_c, 1.0)[:, None]
        chunk -= mean_c[None]
        chunk[~valid] = 0.0
        m2_c = np.einsum("cn,cnf->nf", w, chunk * chunk)
        total = count + n_c
        share = np.divide(n_c, total, out=np.zeros_like(total), where=total > 0)[:, None]  # [N, 1]
        delta = mean_c - mean
        mean = mean + delta * share
        m2 = m2 + m2_c + delta**2 * (count[:, None] * share)
        count = total
    std = np.sqrt(m2 / np.maximum(count, 1.0)[:, None])
    return mean, std, count


__all__ = ["CHUNK_BYTES", "RowScan", "row_chunks", "scan_rows", "weighted_statistics"]
