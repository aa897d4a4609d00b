"""Explanations on arrays: statistics of attention weights, the pointing game, tables, figures, comparisons.

Nothing here loads a model or a run: the workflow layer (:mod:`attnpool.workflow`) predicts once and hands the
arrays over. ``stats``, ``tables``, ``samples`` and ``compare`` need numpy only; ``plots`` (and
:func:`write_explanations`) import matplotlib when called. Typical use after a prediction that returned
weights ``[S, N, T]``::

    from attnpool.explain import attention_stats, pointing_game, write_explanations
    write_explanations("out/explain", x, weights, mask=mask, y_true=y, y_pred=pred, class_names=names)
"""

from .compare import summarize_runs, write_compare_table
from .report import write_explanations
from .samples import choose_samples
from .stats import attention_stats, pointing_game
from .tables import weights_table, write_stats_csv, write_weights_csv

__all__ = [
    "attention_stats",
    "choose_samples",
    "plot_compare",
    "plot_sample",
    "pointing_game",
    "summarize_runs",
    "weights_table",
    "write_compare_table",
    "write_explanations",
    "write_stats_csv",
    "write_weights_csv",
]


def __getattr__(name):
    # The plotting functions load matplotlib on first use only.
    if name in ("plot_sample", "plot_compare"):
        from . import plots

        return getattr(plots, name)
    raise AttributeError(f"module 'attnpool.explain' has no attribute {name!r}")
