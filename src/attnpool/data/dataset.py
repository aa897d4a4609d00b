"""The one in-memory form every reader produces: :class:`TimeSeriesSet` (and its error, :class:`DataError`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import DataError
from ..tasks import TASKS

# DataError and TASKS stay importable from here, where they were first defined.
__all__ = ["SPLITS", "TASKS", "DataError", "TimeSeriesSet"]

SPLITS = ("train", "val", "test")


@dataclass
class TimeSeriesSet:
    """A multi-node time-series data set, validated and ready for a model.

    Shapes use ``S`` samples, ``N`` nodes, ``T`` steps, ``F`` features per node and step, ``H`` forecast
    horizon, ``D`` regression targets.

    Attributes:
        x: float32 ``[S, N, T, F]`` in the data's own units; zero at masked steps.
        mask: bool ``[S, N, T]`` (True = valid step) or None when every step is valid.
        y: classify: int64 ``[S]`` in ``[0, n_classes)``; regress: float32 ``[S, D]`` (one target vector per
            sample) or ``[S, N, D]`` (per node); forecast: float32 ``[S, N, H]`` (the next H values of each
            node's target feature, which is feature 0).
        task: ``"classify"``, ``"regress"`` or ``"forecast"``.
        adjacency: float32 ``[N, N]`` or None.
        node_names: N names.
        feature_names: F names.
        class_names: names of the classes (classify) or None.
        splits: ``{"train", "val", "test"}`` -> int64 sample indices; disjoint, any may be empty.
        baseline: a prediction to show beside the model's, same shape and units as ``y``: forecast: persistence
            (the last observed value of the node's target, repeated H times); regress: the training mean of y;
            classify: the training part's most frequent class. None when not defined.
        meta: anything else the source knows. By convention an ndarray whose first axis has length S is
            per-sample and follows :meth:`subset`; ``meta["source"]`` is the source string.
    """

    x: np.ndarray
    y: np.ndarray
    task: str
    mask: np.ndarray | None = None
    adjacency: np.ndarray | None = None
    node_names: list[str] = field(default_factory=list)
    feature_names: list[str] = field(default_factory=list)
    class_names: list[str] | None = None
    splits: dict[str, np.ndarray] = field(default_factory=dict)
    baseline: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    # ---- sizes -------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_nodes(self) -> int:
        return int(self.x.shape[1])

    @property
    def n_steps(self) -> int:
        return int(self.x.shape[2])

    @property
    def n_features(self) -> int:
        return int(self.x.shape[3])

    @property
    def n_classes(self) -> int | None:
        """Number of classes (classify), None for regress and forecast."""
        if self.task != "classify":
            return None
        if self.class_names is not None:
            return len(self.class_names)
        return int(self.y.max()) + 1 if self.y.size else 0

    @property
    def target_shape(self) -> tuple[int, ...]:
        """Shape of one sample's target: ``()`` classify, ``(D,)`` / ``(N, D)`` regress, ``(N, H)`` forecast."""
        return tuple(int(d) for d in self.y.shape[1:])

    @property
    def source(self) -> str:
        return str(self.meta.get("source", "data"))

    # ---- transforms --------------------------------------------------------------------------------------
    def subset(self, idx) -> TimeSeriesSet:
        """The samples ``idx`` (int indices or a bool mask over S), in that order.

        Splits are remapped to positions in the subset (a sample keeps its split); per-sample meta arrays
        (first axis S) are sliced too.
        """
        idx = np.asarray(idx)
        if idx.dtype == bool:
            if idx.shape != (self.n_samples,):
                raise DataError(f"{self.source}: bool subset must have shape ({self.n_samples},), got {idx.shape}")
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64).reshape(-1)
        if idx.size and (idx.min() < -self.n_samples or idx.max() >= self.n_samples):
            raise DataError(f"{self.source}: subset index out of range for {self.n_samples} samples")
        idx = np.where(idx < 0, idx + self.n_samples, idx)
        position = {int(i): p for p, i in enumerate(idx)}
        splits = {
            name: np.array([position[int(i)] for i in part if int(i) in position], dtype=np.int64)
            for name, part in self.splits.items()
        }
        meta = {
            k: (v[idx] if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == self.n_samples else v)
            for k, v in self.meta.items()
        }
        return replace(
            self,
            x=self.x[idx],
            y=self.y[idx],
            mask=None if self.mask is None else self.mask[idx],
            baseline=None if self.baseline is None else self.baseline[idx],
            splits=splits,
            meta=meta,
        )

    def split(self, name: str) -> TimeSeriesSet:
        """The samples of one split (``"train"``, ``"val"`` or ``"test"``) as their own set."""
        if name not in SPLITS:
            raise DataError(f"{self.source}: split must be one of {', '.join(SPLITS)}, got {name!r}")
        return self.subset(self.splits.get(name, np.zeros(0, dtype=np.int64)))

    # ---- display -----------------------------------------------------------------------------------------
    def summary(self) -> str:
        """One or two lines for the command line."""
        sizes = " / ".join(f"{name} {len(self.splits.get(name, ()))}" for name in SPLITS)
        f = self.n_features
        line = (
            f"{self.source}: {self.task}, {self.n_samples} samples ({sizes}), "
            f"{_count(self.n_nodes, 'node')} x {_count(self.n_steps, 'step')} x {_count(f, 'feature')}"
        )
        if self.task == "classify":
            line += f", {self.n_classes} classes"
        elif self.task == "forecast":
            line += f", horizon {self.y.shape[-1]}"
        else:
            line += f", target shape {list(self.target_shape)}"
        extras = []
        if self.mask is not None:
            extras.append(f"{100.0 * (1.0 - self.mask.mean()):.1f}% of steps masked")
        if self.adjacency is not None:
            extras.append("adjacency given")
        if extras:
            line += "\n  " + "; ".join(extras)
        return line


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
