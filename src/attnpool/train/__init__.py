"""Training on PyTorch Lightning, and the run directory (fit / evaluate / predict). Needs the ``train`` extra."""

from .config import TrainConfig
from .run import RunResult, evaluate_run, fit, load_run, predict_run

__all__ = ["RunResult", "TrainConfig", "evaluate_run", "fit", "load_run", "predict_run"]
