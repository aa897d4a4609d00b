"""Training on PyTorch Lightning: the configuration, the LightningModule, the recipe and the metrics.

``TrainConfig`` lives here. ``fit``, ``load_run``, ``evaluate_run``, ``predict_run`` and ``RunResult`` moved
to the workflow layer (:mod:`attnpool.workflow`) and are still importable from here for existing code.
"""

from .config import TrainConfig

# Names that moved up to attnpool.workflow; looked up there on first use, so attnpool.train never imports the
# layer above it while it is itself being imported.
_MOVED = ("RunResult", "evaluate_run", "fit", "load_run", "predict_run")


def __getattr__(name):
    if name in _MOVED:
        from .. import workflow

        return getattr(workflow, name)
    raise AttributeError(f"module 'attnpool.train' has no attribute {name!r}")


__all__ = ["RunResult", "TrainConfig", "evaluate_run", "fit", "load_run", "predict_run"]
