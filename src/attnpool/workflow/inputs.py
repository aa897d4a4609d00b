"""The data a run trains, evaluates or predicts on, read as its config says."""

from __future__ import annotations

import numpy as np

from ..data import TimeSeriesSet, load_data, prepare
from ..data.load import DEFAULT_SPLIT, SERIES_EXTENSIONS
from ..errors import DataError
from ..models import SpatioTemporalNet
from ..train import TrainConfig


def load_dataset(cfg: TrainConfig, source: str | None = None) -> TimeSeriesSet:
    """Load the run's data (``source`` None: ``cfg.data`` with its splits) or new data to evaluate or predict
    (``source``: every sample in one part, so a file of a few samples works). In the data's own units: the
    model holds the normalisation. ``cfg.data`` may be a :class:`TimeSeriesSet` (from ``from_arrays``): it is used
    as it is (split by ``cfg.split`` if it has no splits yet)."""
    if source is None and isinstance(cfg.data, TimeSeriesSet):
        fracs = DEFAULT_SPLIT if cfg.split is None else tuple(cfg.split)
        return cfg.data if cfg.data.splits else prepare(cfg.data, fracs=fracs, seed=cfg.seed)
    split = (None if cfg.split is None else tuple(cfg.split)) if source is None else (1.0, 0.0, 0.0)
    # The run's data options belong to its kind of source (samples= to synthetic:peaks, delimiter= to a CSV):
    # new data of another kind (an .npz to predict on) gets none of them.
    options = dict(cfg.data_options) if source is None or _kind(source) == _kind(cfg.data) else {}
    # --season is the option; a data option season=... (as in load_data's keyword) is taken when --season is not given
    season = options.pop("season", None)
    if cfg.season is not None:
        season = cfg.season
    return load_data(source or cfg.data, task=cfg.task, window=cfg.window, horizon=cfg.horizon, nodes=cfg.nodes,
                     split=split, seed=cfg.seed, season=season, **options)


def _kind(source) -> str:
    text = str(source).lower()
    files = (".npz", *SERIES_EXTENSIONS)
    return text.split(":", 1)[0] if ":" in text and not text.endswith(files) else text.rsplit(".", 1)[-1]


def check_compatible(model: SpatioTemporalNet, ds: TimeSeriesSet, source: str) -> None:
    """Refuse data whose nodes, features or task differ from what the model was trained on."""
    if ds.n_nodes != model.n_nodes or ds.n_features != model.n_features:
        raise DataError(f"{source}: the run was trained on N={model.n_nodes} nodes x F={model.n_features} features, "
                        f"the data has N={ds.n_nodes} x F={ds.n_features}")
    if ds.task != model.task:
        raise DataError(f"{source}: the run's task is {model.task}, the data's is {ds.task}")
    if ds.task == "classify" and len(ds.y) and int(ds.y.max()) >= model.out_features:
        unknown = sorted({int(c) for c in ds.y[ds.y >= model.out_features]})
        raise DataError(f"{source}: labels {unknown[:10]} are not classes of the run, which was trained on "
                        f"{model.out_features} classes (0..{model.out_features - 1})")


def check_finite_output(pred, source: str, first: int = 0) -> None:
    """Refuse to report NaN or inf predictions: finite float32 inputs far outside what the model was trained on
    (1e38) overflow inside it. One line naming the first sample (``first``: the number of ``pred[0]``, for a
    batch)."""
    bad = ~np.isfinite(pred.reshape(len(pred), -1)).all(axis=1) if len(pred) else np.zeros(0, dtype=bool)
    if bad.any():
        raise DataError(f"{source}: the model's output is not finite for {int(bad.sum())} sample(s), first sample "
                        f"{first + int(np.flatnonzero(bad)[0])}; its values are too far outside the range the run "
                        f"was trained on")


__all__ = ["check_compatible", "check_finite_output", "load_dataset"]
