"""Predict from a saved run in Python: ``load_run(dir).predict(x, mask=None)``.

Needs only torch and numpy (no Lightning): the run's ``model.pt`` holds the weights, the arguments that rebuild
the model and the names of nodes, features and classes. The model standardizes its input inside itself, so
``x`` is given in data units and regress / forecast outputs come back in data units.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .errors import ConfigError, DataError, MissingFileError
from .models import SpatioTemporalNet, build_model

MODEL_FILE = "model.pt"


@dataclass
class Prediction:
    """What :meth:`Predictor.predict` returns; numpy arrays, ``S`` samples.

    Attributes:
        y: classify: int64 ``[S]`` class ids (positions in ``class_names``); regress: float32 ``[S, D]`` or
            ``[S, N, D]``; forecast: float32 ``[S, N, H]``; regress and forecast in data units.
        proba: classify: float32 ``[S, K]`` class probabilities (rows sum to 1); None otherwise.
        weights: float32 ``[S, N, T]`` temporal attention weights (each row sums to 1 over its valid steps; a
            node with no valid step has zero weights).
        labels: classify: the class names of ``y`` (str ``[S]``); None otherwise.
    """

    y: np.ndarray
    proba: np.ndarray | None
    weights: np.ndarray
    labels: np.ndarray | None = None


class Predictor:
    """A trained model of a run directory, ready to predict on arrays. Build it with :func:`load_run`.

    Attributes:
        model: the :class:`~attnpool.models.SpatioTemporalNet` (eval mode).
        task: ``"classify"``, ``"regress"`` or ``"forecast"``.
        n_nodes, n_features: N and F that ``x`` must have.
        node_names, feature_names: N and F names. class_names: K names (classify) or None.
        run_dir: the directory it was loaded from (None when built from a model).
    """

    def __init__(self, model: SpatioTemporalNet, meta: dict | None = None, run_dir: Path | None = None,
                 session=None):
        meta = meta or {}
        self.model = model.eval()
        self.session = session  # an onnxruntime session: predict runs the exported file instead of the model
        self.engine = "torch" if session is None else "onnx"
        self.task = model.task
        self.n_nodes, self.n_features = model.n_nodes, model.n_features
        self.node_names = list(meta.get("node_names") or [f"node{i}" for i in range(self.n_nodes)])
        self.feature_names = list(meta.get("feature_names") or [f"f{j}" for j in range(self.n_features)])
        names = meta.get("class_names")
        if self.task == "classify" and not names:
            names = [str(c) for c in range(model.out_features)]
        self.class_names = list(names) if self.task == "classify" else None
        self.run_dir = run_dir

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def predict(self, x, mask=None, *, batch_size: int = 256) -> Prediction:
        """Predict every sample of ``x``, in batches, under ``torch.inference_mode()``.

        Args:
            x: numpy array or torch tensor ``[S, N, T, F]``, any real dtype (cast to float32), in data units;
                T may differ from training's. One sample is ``x[None]``: a 3-axis array is refused rather than
                guessed at, since ``[N, T, F]`` and ``[S, T, F]`` look alike when N = 1.
            mask: ``[S, N, T]`` bool or 0/1 (True = valid step), or None (every step valid). Values at masked
                steps are never used, NaN included.
            batch_size: samples per forward pass (default: 256).

        Returns:
            A :class:`Prediction` (``.y``, ``.proba``, ``.weights``, ``.labels``).

        Raises:
            ValueError: wrong axes, N or F (naming expected and actual), a bad mask, or NaN / inf at a valid
                step after the float32 cast (naming the first such sample, node and step).
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be a positive int, got {batch_size!r}", key="batch_size")
        x, mask = self.check_input(x, mask)
        outputs, weights = [], []
        device = self.device
        with torch.inference_mode():
            for start in range(0, x.shape[0], batch_size):
                xb = x[start : start + batch_size]
                mb = None if mask is None else mask[start : start + batch_size]
                if self.session is not None:
                    out, w = self._run_session(xb, mb)
                else:
                    out, w = self.model(xb.to(device), None if mb is None else mb.to(device))
                    if self.task == "classify":
                        out = torch.softmax(out.float(), dim=-1)
                outputs.append(out.float().cpu())
                weights.append(w.float().cpu())
        S, _, T, _ = x.shape
        if outputs:
            out, w = torch.cat(outputs).numpy(), torch.cat(weights).numpy()
        else:  # S = 0: empty results of the right shapes
            out = np.zeros((0, *self._out_shape()), dtype=np.float32)
            w = np.zeros((0, self.n_nodes, T), dtype=np.float32)
        if self.task == "classify":
            y = out.argmax(-1).astype(np.int64)
            return Prediction(y=y, proba=out, weights=w, labels=np.array(self.class_names, dtype=str)[y])
        return Prediction(y=out, proba=None, weights=w)

    def check_input(self, x, mask=None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``x`` and ``mask`` as CPU tensors (float32 ``[S, N, T, F]``, bool ``[S, N, T]``), checked as
        :meth:`predict` describes."""
        x = _as_tensor(x, "x")
        if x.dtype == torch.bool or x.is_complex() or not (x.is_floating_point() or _is_integer(x)):
            raise DataError(f"x must hold real numbers, got dtype {x.dtype}")
        if x.dim() != 4:
            hint = "; for one sample pass x[None]" if x.dim() == 3 else ""
            raise DataError(f"x must have 4 axes [S, N, T, F], got shape {tuple(x.shape)}{hint}")
        S, N, T, F = x.shape
        if N != self.n_nodes or F != self.n_features:
            raise DataError(f"x must have N={self.n_nodes} nodes and F={self.n_features} features "
                             f"([S, {self.n_nodes}, T, {self.n_features}]) as the run was trained, got N={N}, F={F} "
                             f"(shape {tuple(x.shape)})")
        if T < 1:
            raise DataError(f"x must have at least one step T, got shape {tuple(x.shape)}")
        x = x.to(torch.float32)
        if mask is not None:
            mask = _as_tensor(mask, "mask")
            if tuple(mask.shape) != (S, N, T):
                raise DataError(f"mask must have shape [S, N, T] = {(S, N, T)}, got {tuple(mask.shape)}")
            if mask.dtype != torch.bool:
                if mask.is_complex() or not ((mask == 0) | (mask == 1)).all():
                    raise DataError(f"mask must be bool (or 0/1), got values of dtype {mask.dtype}")
                mask = mask != 0
        bad = ~torch.isfinite(x).all(-1)  # [S, N, T]
        if mask is not None:
            bad &= mask
        if bad.any():
            s, n, t = (int(i) for i in torch.nonzero(bad)[0])
            where = "valid steps" if mask is not None else "steps (no mask given)"
            raise DataError(f"x has NaN or inf (after the cast to float32) at {int(bad.sum())} {where}, first at "
                             f"sample {s}, node {n}, step {t}; fix them or mark them False in mask")
        return x, mask

    def _run_session(self, x: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        # The exported file always takes a mask (all valid when none is given) and returns probabilities.
        mask = torch.ones(x.shape[:3], dtype=torch.bool) if mask is None else mask
        out, w = self.session.run(["output", "weights"], {"x": x.numpy(), "mask": mask.numpy()})
        return torch.from_numpy(out), torch.from_numpy(w)

    def _out_shape(self) -> tuple[int, ...]:
        model = self.model
        if self.task == "classify":
            return (model.out_features,)
        if self.task == "forecast" or model.per_node:
            return (self.n_nodes, model.out_features)
        return (model.out_features,)

    def __repr__(self) -> str:
        where = f"{str(self.run_dir)!r}, " if self.run_dir is not None else ""
        engine = ", engine='onnx'" if self.session is not None else ""
        return f"Predictor({where}task={self.task!r}, N={self.n_nodes}, F={self.n_features}{engine})"


def load_run(run_dir: str | Path, *, device: str | torch.device = "cpu", engine: str = "torch") -> Predictor:
    """The trained model of a run directory (``attnpool train``, ``fit`` or an estimator's ``save``).

    Args:
        run_dir: a directory holding ``model.pt``.
        device: where the model runs (default: ``"cpu"``); inputs are moved there batch by batch.
        engine: ``"torch"`` (default) runs the model; ``"onnx"`` runs the exported file in onnxruntime (CPU):
            ``RUN/model.onnx`` when it is newer than ``model.pt`` (``attnpool export RUN`` writes it there), else
            a fresh export (checked against eager, as :func:`attnpool.export.export_run` does). Same results
            within 1e-5; needs the ``export`` extra.

    Returns:
        A :class:`Predictor`.

    Raises:
        FileNotFoundError: the directory, or its ``model.pt``, does not exist.

    Example:
        >>> p = load_run("runs/gp").predict(x)  # x [S, N, T, F] -> p.y [S], p.proba [S, K], p.weights [S, N, T]
    """
    run_dir = Path(run_dir)
    if not (run_dir / MODEL_FILE).is_file():
        what = "does not exist" if not run_dir.exists() else f"has no {MODEL_FILE} (not a finished attnpool run)"
        raise MissingFileError(f"run directory {run_dir} {what}")
    if engine not in ("torch", "onnx"):
        raise ConfigError(f"engine must be 'torch' or 'onnx', got {engine!r}", key="engine")
    model, meta = _load_saved(run_dir / MODEL_FILE)
    if engine == "onnx":
        return Predictor(model, meta, run_dir, session=_onnx_session_for(run_dir))
    return Predictor(model.to(device).eval(), meta, run_dir)


def _onnx_session_for(run_dir: Path):
    import tempfile

    from .export import export_run, onnx_session

    cached = run_dir / "model.onnx"
    if cached.is_file() and cached.stat().st_mtime >= (run_dir / MODEL_FILE).stat().st_mtime:
        return onnx_session(cached)
    with tempfile.TemporaryDirectory(prefix="attnpool-onnx-") as tmp:
        path = export_run(run_dir, "onnx", Path(tmp) / "model.onnx").path
        return onnx_session(path)  # the session holds the graph; the file may go


def _load_saved(file) -> tuple[SpatioTemporalNet, dict]:
    """The model and metadata of a ``model.pt`` (a path or a binary file object)."""
    saved = torch.load(file, map_location="cpu", weights_only=True)
    model = build_model(saved["model_kwargs"])
    model.load_state_dict(saved["state_dict"])
    return model.eval(), saved.get("meta") or {}


def _as_tensor(a, name: str) -> torch.Tensor:
    if isinstance(a, torch.Tensor):
        return a.detach().cpu()
    try:
        array = np.asarray(a)
    except (TypeError, ValueError) as err:
        raise DataError(f"{name} must be a numpy array or torch tensor, got {type(a).__name__} ({err})") from None
    if array.dtype.kind not in "biuf":
        raise DataError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if array.dtype.kind == "f" and array.dtype.itemsize > 8:
        array = array.astype(np.float64)  # long double has no torch dtype
    return torch.from_numpy(np.ascontiguousarray(array))


def _is_integer(t: torch.Tensor) -> bool:
    return not t.is_floating_point() and not t.is_complex() and t.dtype != torch.bool
