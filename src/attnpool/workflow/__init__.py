"""The workflow layer: operations composed from data, models, training and explanations.

Run directories (:mod:`.rundir`), ``fit`` (:mod:`.fitting`), ``evaluate_run`` / ``predict_run``
(:mod:`.predict`), ``explain_run`` (:mod:`.explain`) and ``compare_pools`` (:mod:`.compare`). The command line
calls these, and so can Python::

    from attnpool.workflow import TrainConfig, fit, evaluate_run
    result = fit(TrainConfig(data="synthetic:peaks", epochs=30), "runs/peaks")

``fit`` and ``compare_pools`` need the ``train`` extra (Lightning), imported when they run.
"""

from ..train.config import TrainConfig
from .compare import compare_pools
from .explain import explain_run
from .fitting import RunResult, fit
from .predict import evaluate_run, predict_run
from .rundir import load_run

__all__ = ["RunResult", "TrainConfig", "compare_pools", "evaluate_run", "explain_run", "fit", "load_run",
           "predict_run"]
