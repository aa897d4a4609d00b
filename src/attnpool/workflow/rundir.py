"""The run directory: its file names, one atomic-write helper, and saving / loading the trained model.

``RUN/`` holds ``config.json`` (fully resolved, reusable with ``--config``), ``checkpoints/`` (Lightning's
best and last), ``logs/`` (CSV logs), ``model.pt`` (best weights with what is needed to rebuild the model) and
``metrics.json`` (``{"val": {...}, "test": {...}}``). ``model.pt`` and ``metrics.json`` are written last and
each in one step, so a run is complete or clearly not.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from ..errors import MissingFileError, RunError
from ..models import SpatioTemporalNet
from ..train import TrainConfig

MODEL_FILE = "model.pt"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
DATA_FILE = "data.npz"  # a run trained on arrays in memory keeps them here


@contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds it replaces ``path`` in one rename.

    A reader never sees half a file: it finds the old file, the new file, or none. On an error the temporary
    file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: str | os.PathLike, data: dict) -> None:
    """Write ``data`` as indented JSON, atomically (numpy scalars and arrays become plain numbers and lists)."""
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=_json_default) + "\n")


def check_run_dir(out_dir: Path, overwrite: bool) -> None:
    """Refuse an ``--out`` that is a file, or that holds an earlier run unless ``overwrite``."""
    if out_dir.exists() and not out_dir.is_dir():
        raise RunError(f"--out {out_dir} exists and is not a directory")
    if (out_dir / CONFIG_FILE).exists() and not overwrite:
        raise RunError(f"--out {out_dir} already holds a run; choose a new directory or pass --overwrite")


def prepare_run_dir(out_dir: Path, overwrite: bool) -> None:
    """Create ``out_dir``; with ``overwrite``, remove an earlier run's own files (anything else stays)."""
    if overwrite:
        for name in ("checkpoints", "logs"):
            shutil.rmtree(out_dir / name, ignore_errors=True)
        for name in (MODEL_FILE, METRICS_FILE, DATA_FILE):
            (out_dir / name).unlink(missing_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)


def save_model(path: Path, model: SpatioTemporalNet, model_kwargs: dict, ds) -> None:
    """Write ``model.pt``: the constructor arguments, the weights, and the names of nodes, features, classes."""
    meta = {"node_names": [str(n) for n in ds.node_names], "feature_names": [str(f) for f in ds.feature_names],
            "class_names": [str(c) for c in ds.class_names] if ds.class_names else None}
    with atomic_write(path) as tmp:
        torch.save({"model_kwargs": model_kwargs, "state_dict": model.state_dict(), "meta": meta}, tmp)


def load_run(run_dir: str | os.PathLike) -> tuple[SpatioTemporalNet, TrainConfig, dict]:
    """The trained model (in eval mode), its config and the saved metadata of a run directory."""
    run_dir = Path(run_dir)
    if not (run_dir / MODEL_FILE).is_file():
        what = "does not exist" if not run_dir.exists() else f"has no {MODEL_FILE} (not a finished attnpool run)"
        raise MissingFileError(f"run directory {run_dir} {what}")
    saved = torch.load(run_dir / MODEL_FILE, map_location="cpu", weights_only=True)
    model = SpatioTemporalNet(**saved["model_kwargs"])
    model.load_state_dict(saved["state_dict"])
    model.eval()
    cfg = TrainConfig.load(run_dir / CONFIG_FILE)
    return model, cfg, saved["meta"]


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


__all__ = ["CONFIG_FILE", "DATA_FILE", "METRICS_FILE", "MODEL_FILE", "atomic_write", "check_run_dir", "load_run",
           "prepare_run_dir", "save_model", "write_json"]
