"""attnpool: attention pooling over time for multi-node time series.

``from attnpool import AttentionPool``: ``feat [..., T, C]`` -> ``[..., C]``, exactly the spec's module.
Heavy parts (training, data sets, plots) are imported lazily so ``import attnpool`` stays light.
"""

from .pooling import (
    AttentionPool,
    GatedAttentionPool,
    LastPool,
    MaxPool,
    MeanPool,
    MultiHeadAttentionPool,
    TemporalPool,
    make_pool,
)

__version__ = "0.1.0"

__all__ = [
    "AttentionPool",
    "GatedAttentionPool",
    "LastPool",
    "MaxPool",
    "MeanPool",
    "MultiHeadAttentionPool",
    "SpatioTemporalNet",
    "TemporalPool",
    "make_pool",
    "load_run",
    "AttentionClassifier",
    "AttentionRegressor",
]

# Imported on first use: the estimators need aeon and Lightning, and ``import attnpool`` stays light.
_LAZY = {
    "SpatioTemporalNet": "models",
    "load_run": "predictor",
    "AttentionClassifier": "estimators",
    "AttentionRegressor": "estimators",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'attnpool' has no attribute {name!r}")
