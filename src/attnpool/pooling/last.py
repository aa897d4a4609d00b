"""Last-step pooling: the state at the last valid step, as a recurrent encoder would give it."""

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
        weights = torch.zeros(feat.shape[:-1], dtype=feat.dtype, device=feat.device)
        if mask is None:
            weights[..., -1] = 1.0
        else:
            position = torch.arange(1, steps + 1, device=feat.device)
            last = (mask * position).amax(dim=-1, keepdim=True)  # [..., 1]; 0 = no valid step
            weights = (position == last).to(feat.dtype)
        return weighted_sum(zero_masked(feat, mask), weights), weights
