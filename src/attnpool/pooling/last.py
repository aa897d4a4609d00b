"""Last-step pooling: the state at the last valid step, as a recurrent encoder would give it.

:func:`last_valid_step` and :func:`last_valid` are the one definition of "the last valid step" in attnpool;
the model's forecast head uses them too (the data's persistence baseline, :mod:`attnpool.data.baseline`, is the
same rule in numpy, on batches of windows).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .base import TemporalPool
from .functional import weighted_sum, zero_masked


class LastPool(TemporalPool):
    """The feature vector at the last valid step of each row (a row with no valid step gives 0).

    Shapes: feat ``[..., T, C]``, mask ``[..., T]`` -> pooled ``[..., C]``, weights ``[..., T]`` (one-hot).
    """

    def pool(self, feat: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        steps = feat.shape[-2]
        position = torch.arange(steps, device=feat.device)
        last = last_valid_step(mask, steps, feat.shape[:-2], feat.device)  # [...]; -1 = no valid step
        weights = (position == last.unsqueeze(-1)).to(feat.dtype)  # [..., T], one-hot or all zero
        return weighted_sum(zero_masked(feat, mask), weights), weights


def last_valid_step(mask: Tensor | None, steps: int, batch_shape=(), device=None) -> Tensor:
    """Index of the last valid step of each row: ``mask [..., T]`` -> int64 ``[...]``, -1 where no step is valid.

    With ``mask`` None every step is valid and the answer is ``steps - 1`` for every row of ``batch_shape``.
    """
    if mask is None:
        return torch.full(tuple(batch_shape), steps - 1, dtype=torch.long, device=device)
    # Step t scores t + 1 where valid, 0 where not: the largest score is the last valid step, 0 none at all.
    position = torch.arange(1, mask.shape[-1] + 1, device=mask.device)
    return (mask * position).amax(dim=-1) - 1


def last_valid(values: Tensor, mask: Tensor | None) -> Tensor:
    """``values [..., T]`` at the last valid step of each row -> ``[...]`` (0 where no step is valid).

    Args:
        values: ``[..., T]``, e.g. one feature of every node over time.
        mask: optional bool ``[..., T]``, True = valid step.
    """
    if mask is None:
        return values[..., -1]
    last = last_valid_step(mask, values.shape[-1])  # [...]
    picked = values.gather(-1, last.clamp_min(0).unsqueeze(-1)).squeeze(-1)
    return torch.where(last >= 0, picked, torch.zeros_like(picked))


__all__ = ["LastPool", "last_valid", "last_valid_step"]
