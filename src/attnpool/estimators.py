"""aeon-compatible estimators: :class:`AttentionClassifier` and :class:`AttentionRegressor`.

They take aeon's collection formats (numpy ``[n_cases, n_channels, n_timepoints]`` or a list of
``[n_channels, n_timepoints_i]`` arrays of unequal length, NaN for missing values), turn them into a
:class:`~attnpool.data.TimeSeriesSet` ``[S, N, T, F]`` (channels grouped into nodes by ``nodes``; padding and NaN
become masked steps) and train through the project's own ``fit`` into a temporary run directory. The fitted
estimator keeps that run's files in memory (so it pickles), predicts through a
:class:`~attnpool.predictor.Predictor`, and :meth:`save` writes an ordinary run directory that
``attnpool evaluate / predict / explain / export`` accept.

Needs the ``data`` extra (aeon) and the ``train`` extra (Lightning).
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .predictor import Predictor, _load_saved

try:
    from aeon.classification import BaseClassifier
    from aeon.regression import BaseRegressor
except ImportError as err:  # one line with the command that installs it
    raise ImportError(f"attnpool's estimators need aeon ({err}): pip install 'attnpool[data,train]'") from None

#: Files of a run directory an estimator keeps and :meth:`save` writes.
RUN_FILES = ("config.json", "model.pt", "metrics.json", "data.npz")

_TAGS = {
    # np-list is the one inner type: equal-length input arrives as a list of [C, T] too, and padding to the
    # longest series (with a mask) serves both.
    "X_inner_type": "np-list",
    "capability:multivariate": True,
    "capability:unequal_length": True,
    "capability:missing_values": True,
    "algorithm_type": "deeplearning",
    # Seeded (seed_everything) and single-threaded by default: two fits with one seed give the same model.
    "non_deterministic": False,
    "cant_pickle": False,
    "python_dependencies": ["torch", "lightning"],
}


class _AttentionEstimator:
    """The shared part of both estimators: arrays in, a run trained by ``fit``, predictions out.

    Parameters mirror :class:`~attnpool.train.TrainConfig` (and the ``attnpool train`` flags):
        pool: temporal pooling: ``attention-mean | attention | mean | max | last | gated | multihead``
            (default: attention-mean). encoder: ``resconv | linear | tcn | gru`` (default: resconv).
        mixer: ``none | graph | attention`` (default: none).
        channels: C, the encoder's width (default: 32). dropout: (default: 0.1).
        distribution: classification: K thresholds of a second head on the order-free summary of each series
            (:class:`~attnpool.models.distribution.DistributionSummary`), its probabilities mixed with the
            network's; 0 = off; ``"auto"``: the training probe decides whether it joins and its share of the
            prediction (:func:`~attnpool.workflow.augment_probe.choose_summary_weight`), 0 for regression
            (default: "auto").
        pool_kwargs: extra arguments of the pooling, e.g. ``{"heads": 4}`` (default: None).
        steps: optimizer steps instead of the schedule rule (default: None, the rule: >= 300 steps and >= 100
            epochs within a work budget, docs/training.md). epochs: exactly this many epochs instead
            (default: None). batch_size: (default: 16). lr: (default: 3e-3).
        weight_decay: AdamW weight decay (default: 0.05). ensemble: K models from seeds seed..seed+K-1, their
            probabilities averaged; ``"auto"``: 1 to 3, as many as fit the work budget (default: "auto").
        patience: ignored (no early stopping; default: None).
        seed: seed of the split, the weights and the batch order (default: 0).
        nodes: how channels group into nodes: None (each channel a node with one feature), an int k (k nodes of
            consecutive channels) or ``"0,1,2|3,4,5"`` (default: None).
        validation: share of the training cases held out and only reported (stratified for classification);
            it chooses neither the checkpoint nor when to stop (default: 0.0, every case trains).
        threads: torch threads (default: 1). accelerator: Lightning accelerator (default: auto, a GPU when there is one).
        devices: Lightning devices (default: "1"). progress: show Lightning's progress bar (default: False).
    """

    _task = "classify"

    def __init__(self, pool="attention-mean", encoder="resconv", mixer="none", channels=32, dropout=0.1,
                 distribution="auto", pool_kwargs=None, steps=None, epochs=None, batch_size=16, lr=3e-3, weight_decay=0.05, ensemble="auto",
                 patience=None, seed=0, nodes=None, validation=0.0, threads=1, accelerator="auto", devices="1",
                 progress=False):
        self.pool = pool
        self.encoder = encoder
        self.mixer = mixer
        self.channels = channels
        self.dropout = dropout
        self.distribution = distribution
        self.pool_kwargs = pool_kwargs
        self.steps = steps
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.ensemble = ensemble
        self.patience = patience
        self.seed = seed
        self.nodes = nodes
        self.validation = validation
        self.threads = threads
        self.accelerator = accelerator
        self.devices = devices
        self.progress = progress
        super().__init__()

    # ---- aeon's hooks --------------------------------------------------------------------------------------
    def _fit(self, X, y):
        x, mask = self._arrays(X)
        if not 0.0 <= float(self.validation) < 1.0:
            raise ValueError(f"validation must be a fraction in [0, 1), got {self.validation!r}")
        labels = self._targets(y)
        data = _dataset(x, mask, labels, self._task, self._node_names(len(X[0])), self._class_names(),
                        self.validation, self.seed)
        self.run_files_ = _train(self._config(), data)
        self.predictor_ = Predictor(*_load_saved(io.BytesIO(self.run_files_["model.pt"])))
        self.n_nodes_ = self.predictor_.n_nodes
        self.metrics_ = json.loads(self.run_files_["metrics.json"])
        return self

    def _predict_all(self, X):
        x, mask = self._arrays(X)
        return self.predictor_.predict(x, mask, batch_size=max(int(self.batch_size), 256))

    # ---- public extras -------------------------------------------------------------------------------------
    def attention_weights(self, X) -> np.ndarray:
        """Temporal attention weights ``[n_cases, n_nodes, T]`` (T: the longest series; zero at padding and
        at missing values; each node's row sums to 1 over its valid steps).

        Args:
            X: as :meth:`predict` takes it.
        """
        self._check_is_fitted()
        X = self._preprocess_collection(X, store_metadata=False)
        self._check_shape(X)
        return self._predict_all(X).weights

    def save(self, path) -> Path:
        """Write the fitted model as an ordinary run directory (``config.json``, ``model.pt``, ``metrics.json``
        and the training data as ``data.npz``, which ``config.json`` points to, so ``attnpool evaluate RUN``
        without data finds it). Refuses a directory that already holds a run.

        Returns:
            The directory.
        """
        self._check_is_fitted()
        path = Path(path)
        if (path / "config.json").exists() or (path.exists() and not path.is_dir()):
            raise ValueError(f"path {path} already holds a run (or is a file); choose a new directory")
        path.mkdir(parents=True, exist_ok=True)
        config = json.loads(self.run_files_["config.json"])
        config["data"] = str((path / "data.npz").resolve())  # the training data travels with the run
        for name in RUN_FILES:
            if name == "config.json":
                (path / name).write_text(json.dumps(config, indent=2) + "\n")
            else:
                (path / name).write_bytes(self.run_files_[name])
        return path

    # ---- helpers -------------------------------------------------------------------------------------------
    def _arrays(self, X):
        """aeon's np-list ``[C, T_i]`` -> x ``[S, N, T_max, F]`` (NaN at padding), mask ``[S, N, T_max]``."""
        from .data.uea import parse_nodes

        channels = X[0].shape[0]
        groups = parse_nodes(self.nodes, channels, "X")
        T = max(s.shape[1] for s in X)
        x = np.full((len(X), channels, T), np.nan, dtype=np.float64)
        for i, series in enumerate(X):
            x[i, :, : series.shape[1]] = series
        x = np.stack([x[:, g, :] for g in groups], axis=1)  # [S, C, T] -> [S, N, F, T]
        x = np.moveaxis(x, 2, 3)  # [S, N, F, T] -> [S, N, T, F]
        mask = ~np.isnan(x).any(-1)  # [S, N, T]: a node's step is valid when all its channels are
        return np.where(mask[..., None], x, 0.0), mask

    def _node_names(self, channels: int) -> list[str]:
        from .data.uea import parse_nodes

        return ["+".join(f"ch{c}" for c in g) for g in parse_nodes(self.nodes, channels, "X")]

    def _class_names(self):
        return None

    def _targets(self, y):
        return np.asarray(y)

    def _config(self):
        from .workflow import TrainConfig
        return TrainConfig(
            task=self._task, pool=self.pool, encoder=self.encoder, mixer=self.mixer, channels=int(self.channels),
            dropout=float(self.dropout), pool_kwargs=dict(self.pool_kwargs or {}),
            distribution=self.distribution if self.distribution == "auto" else int(self.distribution),
            steps=None if self.steps is None else int(self.steps), epochs=None if self.epochs is None else int(self.epochs),
            batch_size=int(self.batch_size), lr=float(self.lr), weight_decay=float(self.weight_decay),
            ensemble=self.ensemble if self.ensemble == "auto" else int(self.ensemble),
            patience=None if self.patience is None else int(self.patience),
            seed=int(self.seed),
            split=(1.0 - float(self.validation), float(self.validation), 0.0), threads=int(self.threads),
            accelerator=self.accelerator, devices=str(self.devices), progress=bool(self.progress),
        )


class AttentionClassifier(_AttentionEstimator, BaseClassifier):
    """Time series classification with attention pooling over time (a SpatioTemporalNet), aeon-style.

    ``X``: ``[n_cases, n_channels, n_timepoints]`` numpy, or a list of ``[n_channels, n_timepoints_i]``
    (unequal length); NaN = missing. ``y``: any labels (``classes_`` keeps them). See
    :class:`_AttentionEstimator` for the parameters.

    Example:
        >>> from aeon.datasets import load_classification
        >>> X, y = load_classification("GunPoint", split="train")
        >>> clf = AttentionClassifier(epochs=30).fit(X, y)
        >>> clf.predict_proba(X).shape, clf.attention_weights(X).shape   # (50, 2), (50, 1, 150)
        >>> clf.save("runs/gunpoint")
    """

    _tags = dict(_TAGS)
    _task = "classify"

    def _targets(self, y):
        return np.array([self._class_dictionary[v] for v in y], dtype=np.int64)

    def _class_names(self):
        return [str(c) for c in self.classes_]

    def _predict(self, X) -> np.ndarray:
        return self.classes_[self._predict_all(X).y]

    def _predict_proba(self, X) -> np.ndarray:
        return self._predict_all(X).proba.astype(np.float64)

    @classmethod
    def _get_test_params(cls, parameter_set="default"):
        return {"epochs": 2, "channels": 4, "batch_size": 8, "encoder": "linear", "patience": 2, "validation": 0.2}


class AttentionRegressor(_AttentionEstimator, BaseRegressor):
    """Time series regression (one value per case) with attention pooling over time, aeon-style.

    Same input and parameters as :class:`AttentionClassifier`; ``y`` is ``[n_cases]`` floats, and
    ``predict`` gives ``[n_cases]`` in y's units (the model standardizes y inside itself).
    """

    _tags = dict(_TAGS)
    _task = "regress"

    def _targets(self, y):
        return np.asarray(y, dtype=np.float64).reshape(-1, 1)

    def _predict(self, X) -> np.ndarray:
        return self._predict_all(X).y[:, 0].astype(np.float64)

    @classmethod
    def _get_test_params(cls, parameter_set="default"):
        return {"epochs": 2, "channels": 4, "batch_size": 8, "encoder": "linear", "patience": 2, "validation": 0.2}


def _dataset(x, mask, y, task, node_names, class_names, validation, seed):
    from .data.arrays import from_arrays

    return from_arrays(x, y, task=task, mask=mask, node_names=node_names, class_names=class_names,
                       split=(1.0 - validation, validation, 0.0), seed=seed, source="X")


def _train(cfg, data) -> dict[str, bytes]:
    """Fit ``cfg`` on ``data`` in a temporary run directory; the bytes of the run's files."""
    from dataclasses import replace

    from .workflow import fit

    root = Path(tempfile.mkdtemp(prefix="attnpool-"))
    try:
        fit(replace(cfg, data=data), root / "run", quiet=True)
        return {name: (root / "run" / name).read_bytes() for name in RUN_FILES}
    finally:
        shutil.rmtree(root, ignore_errors=True)
