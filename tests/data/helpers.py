"""Small builders of data files for the data tests."""

from __future__ import annotations

import numpy as np


def write_npz(path, S=40, N=3, T=8, F=2, classes=3, seed=0, **arrays):
    """A valid classify NPZ with ``S`` samples; keyword arrays override or add entries (None drops one)."""
    rng = np.random.default_rng(seed)
    base = {
        "x": rng.standard_normal((S, N, T, F)).astype(np.float32),
        "y": np.arange(S) % classes,
    }
    base.update(arrays)
    base = {k: v for k, v in base.items() if v is not None}
    np.savez(path, **base)
    return path


def write_csv(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path
