"""The input's log rule (issue 9, R7): heavy-tailed counts are read on a log scale.

A node's feature whose training values are all ``>= 0`` and strongly right-skewed (sample skewness at least
:data:`LOG_SKEWNESS`: daily case counts, event counts, raw power or traffic volumes, where most steps are near 0
and a few are thousands) is read through ``log1p(x / s)``, ``s`` the 1st percentile of its positive training
values (1 for integer counts); the model then standardises those log values as it standardises any feature.
On the raw scale a standardised input is a handful of spikes over a flat floor, and the encoder cannot tell 0
from 50 cases (Covid3Month_disc, daily case counts, 81% zeros, skewness 24: the default model 0.672 on the test
part, 0.721 on the log scale, seeds 0-2; docs/research/issue9-recipe-r7.md).

The transform is signed, ``sign(x) log1p(|x| / s)``, so a negative value at prediction time (never seen in
training) is still ordered and finite; ``s = 0`` means no transform. Sets whose values are standardised or
signed (every UEA/UCR set but the raw-count ones) never get it.

Shapes: ``x [..., N, T, F]`` with ``scale [N, F]`` (broadcast over the leading axes and T).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

#: The least sample skewness of a feature's (all non-negative) training values that puts it on the log scale:
#: an exponential distribution's. Standardised UEA/UCR sets are signed; of the raw bundled sets,
#: Covid3Month_disc has 24 and CardanoSentiment's volume 5.6.
LOG_SKEWNESS = 2.0
#: The percentile of a feature's positive training values that sets its scale ``s``.
SCALE_PERCENTILE = 1.0


def log_scales(x: Tensor, mask: Tensor | None = None) -> Tensor:
    """The per-node, per-feature log scales ``[N, F]`` of training inputs ``x [S, N, T, F]`` (``mask [S, N, T]``,
    True = valid; masked steps are ignored): ``s > 0`` where the rule puts the feature on the log scale, 0
    elsewhere (a feature with a negative or non-finite value, skewness below :data:`LOG_SKEWNESS`, or no
    positive value)."""
    values = np.asarray(torch.as_tensor(x).detach().cpu(), dtype=np.float64)
    if values.ndim != 4:
        raise ValueError(f"x must have shape [S, N, T, F], got {tuple(values.shape)}")
    valid = None if mask is None else np.asarray(torch.as_tensor(mask).cpu(), dtype=bool)
    _, n_nodes, _, n_features = values.shape
    scales = np.zeros((n_nodes, n_features))
    for node in range(n_nodes):
        for feature in range(n_features):
            column = values[:, node, :, feature]
            column = column[valid[:, node, :]] if valid is not None else column.ravel()
            scales[node, feature] = _scale_of(column)
    return torch.from_numpy(scales)


def _scale_of(values: np.ndarray) -> float:
    if values.size < 3 or not np.isfinite(values).all() or values.min() < 0:
        return 0.0
    centred = values - values.mean()
    var = float(np.mean(centred ** 2))
    if var <= 0:
        return 0.0
    skewness = float(np.mean(centred ** 3)) / var ** 1.5
    if skewness < LOG_SKEWNESS:
        return 0.0
    positive = values[values > 0]
    return float(np.percentile(positive, SCALE_PERCENTILE)) if positive.size else 0.0


def signed_log(x: Tensor, scale: Tensor) -> Tensor:
    """``x [..., N, T, F]`` with ``sign(x) log1p(|x| / s)`` where ``scale [N, F]`` is positive, ``x`` unchanged
    where it is 0."""
    scale = scale.to(x.dtype)[:, None, :]  # [N, 1, F]
    on = scale > 0
    logged = torch.sign(x) * torch.log1p(x.abs() / torch.where(on, scale, torch.ones_like(scale)))
    return torch.where(on, logged, x)


__all__ = ["LOG_SKEWNESS", "SCALE_PERCENTILE", "log_scales", "signed_log"]
