"""Tiny trained runs shared by the predictor, export and estimator tests (trained in-process, one epoch)."""

from __future__ import annotations

import numpy as np
import pytest


def train_tiny(out, data, **options):
    """Fit a tiny model on ``data`` (a source string) into ``out``; returns the run directory."""
    from attnpool.workflow import TrainConfig, fit
    settings = dict(epochs=1, batch_size=16, channels=8, progress=False, threads=1)
    settings.update(options)
    fit(TrainConfig(data=str(data), **settings), out, quiet=True)
    return out


@pytest.fixture(scope="session")
def classify_run(tmp_path_factory):
    """synthetic:peaks (7 nodes, 1 feature, 2 classes), TCN encoder: a classify run directory."""
    out = tmp_path_factory.mktemp("runs") / "classify"
    return train_tiny(out, "synthetic:peaks", data_options={"samples": 60})


@pytest.fixture(scope="session")
def regress_run(tmp_path_factory):
    """A per-node regress run (y [S, N, D]) from an NPZ with 3 nodes, 2 features, D = 2, GRU encoder."""
    root = tmp_path_factory.mktemp("runs")
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 2.0, size=(40, 3, 12, 2)).astype(np.float32)
    y = np.stack([x.mean(axis=(2, 3)), x.max(axis=(2, 3))], axis=-1) * 10.0  # [S, N, 2], far from 0 / 1
    np.savez(root / "reg.npz", x=x, y=y)
    return train_tiny(root / "regress", root / "reg.npz", encoder="gru", mixer="attention")
