"""The data a run trains, evaluates or predicts on, read as its config says."""

from __future__ import annotations

from ..data import TimeSeriesSet, load_data, prepare
from ..errors import DataError
from ..models import SpatioTemporalNet
from ..train import TrainConfig


def load_dataset(cfg: TrainConfig, source: str | None = None) -> TimeSeriesSet:
    """Load the run's data (``source`` None: ``cfg.data`` with its splits) or new data to evaluate or predict
    (``source``: every sample in one part, so a file of a few samples works). In the data's own units: the
    model holds the normalisation. ``cfg.data`` may be a :class:`TimeSeriesSet` (from ``from_arrays``): it is used
    as it is (split by ``cfg.split`` if it has no splits yet)."""
    if source is None and isinstance(cfg.data, TimeSeriesSet):
        return cfg.data if cfg.data.splits else prepare(cfg.data, fracs=tuple(cfg.split), seed=cfg.seed)
    split = tuple(cfg.split) if source is None else (1.0, 0.0, 0.0)
    return load_data(source or cfg.data, task=cfg.task, window=cfg.window, horizon=cfg.horizon, nodes=cfg.nodes,
                     split=split, seed=cfg.seed, **dict(cfg.data_options))


def check_compatible(model: SpatioTemporalNet, ds: TimeSeriesSet, source: str) -> None:
    """Refuse data whose nodes, features or task differ from what the model was trained on."""
    if ds.n_nodes != model.n_nodes or ds.n_features != model.n_features:
        raise DataError(f"{source}: the run was trained on N={model.n_nodes} nodes x F={model.n_features} features, "
                        f"the data has N={ds.n_nodes} x F={ds.n_features}")
    if ds.task != model.task:
        raise DataError(f"{source}: the run's task is {model.task}, the data's is {ds.task}")


__all__ = ["check_compatible", "load_dataset"]
