"""The run directory: its file names, one atomic-write helper, and saving / loading the trained model.

``RUN/`` holds ``config.json`` (fully resolved, reusable with ``--config``), ``checkpoints/`` (Lightning's
best and last), ``logs/`` (CSV logs), ``model.pt`` (best weights with what is needed to rebuild the model) and
``metrics.json`` (``{"val": {...}, "test": {...}}``).

A run is complete or clearly not. Training writes ``INCOMPLETE`` first and removes it last, after ``model.pt``
and then ``metrics.json`` were each written in one step; every reader (:func:`load_run`) refuses a directory
that still holds ``INCOMPLETE`` or lacks ``metrics.json``. The marker (rather than a staging directory renamed
at the end) keeps a killed run where the user put it, so ``attnpool train --out RUN --resume`` finds its
checkpoints there. A writer holds an exclusive ``flock`` on ``RUN/.lock`` for as long as it runs: the kernel
drops it when the process dies (even on ``kill -9``), so a second writer is refused while the first lives and
a stale lock never blocks a retry.
"""

from __future__ import annotations

import errno
import io
import json
import math
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError, MissingFileError, RunError
from ..models import SpatioTemporalNet, build_model
from ..train import TrainConfig

MODEL_FILE = "model.pt"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
DATA_FILE = "data.npz"  # a run trained on arrays in memory keeps them here
INCOMPLETE_FILE = "INCOMPLETE"
LOCK_FILE = ".lock"


@contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds it replaces ``path`` in one rename.

    A reader never sees half a file: it finds the old file, the new file, or none. On an error the temporary
    file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    # The pid keeps two processes writing the same path from sharing one temporary file.
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        tmp.replace(path)
    except OSError as err:
        if err.filename is None:  # a write to an open handle (disk full) names no file: say which one
            raise OSError(err.errno, err.strerror, str(path)) from err
        raise
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: str | os.PathLike, data: dict) -> None:
    """Write ``data`` as strict, indented JSON, atomically (numpy scalars and arrays become plain numbers and
    lists; a NaN or infinity becomes ``null``, which every JSON parser reads, where Python's bare ``NaN`` is not
    JSON)."""
    text = json.dumps(_finite_or_null(data), indent=2, default=_json_default, allow_nan=False)
    with atomic_write(path) as tmp:
        tmp.write_text(text + "\n")


def run_state(run_dir: Path) -> str:
    """``"complete"``, ``"incomplete"`` (a run was started here and did not finish) or ``"empty"``."""
    if (run_dir / INCOMPLETE_FILE).exists():
        return "incomplete"
    if (run_dir / METRICS_FILE).is_file() and (run_dir / MODEL_FILE).is_file():
        return "complete"
    if any((run_dir / name).exists() for name in (CONFIG_FILE, MODEL_FILE, METRICS_FILE, "checkpoints")):
        return "incomplete"
    return "empty"


def check_run_dir(out_dir: Path, overwrite: bool, resume: bool = False) -> str:
    """Refuse an ``--out`` that is a file, that holds a finished run (unless ``overwrite``), or (``resume``)
    that holds nothing to resume. Returns :func:`run_state` of ``out_dir`` (``"empty"`` when it does not exist).

    An incomplete run (killed or failed) never blocks the same command again: without ``resume`` it is
    started afresh.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise RunError(f"--out {out_dir} exists and is not a directory")
    state = run_state(out_dir) if out_dir.is_dir() else "empty"
    if resume:
        if state == "complete":
            raise RunError(f"--resume: {out_dir} holds a finished run; nothing to resume")
        if state == "empty" or not (out_dir / CONFIG_FILE).is_file():
            raise RunError(f"--resume: {out_dir} holds no started run (no {CONFIG_FILE}); train without --resume")
    elif state == "complete" and not overwrite:
        raise RunError(f"--out {out_dir} already holds a finished run; choose a new directory or pass --overwrite")
    return state


def prepare_run_dir(out_dir: Path, overwrite: bool, resume: bool = False) -> None:
    """Mark ``out_dir`` as incomplete (creating it if needed); unless ``resume``, remove an earlier run's own
    files (a finished run's only with ``overwrite``, which :func:`check_run_dir` checked; anything else stays)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / INCOMPLETE_FILE).write_text(
        "This run has not finished (it is running, was interrupted, or failed): evaluate, predict and explain\n"
        f"refuse it. Continue it with: attnpool train --out {out_dir} --resume\n")
    if resume:
        # Lightning's CSV logger starts metrics.csv afresh on resume: keep the epochs before it beside it.
        log = out_dir / "logs" / "metrics.csv"
        if log.is_file():
            n = 1 + len(list(log.parent.glob("metrics.before-resume-*.csv")))
            log.replace(log.with_name(f"metrics.before-resume-{n}.csv"))
        return
    for name in ("checkpoints", "logs"):
        shutil.rmtree(out_dir / name, ignore_errors=True)
    for name in (MODEL_FILE, METRICS_FILE, DATA_FILE):
        (out_dir / name).unlink(missing_ok=True)


def mark_complete(out_dir: Path) -> None:
    """The commit point of a run: called after ``model.pt`` and ``metrics.json`` were written."""
    (out_dir / INCOMPLETE_FILE).unlink(missing_ok=True)


class RunLock:
    """An exclusive lock on ``RUN/.lock`` for one writer: a second is refused with one line naming the first's pid.

    ``fcntl.flock`` is released by the kernel when the holder exits for any reason, so a killed writer leaves no
    stale lock. Where ``fcntl`` is missing (Windows) the lock is a no-op.
    """

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on Linux/macOS
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            holder = self.path.read_text().strip() or "?"
            raise RunError(f"--out {self.path.parent} is being written by another attnpool train (pid {holder}); "
                           f"wait for it to finish or choose another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            # The file stays: unlinking it would let a writer that opened the old file and one that creates a
            # new one both hold "the" lock.
            os.close(self._fd)
            self._fd = None


def save_model(path: Path, model: SpatioTemporalNet, model_kwargs: dict, ds) -> None:
    """Write ``model.pt``: the constructor arguments, the weights, and the names of nodes, features, classes."""
    meta = {"node_names": [str(n) for n in ds.node_names], "feature_names": [str(f) for f in ds.feature_names],
            "class_names": [str(c) for c in ds.class_names] if ds.class_names else None}
    # Serialised in memory first: torch.save straight to a full disk raises a RuntimeError ("file write failed")
    # without the path; a plain write raises the OSError (ENOSPC) that names it.
    buffer = io.BytesIO()
    torch.save({"model_kwargs": model_kwargs, "state_dict": model.state_dict(), "meta": meta}, buffer)
    with atomic_write(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def load_run(run_dir: str | os.PathLike) -> tuple[SpatioTemporalNet, TrainConfig, dict]:
    """The trained model (in eval mode), its config and the saved metadata of a run directory."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        what = "does not exist" if not run_dir.exists() else "is a file, not a run directory"
        raise MissingFileError(f"run directory {run_dir} {what}")
    state = run_state(run_dir)
    if state == "incomplete":
        raise RunError(f"run directory {run_dir} holds an unfinished run (interrupted or failed); finish it with "
                       f"'attnpool train --out {run_dir} --resume' or train it again")
    if state == "empty":
        raise MissingFileError(f"run directory {run_dir} has no {MODEL_FILE} (not an attnpool run)")
    path = run_dir / MODEL_FILE
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        model = build_model(saved["model_kwargs"])
        model.load_state_dict(saved["state_dict"])
        meta = saved["meta"]
    except OSError:
        raise
    except Exception as err:  # noqa: BLE001 - torch.load on a truncated, empty or foreign file raises
        # RuntimeError, EOFError, UnpicklingError or zipfile errors (no common base); a wrong layout KeyError.
        raise RunError(f"{path} is truncated or not an attnpool model ({_first_line(err)}); train the run again") from None
    model.eval()
    try:
        cfg = TrainConfig.load(run_dir / CONFIG_FILE).validate()
    except ConfigError as err:  # evaluating with a config the run was not trained with would be silently wrong
        raise RunError(f"{run_dir / CONFIG_FILE} is not a valid run config ({err}); train the run again") from None
    return model, cfg, meta


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


def _finite_or_null(value):
    if isinstance(value, dict):
        return {k: _finite_or_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(v) for v in value]
    if isinstance(value, (float, np.floating)) and not math.isfinite(float(value)):
        return None
    return value


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


__all__ = ["CONFIG_FILE", "DATA_FILE", "INCOMPLETE_FILE", "LOCK_FILE", "METRICS_FILE", "MODEL_FILE", "RunLock", "atomic_write",
           "check_run_dir", "load_run", "mark_complete", "prepare_run_dir", "run_state", "save_model", "write_json"]
